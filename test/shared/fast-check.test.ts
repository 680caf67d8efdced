/**
 * The plain-code checks of the hot device messages (shared/src/fast-check.ts) must never accept what zod
 * refuses, nor accept something zod would change: compared here on generated messages — valid ones with
 * every optional field present or absent, and each of them mutated at one place with values on and past
 * every limit, of the wrong type, or with a key the schema does not know.
 */
import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { decodeMessage, encodeMessage, envelopeSchema, eventPayloadSchema, fastDeliveryEvent, fastEnvelope, fastTelemetry, messageCatalog, telemetryPayloadSchema } from '@loaxa/shared';

/** A seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261122);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const maybe = <T>(v: () => T): T | undefined => (rand() < 0.5 ? v() : undefined);
const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function telemetry(): Record<string, unknown> {
  return clean({
    uptimeS: pick([0, 1.5, 86_400.123, 3e9]),
    volume: pick([0, 70, 100]),
    cacheBytes: pick([0, 1_843_200, 2 ** 53 - 1]),
    cacheItems: pick([0, 3]),
    playing: maybe(() => pick([null, { broadcastId: 'bc-1', occurrenceAt: 1_800_000_000_000 }])),
    clockOffsetMs: maybe(() => pick([0, -180_000, 12.5])),
    agentVersion: maybe(() => pick(['0.1.0', 'v'.repeat(64)])),
    health: maybe(() =>
      clean({
        systemUptimeS: maybe(() => 86_400),
        cpuTempC: maybe(() => pick([-100, 48.5, 200])),
        load1: maybe(() => 0.08),
        load5: maybe(() => 0),
        load15: maybe(() => 0.03),
        memTotalBytes: maybe(() => 1_024_000_000),
        memAvailableBytes: maybe(() => 612_000_000),
        diskFreeBytes: maybe(() => 5_100_000_000),
        diskTotalBytes: maybe(() => 7_800_000_000),
        network: maybe(() => clean({ type: pick(['ethernet', 'wifi', 'cellular', 'none', 'unknown']), interface: maybe(() => 'wwan0'), accessTech: maybe(() => 'LTE'), signalPct: maybe(() => pick([0, 64, 100])), operator: maybe(() => 'Viettel'), modemState: maybe(() => 'connected') })),
        clockSynced: maybe(() => pick([true, false, null])),
        amplifierOn: maybe(() => pick([true, false, null])),
        faults: maybe(() => pick([[], ['power'], ['power', 'amplifier', 'speaker-line', 'audio-device', 'disk', 'clock', 'network']])),
        linkFailures: maybe(() => 2),
        modemRecoveries: maybe(() => 0),
      }),
    ),
  });
}

function delivery(): Record<string, unknown> {
  return clean({
    kind: 'delivery',
    commandId: maybe(() => pick(['6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', '6F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F'])),
    broadcastId: pick(['bc-1', 'a', 'x'.repeat(64)]),
    occurrenceAt: 1_800_000_000_000,
    state: pick(['acknowledged', 'cached', 'playing', 'played', 'failed', 'missed', 'cancelled']),
    at: pick([0, 1_800_000_000_123]),
    reason: maybe(() => pick(['', 'r'.repeat(500)])),
    sha256: maybe(() => 'a'.repeat(64)),
  });
}

/** Values on and past each kind of limit, of every JSON type. */
const ODD: unknown[] = [
  -1, -0.5, 0.5, 1.5, 100, 101, -101, 200.5, 2 ** 53, 1e300, -1e300, '', 'x', 'x'.repeat(33), 'x'.repeat(65), 'x'.repeat(501), 'BC-1', 'bc/1', 'A'.repeat(64),
  '6f1c2d3e-4b5a-9c6d-8e7f-0a1b2c3d4e5f', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-000000000000', null, true, false, [], ['power'], ['nope'], {}, { type: 'wifi' }, 'wifi', 'delivery', 'fault', 'queued', 'sent', undefined,
];

/** Every path to a value inside `v` (objects and arrays), root excluded. */
function paths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
}

function mutate(v: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(v);
  const ps = paths(copy);
  const r = rand();
  if (r < 0.15 || ps.length === 0) {
    // A key the schema does not know, at the top or inside a nested object.
    const objects = [copy, ...ps.map((p) => p.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], copy)).filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x))];
    pick(objects)[pick(['extra', '__proto__', 'constructor'])] = 1;
    return copy;
  }
  const path = pick(ps);
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], copy) as Record<string, unknown>;
  const value = pick(ODD);
  if (value === undefined) delete parent[path.at(-1)!];
  else parent[path.at(-1)!] = value;
  return copy;
}

/** Through JSON, as a message arrives (JSON has no undefined, -0 or own __proto__ surprises left out). */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function compare(t: Test, name: string, fast: (v: unknown) => boolean, schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }, make: () => Record<string, unknown>): void {
  let valid = 0;
  let fastValid = 0;
  let mutatedTaken = 0;
  const wrong: unknown[] = [];
  for (let i = 0; i < 4_000; i++) {
    const base = wire(make()) as Record<string, unknown>;
    const z = schema.safeParse(base);
    if (z.success) valid++;
    if (fast(base)) fastValid++;
    for (let m = 0; m < 5; m++) {
      const v = wire(mutate(base));
      if (!fast(v)) continue;
      mutatedTaken++;
      const zz = schema.safeParse(v);
      if (!zz.success || !isDeepStrictEqual(zz.data, v)) wrong.push(v);
    }
    if (fast(base) && (!z.success || !isDeepStrictEqual(z.data, base))) wrong.push(base);
  }
  t.same(wrong.slice(0, 3), [], `${name}: the fast check accepts nothing zod refuses or changes`);
  t.equal(valid, 4_000, `${name}: every generated message is valid`);
  t.equal(fastValid, 4_000, `${name}: the fast check takes every valid message (so the fast path is used)`);
  t.ok(mutatedTaken > 100, `${name}: mutations zod also accepts unchanged are taken too (${mutatedTaken})`);
}

t.test('telemetry: the fast check agrees with telemetryPayloadSchema', async (t) => {
  compare(t, 'telemetry', fastTelemetry, telemetryPayloadSchema, telemetry);
});

t.test('delivery events: the fast check agrees with eventPayloadSchema', async (t) => {
  compare(t, 'event', fastDeliveryEvent, eventPayloadSchema, delivery);
});

t.test('envelope: the fast check agrees with envelopeSchema', async (t) => {
  const envelope = () => clean({ v: 1, id: pick(['6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', '6F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-000000000000']), type: pick(['telemetry', 'x', 't'.repeat(64)]), ts: pick([0, 1_800_000_000_000]), expiresAt: maybe(() => 1_800_000_000_000), payload: pick([{ a: 1 }, 0, 'p', null, []]) });
  compare(t, 'envelope', fastEnvelope, envelopeSchema, envelope);
});

t.test('decodeMessage answers the same through the fast path as through zod', async (t) => {
  for (let i = 0; i < 500; i++) {
    const payload = rand() < 0.5 ? wire(mutate(telemetry())) : telemetry();
    const raw = JSON.stringify({ v: 1, id: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', type: 'telemetry', ts: 1, payload });
    const got = decodeMessage(raw, ['telemetry']);
    const z = telemetryPayloadSchema.safeParse(JSON.parse(raw).payload);
    if (got.ok !== z.success || (got.ok && !isDeepStrictEqual(got.value.payload, z.data))) {
      t.fail('fast path and zod differ', { raw });
      return;
    }
  }
  // The expected-type guard holds on the fast path too.
  const hb = encodeMessage('telemetry', { uptimeS: 1, volume: 70, cacheBytes: 0, cacheItems: 0 });
  t.match(decodeMessage(hb, ['status']), { ok: false, error: { message: /unexpected message type "telemetry"/ } });
  t.ok(Object.hasOwn(messageCatalog, 'telemetry'));
  t.match(decodeMessage(hb, ['telemetry']), { ok: true, value: { type: 'telemetry', payload: { volume: 70 } } });
});

t.test('the payload text handed on is exactly the payload that was checked', async (t) => {
  const p = { uptimeS: 12.5, volume: 70, cacheBytes: 0, cacheItems: 0, agentVersion: 'v}{]x', health: { network: { type: 'wifi', operator: 'Viettel }[' } } };
  const raw = encodeMessage('telemetry', p as never, { ts: 5 });
  const ok = decodeMessage(raw, ['telemetry'], { payloadText: true });
  t.ok(ok.ok && ok.payloadJson !== undefined, 'an agent-written heartbeat comes with its payload text');
  if (ok.ok) t.same(JSON.parse(ok.payloadJson!), ok.value.payload);
  const id = '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
  const head = `{"v":1,"id":"${id}","type":"telemetry","ts":5,"payload":`;
  const body = '{"uptimeS":1,"volume":70,"cacheBytes":0,"cacheItems":0}';
  const other = '{"uptimeS":2,"volume":9,"cacheBytes":0,"cacheItems":0}';
  // Each of these is a valid message whose payload JSON.parse takes from elsewhere than a naive cut would.
  const tricky = [
    `${head}${body},"ts":6}`,
    `${head}${body},"payload":${other}}`,
    `${head}${body},"payload" :${other}}`,
    `${head}${body},"p\\u0061yload":${other}}`,
    `${head}${body},"ts":5}`,
    `${head} ${body}}`,
    `${head}${body} }`,
  ];
  for (const text of tricky) {
    const d = decodeMessage(text, ['telemetry'], { payloadText: true });
    if (d.ok && d.payloadJson !== undefined) t.same(JSON.parse(d.payloadJson), d.value.payload, `exact for ${text}`);
    else t.pass(`no cut for ${text}`);
  }
  // Generated heartbeats, mutated: whenever a text is handed on, it reads back as the checked payload.
  let cut = 0;
  for (let i = 0; i < 2_000; i++) {
    const payload = rand() < 0.5 ? wire(mutate(telemetry())) : telemetry();
    const d = decodeMessage(encodeMessage('telemetry', telemetry() as never, { ts: 1 }).replace(/"payload":.*}$/, `"payload":${JSON.stringify(payload)}}`), ['telemetry'], { payloadText: true });
    if (d.ok && d.payloadJson !== undefined) {
      cut++;
      if (!isDeepStrictEqual(JSON.parse(d.payloadJson), d.value.payload)) return t.fail('cut text differs', { payload });
    }
  }
  t.ok(cut > 1_000, `most heartbeats come with their text (${cut} of 2000)`);
});

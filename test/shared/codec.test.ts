import t from 'tap';
import { encodeMessage, decodeMessage, encodeResponse, decodeResponse, canTransition, ErrorCode, MAX_MESSAGE_BYTES, COMMAND_TYPES, messageCatalog, responseDataCatalog } from '@loaxa/shared';

const play = {
  broadcastId: 'bc-1',
  occurrenceAt: 1_800_000_000_000,
  priority: 'normal' as const,
  media: { sha256: 'a'.repeat(64), url: 'http://127.0.0.1:8080/media/' + 'a'.repeat(64), durationMs: 4000 },
  startAt: 1_800_000_000_000,
  windowMs: 300_000,
};

t.test('round-trips a command in the v1 envelope', async (t) => {
  const raw = encodeMessage('play', play, { expiresAt: 1_800_000_300_000 });
  const env = JSON.parse(raw);
  t.equal(env.v, 1);
  t.match(env.id, /^[0-9a-f-]{36}$/);
  t.equal(env.type, 'play');
  t.type(env.ts, 'number');
  const back = decodeMessage(raw, ['play']);
  t.ok(back.ok);
  if (back.ok) t.same(back.value.payload, play);
});

t.test('refuses to send an invalid message', async (t) => {
  t.throws(() => encodeMessage('set-volume', { volume: 101 }), /refusing to send an invalid set-volume/);
  t.throws(() => encodeMessage('play', { ...play, broadcastId: 'BAD/ID' }), /broadcastId/);
});

t.test('decoding garbage yields an error value, never a throw', async (t) => {
  const cases: Array<[string | Buffer, ErrorCode]> = [
    ['not json', ErrorCode.BAD_MESSAGE],
    ['[]', ErrorCode.BAD_MESSAGE],
    ['{"v":2,"id":"x","type":"play","ts":1,"payload":{}}', ErrorCode.BAD_MESSAGE],
    [JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'self-destruct', ts: 1, payload: {} }), ErrorCode.UNKNOWN_TYPE],
    [JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'play', ts: 1, payload: { broadcastId: 'x' } }), ErrorCode.BAD_MESSAGE],
    [Buffer.alloc(MAX_MESSAGE_BYTES + 1, 32), ErrorCode.BAD_MESSAGE],
    [Buffer.from([0xff, 0xfe, 0x00]), ErrorCode.BAD_MESSAGE],
  ];
  for (const [raw, code] of cases) {
    const r = decodeMessage(raw);
    t.notOk(r.ok);
    if (!r.ok) t.equal(r.error.code, code, Buffer.isBuffer(raw) ? `${raw.length} raw bytes` : raw.slice(0, 40));
  }
  const bad = decodeMessage(JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'play', ts: 1, payload: {} }));
  t.equal(!bad.ok && bad.error.id, '3b241101-e2bb-4255-8caf-4136c566a962', 'the id is kept so the error can be answered');
});

t.test('a message of the wrong type for its topic is refused', async (t) => {
  const raw = encodeMessage('set-volume', { volume: 10 });
  const r = decodeMessage(raw, ['status']);
  t.equal(!r.ok && r.error.code, ErrorCode.UNKNOWN_TYPE);
});

t.test('answers carry the request id and are checked against the command', async (t) => {
  const id = '3b241101-e2bb-4255-8caf-4136c566a962';
  const ok = decodeResponse(encodeResponse(id, { ok: true, data: { volume: 40 } }, 'set-volume'), 'set-volume');
  t.ok(ok.ok && ok.value.re === id && ok.value.ok);
  const err = decodeResponse(encodeResponse(id, { ok: false, error: { code: ErrorCode.EXPIRED, message: 'too late' } }));
  t.ok(err.ok && !err.value.ok && err.value.error.code === ErrorCode.EXPIRED);
  t.throws(() => encodeResponse(id, { ok: true, data: { volume: 400 } } as never, 'set-volume'));
  t.notOk(decodeResponse(JSON.stringify({ v: 1, re: id, ts: 1, ok: true, data: { volume: 'loud' } }), 'set-volume').ok);
});

t.test('delivery states only move forward and end in a terminal state', async (t) => {
  t.ok(canTransition('queued', 'sent'));
  t.ok(canTransition('sent', 'cached'), 'a lost acknowledged report may be skipped');
  t.ok(canTransition('playing', 'played'));
  t.ok(canTransition('cached', 'failed'));
  t.notOk(canTransition('played', 'playing'), 'a late report never moves a delivery back');
  t.notOk(canTransition('playing', 'cached'));
  t.notOk(canTransition('failed', 'played'), 'terminal is final');
  t.notOk(canTransition('played', 'played'), 'a repeat is not a transition');
});

t.test('telemetry carries an optional health block, checked field by field', async (t) => {
  const base = { uptimeS: 12, volume: 80, cacheBytes: 0, cacheItems: 0 };
  const health = {
    systemUptimeS: 1_000, cpuTempC: 48.5, load1: 0.2, load5: 0.1, load15: 0.05, memTotalBytes: 1024 ** 3, memAvailableBytes: 512 * 1024 ** 2,
    diskFreeBytes: 10 * 1024 ** 3, diskTotalBytes: 32 * 1024 ** 3,
    network: { type: 'cellular' as const, interface: 'wwan0', accessTech: 'lte', signalPct: 70, operator: 'Viettel', modemState: 'connected' },
    clockSynced: null, amplifierOn: false, faults: ['power' as const], linkFailures: 2, modemRecoveries: 0,
  };
  const back = decodeMessage(encodeMessage('telemetry', { ...base, health }), ['telemetry']);
  t.ok(back.ok && back.value.payload.health?.network?.operator === 'Viettel');
  if (back.ok) t.same(back.value.payload.health, health);
  t.ok(decodeMessage(encodeMessage('telemetry', base), ['telemetry']).ok, 'health is optional (older agents)');
  t.ok(decodeMessage(encodeMessage('telemetry', { ...base, health: {} }), ['telemetry']).ok, 'every reading is optional');
  t.throws(() => encodeMessage('telemetry', { ...base, health: { cpuTempC: 500 } }), /cpuTempC/);
  t.throws(() => encodeMessage('telemetry', { ...base, health: { network: { type: 'lora' } } } as never), /network\.type/);
  t.throws(() => encodeMessage('telemetry', { ...base, health: { faults: ['gremlins'] } } as never), /faults/);
  t.throws(() => encodeMessage('telemetry', { ...base, health: { network: { type: 'cellular', signalPct: 101 } } }), /signalPct/);
});

t.test('maintenance commands: test-tone, reboot, fetch-logs, update-config', async (t) => {
  t.ok(['test-tone', 'reboot', 'fetch-logs', 'update-config'].every((c) => (COMMAND_TYPES as readonly string[]).includes(c) && c in messageCatalog && c in responseDataCatalog));
  const cases = [
    ['test-tone', { durationMs: 3_000, frequencyHz: 1_000, volume: 60 }],
    ['test-tone', {}],
    ['reboot', { target: 'agent', delayMs: 1_000 }],
    ['fetch-logs', { lines: 200, minLevel: 'warn' }],
    ['update-config', { set: { heartbeatMs: 10_000 }, unset: ['mixerControl'] }],
  ] as const;
  for (const [type, payload] of cases) {
    const back = decodeMessage(encodeMessage(type, payload as never), COMMAND_TYPES);
    t.ok(back.ok && back.value.type === type, `${type} round-trips`);
    if (back.ok) t.same(back.value.payload, payload);
  }
  const refused: Array<[string, unknown, RegExp]> = [
    ['test-tone', { durationMs: 999_999 }, /durationMs/],
    ['test-tone', { frequencyHz: 20 }, /frequencyHz/],
    ['reboot', { target: 'system' }, /target/],
    ['reboot', { delayMs: -1 }, /delayMs/],
    ['fetch-logs', { lines: 0 }, /lines/],
    ['fetch-logs', { minLevel: 'loud' }, /minLevel/],
    ['update-config', { unset: 'heartbeatMs' }, /unset/],
  ];
  for (const [type, payload, field] of refused) {
    const r = decodeMessage(JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type, ts: 1, payload }));
    t.ok(!r.ok && r.error.code === ErrorCode.BAD_MESSAGE && field.test(r.error.message), `${type} ${JSON.stringify(payload)} refused`);
  }
  const id = '3b241101-e2bb-4255-8caf-4136c566a962';
  const answers = [
    ['test-tone', { played: false, durationMs: 3_000, frequencyHz: 1_000 }],
    ['reboot', { restartingInMs: 1_000 }],
    ['fetch-logs', { lines: ['{"level":30,"msg":"agent started"}'], truncated: false }],
    ['update-config', { changed: ['heartbeatMs'], restart: false }],
    ['self-update', { switchingTo: '0.2.0', restartingInMs: 1_000 }],
  ] as const;
  for (const [type, data] of answers) t.ok(decodeResponse(encodeResponse(id, { ok: true, data } as never, type), type).ok, `${type} answer`);
  t.throws(() => encodeResponse(id, { ok: true, data: { played: 'yes' } } as never, 'test-tone'), /test-tone/);
  t.notOk(decodeResponse(JSON.stringify({ v: 1, re: id, ts: 1, ok: true, data: { changed: 'heartbeatMs', restart: false } }), 'update-config').ok);
});

t.test('play and agenda items may say how an interrupted item comes back (resume or restart)', async (t) => {
  for (const resume of ['resume', 'restart'] as const) {
    const back = decodeMessage(encodeMessage('play', { ...play, resume }), ['play']);
    t.ok(back.ok && back.value.payload.resume === resume, resume);
  }
  const plain = decodeMessage(encodeMessage('play', play), ['play']);
  t.ok(plain.ok && plain.value.payload.resume === undefined, 'absent means restart (the agent default)');
  t.throws(() => encodeMessage('play', { ...play, resume: 'pause' } as never), /resume/);
  const agenda = { version: 4, generatedAt: 1_800_000_000_000, items: [{ ...play, resume: 'resume' as const, commandId: '3b241101-e2bb-4255-8caf-4136c566a962' }] };
  const back = decodeMessage(encodeMessage('sync-agenda', agenda), ['sync-agenda']);
  t.ok(back.ok && back.value.payload.items[0]?.resume === 'resume');
  t.ok(decodeResponse(encodeResponse('3b241101-e2bb-4255-8caf-4136c566a962', { ok: true, data: { version: 4, items: 1 } }, 'sync-agenda'), 'sync-agenda').ok);
});

t.test('self-update carries a tarball URL, its SHA-256, the version and an optional signature', async (t) => {
  const payload = { url: 'https://loa.example.gov.vn/releases/loaxa-agent-0.2.0.tar.gz', sha256: 'ab'.repeat(32), version: '0.2.0', signature: 'c2ln' };
  const back = decodeMessage(encodeMessage('self-update', payload), COMMAND_TYPES);
  t.ok(back.ok && back.value.type === 'self-update');
  if (back.ok) t.same(back.value.payload, payload);
  for (const bad of [{ ...payload, sha256: 'xyz' }, { ...payload, version: '../etc' }, { ...payload, url: 'not a url' }]) {
    const r = decodeMessage(JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'self-update', ts: 1, payload: bad }));
    t.ok(!r.ok && r.error.code === ErrorCode.BAD_MESSAGE, `${JSON.stringify(bad)} refused`);
  }
});

/**
 * The conformance kit against the recorded fixtures, and our shipped mappings against the kit (issue 17).
 *
 * The kit (`./kit/`) is the published checker's rules written apart from our mapping engine: it accepts every
 * positive fixture of both variants, refuses every negative one naming the broken rule, and — the point of it —
 * accepts EVERY message our mappings produce for every kind from a varied set of model events (each priority,
 * content type incl. live and relay, category, schedule kind, play mode, device command), and our decoding of
 * every recorded fixture is a valid model.
 */
import t from 'tap';
import {
  BULLETIN_CATEGORIES,
  NATIONAL_CONTENT_TYPES,
  NATIONAL_DEVICE_COMMANDS,
  NATIONAL_OPERATING_STATES,
  NATIONAL_PLAY_MODES,
  NATIONAL_SCHEDULE_KINDS,
  PRIORITIES,
  SHIPPED_MAPPINGS,
  decodeAnswer,
  decodeDown,
  decodeLogin,
  decodeUp,
  downstreamCommandSchema,
  encodeAnswer,
  encodeDown,
  encodeLogin,
  encodeToken,
  encodeUp,
  parseMapping,
  readToken,
  viMapping,
  upstreamEventSchema,
  type DownstreamCommand,
  type DownstreamCommandKind,
  type FieldRule,
  type MappingInput,
  type UpstreamEvent,
  type UpstreamEventKind,
} from '@loaxa/shared';
import { startProvinceKit, type ProvinceKit } from './kit/province.js';
import { loadFixtures, loadLogin, loadNegatives } from './kit/fixtures.js';
import { checkMessage, pathOf, UP_KINDS, VARIANTS, type VariantName } from './kit/variants.js';
import { parsesAsDotnetDateTime } from './kit/rules.js';

const VARIANT_NAMES: VariantName[] = ['vi', 'en'];

async function kitFor(t: { teardown(fn: () => unknown): void }, variant: VariantName, opts: { now?: () => number; tokenTtlMs?: number } = {}): Promise<{ kit: ProvinceKit; post: (path: string, body: unknown) => Promise<{ status: number; body: unknown }> }> {
  const login = loadLogin(variant);
  const kit = await startProvinceKit({ variant, users: { [login.Username]: login.Password }, ...opts });
  t.teardown(() => kit.close());
  let token: string | null = null;
  const raw = async (path: string, body: unknown, auth?: string) => {
    const res = await fetch(kit.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) };
  };
  const post = async (path: string, body: unknown) => {
    token ??= VARIANTS[variant].readToken((await raw(VARIANTS[variant].loginPath, login)).body);
    return raw(path, body, token ?? undefined);
  };
  return { kit, post };
}

for (const variant of VARIANT_NAMES) {
  t.test(`${variant}: the kit accepts every recorded message and refuses every broken one, naming the rule`, async (t) => {
    const { kit, post } = await kitFor(t, variant);
    const spec = VARIANTS[variant];
    const fixtures = loadFixtures(variant);
    const kinds = new Set(fixtures.map((f) => f.kind));
    t.same([...kinds].sort(), Object.values(spec.paths).map((p) => p.kind).sort(), 'a fixture for every message of the variant, up and down');
    for (const f of fixtures) {
      const res = await post(pathOf(spec, f.kind), f.body);
      t.same({ status: res.status, answer: spec.readAnswer(res.body) }, { status: 200, answer: { ok: true, message: 'Thành công' } }, `${f.file} accepted`);
    }
    const negatives = loadNegatives(variant);
    t.ok(negatives.length >= 15, `${negatives.length} negative fixtures`);
    for (const n of negatives) {
      const res = await post(pathOf(spec, n.kind), n.body);
      const answer = spec.readAnswer(res.body);
      t.equal(res.status, 400, `${n.name}: HTTP 400`);
      t.equal(answer?.ok, false, `${n.name}: refused`);
      const problems = checkMessage(spec, pathOf(spec, n.kind), n.body);
      t.same(
        problems.map((p) => [p.field, p.rule]),
        [[n.field, n.rule]],
        `${n.name}: exactly one problem, ${n.field} (${n.rule})`,
      );
      t.ok(answer?.message.includes(n.field), `${n.name}: the answer's message names ${n.field}: ${answer?.message}`);
    }
    // Every request is recorded with its verdict, for a test to read.
    t.equal(kit.accepted().length, fixtures.length);
    t.equal(kit.records.filter((r) => r.kind !== 'login' && !r.verdict.ok).length, negatives.length);
  });

  t.test(`${variant}: the kit's login, token and transport rules`, async (t) => {
    let now = Date.parse('2026-12-07T01:00:00Z');
    const login = loadLogin(variant);
    const { kit } = await kitFor(t, variant, { now: () => now, tokenTtlMs: 600_000 });
    const spec = VARIANTS[variant];
    const path = pathOf(spec, 'box-status');
    const body = loadFixtures(variant).find((f) => f.kind === 'box-status')!.body;
    const send = async (p: string, b: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
      const res = await fetch(kit.url + p, { method: 'POST', headers, body: typeof b === 'string' ? b : JSON.stringify(b) });
      return { status: res.status, body: (await res.json()) };
    };
    t.equal((await send(path, body)).status, 401, 'no token: 401');
    t.equal((await send(spec.loginPath, { ...login, Password: 'sai' })).status, 401, 'a wrong password: 401');
    const ok = await send(spec.loginPath, login);
    const token = spec.readToken(ok.body);
    t.ok(token, 'the login answers a token');
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    t.equal((await send(path, body, auth)).status, 200, 'with the token: accepted');
    t.equal((await send(path, body, { 'content-type': 'application/json', authorization: `Token ${token}` })).status, 401, 'only as Bearer');
    t.equal((await send(path, body, { 'content-type': 'text/plain', authorization: `Bearer ${token}` })).status, 415, 'JSON only');
    t.equal((await send(path, '{"NguonID":', auth)).status, 400, 'a body that is not JSON: 400');
    t.equal((await send('/api/khong-co', body, auth)).status, 404, 'an unknown path: 404');
    now += 600_001;
    t.equal((await send(path, body, auth)).status, 401, 'the token expired: 401');
    t.equal(kit.tokensIssued(), 1);
  });
}

t.test('the kit reads .NET dates as the checker does', async (t) => {
  for (const ok of ['2021-12-31T00:00:00.00000', '2026-12-08T06:30:00', '2026-12-08', '2026-12-08 06:30:00', '2026-12-08T06:30:00.1234567+07:00', '2026-12-07T23:00:00Z'])
    t.ok(parsesAsDotnetDateTime(ok), ok);
  for (const bad of ['31/12/2021', '2026-02-29T00:00:00', '2026-12-08T24:00:00', '2026-12-08T06:30:00.12345678', '1796605200', ''])
    t.notOk(parsesAsDotnetDateTime(bad), bad);
});

// ----------------------------------------------------------------------------------------------------------
// Our mappings against the kit.

const T0 = Date.parse('2026-12-07T01:00:00Z');
const source = { id: '07246', name: 'Hệ thống đài truyền thanh xã Xuân Lương' };
const box = (i: number) => ({ nationalId: `86612304567${String(i).padStart(4, '0')}`, name: `Cụm loa số ${i}`, area: { code: '07246', name: 'Xã Xuân Lương' }, vendor: { code: 'LOAXA', name: 'Loa Xã' } });

/** A varied set of events: every priority × content type × category, each operating state, relays, failures. */
function upstreamEvents(): UpstreamEvent[] {
  const events: UpstreamEvent[] = [];
  let i = 0;
  for (const operating of NATIONAL_OPERATING_STATES)
    for (const [lat, lon] of [
      [21.4962, 106.2718],
      [null, null],
    ] as const)
      events.push({
        kind: 'box-status',
        at: T0 + i * 30_000,
        source,
        box: box(i++),
        volume: [0, 45, 100][i % 3]!,
        operating,
        connection: ['4G,-71dbm', 'WIFI,80%', 'ETHERNET', 'OFFLINE'][i % 4]!,
        lat,
        lon,
        powerW: lat === null ? null : 60,
        temperatureC: lat === null ? null : 41.5,
        storageUsedPct: lat === null ? null : 23,
        nowPlaying: operating === 'playing' ? 'Thông báo lịch tiêm phòng' : '',
        appVersion: '0.1.0',
      });
  for (const priority of PRIORITIES)
    for (const contentType of NATIONAL_CONTENT_TYPES)
      for (const category of BULLETIN_CATEGORIES) {
        const n = i++;
        const relay = contentType === 'fm' ? { sourceName: 'VOV1' } : null;
        const base = {
          at: T0 + n * 1000,
          source,
          box: box(n % 5),
          airingId: `b${n}:o1:d${n % 5}`,
          bulletin: {
            id: `BT-${n}`,
            title: n % 7 === 0 ? '' : `Bản tin số ${n}`,
            category,
            summary: n % 5 === 0 ? '' : 'Tóm tắt nội dung bản tin',
            durationS: contentType === 'live' ? 0 : 60 + n,
            author: 'Đài truyền thanh xã',
            contentType,
            producedAt: T0 - 86_400_000,
          },
          priority,
          startedAt: T0 + n * 1000 - 500,
          relay,
        };
        events.push({ kind: 'airing-start', ...base });
        events.push({ kind: 'airing-end', ...base, at: base.at + 60_000, ok: n % 4 !== 0, airedS: n % 4 !== 0 ? 60 : 0, reason: n % 4 !== 0 ? '' : 'missed: box offline' });
      }
  for (const accepted of [true, false]) events.push({ kind: 'schedule-ack', at: T0, source, bulletinId: 'HTTTN-24-20261207-0042', accepted, detail: accepted ? 'inbox' : 'Địa bàn 99999 không thuộc hệ thống' });
  return events;
}

function downstreamCommands(): DownstreamCommand[] {
  const province = { id: 'H24', name: 'Hệ thống thông tin nguồn tỉnh Bắc Ninh' };
  const cmds: DownstreamCommand[] = [];
  let n = 0;
  const scheduleFor = (kind: (typeof NATIONAL_SCHEDULE_KINDS)[number]) => ({
    kind,
    starts: ['06:30:00', '17:00:00'],
    ends: kind === 'daily' ? [] : ['06:35:00', '17:05:00'],
    days: { daily: [], weekly: [1, 3, 5], monthly: [1, 15, 31], dates: [20261208, 20261224] }[kind],
  });
  for (const priority of PRIORITIES)
    for (const playMode of NATIONAL_PLAY_MODES)
      for (const kind of NATIONAL_SCHEDULE_KINDS) {
        const category = BULLETIN_CATEGORIES[n % BULLETIN_CATEGORIES.length]!;
        const contentType = NATIONAL_CONTENT_TYPES[n % NATIONAL_CONTENT_TYPES.length]!;
        cmds.push({
          kind: 'bulletin',
          source: province,
          bulletinId: `HTTTN-24-${n}`,
          title: `Bản tin ${n}: phòng chống rét đậm`,
          category,
          summary: 'Hướng dẫn che chắn chuồng trại',
          author: 'Sở Nông nghiệp và Môi trường',
          producedAt: T0 - 3_600_000 + n,
          durationS: n,
          priority,
          playMode,
          startDate: T0 + 86_400_000,
          endDate: T0 + 3 * 86_400_000 - 1000,
          schedule: scheduleFor(kind),
          contentType,
          link: `https://nguon.bacninh.gov.vn/media/${n}.mp3`,
          createdBy: '24',
          areaCodes: n % 2 ? ['07246'] : ['07246', '07210', '24'],
        });
        n++;
      }
  for (const kind of NATIONAL_SCHEDULE_KINDS)
    cmds.push({ kind: 'bulletin-reschedule', source: province, bulletinId: 'HTTTN-24-1', playMode: 'scheduled', startDate: T0, endDate: T0 + 86_400_000, schedule: scheduleFor(kind) });
  cmds.push({ kind: 'bulletin-delete', source: province, bulletinId: 'HTTTN-24-1' });
  for (const command of NATIONAL_DEVICE_COMMANDS)
    cmds.push({ kind: 'device-control', source: province, command, param: command === 'volume' ? '45' : '', boxes: command === 'stop' ? [] : [box(1).nationalId], areaCodes: command === 'stop' ? ['07246'] : [] });
  return cmds;
}

for (const variant of VARIANT_NAMES) {
  t.test(`${variant}: every message our mapping writes passes the kit`, async (t) => {
    const m = SHIPPED_MAPPINGS[variant];
    const spec = VARIANTS[variant];
    const { kit, post } = await kitFor(t, variant);
    const login = encodeLogin(m, { username: loadLogin(variant).Username, password: loadLogin(variant).Password });
    t.equal(login.path, spec.loginPath, 'the login path');
    const events = upstreamEvents();
    const commands = downstreamCommands();
    const seen = new Set<string>();
    const refused: string[] = [];
    for (const e of [...events, ...commands]) {
      const req = 'at' in e ? encodeUp(m, e) : encodeDown(m, e);
      t.equal(req.method, 'POST');
      t.equal(spec.paths[req.path]?.kind, e.kind, `${e.kind} goes to the kit's path for it (${req.path})`);
      const res = await post(req.path, req.body);
      if (res.status !== 200) refused.push(`${e.kind} ${JSON.stringify(req.body)} → ${JSON.stringify(res.body)}`);
      seen.add(e.kind);
    }
    t.same(refused, [], 'nothing refused');
    t.same([...seen].sort(), Object.values(spec.paths).map((p) => p.kind).sort(), 'every kind was written');
    t.equal(kit.accepted().length, events.length + commands.length);
    t.equal(kit.tokensIssued(), 1, "our login's body was accepted once and its token served every message");

    // The answers and the login answer we write read as the kit (the checker) writes them, and back.
    t.same(spec.readAnswer(encodeAnswer(m, { ok: false, message: 'Sai định dạng' })), { ok: false, message: 'Sai định dạng' });
    t.same(spec.readAnswer(encodeAnswer(m, { ok: true, message: 'Thành công' })), { ok: true, message: 'Thành công' });
    t.equal(spec.readToken(encodeToken(m, { token: 'abc', expiresAt: null })), 'abc');
    t.same(decodeAnswer(m, spec.answer(false, 'Từ chối')), { ok: false, message: 'Từ chối' });
    t.equal(readToken(m, spec.tokenAnswer('xyz')).token, 'xyz');
  });

  t.test(`${variant}: every recorded fixture decodes with our mapping into a valid model`, async (t) => {
    const m = SHIPPED_MAPPINGS[variant];
    for (const f of loadFixtures(variant)) {
      const isUp = (UP_KINDS as readonly string[]).includes(f.kind);
      let model: unknown;
      try {
        model = isUp ? decodeUp(m, f.kind as UpstreamEventKind, f.body, T0) : decodeDown(m, f.kind as DownstreamCommandKind, f.body, T0);
      } catch (err) {
        t.fail(`${f.file} does not decode: ${(err as Error).message}`);
        continue;
      }
      const parsed = (isUp ? upstreamEventSchema : downstreamCommandSchema).safeParse(model);
      t.ok(parsed.success, `${f.file} → a valid ${f.kind}${parsed.success ? '' : `: ${parsed.error.message}`}`);
      // And written back, the model passes the kit again (a round trip keeps it conformant).
      const again = isUp ? encodeUp(m, model as UpstreamEvent) : encodeDown(m, model as DownstreamCommand);
      t.same(checkMessage(VARIANTS[variant], again.path, again.body), [], `${f.file} written back passes the checker`);
    }
    t.same(decodeLogin(m, loadLogin(variant)), { username: loadLogin(variant).Username, password: loadLogin(variant).Password }, 'login.json decodes');
  });
}

t.test("the kit catches a mapping's mistakes", async (t) => {
  // A province mapping file with one slip each, as an integrator could write it: the kit refuses what it writes
  // and names the field — so a mistake in our shipped mappings would be caught the same way.
  const { post } = await kitFor(t, 'vi');
  const withRule = (kind: 'airing-start' | 'bulletin', field: string, rule: FieldRule | ((r: FieldRule) => FieldRule)): MappingInput => {
    const m = structuredClone(viMapping);
    const message = kind === 'bulletin' ? m.down.bulletin : m.up['airing-start'];
    const fields = (message.body as { object: Record<string, FieldRule> }).object;
    const before: FieldRule = fields[field] ?? { const: null };
    fields[field] = typeof rule === 'function' ? rule(before) : rule;
    return m;
  };
  const slips: Array<{ what: string; mapping: MappingInput; kind: 'airing-start' | 'bulletin'; field: string; rule: string }> = [
    { what: 'start time in milliseconds', mapping: withRule('airing-start', 'ThoiDiemBatDau', { from: 'startedAt', as: 'epoch-ms' }), kind: 'airing-start', field: 'ThoiDiemBatDau', rule: 'epoch-seconds' },
    { what: 'priority written as its label', mapping: withRule('airing-start', 'MucDoUuTien', { from: 'priority', codes: 'priority', shape: 'label' }), kind: 'airing-start', field: 'MucDoUuTien', rule: 'type' },
    {
      what: 'schedule times without microseconds',
      mapping: withRule('bulletin', 'LichPhat', (r) => {
        const o = structuredClone(r) as { object: Record<string, FieldRule> };
        o.object.ThoiDiemBatDau = { each: 'schedule.starts', item: { from: '$', as: 'string' } };
        return o;
      }),
      kind: 'bulletin',
      field: 'LichPhat.ThoiDiemBatDau[0]',
      rule: 'time-of-day',
    },
    { what: 'dates as epoch seconds', mapping: withRule('bulletin', 'NgayBatDau', { from: 'startDate', as: 'epoch-s', required: true }), kind: 'bulletin', field: 'NgayBatDau', rule: 'datetime' },
  ];
  const airing = upstreamEvents().find((e) => e.kind === 'airing-start')!;
  const bulletin = downstreamCommands().find((c) => c.kind === 'bulletin')!;
  for (const s of slips) {
    const m = parseMapping(s.mapping);
    const req = s.kind === 'bulletin' ? encodeDown(m, bulletin) : encodeUp(m, airing);
    const res = await post(req.path, req.body);
    const problems = checkMessage(VARIANTS.vi, req.path, req.body);
    t.equal(res.status, 400, `${s.what}: refused`);
    t.same([...new Set(problems.map((p) => `${p.field.replace(/\[\d+\]$/, '[0]')} ${p.rule}`))], [`${s.field} ${s.rule}`], `${s.what}: ${problems.map((p) => p.message).join('; ')}`);
  }
});

/**
 * The upstream national link (issue 17) against a stand-in province on an ephemeral port that checks the token
 * and reads every body back through the mapping: each registered box's status arrives every
 * LOAXA_NATIONAL_STATUS_SECONDS with what the server knows of it; a province down for ten minutes (the server's
 * fake clock) loses nothing and gets the backlog in order; a 401 logs in again once; a refusal is kept as refused
 * and shown in GET /outbox; garbage, 10 MB, redirected and too-slow answers change nothing (the event stays
 * pending) and the error shows in GET /link.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SHIPPED_MAPPINGS, encodeMessage, resolveMapping, topics, viMapping, type Mapping } from '@loaxa/shared';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import { waitFor } from '../helpers/wait.js';
import { startProvince, type Province } from './upstream-province.js';
import type { NationalLinkConfig } from '../../server/src/config.js';

const CREDS = { username: 'xa-tan-lap', password: 'mật-khẩu-tỉnh' };
const IMEI = '356938035643809';

async function linked(t: Test, opts: { mapping?: Mapping; link?: Partial<NationalLinkConfig> } = {}) {
  const mapping = opts.mapping ?? SHIPPED_MAPPINGS.vi;
  const province = await startProvince(mapping, CREDS);
  t.teardown(() => province.close());
  const clock = fakeClock();
  const national: NationalLinkConfig = {
    url: province.url,
    mapping: mapping.name,
    username: CREDS.username,
    password: CREDS.password,
    passwordFile: undefined,
    sourceId: '99003',
    sourceName: 'Xã Tân Lập',
    vendorCode: 'LOAXA',
    vendorName: 'Loa Xã',
    statusSeconds: 30,
    timeoutMs: 2000,
    maxAnswerBytes: 65_536,
    ...opts.link,
  };
  const s = await startTestServer(t, { national }, { clock });
  await importSampleAreas(s.api, s.token);
  const link = s.server.nationalLink!;
  /** Moves the server's time on, letting each send the timers start finish before the next instant. */
  const advance = async (ms: number, step = 5000) => {
    for (let done = 0; done < ms; done += step) {
      clock.advance(Math.min(step, ms - done));
      await link.idle();
    }
  };
  const linkState = async () => (await s.api('GET', '/api/v1/national/link', undefined, s.token)).body;
  const outbox = async (q = '') => (await s.api('GET', `/api/v1/national/outbox${q}`, undefined, s.token)).body.items as any[];
  return { ...s, province, clock, link, advance, linkState, outbox };
}

/** A box registered through the API and, when `online`, connected with a heartbeat. */
async function box(t: Test, s: Awaited<ReturnType<typeof linked>>, name: string, online: boolean) {
  const dev = (await s.api('POST', '/api/v1/devices', { name, areaCode: '99003', lat: 21.0285, lon: 105.8542 }, s.token)).body;
  if (!online) return dev;
  const c = await mqtt.connectAsync(s.urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online', agentVersion: '0.3.1' }), { qos: 1, retain: true });
  const health = { cpuTempC: 48.5, diskFreeBytes: 750_000, diskTotalBytes: 1_000_000, network: { type: 'cellular' as const, accessTech: 'lte', signalPct: 70 } };
  await c.publishAsync(topics.deviceTelemetry(dev.id), encodeMessage('telemetry', { uptimeS: 5, volume: 63, cacheBytes: 0, cacheItems: 0, agentVersion: '0.3.1', health }), { qos: 1 });
  return dev;
}

t.test('every box’s status goes up each interval with what the server knows of it', async (t) => {
  const s = await linked(t);
  const a = await box(t, s, 'Loa chợ', true);
  const b = await box(t, s, 'Loa đình', false);
  // The installer records the box's IMEI after registering it.
  const patched = await s.api('PATCH', `/api/v1/devices/${a.id}`, { nationalId: IMEI }, s.token);
  t.equal(patched.status, 200);
  t.equal(patched.body.nationalId, IMEI);
  await waitFor('the heartbeat', () => (s.server.ctx.deliveryService.metrics.snapshot().heartbeats.received >= 1 ? true : null), 5000, 10);

  t.equal(s.province.received.length, 0, 'nothing before the first interval');
  await s.advance(30_000);
  const first = await waitFor('two statuses', () => (s.province.received.length >= 2 ? s.province.received : null), 5000, 20);
  t.equal(s.province.logins, 1, 'logged in once');
  const byBox = new Map(first.map((r) => [r.body.CumLoaID, r.body]));
  t.match(byBox.get(IMEI), {
    NguonID: '99003',
    TenNguon: 'Xã Tân Lập',
    DichID: '99003',
    TenDich: 'Xã Tân Lập',
    TenThietBi: 'Loa chợ',
    MaNhaCungCap: 'LOAXA',
    AmLuong: '63',
    TrangThaiHoatDong: 1,
    TrangThaiKetNoi: '4G,70%',
    ViDo: 21.0285,
    KinhDo: 105.8542,
    ThongTinThietBi: { CongSuat: null, NhietDo: 48.5, DungLuongSuDung: 25 },
    NoiDungPhat: '',
    PhienBanUngDung: '0.3.1',
  }, 'the box named by its IMEI, with its heartbeat’s readings');
  t.equal(byBox.get(IMEI)!.ThoiDiemBatDau, Math.floor(s.clock.now() / 1000), 'stamped with the server’s time');
  t.match(byBox.get(b.id), { TrangThaiHoatDong: 0, TrangThaiKetNoi: 'OFFLINE', TenThietBi: 'Loa đình' }, 'a box without an IMEI goes by our id; one never heard from is offline');
  t.equal(first.length, 2, 'one status per box');

  await s.advance(30_000);
  await waitFor('the second round', () => (s.province.received.length >= 4 ? true : null), 5000, 20);
  t.equal(s.province.logins, 1, 'the token kept');
  const state = await s.linkState();
  t.match(state, { configured: true, upstreamUrl: s.province.url, mapping: 'vi', sourceId: '99003', loggedIn: true, lastError: null, pending: 0, sent: 4, refused: 0, oldestPendingAt: null });
  t.ok(state.lastSuccessAt);
  const sent = await s.outbox('?state=sent&limit=2');
  t.equal(sent.length, 2);
  t.ok(sent[0].seq > sent[1].seq, 'newest first');
  t.match(sent[0], { kind: 'box-status', state: 'sent', attempts: 1, lastError: null, event: { kind: 'box-status', source: { id: '99003' } } });
  t.match(sent[0].answer, /TrangThaiGui/);

  // Who may see it: installation-wide province admins.
  await s.api('POST', '/api/v1/users', { username: 'xem', password: 'a-long-password', role: 'viewer', areaCode: '99' }, s.token);
  const viewer = (await s.api('POST', '/api/v1/auth/login', { username: 'xem', password: 'a-long-password' })).body.token;
  t.equal((await s.api('GET', '/api/v1/national/link', undefined, viewer)).status, 403);
  t.equal((await s.api('GET', '/api/v1/national/outbox', undefined, viewer)).status, 403);
  t.equal((await s.api('GET', '/api/v1/national/outbox?state=lost', undefined, s.token)).status, 400, 'a state it does not know is refused');
});

t.test('a province down for ten minutes: the outbox grows, nothing is lost, the backlog arrives in order', async (t) => {
  const s = await linked(t);
  await box(t, s, 'Loa chợ', true);
  await box(t, s, 'Loa đình', false);
  await waitFor('the heartbeat', () => (s.server.ctx.deliveryService.metrics.snapshot().heartbeats.received >= 1 ? true : null), 5000, 10);
  await s.advance(30_000);
  await waitFor('the first statuses', () => (s.province.received.length >= 2 ? true : null), 5000, 20);
  const before = s.province.received.length;

  s.province.mode = 'down';
  const downAt = s.clock.now();
  // Ten minutes: a status round every 30 s, and a bulletin answered every minute (acks are never coalesced).
  for (let minute = 1; minute <= 10; minute++) {
    s.link.ack(`BT-${minute}`, minute % 3 !== 0, minute % 3 !== 0 ? 'inbox' : 'Không có địa bàn nhận');
    await s.advance(60_000);
  }
  const during = await s.linkState();
  t.equal(s.province.received.length, before, 'nothing got through');
  t.ok(s.province.attempts > 3, 'it kept trying');
  t.ok(s.province.attempts < 40, `with backoff, not in a loop (${s.province.attempts} attempts in ten minutes)`);
  t.equal(during.pending, 10 + 2, 'every ack waits, and one status per box (a newer status replaces an older one)');
  t.match(during.lastError, /kết nối|Không/);
  t.ok(during.oldestPendingAgeS >= 590, `the oldest waits since the outage began (${during.oldestPendingAgeS} s)`);
  t.ok(Date.parse(during.nextAttemptAt) > s.clock.now(), 'the next attempt is planned');
  t.ok(Date.parse(during.nextAttemptAt) - s.clock.now() <= 5 * 60_000, 'within the 5-minute cap');
  const waiting = await s.outbox('?state=pending&limit=500');
  const head = waiting.at(-1);
  t.ok(head.attempts > 3 && head.lastError, 'the oldest is the one tried, with its attempts and last error');
  t.ok(waiting.slice(0, -1).every((i) => i.attempts === 0), 'the rest wait their turn, untried');

  s.province.mode = 'ok';
  await s.advance(5 * 60_000, 10_000);
  await waitFor('the backlog', async () => ((await s.linkState()).pending === 0 ? true : null), 5000, 20);
  const after = s.province.received.slice(before);
  const acks = after.filter((r) => r.kind === 'schedule-ack').map((r) => r.event);
  t.same(acks.map((e) => e.kind === 'schedule-ack' && [e.bulletinId, e.accepted]), Array.from({ length: 10 }, (_, i) => [`BT-${i + 1}`, (i + 1) % 3 !== 0]), 'every ack, in the order they were made');
  t.same(acks.map((e) => Math.floor(e.at / 60_000) - Math.floor(downAt / 60_000)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'stamped when they were made, not when sent');
  const sent = await s.outbox('?state=sent&limit=500');
  t.same(sent.map((i) => i.seq), [...sent.map((i) => i.seq)].sort((x, y) => y - x), 'listed newest first');
  // What arrived, in arrival order, is the outbox's order (the province reads times to the second).
  const key = (e: any) => `${e.kind}|${e.bulletinId ?? e.box?.nationalId}|${Math.floor(e.at / 1000)}`;
  const arrivedSeqs = after.map((r) => sent.find((i) => key(i.event) === key(r.event))?.seq);
  t.ok(after.slice(0, 12).filter((r) => r.kind === 'box-status').length === 2, 'the backlog: the ten acks and the two boxes’ latest statuses, then the rounds since');
  t.ok(arrivedSeqs.every((x) => typeof x === 'number'));
  t.same(arrivedSeqs, [...arrivedSeqs].sort((x, y) => x! - y!), 'arrived in sequence order');
});

t.test('a 401 logs in again once; a province that refuses every token is not looped on', async (t) => {
  const s = await linked(t);
  s.link.ack('BT-1', true, 'inbox');
  await waitFor('the first ack', () => (s.province.received.length === 1 ? true : null), 5000, 20);
  t.equal(s.province.logins, 1);
  s.province.expireTokens();
  s.link.ack('BT-2', true, 'inbox');
  await waitFor('the second ack', () => (s.province.received.length === 2 ? true : null), 5000, 20);
  t.equal(s.province.logins, 2, 'logged in again once');
  t.equal(s.province.attempts, 3, 'the refused request, then the same one again with the new token');

  s.province.mode = 'unauthorized';
  s.link.ack('BT-3', true, 'inbox');
  await waitFor('a failed attempt', async () => ((await s.linkState()).lastError ? true : null), 5000, 20);
  await s.link.idle();
  t.equal(s.province.logins, 3, 'one login for that request');
  t.equal(s.province.attempts, 5, 'and one retry, not more');
  const state = await s.linkState();
  t.match(state.lastError, /401/);
  t.equal(state.pending, 1, 'the ack waits');
  s.province.mode = 'ok';
  await s.advance(10_000, 1000);
  await waitFor('the ack after all', () => (s.province.received.length === 3 ? true : null), 5000, 20);
  t.equal(s.province.received[2]!.body.BanTinId, 'BT-3');
});

t.test('a refusal is kept as refused with the province’s answer, and the next message goes', async (t) => {
  const s = await linked(t);
  s.province.refuse = (r) => (r.kind === 'schedule-ack' && r.body.BanTinId === 'BT-bad' ? 'Bản tin không tồn tại' : null);
  s.link.ack('BT-bad', true, 'inbox');
  s.link.ack('BT-good', true, 'inbox');
  await waitFor('the good ack', () => (s.province.received.length === 1 ? true : null), 5000, 20);
  t.equal(s.province.received[0]!.body.BanTinId, 'BT-good', 'the refusal did not hold up the next');
  const refused = await s.outbox('?state=refused');
  t.equal(refused.length, 1);
  t.match(refused[0], { kind: 'schedule-ack', state: 'refused', attempts: 1, lastError: 'Bản tin không tồn tại', event: { bulletinId: 'BT-bad' } });
  t.match(refused[0].answer, /Bản tin không tồn tại/);
  t.match(await s.linkState(), { refused: 1, sent: 1, pending: 0 });
  t.equal(s.province.attempts, 2, 'a refusal is not sent again');
});

t.test('garbage, huge, redirected, failing and slow answers change nothing and are reported', async (t) => {
  const s = await linked(t, { link: { timeoutMs: 300, maxAnswerBytes: 4096 } });
  s.link.ack('BT-1', true, 'inbox');
  await waitFor('the first ack', () => (s.province.received.length === 1 ? true : null), 5000, 20);
  const cases: Array<[Province['mode'], RegExp]> = [
    ['garbage', /không đúng định dạng/],
    ['huge', /quá lớn \(10485760 byte/],
    ['huge-chunked', /quá lớn \(hơn 4096 byte/],
    ['redirect', /chuyển hướng HTTP 302/],
    ['http500', /HTTP 500/],
    ['slow', /Quá thời gian chờ \(300 ms\)/],
  ];
  let n = 2;
  for (const [mode, error] of cases) {
    s.province.mode = mode;
    const bulletinId = `BT-${n++}`;
    const attempts = s.province.attempts;
    const got = s.province.received.length;
    s.link.ack(bulletinId, true, 'inbox');
    const state = await waitFor(`the ${mode} answer`, async () => {
      await s.link.idle();
      const st = await s.linkState();
      return s.province.attempts > attempts && st.lastError ? st : null;
    }, 5000, 20);
    t.match(state.lastError, error, `${mode}: the error is shown`);
    t.equal(state.pending, 1, `${mode}: the ack still waits`);
    const [item] = await s.outbox('?state=pending');
    t.match(item, { event: { bulletinId }, state: 'pending' }, `${mode}: pending with its error`);
    t.match(item.lastError, error);
    t.equal(s.province.received.length, got, `${mode}: nothing recorded as received`);
    s.province.mode = 'ok';
    await s.advance(6 * 60_000, 10_000);
    await waitFor(`${mode}: sent once the province answers properly`, () => (s.province.received.at(-1)?.body.BanTinId === bulletinId ? true : null), 5000, 20);
  }
  t.match(await s.linkState(), { pending: 0, refused: 0, sent: cases.length + 1 });
  t.equal(new Set(s.province.received.map((r) => r.body.BanTinId)).size, s.province.received.length, 'each sent once');
});

t.test('the English variant and a server without a link', async (t) => {
  const s = await linked(t, { mapping: SHIPPED_MAPPINGS.en });
  await box(t, s, 'Loa chợ', true);
  await waitFor('the heartbeat', () => (s.server.ctx.deliveryService.metrics.snapshot().heartbeats.received >= 1 ? true : null), 5000, 10);
  await s.advance(30_000);
  const [r] = await waitFor('a status', () => (s.province.received.length >= 1 ? s.province.received : null), 5000, 20);
  t.match(r!.body, { SourceId: '99003', Volume: 63, OperatingStatus: { id: 1, value: 'Idle' }, NetworkInfo: '4G,70%', DestinationID: '99003' });

  const plain = await startTestServer(t);
  t.equal(plain.server.nationalLink, null);
  t.match((await plain.api('GET', '/api/v1/national/link', undefined, plain.token)).body, { configured: false, pending: 0 });
  t.same((await plain.api('GET', '/api/v1/national/outbox', undefined, plain.token)).body, { items: [] });
});

t.test('an installer records a box’s IMEI: at registration, in bulk, or later; one box per IMEI', async (t) => {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const one = await s.api('POST', '/api/v1/devices', { name: 'Loa 1', areaCode: '99003', nationalId: IMEI }, s.token);
  t.equal(one.status, 201);
  t.equal(one.body.nationalId, IMEI);
  t.equal((await s.api('GET', `/api/v1/devices/${one.body.id}`, undefined, s.token)).body.nationalId, IMEI);
  const again = await s.api('POST', '/api/v1/devices', { name: 'Loa 2', areaCode: '99003', nationalId: IMEI }, s.token);
  t.equal(again.status, 409, 'an IMEI already given to another box');
  t.match(again.body.error.message, /đã được gán/);
  t.equal((await s.api('POST', '/api/v1/devices', { name: 'Loa 2', areaCode: '99003', nationalId: 'IMEI với dấu' }, s.token)).status, 400);
  const bulk = await s.api('POST', '/api/v1/devices/bulk', { devices: [{ name: 'A', areaCode: '99003', nationalId: '111' }, { name: 'B', areaCode: '99003', nationalId: '111' }] }, s.token);
  t.equal(bulk.status, 400, 'the same IMEI twice in one batch');
  const total = (await s.api('GET', '/api/v1/devices', undefined, s.token)).body.total;
  t.equal(total, 1, 'a refused registration registers nothing');
  const ok = await s.api('POST', '/api/v1/devices/bulk', { devices: [{ name: 'A', areaCode: '99003', nationalId: '111' }, { name: 'B', areaCode: '99003' }] }, s.token);
  t.equal(ok.status, 201);
  const listed = (await s.api('GET', '/api/v1/devices', undefined, s.token)).body.items as Array<{ name: string; nationalId: string | null }>;
  t.same(listed.map((d) => [d.name, d.nationalId]).sort(), [['A', '111'], ['B', null], ['Loa 1', IMEI]]);
  const b = ok.body.items[1];
  t.equal((await s.api('PATCH', `/api/v1/devices/${b.id}`, { nationalId: IMEI }, s.token)).status, 409);
  t.equal((await s.api('PATCH', `/api/v1/devices/${one.body.id}`, { nationalId: IMEI }, s.token)).status, 200, 'its own IMEI again is no conflict');
  t.equal((await s.api('PATCH', `/api/v1/devices/${one.body.id}`, { nationalId: null }, s.token)).body.nationalId, null, 'cleared');
  t.equal((await s.api('PATCH', `/api/v1/devices/${b.id}`, { nationalId: IMEI }, s.token)).body.nationalId, IMEI, 'and free for another box');
  t.equal((await s.api('PATCH', '/api/v1/devices/spk_nope', { nationalId: '1' }, s.token)).status, 404);
});

t.test('a province’s own mapping file is checked at start; a bad one stops the start naming the field', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'tinh-bad.json');
  await writeFile(bad, JSON.stringify({ ...viMapping, answer: { status: 'TrangThaiGui', okValue: 0, message: 'MoTa' } }));
  const base = { url: 'http://127.0.0.1:9', username: 'u', password: 'p', passwordFile: undefined, sourceId: '99', sourceName: 'x', vendorCode: '', vendorName: '', statusSeconds: 30, timeoutMs: 1000, maxAnswerBytes: 65_536 };
  await t.rejects(startTestServer(t, { nationalMappingsDir: dir, national: { ...base, mapping: 'tinh-bad' } }), /LOAXA_NATIONAL_MAPPING: .*answer\.refusedValue/);
  await t.rejects(startTestServer(t, { nationalMappingsDir: dir, national: { ...base, mapping: bad } }), /LOAXA_NATIONAL_MAPPING: .*không phải tên ánh xạ/, 'a path is not a mapping name');

  // A province's own file with its own field names, and the password from a file: the link speaks it.
  const own = join(dir, 'tinh-x.json');
  const up = viMapping.up['schedule-ack'];
  await writeFile(own, JSON.stringify({ ...viMapping, name: 'tinh-x', up: { ...viMapping.up, 'schedule-ack': { ...up, path: '/api/v2/xacnhan' } } }));
  const secret = join(dir, 'password');
  await writeFile(secret, `${CREDS.password}\n`);
  const province = await startProvince(resolveMapping('tinh-x', dir), CREDS);
  t.teardown(() => province.close());
  const s = await startTestServer(t, { nationalMappingsDir: dir, national: { ...base, url: province.url, mapping: 'tinh-x', username: CREDS.username, password: undefined, passwordFile: secret } });
  s.server.nationalLink!.ack('BT-7', true, 'inbox');
  await waitFor('the ack on the province’s own path', () => (province.received.length === 1 ? true : null), 5000, 20);
  t.equal((await s.api('GET', '/api/v1/national/link', undefined, s.token)).body.mapping, 'tinh-x');
});

t.test('what waits survives a restart and goes first when the server is back', async (t) => {
  const s = await linked(t);
  s.province.mode = 'down';
  s.link.ack('BT-before-restart', false, 'Không có địa bàn nhận');
  await waitFor('a failed attempt', async () => ((await s.linkState()).lastError ? true : null), 5000, 20);
  await s.server.stop();
  s.province.mode = 'ok';
  const national = { ...s.server.ctx.config.national! };
  const again = await startTestServer(t, { dataDir: s.dataDir, national });
  await waitFor('the ack from before the restart', () => (s.province.received.length === 1 ? true : null), 5000, 20);
  t.match(s.province.received[0]!.body, { BanTinId: 'BT-before-restart', TrangThai: 0, MoTa: 'Không có địa bàn nhận' });
  const items = (await again.api('GET', '/api/v1/national/outbox?limit=1', undefined, again.token)).body.items;
  t.match(items, [{ state: 'sent', attempts: 2, event: { bulletinId: 'BT-before-restart' } }], 'tried before the restart, sent after it');
  const older = (await again.api('GET', `/api/v1/national/outbox?before=${items[0].seq}`, undefined, again.token)).body.items;
  t.same(older, [], 'nothing before it');
});

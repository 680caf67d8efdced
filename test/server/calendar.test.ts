/**
 * The week calendar (issue 20): an area's airings over a week, one cancelled, one moved, the whole series
 * moved (and the box's agenda with it), commune scoping, a box's own week, and refused ranges.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const VN = 7 * 3600_000;
/** 00:00 Vietnam time of the day after today. */
const tomorrowVn = () => (Math.floor((Date.now() + VN) / DAY) + 1) * DAY - VN;
const hhmm = (iso: string) => new Date(Date.parse(iso) + VN).toISOString().slice(11, 16);

interface Item { broadcastId: string; occurrenceAt: string; startAt: string; status: string; movedTo?: string; movedFrom?: string; title: string; priority: string; kind: string; series: boolean; seriesTime: string | null; canChange: boolean; durationMs: number | null }

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const login = async (username: string, role: string, areaCode: string | null) => {
    const created = await s.api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, s.token);
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return (await s.api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  const from = tomorrowVn();
  const week = (q: string, tok = s.token, f = from) => s.api<{ items: Item[]; truncated: boolean; areaCode: string }>('GET', `/api/v1/calendar?from=${new Date(f).toISOString()}&to=${new Date(f + 7 * DAY).toISOString()}${q}`, undefined, tok);
  return { ...s, login, from, week };
}

t.test('a daily broadcast over a week: 7 airings; cancel one, move one, move the series; the box’s agenda follows', async (t) => {
  const { api, token, urls, week, from } = await setup(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const agendas: Array<{ items: Array<{ occurrenceAt: number }> }> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['sync-agenda']);
    if (m.ok) agendas.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Bản tin sáng', text: 'Bản tin buổi sáng của xã.' }, token)).body;
  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'priority', target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['08:00'] } }, token)).body;
  const one = await week('&areaCode=99003');
  t.equal(one.status, 200);
  const items = one.body.items;
  t.equal(items.length, 7, 'seven airings in the week');
  t.ok(items.every((i) => i.status === 'scheduled' && i.title === 'Bản tin sáng' && i.priority === 'priority' && i.kind === 'text' && i.series && i.seriesTime === '08:00' && i.canChange));
  t.ok(items.every((i) => hhmm(i.startAt) === '08:00'), 'at 08:00 Vietnam time');
  t.ok(items[0]!.durationMs! > 0, 'with the bulletin’s length');
  t.equal(Date.parse(items[0]!.startAt), from + 8 * 3600_000, 'the first on the first day');

  // Cancel one airing: 6 scheduled + 1 cancelled, and the box's delivery for it is cancelled.
  const victim = items[1]!.occurrenceAt;
  t.equal((await api('POST', `/api/v1/broadcasts/${b.id}/cancel`, { occurrenceAt: victim }, token)).status, 200);
  const two = (await week('&areaCode=99003')).body.items;
  t.same(two.map((i) => i.status).sort(), ['cancelled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled']);
  t.equal(two.find((i) => i.status === 'cancelled')!.occurrenceAt, victim);
  t.equal(two.find((i) => i.status === 'cancelled')!.canChange, false, 'a cancelled airing offers nothing');
  const detail = (await api('GET', `/api/v1/broadcasts/${b.id}?occurrence=${victim}`, undefined, token)).body;
  t.same(detail.deliveries.map((d: { deviceId: string; state: string }) => [d.deviceId, d.state]), [[dev.id, 'cancelled']], 'the box’s delivery for it is cancelled');

  // Move one airing to 10:15 the same day.
  const moving = items[2]!.occurrenceAt;
  const to = new Date(Date.parse(moving) + 135 * 60_000).toISOString();
  t.equal((await api('PATCH', `/api/v1/broadcasts/${b.id}/occurrences/${moving}`, { startAt: to }, token)).status, 200);
  const three = (await week('&areaCode=99003')).body.items;
  t.same(three.find((i) => i.startAt === to), { ...three.find((i) => i.startAt === to), status: 'scheduled', occurrenceAt: moving, movedFrom: moving }, 'the airing is at its new time');
  t.equal(three.find((i) => i.startAt === moving)?.status, 'moved', 'its old place says it moved');
  t.equal(three.find((i) => i.startAt === moving)?.movedTo, to);

  // The whole series: 08:00 → 09:30, from today on; the cancelled and the moved airings stay so.
  const before = agendas.length;
  const bad = await api('POST', `/api/v1/broadcasts/${b.id}/series/time`, { time: '07:00', to: '09:30' }, token);
  t.equal(bad.status, 400, 'a time the series does not have is refused');
  const moved = await api('POST', `/api/v1/broadcasts/${b.id}/series/time`, { time: '08:00', to: '09:30' }, token);
  t.equal(moved.status, 200);
  t.same(moved.body.times, ['09:30']);
  t.ok(moved.body.cancelledDeliveries >= 1, 'the box’s airings at 08:00 are cancelled');
  const four = (await week('&areaCode=99003')).body.items;
  const live = four.filter((i) => i.status === 'scheduled');
  t.equal(live.length, 6, 'six airings still on air');
  t.same(live.map((i) => hhmm(i.startAt)).sort(), ['09:30', '09:30', '09:30', '09:30', '09:30', '10:15'], 'at 09:30, and the moved one where it was moved');
  t.equal(four.filter((i) => i.status === 'cancelled').length, 1, 'the cancelled day stays cancelled');
  t.equal(hhmm(four.find((i) => i.status === 'cancelled')!.startAt), '09:30');
  const agenda = await waitFor('the agenda after the series move', () => (agendas.length > before ? agendas.at(-1)! : null), 5000);
  const times = agenda.items.map((i) => hhmm(new Date(i.occurrenceAt).toISOString()));
  t.notOk(times.includes('08:00'), 'the box no longer holds 08:00');
  t.ok(times.includes('09:30'), 'the box holds 09:30');
  t.ok(times.includes('10:15'), 'and the airing moved on its own');

  // The audit log keeps who moved the series, and its schedule before and after.
  const entry = await waitFor('the audit row', async () => {
    const log = (await api<{ items: Array<{ route: string; status: number; username: string; body: { serverNote?: { series?: { before: { times: string[] }; after: { times: string[]; from: string } } } } }> }>('GET', '/api/v1/audit?limit=20', undefined, token)).body.items;
    return log.find((e) => e.route === '/api/v1/broadcasts/:id/series/time' && e.status === 200) ?? null;
  }, 5000);
  t.equal(entry.username, 'admin');
  t.same(entry.body.serverNote?.series?.before.times, ['08:00']);
  t.same(entry.body.serverNote?.series?.after.times, ['09:30']);

  // A one-off cannot be moved as a series.
  const once = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(from + 3 * DAY).toISOString() }, token)).body;
  t.equal((await api('POST', `/api/v1/broadcasts/${once.id}/series/time`, { time: '07:00', to: '09:00' }, token)).status, 409);
  const five = (await week('&areaCode=99003')).body.items.find((i) => i.broadcastId === once.id);
  t.equal(five?.series, false, 'a one-off is listed, not as a series');
});

t.test('scoping: a commune sees its own airings and its parents’, never another commune’s; a box its own', async (t) => {
  const { api, token, login, week } = await setup(t);
  const box = (await api('POST', '/api/v1/devices', { name: 'Loa thôn Đông', areaCode: '9900301' }, token)).body;
  const other = (await api('POST', '/api/v1/devices', { name: 'Loa Hưng Đạo', areaCode: '99004' }, token)).body;
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Tin tỉnh', text: 'Thông báo của tỉnh.' }, token)).body;
  const mk = async (target: object, title: string) => {
    const bl = (await api('POST', '/api/v1/bulletins', { title, text: `${title}.` }, token)).body;
    return (await api('POST', '/api/v1/broadcasts', { bulletinId: bl.id, target, schedule: { kind: 'daily', times: ['06:00'] } }, token)).body.id as string;
  };
  const province = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99'] }, schedule: { kind: 'weekly', weekdays: [1], times: ['07:00'] } }, token)).body.id;
  const village = await mk({ areaCodes: ['9900301'] }, 'Tin thôn Đông');
  const byBox = await mk({ deviceIds: [box.id] }, 'Tin một loa');
  const neighbour = await mk({ areaCodes: ['99004'] }, 'Tin Hưng Đạo');
  const otherBox = await mk({ deviceIds: [other.id] }, 'Tin loa Hưng Đạo');
  const tanlap = await login('op-tanlap', 'operator', '99003');
  const hungdao = await login('op-hungdao', 'operator', '99004');

  const mine = await week('', tanlap);
  t.equal(mine.status, 200);
  t.equal(mine.body.areaCode, '99003', 'the caller’s own commune by default');
  const ids = new Set(mine.body.items.map((i) => i.broadcastId));
  t.same([...ids].sort(), [province, village, byBox].sort(), 'the province’s, the village’s and its box’s airings');
  t.notOk(ids.has(neighbour) || ids.has(otherBox), 'nothing of Hưng Đạo');
  t.ok(mine.body.items.filter((i) => i.broadcastId === province).every((i) => !i.canChange), 'the province’s airings are not the commune’s to change');
  t.equal((await week('&areaCode=99004', tanlap)).status, 403, 'another commune’s calendar is refused');
  t.equal((await week(`&deviceId=${other.id}`, tanlap)).status, 404, 'another commune’s box is unknown');
  const theirs = new Set((await week('', hungdao)).body.items.map((i) => i.broadcastId));
  t.same([...theirs].sort(), [province, neighbour, otherBox].sort());

  const oneBox = await week(`&deviceId=${box.id}`, tanlap);
  t.same([...new Set(oneBox.body.items.map((i) => i.broadcastId))].sort(), [province, village, byBox].sort(), 'the box’s own week');
  const plain = (await api('POST', '/api/v1/devices', { name: 'Loa xã', areaCode: '99003' }, token)).body;
  t.same([...new Set((await week(`&deviceId=${plain.id}`, tanlap)).body.items.map((i) => i.broadcastId))], [province], 'a box of the commune outside the village gets only the province’s');
  t.equal((await week('', token)).status, 400, 'an installation-wide user names the area');
});

t.test('bad ranges are refused, and change nothing', async (t) => {
  const { api, token, from } = await setup(t);
  const q = (f: number, to: number) => api('GET', `/api/v1/calendar?areaCode=99003&from=${new Date(f).toISOString()}&to=${new Date(to).toISOString()}`, undefined, token);
  t.equal((await q(from, from - DAY)).status, 400, 'to before from');
  t.equal((await q(from, from + 15 * DAY)).status, 400, 'more than 14 days');
  t.equal((await q(from, from + 14 * DAY)).status, 200, 'exactly 14 days');
  t.equal((await api('GET', '/api/v1/calendar?areaCode=99003&from=hôm-nay&to=mai', undefined, token)).status, 400, 'not instants');
  const openapi = (await api('GET', '/openapi.json')).body;
  t.ok(openapi.paths['/api/v1/calendar'] && openapi.paths['/api/v1/broadcasts/{id}/series/time'], 'both routes are in the published OpenAPI');
  t.equal((await api('GET', `/api/v1/calendar?areaCode=12345&from=${new Date(from).toISOString()}&to=${new Date(from + DAY).toISOString()}`, undefined, token)).status, 400, 'an unknown area');
});

t.test('what the box did shows: airing, aired; warnings repeated every N minutes; a dense one is cut at the cap', async (t) => {
  const { api, token, urls } = await setup(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: string[] = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok) plays.push(m.value.payload.broadcastId);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box online', async () => ((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo khẩn', text: 'Thông báo khẩn của xã.' }, token)).body;
  const now = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, token)).body;
  const occurrenceAt = Date.parse(now.startAt);
  await waitFor('the play', () => (plays.includes(now.id) ? true : null), 5000);
  const today = (Math.floor((Date.now() + VN) / DAY)) * DAY - VN;
  const q = `/api/v1/calendar?areaCode=99003&from=${new Date(today).toISOString()}&to=${new Date(today + DAY).toISOString()}`;
  const statusOf = async () => (await api<{ items: Item[] }>('GET', q, undefined, token)).body.items.find((i) => i.broadcastId === now.id)?.status ?? null;
  t.equal(await statusOf(), 'scheduled', 'sent, not yet playing');
  const report = (state: string) => c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId: now.id, occurrenceAt, state: state as 'played', at: Date.now() }), { qos: 1 });
  await report('acknowledged');
  await report('playing');
  await waitFor('airing', async () => ((await statusOf()) === 'airing' ? true : null), 5000);
  await report('played');
  await waitFor('aired', async () => ((await statusOf()) === 'aired' ? true : null), 5000);
  t.pass('the calendar follows the box: airing, then aired');

  // A warning aired again every 30 minutes tomorrow (issue 18's `every`): 48 airings, a series with no time of day.
  const tomorrow = today + DAY;
  const warn = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: ['99'] }, schedule: { kind: 'every', from: new Date(tomorrow).toISOString(), until: new Date(tomorrow + DAY).toISOString(), minutes: 30 } }, token)).body;
  const day2 = (await api<{ items: Item[] }>('GET', `/api/v1/calendar?areaCode=99003&from=${new Date(tomorrow).toISOString()}&to=${new Date(tomorrow + DAY).toISOString()}`, undefined, token)).body.items.filter((i) => i.broadcastId === warn.id);
  t.equal(day2.length, 48);
  t.ok(day2.every((i) => i.priority === 'emergency' && i.series && i.seriesTime === null), 'an emergency series whose time of day cannot be moved');

  // Every 5 minutes for 14 days is 4,032 airings: the first 2,000 are listed and the answer says so.
  const dense = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'every', from: new Date(tomorrow).toISOString(), until: new Date(tomorrow + 14 * DAY).toISOString(), minutes: 5 } }, token);
  t.equal(dense.status, 201);
  const started = performance.now();
  const cut = (await api<{ items: Item[]; truncated: boolean }>('GET', `/api/v1/calendar?areaCode=99003&from=${new Date(tomorrow).toISOString()}&to=${new Date(tomorrow + 14 * DAY).toISOString()}`, undefined, token)).body;
  t.comment(`two weeks with 4,032 + 48 + 1 airings answered in ${Math.round(performance.now() - started)} ms`);
  t.equal(cut.truncated, true);
  t.equal(cut.items.length, 2000, 'at most 2,000 airings in one answer');
  t.equal(cut.items[0]!.startAt, new Date(tomorrow).toISOString(), 'from the first');
});

/**
 * A programme on the air (issue 15): the play a box gets (a relay segment "until" a time of day made an instant
 * across midnight), the box's per-item reports (stored once, only for its own programme deliveries, at
 * instants the airing can have had), relay reports from a programme's relay segment, and the as-run that lists
 * the items.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { endsAtOf } from '../../server/src/services/play-book.js';
import { instantOf, localDayOf } from '../../server/src/scheduling/local-time.js';

t.test('endsAt: the first time it is HH:MM in Vietnam at or after the start', async (t) => {
  const day = localDayOf(Date.parse('2026-12-15T10:00:00Z'));
  t.equal(endsAtOf('00:30', instantOf(day, 23 * 60 + 50)), instantOf(day + 1, 30), '23:50 until 00:30 ends the next day');
  t.equal(new Date(endsAtOf('00:30', instantOf(day, 23 * 60 + 50))).toISOString(), '2026-12-15T17:30:00.000Z', 'UTC+7, no DST');
  t.equal(endsAtOf('18:30', instantOf(day, 18 * 60 + 30)), instantOf(day, 18 * 60 + 30), 'at the start itself: the same instant');
  t.equal(endsAtOf('18:30', instantOf(day, 18 * 60)), instantOf(day, 18 * 60 + 30));
});

async function box(t: Test, mqttUrl: string, dev: { id: string; mqtt: { password: string } }) {
  const c = await mqtt.connectAsync(mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  const agendas: Array<Payload<'sync-agenda'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play', 'sync-agenda']);
    if (!m.ok) return;
    if (m.value.type === 'play') plays.push(m.value.payload as Payload<'play'>);
    else agendas.push(m.value.payload as Payload<'sync-agenda'>);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);
  const report = (p: Payload<'event'>) => c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', p), { qos: 1 });
  return { plays, agendas, report };
}

t.test('a programme airs, its items are reported and the as-run lists them', async (t) => {
  const { api, token, urls, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const other = (await api('POST', '/api/v1/devices', { name: 'loa trường', areaCode: '99003' }, token)).body;
  const a = await box(t, urls.mqttUrl, dev);
  const b = await box(t, urls.mqttUrl, other);
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Tin sáng', text: 'Sáng nay xã tổ chức tiêm phòng.' }, token)).body;
  const fallback = (await api('POST', '/api/v1/bulletins', { title: 'Mất sóng', text: 'Buổi tiếp sóng tạm gián đoạn.' }, token)).body;
  const vov = ['http://radio.example/vov1.mp3', 'http://radio.example/vov1.aac'];
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: vov, fallbackBulletinId: fallback.id, areaCode: null }, token)).body;

  // Late evening: a relay "until 00:30" ends the next day.
  const late = (await api('POST', '/api/v1/programmes', { title: 'Chương trình khuya', items: [{ kind: 'bulletin', bulletinId: news.id }, { kind: 'relay', sourceId: src.id, until: '00:30' }] }, token)).body;
  const today = localDayOf(Date.now());
  let startAt = instantOf(today, 23 * 60 + 50);
  if (startAt < Date.now() + 60_000) startAt = instantOf(today + 1, 23 * 60 + 50);
  const lateBc = (await api('POST', '/api/v1/broadcasts', { bulletinId: late.id, target: { deviceIds: [dev.id] }, startAt: new Date(startAt).toISOString() }, token)).body;
  const held = await waitFor('the late programme in the agenda', () => a.agendas.at(-1)!.items.find((i) => i.broadcastId === lateBc.id) ?? null, 5000);
  const segment = held.programme!.items[1]!;
  t.same(segment.stream, { sourceId: src.id, urls: vov, endsAt: instantOf(localDayOf(startAt) + 1, 30) }, 'until 00:30 is the next day’s 00:30, in Vietnam');
  t.equal(segment.media?.sha256, fallback.audio.sha256, 'the source’s fallback comes with the segment');
  t.equal(held.programme!.items[0]!.media?.sha256, news.audio.sha256);

  // Now: a bell, a bulletin and a minute of relay.
  const p = (await api('POST', '/api/v1/programmes', { title: 'Chương trình trưa', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'bulletin', bulletinId: news.id }, { kind: 'relay', sourceId: src.id, durationMs: 60_000 }] }, token)).body;
  const bc = (await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { deviceIds: [dev.id] } }, token)).body;
  const play = await waitFor('the programme’s play', () => a.plays.find((x) => x.broadcastId === bc.id) ?? null, 5000);
  t.equal(play.programme?.version, 1);
  t.same(play.programme?.items.map((i) => [i.index, i.kind]), [[0, 'chime'], [1, 'bulletin'], [2, 'relay']]);
  t.same(play.programme?.items[2]!.stream, { sourceId: src.id, urls: vov, durationMs: 60_000 });
  t.equal(b.plays.length, 0, 'the other box is not a target');
  t.same(server.ctx.programmes.devicesRelaying(src.id, Date.now()), [dev.id], 'the boxes an edit of the source must reach');

  const occurrenceAt = play.occurrenceAt;
  // Reports carry past instants only (ingest caps future ones at their arrival).
  await waitFor('a second to pass', () => (Date.now() > occurrenceAt + 1200 ? true : null), 5000, 50);
  const emitted: unknown[] = [];
  server.ctx.events.on('programme-item', (e) => emitted.push(e));
  const item = (index: number, state: 'playing' | 'played' | 'failed', at: number, extra: object = {}) => ({ kind: 'programme-item' as const, broadcastId: bc.id, occurrenceAt, version: 1, index, state, at, ...extra });
  await a.report({ kind: 'delivery', broadcastId: bc.id, occurrenceAt, state: 'playing', at: occurrenceAt + 50 });
  await a.report(item(0, 'playing', occurrenceAt + 50));
  await a.report(item(0, 'played', occurrenceAt + 300, { airedMs: 250 }));
  await a.report(item(0, 'played', occurrenceAt + 300, { airedMs: 250 })); // a QoS 1 redelivery
  await a.report(item(1, 'playing', occurrenceAt + 400));
  await a.report(item(1, 'failed', occurrenceAt + 600, { reason: 'decoder error' }));
  await a.report({ kind: 'relay', broadcastId: bc.id, occurrenceAt, url: vov[0]!, cause: 'started', at: occurrenceAt + 700 });
  // Refused: an index the programme does not have, a version it does not have, an instant long before the
  // airing, and a box that has no delivery of it.
  await a.report(item(7, 'played', occurrenceAt + 800));
  await a.report({ ...item(2, 'playing', occurrenceAt + 800), version: 9 });
  await a.report(item(2, 'playing', occurrenceAt - 3600_000));
  await b.report(item(2, 'playing', occurrenceAt + 800));
  await b.report({ kind: 'relay', broadcastId: bc.id, occurrenceAt, url: vov[0]!, cause: 'started', at: occurrenceAt + 800 });

  const log = await waitFor('the item reports stored', () => {
    const l = server.ctx.programmes.itemLog(bc.id, occurrenceAt, dev.id);
    return l.length >= 4 ? l : null;
  }, 5000);
  await new Promise((r) => setTimeout(r, 300)); // the refused ones had their chance to land
  t.same(server.ctx.programmes.itemLog(bc.id, occurrenceAt, dev.id).map((e) => [e.index, e.state]), [[0, 'playing'], [0, 'played'], [1, 'playing'], [1, 'failed']], 'good reports stored once each; the bad ones not at all');
  t.equal(log.length, 4);
  t.same(server.ctx.programmes.itemLog(bc.id, occurrenceAt, other.id), [], 'nothing from a box without this delivery');
  t.equal(emitted.length, 4, 'each stored report is announced once on the live stream');
  t.same(server.ctx.relayLog.entries(bc.id, occurrenceAt).map((e) => [e.deviceId, e.cause]), [[dev.id, 'started']], 'a relay segment’s report is kept, the other box’s is not');

  const relays = (await api('GET', `/api/v1/reports/relays?broadcastId=${bc.id}&occurrenceAt=${new Date(occurrenceAt).toISOString()}`, undefined, token)).body;
  t.same(relays.items.map((i: { deviceId: string; sourceId: string }) => [i.deviceId, i.sourceId]), [[dev.id, src.id]], 'the relay report covers the programme’s relay segment');

  const day = new Date(occurrenceAt + 7 * 3600_000).toISOString().slice(0, 10);
  const asRun = (await api('GET', `/api/v1/reports/as-run?area=99003&from=${day}&to=${day}`, undefined, token)).body;
  const row = asRun.communes[0].devices.find((d: { deviceId: string }) => d.deviceId === dev.id).items.find((i: { broadcastId: string }) => i.broadcastId === bc.id);
  t.equal(row.programme.version, 1);
  t.same(
    row.programme.items.map((i: { index: number; title: string; state: string | null; airedMs: number | null; reason: string | null }) => [i.index, i.title, i.state, i.airedMs, i.reason]),
    [[0, 'Chuông mở đầu', 'played', 250, null], [1, 'Tin sáng', 'failed', null, 'decoder error'], [2, 'VOV1', null, null, null]],
    'each item as the box reported it; one never reported has no state',
  );
  t.equal(row.programme.items[0].startedAt, new Date(occurrenceAt + 50).toISOString());
  t.equal(row.programme.items[0].endedAt, new Date(occurrenceAt + 300).toISOString());

  const csv = await api('GET', `/api/v1/reports/as-run?area=99003&from=${day}&to=${day}&format=csv`, undefined, token);
  const lines = (csv.body as string).trim().split(/\r?\n/);
  // Vietnamese headers and states since issue 20, broken 8 (were programme_version, failed, not reported).
  t.match(lines[0], /Phiên bản chương trình,Mục chương trình$/);
  const itemLines = lines.filter((l) => l.includes(bc.id) && /,1,[123]$/.test(l));
  t.equal(itemLines.length, 3, 'one line per item under the airing');
  t.match(itemLines[1], /Tin sáng.*Lỗi.*decoder error/);
  t.match(itemLines[2], /VOV1.*Không có báo cáo/);
});

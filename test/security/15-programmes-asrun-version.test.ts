/**
 * Issue 15 review (hostile): the as-run of a programme's airing names the programme's CURRENT version
 * (as-run.ts: `CASE WHEN t.source = 'programme' THEN t.programme_version END`), unless the box's item reports
 * say otherwise. An airing whose box never reported its items (offline, an older agent, reports lost) is
 * therefore rewritten by every later edit: last week's as-run lists this week's items, under a version that
 * did not exist when it was sent. The as-run is the record a province reports from.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload } from '@loaxa/shared';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('an edit does not rewrite the as-run of an airing already sent', async (t) => {
  const { api, token, urls } = await securityServer(t, { sourceCheckSeconds: 0 });
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok) plays.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Tin sáng', text: 'Sáng nay xã tổ chức tiêm phòng.' }, token)).body;
  const p = (await api('POST', '/api/v1/programmes', { title: 'Chương trình', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'bulletin', bulletinId: news.id }] }, token)).body;
  const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { deviceIds: [dev.id] } }, token);
  t.equal(bc.status, 201, JSON.stringify(bc.body));
  // Sent to the box as version 1; the box aired it and reported the delivery (an older agent: no item reports).
  const play = await waitFor('the play', () => plays.find((x) => x.broadcastId === bc.body.id) ?? null, 5000);
  t.equal(play.programme?.version, 1);
  const report = (pl: Payload<'event'>) => c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', pl), { qos: 1 });
  await waitFor('a second to pass', () => (Date.now() > play.occurrenceAt + 1200 ? true : null), 5000, 50);
  await report({ kind: 'delivery', broadcastId: bc.body.id, occurrenceAt: play.occurrenceAt, state: 'playing', at: play.occurrenceAt + 50 });
  await report({ kind: 'delivery', broadcastId: bc.body.id, occurrenceAt: play.occurrenceAt, state: 'played', at: play.occurrenceAt + 1000 });
  await new Promise((r) => setTimeout(r, 300));
  const day = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  const read = async () => {
    const asRun = (await api('GET', `/api/v1/reports/as-run?area=99003&from=${day}&to=${day}`, undefined, token)).body;
    const row = asRun.communes?.[0]?.devices?.find((d: { deviceId: string }) => d.deviceId === dev.id)?.items.find((i: { broadcastId: string }) => i.broadcastId === bc.body.id);
    return row?.programme as { version: number; items: Array<{ title: string }> } | undefined;
  };
  const before = await read();
  t.equal(before?.version, 1, 'the airing was of version 1');

  // Afterwards the programme is edited (for the next airings).
  const edited = await api('PUT', `/api/v1/programmes/${p.id}`, { title: 'Chương trình', items: [{ kind: 'pause', durationMs: 1000 }] }, token);
  t.equal(edited.status, 200);
  const after = await read();
  t.equal(after?.version, 1, `the airing's as-run still names version 1 (it names ${after?.version})`);
  t.same(after?.items.map((i) => i.title), ['Chuông mở đầu', 'Tin sáng'], `and its items (lists ${JSON.stringify(after?.items.map((i) => i.title))})`);
});

/**
 * The as-run of relays (issue 15 § As-run): what a box reports on `event` (relay events, and the `airedMs` of
 * its `played`) becomes minutes relayed, gaps with their causes and the URLs that served; repeats and reports
 * on someone else's airing change nothing; the as-run list shows the relay like any airing.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { topics, encodeMessage, decodeMessage, type RelayCause } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { relayTimeline } from '../../server/src/domain/relay-timeline.js';

/** Reads an SSE stream into a list of {event, data} (as test/server/events.test.ts does). */
function listen(url: string, token: string) {
  const got: Array<{ event: string; data: any }> = [];
  const ac = new AbortController();
  void (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += new TextDecoder().decode(value);
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) got.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  return { got, close: () => ac.abort() };
}

const U1 = 'https://stream.vov.vn/vov1.m3u8';
const U2 = 'http://icecast.vov.vn:8000/vov1.mp3';

t.test('relay timeline: served time per URL, gaps from a failover until the relay starts or returns', async (t) => {
  const ev = (at: number, cause: RelayCause, url: string | null, detail: string | null = null) => ({ at, cause, url, detail });
  const tl = relayTimeline(
    [ev(0, 'started', U1), ev(60_000, 'error', null, 'connection refused'), ev(60_500, 'fallback', null), ev(63_000, 'started', U2), ev(120_000, 'silence', null), ev(125_000, 'returned', U1), ev(180_000, 'ended', null)],
    { from: 0, to: 200_000 },
  );
  t.same(tl.gaps, [
    { from: 60_000, to: 63_000, cause: 'error', detail: 'connection refused' },
    { from: 120_000, to: 125_000, cause: 'silence', detail: null },
  ], 'a fallback inside a gap does not open another');
  t.same(tl.urls, [{ url: U1, servedMs: 115_000 }, { url: U2, servedMs: 57_000 }]);
  t.equal(tl.servedMs, 172_000);
  // The device agent moves to the next URL at once and reports that one event, naming the URL now serving.
  const direct = relayTimeline([ev(0, 'started', U1), ev(10_000, 'silence', U2, 'silent for 10 s'), ev(20_000, 'returned', U1), ev(30_000, 'ended', null)], { from: 0, to: 60_000 });
  t.same(direct.gaps, [], 'a failover straight to the next URL leaves no gap');
  t.same(direct.switches, [{ at: 10_000, cause: 'silence', url: U2, detail: 'silent for 10 s' }], 'but is listed with its cause');
  t.same(direct.urls, [{ url: U1, servedMs: 20_000 }, { url: U2, servedMs: 10_000 }]);
  const open = relayTimeline([ev(0, 'started', U1), ev(30_000, 'stalled', null)], { from: 0, to: 50_000 });
  t.same(open.gaps, [{ from: 30_000, to: 50_000, cause: 'stalled', detail: null }], 'a gap still open lasts until the window’s end (or now)');
  t.equal(relayTimeline([ev(-5_000, 'started', U1)], { from: 0, to: 10_000 }).servedMs, 10_000, 'clipped to the window');
});

t.test('a box’s relay reports become the as-run: minutes relayed, gaps and causes, URLs; repeats change nothing', async (t) => {
  const { api, token, urls, base, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const live = listen(`${base}/api/v1/events`, token);
  t.teardown(() => live.close());
  await waitFor('the live stream', () => (server.ctx.events.listenerCount('relay') > 0 ? true : null), 5000, 10);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const other = (await api('POST', '/api/v1/devices', { name: 'loa đình', areaCode: '99003' }, token)).body;
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: [U1, U2], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự VOV', sourceId: src.id, durationMs: 60_000 }, token)).body;

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const o = await mqtt.connectAsync(urls.mqttUrl, { clientId: other.id, username: other.id, password: other.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => o.endAsync(true));
  const plays: string[] = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok) plays.push(m.value.payload.broadcastId);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box online', async () => ((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);

  // Boxes stamp reports with their own clock and nothing can have happened after it reached the server
  // (device-ingest.ts caps such times), so the relay's events are a few seconds long and sent once past.
  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token)).body;
  const occurrenceAt = Date.parse(b.startAt);
  await waitFor('the play', () => (plays.includes(b.id) ? true : null), 5000);
  await waitFor('the relay to be over', () => (Date.now() > occurrenceAt + 2800 ? true : null), 10_000, 50);

  const delivery = (state: string, at: number, extra: Record<string, unknown> = {}) =>
    c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId: b.id, occurrenceAt, state: state as 'played', at, ...extra }), { qos: 1 });
  const relayEvent = (client: mqtt.MqttClient, deviceId: string, cause: RelayCause, url: string | null, at: number, detail?: string) =>
    client.publishAsync(topics.deviceEvent(deviceId), encodeMessage('event', { kind: 'relay', broadcastId: b.id, occurrenceAt, url, cause, at, ...(detail ? { detail } : {}) }), { qos: 1 });

  await delivery('acknowledged', occurrenceAt + 20);
  await delivery('playing', occurrenceAt + 100);
  await relayEvent(c, dev.id, 'started', U1, occurrenceAt + 100);
  await relayEvent(c, dev.id, 'error', null, occurrenceAt + 600, 'Connection refused');
  await relayEvent(c, dev.id, 'error', null, occurrenceAt + 600, 'Connection refused'); // a QoS 1 redelivery
  await relayEvent(c, dev.id, 'started', U2, occurrenceAt + 900);
  await relayEvent(c, dev.id, 'silence', null, occurrenceAt + 1500, 'silent for 10 s');
  await relayEvent(c, dev.id, 'returned', U1, occurrenceAt + 1900);
  // Another box reports on an airing that is not its own: ignored.
  await relayEvent(o, other.id, 'error', null, occurrenceAt + 300, 'forged');
  // Not a cause the protocol knows: dropped by the schema.
  await c.publishAsync(topics.deviceEvent(dev.id), JSON.stringify({ v: 1, id: randomUUID(), type: 'event', ts: Date.now(), payload: { kind: 'relay', broadcastId: b.id, occurrenceAt, url: null, cause: 'bored', at: occurrenceAt + 200 } }), { qos: 1 });
  await relayEvent(c, dev.id, 'ended', null, occurrenceAt + 2500);

  const shown = await waitFor('the live status to show the relay ended', () => live.got.filter((e) => e.event === 'relay').at(-1)?.data.cause === 'ended' ? live.got : null, 5000);
  t.ok(shown.filter((e) => e.event === 'relay').every((e) => e.data.deviceId === dev.id && e.data.broadcastId === b.id), 'the live status page hears the box’s relay, and only real ones');

  const report = async () => (await api('GET', `/api/v1/reports/relays?broadcastId=${b.id}&occurrenceAt=${new Date(occurrenceAt).toISOString()}`, undefined, token)).body;
  const before = await waitFor('the relay events in the report', async () => {
    const r = await report();
    return r.items?.[0]?.gaps?.length === 2 && r.items[0].urls.length === 2 ? r : null;
  }, 5000);
  const item = before.items[0];
  const stored = server.ctx.db.prepare('SELECT device_id AS deviceId, cause FROM relay_log ORDER BY at, id').all();
  t.same(stored, ['started', 'error', 'started', 'silence', 'returned', 'ended'].map((cause) => ({ deviceId: dev.id, cause })), 'the repeat, the other box’s report and the unknown cause left nothing');
  t.equal(before.items.length, 1, 'one box aired it');
  t.equal(item.deviceId, dev.id);
  t.equal(item.sourceName, 'VOV1');
  t.same(item.gaps.map((g: { cause: string; ms: number; detail: string | null }) => [g.cause, g.ms, g.detail]), [['error', 300, 'Connection refused'], ['silence', 400, 'silent for 10 s']], 'each gap with its cause, once');
  t.same(item.urls, [{ url: U1, servedMs: 500 + 600 }, { url: U2, servedMs: 600 }], 'which URL served how long');
  t.equal(item.relayedMs, 1700, 'before the box’s own count arrives, the served intervals');
  t.equal(item.airedMs, null);

  // The box ends the relay with its own count of what it decoded and sent to the speaker.
  await delivery('played', occurrenceAt + 2600, { airedMs: 1650 });
  const after = await waitFor('the box’s count', async () => {
    const r = await report();
    return r.items[0].airedMs !== null ? r : null;
  }, 5000);
  t.equal(after.items[0].relayedMs, 1650, 'what the box actually aired is what counts');
  t.equal(after.items[0].relayedMinutes, 0);
  t.equal(after.items[0].state, 'played');
  t.same(after.totals, { boxes: 1, relayedMs: 1650, gapMs: 700 });

  const byArea = (await api('GET', `/api/v1/reports/relays?area=99003&from=${encodeURIComponent(new Date(occurrenceAt - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(occurrenceAt + 3600_000).toISOString())}`, undefined, token)).body;
  t.same(byArea.items.map((i: { broadcastId: string; relayedMs: number }) => [i.broadcastId, i.relayedMs]), [[b.id, 1650]], 'per area and period too');
  t.equal((await api('GET', '/api/v1/reports/relays?area=99003', undefined, token)).status, 400, 'a period needs from and to');

  const asRun = (await api('GET', `/api/v1/reports/as-run?area=99003&from=${encodeURIComponent(new Date(occurrenceAt - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(occurrenceAt + 3600_000).toISOString())}`, undefined, token)).body;
  const box = asRun.communes[0].devices.find((d: { deviceId: string }) => d.deviceId === dev.id);
  t.equal(box.items[0].title, 'Thời sự VOV', 'the as-run lists the relay like any airing');
  t.equal(box.items[0].state, 'played');
  t.same(box.items[0].relay, { sourceId: src.id, sourceName: 'VOV1', airedMs: 1650 }, 'marked as a relay of its source');
  t.equal(box.airtimeMs, 1650, 'its airtime is what the box relayed, not the window');
});

t.test('the relay report shows a user only their own boxes and broadcasts', async (t) => {
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/users', { username: 'vh-hungdao', password: 'a-long-password', role: 'operator', areaCode: '99004' }, token);
  const op = (await api('POST', '/api/v1/auth/login', { username: 'vh-hungdao', password: 'a-long-password' })).body.token;
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: [U1], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'VOV', sourceId: src.id, durationMs: 600_000 }, token)).body;
  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, token)).body;
  t.equal((await api('GET', `/api/v1/reports/relays?broadcastId=${b.id}`, undefined, token)).body.items.length, 1, 'the province sees the box');
  t.equal((await api('GET', `/api/v1/reports/relays?broadcastId=${b.id}`, undefined, op)).status, 404, 'another commune does not see the broadcast');
  t.equal((await api('GET', '/api/v1/reports/relays?area=99003&from=2026-01-01&to=2026-01-02', undefined, op)).status, 404, 'nor the area');
});

t.test('issue 15 review (5): airedMs counts only on the played report of a relay, clamped to what it could air', async (t) => {
  const { api, token, urls, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: [U1], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự VOV', sourceId: src.id, durationMs: 60_000 }, token)).body;
  const file = (await api('POST', '/api/v1/bulletins', { title: 'Sáng', text: 'Chương trình phát thanh buổi sáng.' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box online', async () => ((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);

  const rb = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token)).body;
  const fb = (await api('POST', '/api/v1/broadcasts', { bulletinId: file.id, target: { deviceIds: [dev.id] } }, token)).body;
  const rOcc = Date.parse(rb.startAt);
  const fOcc = Date.parse(fb.startAt);
  await waitFor('both to be past', () => (Date.now() > Math.max(rOcc, fOcc) + 1500 ? true : null), 10_000, 50);
  const report = (broadcastId: string, occurrenceAt: number, state: string, at: number, extra: Record<string, unknown> = {}) =>
    c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId, occurrenceAt, state: state as 'played', at, ...extra }), { qos: 1 });
  // A file play: the box claims an hour aired on every report; its airtime stays its play times.
  await report(fb.id, fOcc, 'acknowledged', fOcc + 10, { airedMs: 3_600_000 });
  await report(fb.id, fOcc, 'playing', fOcc + 100, { airedMs: 3_600_000 });
  await report(fb.id, fOcc, 'played', fOcc + 1100, { airedMs: 3_600_000 });
  // A relay: airedMs on `playing` is ignored, on `played` clamped to the relay's length and to its play times.
  await report(rb.id, rOcc, 'playing', rOcc + 100, { airedMs: 3_600_000 });
  await report(rb.id, rOcc, 'played', rOcc + 1300, { airedMs: 3_600_000 });
  const aired = (id: string) => (server.ctx.db.prepare('SELECT state, aired_ms AS airedMs FROM deliveries WHERE broadcast_id = ?').get(id) as { state: string; airedMs: number | null });
  await waitFor('both played', () => (aired(fb.id)?.state === 'played' && aired(rb.id)?.state === 'played' ? true : null), 5000, 20);
  t.equal(aired(fb.id).airedMs, null, 'nothing stored for the file play');
  t.equal(aired(rb.id).airedMs, 60_000, 'the relay’s count is stored no longer than the relay');

  const period = `from=${encodeURIComponent(new Date(rOcc - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(rOcc + 3600_000).toISOString())}`;
  const asRun = (await api('GET', `/api/v1/reports/as-run?area=99003&${period}`, undefined, token)).body;
  const box = asRun.communes[0].devices.find((d: { deviceId: string }) => d.deviceId === dev.id);
  t.equal(box.airtimeMs, 1000 + 1200, 'the file’s play times, and the relay no longer than it played');
  const relays = (await api('GET', `/api/v1/reports/relays?broadcastId=${rb.id}&occurrenceAt=${new Date(rOcc).toISOString()}`, undefined, token)).body;
  t.equal(relays.items[0].relayedMs, 1200, 'the relay report clamps it too');
});

t.test('issue 15 review (6): relay reports only for a box’s relay airings, inside their time, and a bounded number', async (t) => {
  const { api, token, urls, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: [U1], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự VOV', sourceId: src.id, durationMs: 60_000 }, token)).body;
  const file = (await api('POST', '/api/v1/bulletins', { title: 'Sáng', text: 'Chương trình phát thanh buổi sáng.' }, token)).body;
  const misbehaved: string[] = [];
  const meter = server.ctx.misbehaviour;
  const record = meter.record.bind(meter);
  meter.record = (id: string) => (misbehaved.push(id), record(id));
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box online', async () => ((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);
  const rb = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token)).body;
  const fb = (await api('POST', '/api/v1/broadcasts', { bulletinId: file.id, target: { deviceIds: [dev.id] } }, token)).body;
  const rOcc = Date.parse(rb.startAt);
  const fOcc = Date.parse(fb.startAt);
  await waitFor('both to be past', () => (Date.now() > Math.max(rOcc, fOcc) + 300 ? true : null), 10_000, 50);
  const relayEvent = (broadcastId: string, occurrenceAt: number, at: number) =>
    c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'relay', broadcastId, occurrenceAt, url: U1, cause: 'started', at }), { qos: 1 });
  const logged = () => (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM relay_log').get() as { n: number }).n;

  await relayEvent(fb.id, fOcc, fOcc + 50);
  await relayEvent(rb.id, rOcc, rOcc - 120_000);
  await waitFor('both refused', () => (misbehaved.length >= 2 ? true : null), 5000, 20);
  t.equal(logged(), 0, 'nothing for a file play, nor for an instant long before the relay');
  t.same(misbehaved, [dev.id, dev.id], 'each counted as misbehaviour');

  await relayEvent(rb.id, rOcc, rOcc + 10);
  await waitFor('the real report', () => (logged() === 1 ? true : null), 5000, 20);
  for (let i = 1; i < 500; i++) server.ctx.relayLog.record({ deviceId: dev.id, broadcastId: rb.id, occurrenceAt: rOcc, url: U1, cause: 'started', at: rOcc + 10 + i, detail: null });
  t.equal(logged(), 500);
  await relayEvent(rb.id, rOcc, rOcc + 200);
  await waitFor('the one over the cap refused', () => (misbehaved.length >= 3 ? true : null), 5000, 20);
  t.equal(logged(), 500, 'no more than 500 reports for one airing');
});

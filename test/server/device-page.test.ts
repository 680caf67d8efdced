/**
 * Issue 20, the box page's routes on a real server: health history from heartbeats a box sends over MQTT
 * (server on a fake clock), the per-box as-run paged, the claim label's QR code, and who may do what: a
 * commune user never reads another commune's box, a viewer sends no command.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, HEALTH_BUCKET_MS } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import { uploadTone, userToken } from '../helpers/programmes.js';
import { waitFor } from '../helpers/wait.js';

t.setTimeout(120_000);

t.test('heartbeats become 15-minute buckets the box page reads; another commune’s user gets 404', async (t) => {
  // A quarter hour boundary in the near future, so the buckets are predictable and the server's own time is sane.
  const start = Math.ceil(Date.now() / HEALTH_BUCKET_MS) * HEALTH_BUCKET_MS;
  const clock = fakeClock(start);
  const { api, token, urls } = await startTestServer(t, {}, { clock });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ Tân Lập', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const heartbeat = (temp: number, signal: number) =>
    c.publishAsync(
      topics.deviceTelemetry(dev.id),
      encodeMessage('telemetry', { uptimeS: 600, volume: 65, cacheBytes: 1000, cacheItems: 1, clockOffsetMs: 7, health: { cpuTempC: temp, network: { type: 'cellular', signalPct: signal }, diskFreeBytes: 3e9, diskTotalBytes: 4e9 } }),
      { qos: 1 },
    );
  const history = (tok = token) => api('GET', `/api/v1/devices/${dev.id}/health-history?from=${new Date(start - 3600_000).toISOString()}&to=${new Date(start + 3 * HEALTH_BUCKET_MS).toISOString()}`, undefined, tok);

  await heartbeat(50, 40);
  clock.advance(30_000);
  await heartbeat(60, 60);
  clock.advance(HEALTH_BUCKET_MS);
  await heartbeat(55, 70);
  const points = await waitFor('two buckets', async () => {
    const h = (await history()).body;
    return h.points?.length === 2 && h.points[1].samples === 1 ? h.points : null;
  }, 10_000);
  t.equal(points[0].at, new Date(start).toISOString(), 'the first bucket starts on the quarter hour of the fake clock');
  t.equal(points[0].samples, 2);
  t.same(points[0].readings.temp, { min: 50, avg: 55, max: 60 });
  t.same(points[0].readings.signal, { min: 40, avg: 50, max: 60 });
  t.same(points[0].readings.diskFree, { min: 75, avg: 75, max: 75 });
  t.same(points[1].readings.clock, { min: 7, avg: 7, max: 7 });
  t.equal((await api('GET', `/api/v1/devices/${dev.id}/health-history?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z`, undefined, token)).status, 400, 'from after to is refused');
  t.equal((await api('GET', `/api/v1/devices/${dev.id}/health-history?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z`, undefined, token)).status, 400, 'more than 30 days is refused');

  const sameCommune = await userToken(api, token, 'xem-tan-lap', 'viewer', '99003');
  const otherCommune = await userToken(api, token, 'vh-hoa-binh', 'operator', '99001');
  t.equal((await history(sameCommune)).status, 200, 'a viewer of the box’s commune reads it');
  for (const [method, path] of [
    ['GET', `/api/v1/devices/${dev.id}/health-history`],
    ['GET', `/api/v1/devices/${dev.id}/as-run`],
    ['POST', `/api/v1/devices/${dev.id}/claim-label`],
    ['POST', `/api/v1/devices/${dev.id}/commands`],
  ] as const) {
    t.equal((await api(method, path, method === 'POST' && path.endsWith('commands') ? { type: 'test-tone' } : undefined, otherCommune)).status, 404, `${method} ${path.replace(dev.id, ':id')}: another commune’s box does not exist for its users`);
  }
  const refused = await api('POST', `/api/v1/devices/${dev.id}/commands`, { type: 'test-tone', payload: {} }, sameCommune);
  t.equal(refused.status, 403, 'a viewer sends no command');
  t.equal((await api('POST', `/api/v1/devices/${dev.id}/claim-label`, undefined, sameCommune)).status, 403, 'a viewer prints no claim label');
  const operator = await userToken(api, token, 'vh-tan-lap', 'operator', '99003');
  t.equal((await api('POST', `/api/v1/devices/${dev.id}/commands`, { type: 'reboot', payload: {} }, operator)).status, 403, 'an operator restarts no box (province admins do)');
});

t.test('the claim label carries a working one-time code and its URL as an SVG QR code', async (t) => {
  const { api, token } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa đình', areaCode: '99003' }, token)).body;
  const operator = await userToken(api, token, 'lap-dat', 'operator', '99003');
  const label = await api('POST', `/api/v1/devices/${dev.id}/claim-label`, undefined, operator);
  t.equal(label.status, 201);
  t.match(label.body.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  t.equal(label.body.claimUrl.endsWith(`/claim?code=${label.body.code}`), true, 'the URL carries the code');
  t.match(label.body.qrSvg, /^<svg[^>]*viewBox="0 0 \d+ \d+"/, 'an SVG document');
  t.match(label.body.qrSvg, /<path[^>]*d="M/, 'with the modules drawn');
  const claimed = await api('POST', '/api/v1/claim', { code: label.body.code.toLowerCase() });
  t.equal(claimed.status, 200, 'the printed code claims the box');
  t.equal(claimed.body.deviceId, dev.id);
  t.equal((await api('POST', '/api/v1/claim', { code: label.body.code })).status, 410, 'once');
});

t.test('what a box played: its deliveries newest first, one page at a time', async (t) => {
  const { api, token, base } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa trường', areaCode: '99003' }, token)).body;
  const other = (await api('POST', '/api/v1/devices', { name: 'Loa Hòa Bình', areaCode: '99001' }, token)).body;
  const tone = await uploadTone(base, token, { hz: 440, seconds: 1, title: 'Thông báo tiêm phòng' });
  const at = [2, 3, 4].map((h) => new Date(Date.now() + h * 3600_000).toISOString());
  for (const startAt of at) t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: tone.id, target: { areaCodes: ['99003', '99001'] }, startAt }, token)).status, 201);
  const first = await waitFor('three deliveries', async () => {
    const r = (await api('GET', `/api/v1/devices/${dev.id}/as-run?limit=2`, undefined, token)).body;
    return r.items?.length === 2 && r.next ? r : null;
  }, 10_000);
  t.same(first.items.map((i: { occurrenceAt: string }) => i.occurrenceAt), [at[2], at[1]], 'newest first');
  t.equal(first.items[0].title, 'Thông báo tiêm phòng');
  const second = (await api('GET', `/api/v1/devices/${dev.id}/as-run?limit=2&cursor=${encodeURIComponent(first.next)}`, undefined, token)).body;
  t.same(second.items.map((i: { occurrenceAt: string }) => i.occurrenceAt), [at[0]], 'the rest on the next page');
  t.equal(second.next, null, 'and no further');
  t.equal((await api('GET', `/api/v1/devices/${other.id}/as-run`, undefined, token)).body.items.length, 3, 'each box its own');
  t.equal((await api('GET', `/api/v1/devices/${dev.id}/as-run?cursor=abc`, undefined, token)).status, 400, 'a cursor not of this list is refused');
});

/**
 * Batched heartbeats seen from outside (issue 8): the API shows them at once however long the batch waits,
 * a stop writes what is still in memory, and GET /api/v1/metrics reports counts and write latency.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { encodeMessage, topics } from '@loaxa/shared';
import { openDatabase } from '../../server/src/db/database.js';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('heartbeats batched for a minute are visible at once, counted, measured, and written at stop', async (t) => {
  // A flush interval far longer than the test: only reads and the stop write the batch.
  const { api, token, urls, server, dataDir } = await startTestServer(t, { ingestFlushMs: 60_000 });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const beat = (volume: number) => c.publishAsync(topics.deviceTelemetry(dev.id), encodeMessage('telemetry', { uptimeS: 5, volume, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  for (const v of [41, 42, 43]) await beat(v);
  const received = (n: number) => waitFor(`${n} heartbeats received`, () => (server.ctx.deliveryService.metrics.snapshot().heartbeats.received >= n ? true : null), 5000, 10);
  await received(3);

  const d = (await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body;
  t.equal(d.state, 'online');
  t.equal(d.volume, 43, 'the last heartbeat, though its batch had not been written');
  t.equal(d.heartbeats, 3, 'every heartbeat counted');
  t.ok(d.lastSeenAt);
  const cov = (await api('GET', '/api/v1/coverage?area=99003', undefined, token)).body;
  t.equal(cov.communes.working, 1, 'heard from within 15 minutes, for coverage too');

  const m = (await api('GET', '/api/v1/metrics', undefined, token)).body;
  t.equal(m.ingest.heartbeats.received, 3);
  t.equal(m.ingest.heartbeats.stored, 3);
  t.equal(m.ingest.heartbeats.inDatabase, 3);
  t.equal(m.ingest.heartbeats.writeLatency.count, 3, 'a write latency for each heartbeat');
  t.type(m.ingest.heartbeats.writeLatency.p99Ms, 'number');
  t.equal(m.ingest.heartbeats.writeLatency.windowSeconds, 60);
  t.equal(m.ingest.statuses.received, 1);
  t.ok(m.process.rssBytes > 0);
  await api('POST', '/api/v1/users', { username: 'xem', password: 'a-long-password', role: 'viewer', areaCode: '99' }, token);
  const viewer = (await api('POST', '/api/v1/auth/login', { username: 'xem', password: 'a-long-password' })).body.token;
  t.equal((await api('GET', '/api/v1/metrics', undefined, viewer)).status, 403, 'province admins only');
  t.ok((await api('GET', '/openapi.json')).body.paths['/api/v1/metrics'], 'documented in the OpenAPI description');

  for (const v of [44, 45]) await beat(v);
  await received(5);
  t.equal(server.ctx.devices.pendingCount(), 2, 'the last two wait in memory');
  await c.endAsync(true);
  await server.stop();
  const db = openDatabase(join(dataDir, 'loaxa.sqlite'));
  t.same(db.prepare('SELECT volume, heartbeats FROM devices WHERE id = ?').get(dev.id), { volume: 45, heartbeats: 5 }, 'the stop wrote them');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM heartbeat_log').get() as { n: number }).n, 0, 'and folded the log');

  // What a crash leaves: heartbeats appended to the log, not folded. The next start folds them.
  const leftover = (volume: number) => encodeMessage('telemetry', { uptimeS: 6, volume, cacheBytes: 0, cacheItems: 0 }).toString();
  const append = db.prepare('INSERT INTO heartbeat_log (device_id, at, volume, cache_bytes, uptime_s, health_json) VALUES (?, ?, ?, 0, 6, ?)');
  for (const v of [46, 47]) append.run(dev.id, Date.now(), v, JSON.stringify(JSON.parse(leftover(v)).payload));
  db.close();
  const again = await startTestServer(t, { dataDir, ingestFlushMs: 60_000 });
  const after = (await again.api('GET', `/api/v1/devices/${dev.id}`, undefined, again.token)).body;
  t.same([after.heartbeats, after.volume], [7, 47], 'the restarted server counts them and shows the latest readings');
});

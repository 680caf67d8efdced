import t from 'tap';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { pino } from 'pino';
import { topics, encodeMessage } from '@loaxa/shared';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('remote maintenance: the box answers set-volume and its heartbeat shows the new volume', async (t) => {
  const { api, token, base, dataDir, urls } = await startTestServer(t);
  await importSampleAreas(api, token);
  const sim = await startSimulation({ serverUrl: base, count: 1, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, heartbeatMs: 200 });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const id = sim.devices[0]!.id;
  await waitFor('online', async () => ((await api('GET', `/api/v1/devices/${id}`, undefined, token)).body.state === 'online' ? true : null), 5000);

  const res = await api('POST', `/api/v1/devices/${id}/commands`, { type: 'set-volume', payload: { volume: 35 } }, token);
  t.equal(res.status, 200);
  t.same(res.body, { ok: true, data: { volume: 35 } });
  await waitFor('the heartbeat with the new volume', async () => ((await api('GET', `/api/v1/devices/${id}`, undefined, token)).body.volume === 35 ? true : null), 5000);

  const tone = await api('POST', `/api/v1/devices/${id}/commands`, { type: 'test-tone', payload: { durationMs: 300, frequencyHz: 1000 } }, token);
  t.same(tone.body, { ok: true, data: { played: true, durationMs: 300, frequencyHz: 1000 } }, 'the test tone played on the simulated box');
  t.equal((await api('POST', '/api/v1/users', { username: 'op-x', password: 'a-long-password', role: 'operator', areaCode: '99003' }, token)).status, 201);
  const op = (await api('POST', '/api/v1/auth/login', { username: 'op-x', password: 'a-long-password' })).body.token;
  t.equal((await api('POST', `/api/v1/devices/${id}/commands`, { type: 'reboot', payload: {} }, op)).status, 403, 'operators cannot reboot boxes');
  t.equal((await api('POST', `/api/v1/devices/${id}/commands`, { type: 'set-volume', payload: { volume: 300 } }, token)).body.error.fields[0].path, 'payload');
  t.equal((await api('POST', `/api/v1/devices/${id}/commands`, { type: 'format-disk' }, token)).body.error.fields[0].path, 'type');
  t.equal((await api('POST', `/api/v1/devices/${id}/commands`, { type: 'play', payload: {} }, token)).status, 400, 'playback goes through broadcasts');

  // A box that takes the command but never answers: the caller gets 504 at the deadline, not a hang.
  const mute = (await api('POST', '/api/v1/devices', { name: 'mute', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: mute.id, username: mute.id, password: mute.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(mute.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('mute online', async () => ((await api('GET', `/api/v1/devices/${mute.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);
  const slow = await api('POST', `/api/v1/devices/${mute.id}/commands`, { type: 'set-volume', payload: { volume: 10 }, timeoutMs: 600 }, token);
  t.equal(slow.status, 504);
  await c.endAsync(true);
  await waitFor('mute offline', async () => ((await api('GET', `/api/v1/devices/${mute.id}`, undefined, token)).body.state === 'offline' ? true : null), 5000);
  t.equal((await api('POST', `/api/v1/devices/${mute.id}/commands`, { type: 'set-volume', payload: { volume: 10 } }, token)).status, 409, 'an offline box is refused at once');
});

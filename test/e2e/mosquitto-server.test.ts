/**
 * The whole broadcast path with the server on an external Mosquitto (LOAXA_MQTT_URL), the broker managing
 * device identities and ACLs through its dynamic-security plugin, driven by the server (issue 8).
 */
import t from 'tap';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { pino } from 'pino';
import { topics, encodeMessage } from '@loaxa/shared';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { mosquittoMissing, startMosquitto } from '../server/broker/mosquitto.js';

const missing = mosquittoMissing();

t.test('a bulletin plays on boxes connected to Mosquitto, which refuses a box on another box’s topic', { skip: missing ?? false }, async (t) => {
  const m = await startMosquitto(t);
  const { api, token, base, dataDir } = await startTestServer(t, { mqttUrl: m.url, mqttUsername: m.adminUsername, mqttPassword: m.adminPassword, mqttDynsec: true });
  await importSampleAreas(api, token);
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(15_000), 2, 'both boxes logged in to Mosquitto with the credentials the server issued');
  t.equal(sim.devices[0]!.mqtt.url, m.url, 'credentials name the external broker');
  await waitFor('presence', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 2 ? true : null), 10_000);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Qua Mosquitto', text: 'Thông báo thử qua máy chủ tin nhắn ngoài.' }, token)).body;
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, token)).body;
  await waitFor('both boxes to play it', async () => {
    const b = (await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body;
    return b.deliveries.every((d: { state: string }) => d.state === 'played') ? true : null;
  }, bulletin.audio.durationMs + 20_000, 250);
  t.pass('played on every box');

  // A third box, registered now, tries to speak for box 0.
  const rogue = (await api('POST', '/api/v1/devices', { name: 'rogue', areaCode: '99004' }, token)).body;
  const c = await mqtt.connectAsync(m.url, { clientId: rogue.id, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
  t.teardown(() => c.endAsync(true));
  const granted = await c.subscribeAsync([topics.deviceCmd(rogue.id), topics.deviceCmd(sim.devices[0]!.id)], { qos: 1 }).then(
    (g) => g.map((x) => x.qos),
    (e: { packet?: { granted: number[] } }) => e.packet?.granted,
  );
  t.same(granted, [1, 128], 'its own cmd granted, another box’s refused');
  const victim = sim.devices[0]!.id;
  const before = (await api('GET', `/api/v1/devices/${victim}/faults`, undefined, token)).body.items.length;
  await c.publishAsync(topics.deviceEvent(victim), encodeMessage('event', { kind: 'fault', fault: 'power', active: true, at: Date.now() }), { qos: 1 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await api('GET', `/api/v1/devices/${victim}/faults`, undefined, token)).body.items.length, before, 'the forged fault never reached the server');

  t.same((await api('POST', `/api/v1/devices/${rogue.id}/revoke`, {}, token)).body, { id: rogue.id, revoked: true });
  await t.rejects(mqtt.connectAsync(m.url, { clientId: rogue.id, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 3000 }), 'a revoked box cannot log in to Mosquitto');
});

t.test('a registration the broker does not take leaves no box behind', { skip: missing ?? false }, async (t) => {
  const m = await startMosquitto(t);
  const { api, token } = await startTestServer(t, { mqttUrl: m.url, mqttUsername: m.adminUsername, mqttPassword: m.adminPassword, mqttDynsec: true });
  await importSampleAreas(api, token);
  const before = (await api('GET', '/api/v1/devices', undefined, token)).body.total;
  // A broker that stops answering: the dynamic-security plugin's answer never comes.
  process.kill(m.pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(m.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  });
  const bulk = await api('POST', '/api/v1/devices/bulk', { devices: [{ name: 'Loa 1', areaCode: '99003' }, { name: 'Loa 2', areaCode: '99003' }] }, token);
  t.equal(bulk.status, 503, 'the bulk registration answers 503');
  t.match(bulk.body.error, { code: 'LOAXA_UNAVAILABLE', message: /MQTT broker did not take .*nothing was registered/ });
  const one = await api('POST', '/api/v1/devices', { name: 'Loa 3', areaCode: '99003' }, token);
  t.equal(one.status, 503, 'so does a single registration');
  process.kill(m.pid, 'SIGCONT');
  t.equal((await api('GET', '/api/v1/devices', undefined, token)).body.total, before, 'no box was left registered');
  const again = await api('POST', '/api/v1/devices/bulk', { devices: [{ name: 'Loa 1', areaCode: '99003' }] }, token);
  t.equal(again.status, 201, 'once the broker answers again, registering works');
});

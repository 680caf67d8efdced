import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

async function setup(t: Test) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const a = (await s.api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, s.token)).body;
  const b = (await s.api('POST', '/api/v1/devices', { name: 'b', areaCode: '99004' }, s.token)).body;
  return { ...s, a, b };
}

function connect(t: Test, url: string, opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    t.teardown(() => c.endAsync(true));
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

t.test('the broker refuses unknown or wrong device credentials at connect', async (t) => {
  const { urls, a } = await setup(t);
  await t.rejects(connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: 'wrong' }), /Bad username or password/);
  await t.rejects(connect(t, urls.mqttUrl, { clientId: 'spk-ghost', username: 'spk-ghost', password: 'x' }), /Bad username or password/);
  await t.rejects(connect(t, urls.mqttUrl, { clientId: 'someone-else', username: a.id, password: a.mqtt.password }), /Bad username or password/, 'client id must be the device id');
  const ok = await connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password });
  t.ok(ok.connected);
});

t.test('a device may subscribe only to its own command topics; others are negated, not fatal', async (t) => {
  const { urls, a, b } = await setup(t);
  const c = await connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password });
  const wanted = [topics.deviceCmd(a.id), topics.areaCmd('99003'), topics.areaCmd('99'), topics.serverStatus(), topics.deviceCmd(b.id), topics.areaCmd('99004'), 'loaxa/#', '$SYS/#'];
  // mqtt.js rejects a SUBACK that holds a refusal (0x80) but keeps the packet with every return code.
  const err = await c.subscribeAsync(wanted, { qos: 1 }).then(() => null, (e: { packet?: { granted: number[] } }) => e);
  t.same(err?.packet?.granted, [1, 1, 1, 1, 128, 128, 128, 128]);
  t.ok(c.connected, 'still connected after refused subscriptions');
});

t.test('a device publishing on another device’s topic is disconnected; its own topics work', async (t) => {
  const { urls, a, b, server } = await setup(t);
  const c = await connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password });
  await c.publishAsync(topics.deviceStatus(a.id), encodeMessage('status', { state: 'online', agentVersion: 't' }), { qos: 1, retain: true });
  for (let i = 0; i < 50 && !server.ctx.devices.get(a.id)!.online; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(server.ctx.devices.get(a.id)!.online, 'own status reached the server');
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.publish(topics.deviceEvent(b.id), encodeMessage('event', { kind: 'fault', fault: 'power', active: true, at: Date.now() }), { qos: 1 });
  await closed;
  t.pass('impersonation closed the connection');
  t.notOk(server.ctx.devices.get(b.id)!.online);
});

t.test('malformed device messages are dropped and the server keeps serving', async (t) => {
  const { urls, a, server, api, token } = await setup(t);
  const c = await connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password });
  for (const junk of ['not json', '{}', '{"v":1}', JSON.stringify({ v: 1, id: 'x', type: 'status', ts: 1, payload: { state: 'sleeping' } })]) {
    await c.publishAsync(topics.deviceStatus(a.id), junk, { qos: 1 });
    await c.publishAsync(topics.deviceEvent(a.id), junk, { qos: 1 });
    await c.publishAsync(topics.deviceTelemetry(a.id), junk, { qos: 1 });
  }
  t.ok(c.connected);
  t.notOk(server.ctx.devices.get(a.id)!.online, 'nothing was applied');
  t.equal((await api('GET', '/healthz')).status, 200);
  await c.publishAsync(topics.deviceTelemetry(a.id), encodeMessage('telemetry', { uptimeS: 12, volume: 70, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  for (let i = 0; i < 50 && server.ctx.devices.get(a.id)!.volume !== 70; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal((await api('GET', `/api/v1/devices/${a.id}`, undefined, token)).body.volume, 70, 'a valid heartbeat after the junk is stored');
});

t.test('the server publishes a retained status and marks itself offline on stop', async (t) => {
  const { urls, a, server } = await setup(t);
  const c = await connect(t, urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password });
  const first = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
  await c.subscribeAsync(topics.serverStatus());
  t.equal(JSON.parse(await first).payload.state, 'online');
  const next = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
  void server.stop();
  t.equal(JSON.parse(await next).payload.state, 'offline');
});

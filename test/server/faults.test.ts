import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('faults a box reports become intervals the province can see; repeats change nothing', async (t) => {
  const { api, token, urls } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const fault = (f: string, active: boolean, at: number, detail?: string) =>
    c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'fault', fault: f as 'power', active, at, ...(detail ? { detail } : {}) }), { qos: 1 });

  const t0 = Date.now() - 60_000;
  await fault('power', true, t0, 'mains lost, on battery');
  await fault('power', true, t0 + 1000); // a QoS 1 redelivery
  await fault('speaker-line', true, t0 + 2000);
  await c.publishAsync(topics.deviceTelemetry(dev.id), encodeMessage('telemetry', { uptimeS: 99, volume: 60, cacheBytes: 1, cacheItems: 1, clockOffsetMs: -12 }), { qos: 1 });
  const got = await waitFor('both faults', async () => {
    const d = (await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body;
    return d.faults.length === 2 && d.health ? d : null;
  }, 5000);
  t.same(got.faults.sort(), ['power', 'speaker-line']);
  t.equal(got.health.clockOffsetMs, -12, 'the last heartbeat’s readings are kept');
  t.equal((await api('GET', '/api/v1/devices?state=faulty', undefined, token)).body.total, 1);

  await fault('power', false, t0 + 30_000);
  await fault('power', false, t0 + 31_000); // nothing open any more: ignored
  const history = await waitFor('power to end', async () => {
    const h = (await api('GET', `/api/v1/devices/${dev.id}/faults`, undefined, token)).body.items;
    return h.find((f: { kind: string; endedAt: string | null }) => f.kind === 'power' && f.endedAt) ? h : null;
  }, 5000);
  t.equal(history.length, 2, 'one interval per fault, repeats folded');
  const power = history.find((f: { kind: string }) => f.kind === 'power');
  t.equal(power.startedAt, new Date(t0).toISOString());
  // Reported after the heartbeat that said the box's clock is 12 ms ahead: recorded on the server's clock.
  t.equal(power.endedAt, new Date(t0 + 30_000 - 12).toISOString());
  t.equal(power.detail, 'mains lost, on battery');
  t.same((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.faults, ['speaker-line']);
  t.equal((await api('GET', '/api/v1/devices/spk-none/faults', undefined, token)).status, 404);
});

/**
 * Finding 11 (issue 13): POST /devices/{id}/commands created the promise for the box's answer before the
 * publish and gave it no handler yet; when the publish failed (an external broker down) or outlasted the
 * deadline, that promise rejected unhandled and Node ended the server. Now: the publish failing is a 503
 * saying so, the deadline a 504, and no rejection is ever left unhandled.
 *
 * The test listens for unhandled rejections itself: that keeps the old code's crash from ending the test
 * process, so it shows as a failed assertion naming the rejection.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => void unhandled.push(reason));
const settle = () => new Promise((r) => setTimeout(r, 100));

/** A server with one box that is online and never answers a command. */
async function setup(t: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const box = (await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token)).body;
  const c = await mqtt.connectAsync(s.urls.mqttUrl, { clientId: box.id, username: box.id, password: box.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(box.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('box online', async () => ((await s.api('GET', `/api/v1/devices/${box.id}`, undefined, s.token)).body.state === 'online' ? true : null), 5000);
  const bus = s.server.ctx.bus;
  const real = bus.publish.bind(bus);
  /** Makes publishes to the box's command topic do `fn` instead; others go through. */
  const breakCommands = (fn: () => Promise<void>) => {
    bus.publish = (topic, payload, opts) => (topic === topics.deviceCmd(box.id) ? fn() : real(topic, payload, opts));
    t.teardown(() => void (bus.publish = real));
  };
  const command = (timeoutMs: number) => s.api('POST', `/api/v1/devices/${box.id}/commands`, { type: 'set-volume', payload: { volume: 40 }, timeoutMs }, s.token);
  return { ...s, box, breakCommands, command };
}

t.test('the broker refuses the publish: 503 saying so, and the server carries on', async (t) => {
  const { api, token, breakCommands, command } = await setup(t);
  const before = unhandled.length;
  breakCommands(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.2:1883')));
  const res = await command(2000);
  t.equal(res.status, 503, 'service unavailable, not 500');
  t.match(res.body?.error?.message ?? '', /could not (be )?sen[dt]|broker/i, 'says the command did not go out');
  await settle();
  t.same(unhandled.slice(before).map(String), [], 'no unhandled rejection');
  t.equal((await api('GET', '/healthz')).status, 200, 'the server still answers');
  t.equal((await api('GET', '/api/v1/me', undefined, token)).status, 200);
});

t.test('a publish that outlasts the deadline: 504 at the deadline, no crash when it ends later', async (t) => {
  const { api, breakCommands, command } = await setup(t);
  const before = unhandled.length;
  // Stuck, then failing long after the deadline (an external broker that never answers the PUBACK): the
  // test makes it fail, after the answer, instead of a timer doing so a second and a half later.
  let giveUp: ((err: Error) => void) | undefined;
  breakCommands(() => new Promise((_, reject) => void (giveUp = reject)));
  const started = Date.now();
  const res = await command(500);
  const took = Date.now() - started;
  t.equal(res.status, 504);
  t.ok(took < 1400, `answered at the deadline (${took} ms), not when the publish gave up`);
  giveUp!(new Error('connection lost')); // the publish fails now (throws here if it was never tried)
  await settle();
  t.same(unhandled.slice(before).map(String), [], 'no unhandled rejection');
  t.equal((await api('GET', '/healthz')).status, 200, 'the server still answers');
});

t.test('a box that takes the command and never answers: 504, and the server carries on', async (t) => {
  const { api, command } = await setup(t);
  const before = unhandled.length;
  const res = await command(500);
  t.equal(res.status, 504);
  await settle();
  t.same(unhandled.slice(before).map(String), [], 'no unhandled rejection');
  t.equal((await api('GET', '/healthz')).status, 200);
});

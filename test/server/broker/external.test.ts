/**
 * ExternalBroker against an in-process aedes on an ephemeral port (hermetic): login, QoS 1 and retain,
 * pattern dispatch, the last will, jittered reconnects that resubscribe, and bounded start/stop.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { Aedes, type Client } from 'aedes';
import { createServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { topics } from '@loaxa/shared';
import { ExternalBroker, brokerServers, reconnectDelayMs, topicMatches } from '../../../server/src/broker/external.js';
import { freePort, waitFor } from '../../helpers/wait.js';
import { loadConfig } from '../../../server/src/config.js';

interface Login {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  clean: boolean;
  will: { topic: string; retain: boolean; qos: number; payload: string } | null;
}

async function startAedes(t: Test, opts: { refuse?: boolean } = {}) {
  const broker = await Aedes.createBroker();
  const logins: Login[] = [];
  const clients = new Map<string, Client>();
  broker.authenticate = (client, username, password, done) => {
    if (opts.refuse) {
      const err = Object.assign(new Error('refused'), { returnCode: 4 }) as Error & { returnCode: 4 };
      return done(err, false);
    }
    const c = client as Client & { clean: boolean; will?: { topic: string; retain: boolean; qos: number; payload: Buffer } };
    // The will and clean flag are set on the client after authentication; read them on the next tick.
    setImmediate(() => {
      logins.push({
        clientId: client.id,
        username,
        password: password?.toString(),
        clean: c.clean,
        will: c.will ? { topic: c.will.topic, retain: c.will.retain, qos: c.will.qos, payload: c.will.payload.toString() } : null,
      });
    });
    clients.set(client.id, client);
    done(null, true);
  };
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const done = new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    await done;
  };
  t.teardown(close);
  return { broker, url: `mqtt://127.0.0.1:${port}`, port, logins, clients, close };
}

function capture() {
  const lines: Array<{ msg: string; level: number } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function externalBroker(t: Test, url: string, extra: Partial<ConstructorParameters<typeof ExternalBroker>[0]> = {}) {
  const bus = new ExternalBroker({ url, username: 'loaxa-server', password: 'pw', serverVersion: '9.9.9', logger: pino({ level: 'silent' }), reconnect: { minMs: 20, maxMs: 100 }, connectTimeoutMs: 3_000, ...extra });
  t.teardown(() => bus.stop());
  return bus;
}

async function observer(t: Test, url: string, topic: string) {
  const c = await mqtt.connectAsync(url, { clientId: `obs-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  c.on('message', (tp, p, packet) => got.push({ topic: tp, payload: p.toString(), retain: packet.retain }));
  await c.subscribeAsync(topic, { qos: 1 });
  return { client: c, got };
}

t.test('topicMatches follows MQTT 3.1.1 § 4.7', async (t) => {
  t.ok(topicMatches('loaxa/v1/d/+/event', 'loaxa/v1/d/spk-a/event'));
  t.notOk(topicMatches('loaxa/v1/d/+/event', 'loaxa/v1/d/spk-a/status'));
  t.notOk(topicMatches('loaxa/v1/d/+/event', 'loaxa/v1/d/spk-a/event/x'));
  t.ok(topicMatches('loaxa/#', 'loaxa'), '# matches the parent level');
  t.ok(topicMatches('loaxa/#', 'loaxa/v1/a/99/cmd'));
  t.ok(topicMatches('$CONTROL/dynamic-security/v1/response', '$CONTROL/dynamic-security/v1/response'));
  t.notOk(topicMatches('#', '$SYS/broker/uptime'), 'first-level wildcards never match $-topics');
  t.notOk(topicMatches('+/dynamic-security/v1/response', '$CONTROL/dynamic-security/v1/response'));
});

t.test('reconnect delays grow, are capped, and are jittered', async (t) => {
  t.equal(reconnectDelayMs(0, 500, 30_000, () => 0), 250);
  t.equal(reconnectDelayMs(0, 500, 30_000, () => 1), 500);
  t.equal(reconnectDelayMs(3, 500, 30_000, () => 1), 4_000);
  t.equal(reconnectDelayMs(50, 500, 30_000, () => 1), 30_000, 'capped');
  t.equal(reconnectDelayMs(50, 500, 30_000, () => 0), 15_000, 'never below half the cap');
  const draws = new Set(Array.from({ length: 20 }, () => reconnectDelayMs(4, 500, 30_000)));
  t.ok(draws.size > 1, 'different draws differ');
});

t.test('logs in with its own credentials, a server client id, a clean session and a retained offline will', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url);
  t.same(await bus.start(), { port: b.port });
  await waitFor('the login', () => b.logins[0] ?? null, 2_000, 10);
  const login = b.logins[0]!;
  t.match(login.clientId, /^loaxa-server-[0-9a-f]{12}$/);
  t.equal(login.username, 'loaxa-server');
  t.equal(login.password, 'pw');
  t.equal(login.clean, true);
  t.equal(login.will?.topic, topics.serverStatus());
  t.equal(login.will?.retain, true);
  t.equal(login.will?.qos, 1);
  t.match(JSON.parse(login.will!.payload), { type: 'status', payload: { state: 'offline', agentVersion: '9.9.9' } });
  await t.rejects(bus.start(), /already started/);
});

t.test('publishes with QoS 1 and retain; dispatches by pattern; a throwing handler harms no other', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url);
  await bus.start();
  const obs = await observer(t, b.url, 'loaxa/v1/#');
  await bus.publish(topics.serverStatus(), 'online', { qos: 1, retain: true });
  await bus.publish(topics.deviceCmd('spk-a'), 'cmd', { qos: 1, retain: false });
  await waitFor('both messages', () => (obs.got.length >= 2 ? true : null), 2_000, 10);
  t.same(obs.got, [
    { topic: topics.serverStatus(), payload: 'online', retain: false },
    { topic: topics.deviceCmd('spk-a'), payload: 'cmd', retain: false },
  ]);
  const late = await observer(t, b.url, topics.serverStatus());
  await waitFor('the retained status', () => late.got[0] ?? null, 2_000, 10);
  t.equal(late.got[0]!.retain, true, 'server status is retained');

  const events: string[] = [];
  const statuses: string[] = [];
  await bus.subscribe(topics.allDevices('event'), () => {
    throw new Error('handler bug');
  });
  await bus.subscribe(topics.allDevices('event'), (topic, payload) => events.push(`${topic}=${payload.toString()}`));
  await bus.subscribe(topics.allDevices('status'), (topic) => statuses.push(topic));
  await obs.client.publishAsync(topics.deviceEvent('spk-a'), 'e1', { qos: 1 });
  await obs.client.publishAsync(topics.deviceTelemetry('spk-a'), 't1', { qos: 1 });
  await obs.client.publishAsync(topics.deviceEvent('spk-b'), 'e2', { qos: 1 });
  await waitFor('two events', () => (events.length >= 2 ? true : null), 2_000, 10);
  t.same(events, [`${topics.deviceEvent('spk-a')}=e1`, `${topics.deviceEvent('spk-b')}=e2`]);
  t.same(statuses, [], 'no other pattern saw them');
});

t.test('after a lost connection it reconnects with backoff, resubscribes, says online again, and sends what was queued', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url);
  await bus.start();
  const events: string[] = [];
  await bus.subscribe(topics.allDevices('event'), (_topic, payload) => events.push(payload.toString()));
  const obs = await observer(t, b.url, topics.serverStatus());
  const device = await observer(t, b.url, topics.deviceCmd('spk-a'));
  const serverClientId = b.logins[0]!.clientId;
  // The network drops: the broker sees the connection end without DISCONNECT.
  (b.clients.get(serverClientId) as unknown as { conn: { destroy(): void } }).conn.destroy();
  await waitFor('the broker to publish the will', () => (obs.got.some((m) => m.payload.includes('"offline"')) ? true : null), 2_000, 10);
  // Published while disconnected: queued by the client, delivered after the reconnect.
  const queued = bus.publish(topics.deviceCmd('spk-a'), 'while-away', { qos: 1, retain: false });
  await waitFor('the online status again', () => (obs.got.some((m) => m.payload.includes('"online"')) ? true : null), 3_000, 10);
  await queued;
  await waitFor('the queued command', () => (device.got.some((m) => m.payload === 'while-away') ? true : null), 2_000, 10);
  t.pass('queued command delivered after the reconnect');
  t.match(JSON.parse(obs.got.find((m) => m.payload.includes('"online"'))!.payload), { type: 'status', payload: { state: 'online', agentVersion: '9.9.9' } });
  await obs.client.publishAsync(topics.deviceEvent('spk-a'), 'after', { qos: 1 });
  await waitFor('an event after the reconnect', () => (events.includes('after') ? true : null), 2_000, 10);
  t.pass('subscriptions were restored on the new clean session');
  const serverLogins = b.logins.filter((l) => l.username === 'loaxa-server');
  t.equal(serverLogins.length, 2, 'one reconnect');
  t.equal(serverLogins[1]!.clientId, serverClientId, 'with the same client id');
  t.ok(bus.connected);
});

t.test('failover URLs (issue 21): a dead first node costs one reconnect, and a node lost later sends it to the next', async (t) => {
  t.same(brokerServers(['mqtt://10.0.0.1:1883', 'mqtts://[::1]', 'tcp://b.example']), [
    { host: '10.0.0.1', port: 1883, protocol: 'mqtt' },
    { host: '::1', port: 8883, protocol: 'mqtts' },
    { host: 'b.example', port: 1883, protocol: 'tcp' },
  ]);
  const dead = `mqtt://127.0.0.1:${await freePort()}`;
  const one = await startAedes(t);
  const two = await startAedes(t);
  const bus = externalBroker(t, dead, { failoverUrls: [one.url, two.url] });
  await bus.start();
  await waitFor('the login to be seen', () => (one.logins.length + two.logins.length > 0 ? true : null), 1_000, 10);
  t.same([one.logins.length, two.logins.length], [1, 0], 'started on the second URL, the first being down');
  const events: string[] = [];
  await bus.subscribe(topics.allDevices('event'), (_topic, payload) => events.push(payload.toString()));
  await one.close();
  await waitFor('a connection to the third node', () => (two.logins.length === 1 && bus.connected ? true : null), 5_000, 10);
  const box = await mqtt.connectAsync(two.url, { clientId: 'spk-a', reconnectPeriod: 0 });
  t.teardown(() => box.endAsync(true));
  await box.publishAsync(topics.deviceEvent('spk-a'), 'on-two', { qos: 1 });
  await waitFor('an event through the third node', () => (events.includes('on-two') ? true : null), 2_000, 10);
  t.pass('resubscribed on the node it failed over to');
});

t.test('LOAXA_MQTT_FAILOVER_URLS: a list of broker URLs, only beside LOAXA_MQTT_URL', async (t) => {
  t.same(loadConfig({}).mqttFailoverUrls, []);
  t.same(loadConfig({ LOAXA_MQTT_URL: 'mqtt://a:1883', LOAXA_MQTT_FAILOVER_URLS: 'mqtt://b:1883/, mqtts://c' }).mqttFailoverUrls, ['mqtt://b:1883', 'mqtts://c']);
  t.throws(() => loadConfig({ LOAXA_MQTT_URL: 'mqtt://a:1883', LOAXA_MQTT_FAILOVER_URLS: 'http://b' }), /LOAXA_MQTT_FAILOVER_URLS/);
  t.throws(() => loadConfig({ LOAXA_MQTT_FAILOVER_URLS: 'mqtt://b:1883' }), /LOAXA_MQTT_FAILOVER_URLS: needs LOAXA_MQTT_URL/);
});

t.test('stop() disconnects cleanly: no will, and safe to call twice', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url);
  await bus.start();
  const obs = await observer(t, b.url, topics.serverStatus());
  await bus.stop();
  await bus.stop();
  const marker = await mqtt.connectAsync(b.url, { clientId: 'marker', reconnectPeriod: 0 });
  t.teardown(() => marker.endAsync(true));
  await marker.publishAsync(topics.serverStatus(), 'marker', { qos: 1 });
  await waitFor('the marker', () => (obs.got.some((m) => m.payload === 'marker') ? true : null), 2_000, 10);
  t.same(obs.got.map((m) => m.payload), ['marker'], 'no offline will after a clean stop');
  await t.rejects(bus.publish(topics.serverStatus(), 'x', { qos: 1, retain: false }), /not started/);
  await t.rejects(bus.subscribe('loaxa/#', () => undefined), /not started/);
});

t.test('start() is bounded: an unreachable broker fails at the deadline, a refused login at once', async (t) => {
  const port = await freePort();
  const unreachable = externalBroker(t, `mqtt://127.0.0.1:${port}`, { connectTimeoutMs: 400 });
  const t0 = Date.now();
  await t.rejects(unreachable.start(), /no connection to the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ within 400 ms/);
  t.ok(Date.now() - t0 < 2_000, 'gave up near the deadline');
  t.notOk(unreachable.connected);

  const b = await startAedes(t, { refuse: true });
  const refused = externalBroker(t, b.url, { connectTimeoutMs: 5_000 });
  const t1 = Date.now();
  await t.rejects(refused.start(), /refused the server's login.*LOAXA_MQTT_USERNAME/);
  t.ok(Date.now() - t1 < 2_000, 'did not wait for the deadline');
});

t.test('publish and stop are bounded when the broker goes away', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url, { publishTimeoutMs: 300, stopTimeoutMs: 300, reconnect: { minMs: 5_000, maxMs: 5_000 } });
  await bus.start();
  await b.close();
  await waitFor('the bus to notice', () => (bus.connected ? null : true), 2_000, 10);
  await t.rejects(bus.publish(topics.deviceCmd('spk-a'), 'x', { qos: 1, retain: false }), /not acknowledged within 300 ms/);
  const t0 = Date.now();
  await bus.stop();
  t.ok(Date.now() - t0 < 1_500, 'stop returned promptly');
});

t.test('disconnect() without dynamic security says it cannot, and does not throw', async (t) => {
  const b = await startAedes(t);
  const { logger, lines } = capture();
  const bus = externalBroker(t, b.url, { logger });
  await bus.start();
  t.equal(bus.dynsec, null);
  bus.disconnect('spk-a');
  t.ok(lines.some((l) => l.deviceId === 'spk-a' && /cannot disconnect a device/.test(l.msg)), 'logged');
});

t.test('with dynamic security, start() fails clearly when the plugin does not answer', async (t) => {
  const b = await startAedes(t);
  const bus = externalBroker(t, b.url, { dynamicSecurity: { requestTimeoutMs: 300 } });
  await t.rejects(bus.start(), /dynamic-security plugin did not answer/);
  t.notOk(bus.connected, 'the failed start left no connection');
});

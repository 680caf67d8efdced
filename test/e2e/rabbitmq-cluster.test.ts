/**
 * The server and 20 boxes on a two-node RabbitMQ cluster (issue 21): boxes spread over both nodes, logins
 * and ACLs through Loa Xã's HTTP endpoints for RabbitMQ (routes/broker-auth-rabbitmq.ts), an emergency
 * played everywhere, a box refused on another box's topics, and one node killed (SIGKILL) in the middle of
 * a broadcast. One cluster for the whole file: it took 17–35 s to start on two cores.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { topics, encodeMessage } from '@loaxa/shared';
import { startSimulation, type Simulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { rabbitmqMissing, startRabbitCluster, type RabbitCluster } from '../helpers/rabbitmq.js';

const missing = rabbitmqMissing();
// Booting two Erlang nodes on two cores shared with the other test files takes up to ~40 s of this.
t.setTimeout(300_000);
const BOXES = 20;
const AREA = '99003';
const TOKEN = randomBytes(32).toString('hex');
const SERVER_LOGIN = { username: 'loaxa-server', password: randomBytes(16).toString('hex') };

type Api = Awaited<ReturnType<typeof startTestServer>>['api'];
interface Delivery {
  deviceId: string;
  state: string;
}

async function deliveries(api: Api, token: string, id: string): Promise<Delivery[]> {
  return (await api('GET', `/api/v1/broadcasts/${id}`, undefined, token)).body.deliveries as Delivery[];
}

t.test('RabbitMQ cluster', { skip: missing ?? false, timeout: 280_000 }, async (t) => {
  const httpPort = await freePort();
  const cluster: RabbitCluster = await startRabbitCluster(t, { authBaseUrl: `http://127.0.0.1:${httpPort}`, authToken: TOKEN, serverLogin: SERVER_LOGIN });
  const [a, b] = cluster.nodes;
  t.comment(`cluster of ${a.name} and ${b.name} started in ${cluster.startMs} ms`);
  const s = await startTestServer(t, {
    httpPort,
    mqttUrl: a.url,
    mqttFailoverUrls: [b.url],
    mqttUsername: SERVER_LOGIN.username,
    mqttPassword: SERVER_LOGIN.password,
    brokerAuthToken: TOKEN,
  });
  const { api, token, base, dataDir } = s;
  await importSampleAreas(api, token);
  // Even boxes on node A, odd ones on node B; each has the other node as its failover.
  const sim: Simulation = await startSimulation({
    serverUrl: base,
    count: BOXES,
    areaCode: AREA,
    stateFile: join(dataDir, 'sim.json'),
    logger: pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' }),
    username: 'admin',
    password: ADMIN_PASSWORD,
    startSpreadMs: 500,
    brokerUrls: (i) => (i % 2 === 0 ? [a.url, b.url] : [b.url, a.url]),
    // Back within a second or two of losing a node (the field default waits 5 s ± 50 %).
    agentConfig: { reconnectMs: 1_000, reconnectMaxMs: 4_000 },
  });
  t.teardown(() => sim.stop({ timeoutMs: 2_000 }));
  t.equal(await sim.waitForConnections(30_000), BOXES, `all ${BOXES} boxes logged in through Loa Xã's HTTP auth`);
  await waitFor('presence of every box', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === BOXES ? true : null), 20_000, 250);

  await t.test('an emergency reaches and plays on every box, on both nodes', async (t) => {
    const alarm = (await api('POST', '/api/v1/bulletins', { title: 'Khẩn cấp', text: 'Lũ đang lên, bà con di chuyển ngay lên chỗ cao.' }, token)).body;
    const started = Date.now();
    const e = (await api('POST', '/api/v1/broadcasts', { bulletinId: alarm.id, priority: 'emergency', target: { areaCodes: [AREA] } }, token)).body;
    t.equal(e.devices, BOXES);
    await waitFor('every box to play the emergency', async () => {
      const d = await deliveries(api, token, e.id);
      return d.length === BOXES && d.every((x) => x.state === 'played') ? true : null;
    }, alarm.audio.durationMs + 30_000, 250);
    t.pass(`played on all ${BOXES} boxes in ${Date.now() - started} ms (audio ${alarm.audio.durationMs} ms)`);
  });

  await t.test('a box is refused on another box’s topics', async (t) => {
    const victim = sim.devices[0]!.id;
    const rogue = (await api('POST', '/api/v1/devices', { name: 'rogue', areaCode: '99004' }, token)).body;
    // Wrong client id (another box's session), then a wrong secret: no login.
    await t.rejects(mqtt.connectAsync(b.url, { clientId: victim, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5_000 }), 'taking another box’s client id is refused');
    await t.rejects(mqtt.connectAsync(b.url, { clientId: rogue.id, username: rogue.id, password: 'x'.repeat(32), reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5_000 }), 'a wrong secret is refused');
    t.equal(sim.agents[0]!.connected, true, 'the victim kept its session');

    const c = await mqtt.connectAsync(b.url, { clientId: rogue.id, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
    t.teardown(() => c.endAsync(true));
    const own = await c.subscribeAsync([topics.deviceCmd(rogue.id)], { qos: 1 });
    t.same(own.map((g) => g.qos), [1], 'its own cmd is granted');
    const other = await c.subscribeAsync([topics.deviceCmd(victim)], { qos: 1 }).then(
      (g) => g.map((x) => x.qos),
      (err: { packet?: { granted?: number[] }; message?: string }) => err.packet?.granted ?? `error: ${err.message}`,
    );
    t.comment(`subscribing to another box's cmd: ${JSON.stringify(other)}, connected after: ${c.connected}`);
    t.ok(Array.isArray(other) ? other[0] === 128 : true, 'another box’s cmd is refused (SUBACK 0x80, or the connection is closed)');

    const before = (await api('GET', `/api/v1/devices/${victim}/faults`, undefined, token)).body.items.length;
    const forger = await mqtt.connectAsync(a.url, { clientId: rogue.id, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
    t.teardown(() => forger.endAsync(true));
    let closed = false;
    forger.on('close', () => (closed = true));
    await Promise.race([forger.publishAsync(topics.deviceEvent(victim), encodeMessage('event', { kind: 'fault', fault: 'power', active: true, at: Date.now() }), { qos: 1 }).catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    await new Promise((r) => setTimeout(r, 500));
    t.comment(`publishing on another box's topic: connection closed by the broker: ${closed}`);
    t.equal((await api('GET', `/api/v1/devices/${victim}/faults`, undefined, token)).body.items.length, before, 'the forged fault never reached the server');

    t.same((await api('POST', `/api/v1/devices/${rogue.id}/revoke`, {}, token)).body, { id: rogue.id, revoked: true });
    await t.rejects(mqtt.connectAsync(a.url, { clientId: rogue.id, username: rogue.id, password: rogue.mqtt.password, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5_000 }), 'a revoked box cannot log in');
  });

  await t.test('retained messages stay on the node they were published to (RabbitMQ 3.10)', async (t) => {
    // What README § RabbitMQ cluster says about the server's and the boxes' retained `status` messages.
    const login = { username: SERVER_LOGIN.username, password: SERVER_LOGIN.password, reconnectPeriod: 0, protocolVersion: 4 as const };
    const topic = `loaxa-test/retained/${randomBytes(4).toString('hex')}`;
    const pub = await mqtt.connectAsync(a.url, { ...login, clientId: 'probe-pub' });
    await pub.publishAsync(topic, 'kept', { qos: 1, retain: true });
    await pub.endAsync();
    const seenOn = async (url: string, clientId: string) => {
      const c = await mqtt.connectAsync(url, { ...login, clientId });
      let got = false;
      c.on('message', (_t, _p, packet) => (got ||= packet.retain));
      await c.subscribeAsync(topic, { qos: 1 });
      await new Promise((r) => setTimeout(r, 1_500));
      await c.endAsync();
      return got;
    };
    t.equal(await seenOn(a.url, 'probe-a'), true, 'a subscriber on the same node gets the retained message');
    t.equal(await seenOn(b.url, 'probe-b'), false, 'a subscriber on the other node does not (the retained store is node-local)');
  });

  await t.test('a node killed in the middle of a broadcast', async (t) => {
    const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Họp dân', text: Array.from({ length: 3 }, () => 'Mời bà con đến nhà văn hóa thôn họp lúc mười chín giờ tối nay.').join(' ') }, token)).body;
    const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: [AREA] } }, token)).body;
    t.equal(cast.devices, BOXES);
    // Kill as soon as some, not all, boxes have acknowledged: the command is on its way to the others.
    await waitFor('the first acknowledgements', async () => {
      const d = await deliveries(api, token, cast.id);
      return d.some((x) => x.state !== 'pending' && x.state !== 'sent') ? true : null;
    }, 15_000, 20);
    const snapshot = await deliveries(api, token, cast.id);
    const onA = sim.agents.filter((_, i) => i % 2 === 0);
    const killedAt = Date.now();
    await a.kill();
    t.comment(`killed ${a.name} (the node of the server and of ${onA.length} boxes) with deliveries ${JSON.stringify(count(snapshot))}`);
    // The boxes on A see their socket close at once (the kernel resets it), then reconnect to B.
    await waitFor('the boxes on the killed node to notice', async () => (onA.some((x) => !x.connected) ? true : null), 30_000, 20);
    await waitFor('every box back on the surviving node', async () => (sim.connectedCount() === BOXES ? true : null), 60_000, 50);
    const boxesBackMs = Date.now() - killedAt;
    await waitFor('the server back on the surviving node', async () => (s.server.ctx.brokerHealth().up ? true : null), 60_000, 50);
    const serverBackMs = Date.now() - killedAt;
    t.comment(`failover: all ${BOXES} boxes connected again ${boxesBackMs} ms after the kill, the server by ${serverBackMs} ms`);
    const final = await waitFor('every box to report played', async () => {
      const d = await deliveries(api, token, cast.id);
      return d.every((x) => x.state === 'played') ? d : null;
    }, bulletin.audio.durationMs + 60_000, 250).catch(async () => deliveries(api, token, cast.id));
    t.comment(`after the kill: ${JSON.stringify(count(final))} ${Date.now() - killedAt} ms later (audio ${bulletin.audio.durationMs} ms)`);
    t.equal(final.filter((x) => x.state === 'played').length, BOXES, 'every box got its command and reported it played');
  });
});

function count(ds: Delivery[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of ds) out[d.state] = (out[d.state] ?? 0) + 1;
  return out;
}

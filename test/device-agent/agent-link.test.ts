import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'mqtt';
import { decodeMessage, topics } from '@loaxa/shared';
import { answersOn, command, CREDENTIALS, freePort, messagesOn, startAgent, startBroker, waitFor } from './helpers.js';

const STATUS = topics.deviceStatus('spk-01');
const RES = topics.deviceRes('spk-01');
const CMD = topics.deviceCmd('spk-01');

t.test('announces itself online with a retained QoS 1 status', async (t) => {
  const b = await startBroker(t);
  await startAgent(t, b);
  const online = await waitFor(() => b.published.find((p) => p.topic === STATUS), 2_000, 'online status');
  t.equal(online.qos, 1);
  t.equal(online.retain, true);
  const d = decodeMessage(online.payload, ['status']);
  t.ok(d.ok);
  if (d.ok) t.match(d.value.payload, { state: 'online', areaCode: '01001', agentVersion: String });

  // A client arriving later still learns the box is online: the status is retained.
  const watcher = connect(b.url, { clientId: 'watcher', reconnectPeriod: 0 });
  t.teardown(() => watcher.endAsync(true));
  await new Promise<void>((r) => watcher.once('connect', () => r()));
  const got = new Promise<{ retain: boolean; body: Buffer }>((r) => watcher.once('message', (_topic, body, packet) => r({ retain: packet.retain, body })));
  await watcher.subscribeAsync(STATUS, { qos: 1 });
  const msg = await got;
  t.equal(msg.retain, true, 'delivered as retained');
  const decoded = decodeMessage(msg.body, ['status']);
  t.equal(decoded.ok && decoded.value.payload.state, 'online');
});

t.test('the last will marks the box offline when its socket dies, and it comes back online', async (t) => {
  const b = await startBroker(t);
  await startAgent(t, b);
  await waitFor(() => messagesOn(b, STATUS, 'status').length === 1, 2_000, 'first online');
  const serverSide = b.clients.get('spk-01');
  t.ok(serverSide, 'agent connected with clientId = deviceId');
  serverSide!.conn.destroy();
  const offline = await waitFor(() => b.published.find((p) => p.topic === STATUS && p.clientId === 'spk-01' && decodeMessage(p.payload, ['status']).ok && JSON.parse(p.payload.toString()).payload.state === 'offline'), 2_000, 'will');
  t.equal(offline.retain, true, 'the will is retained');
  t.equal(offline.qos, 1);
  await waitFor(() => messagesOn(b, STATUS, 'status').filter((m) => m.payload.state === 'online').length === 2, 3_000, 'online again after reconnect');
  t.pass('reconnected by itself');
});

t.test('stop() publishes offline and leaves within its time bound', async (t) => {
  const b = await startBroker(t);
  const { agent } = await startAgent(t, b);
  const started = Date.now();
  await agent.stop({ timeoutMs: 2_000 });
  t.ok(Date.now() - started < 2_000, 'bounded');
  const states = messagesOn(b, STATUS, 'status').map((m) => m.payload.state);
  t.same(states, ['online', 'offline']);
  t.equal(agent.connected, false);
});

t.test('subscribes to its own cmd, its area and ancestors, and server status', async (t) => {
  const b = await startBroker(t);
  const subs: string[] = [];
  b.broker.on('subscribe', (s, c) => {
    if (c.id === 'spk-01') subs.push(...s.map((x) => x.topic));
  });
  await startAgent(t, b);
  await waitFor(() => subs.length >= 4, 2_000, 'subscriptions');
  t.same(new Set(subs), new Set([CMD, topics.areaCmd('01001'), topics.areaCmd('01'), topics.serverStatus()]));
});

t.test('set-volume is answered and shows in the next telemetry', async (t) => {
  const b = await startBroker(t);
  const { dir } = await startAgent(t, b, { heartbeatMs: 100 });
  const tele = topics.deviceTelemetry('spk-01');
  await waitFor(() => messagesOn(b, tele, 'telemetry').length > 0, 2_000, 'a first heartbeat');
  const first = b.published.find((p) => p.topic === tele)!;
  t.equal(first.qos, 0, 'telemetry is QoS 0');
  t.equal(first.retain, false);

  const cmd = command('set-volume', { volume: 37 });
  await b.publish(CMD, cmd.body);
  const answer = await waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 2_000, 'answer');
  t.match(answer, { ok: true, data: { volume: 37 } });
  const seen = await waitFor(() => messagesOn(b, tele, 'telemetry').find((m) => m.payload.volume === 37), 2_000, 'telemetry with the new volume');
  t.match(seen.payload, { volume: 37, cacheBytes: 0, cacheItems: 0, playing: null });
  // The state is saved behind the answer (atomically): wait until the file holds the new volume.
  const savedVolume = () => {
    try {
      return (JSON.parse(readFileSync(`${dir}/state/agent-state.json`, 'utf8')) as { volume: number }).volume;
    } catch {
      return undefined;
    }
  };
  await waitFor(() => savedVolume() === 37, 2_000, 'the saved volume');
  const saved = JSON.parse(await readFile(`${dir}/state/agent-state.json`, 'utf8')) as { volume: number };
  t.equal(saved.volume, 37, 'the volume survives a restart');
});

t.test('garbage gets an error answer when it has an id, and the agent keeps working', async (t) => {
  const b = await startBroker(t);
  await startAgent(t, b);
  await b.publish(CMD, 'this is not json');
  const badId = randomUUID();
  await b.publish(CMD, JSON.stringify({ v: 1, id: badId, type: 'play', ts: Date.now(), payload: { broadcastId: 'NOT VALID' } }));
  const unknownId = randomUUID();
  await b.publish(CMD, JSON.stringify({ v: 1, id: unknownId, type: 'self-destruct', ts: Date.now(), payload: {} }));
  await b.publish(topics.areaCmd('01001'), '{"v":1');

  const bad = await waitFor(() => answersOn(b, RES).find((a) => a.re === badId), 2_000, 'answer to a bad payload');
  t.match(bad, { ok: false, error: { code: 'LOAXA_BAD_MESSAGE', message: /broadcastId/ } });
  const unknown = await waitFor(() => answersOn(b, RES).find((a) => a.re === unknownId), 2_000, 'answer to an unknown type');
  t.match(unknown, { ok: false, error: { code: 'LOAXA_UNKNOWN_TYPE' } });

  const cmd = command('set-volume', { volume: 5 });
  await b.publish(CMD, cmd.body);
  const ok = await waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 2_000, 'a later command still answered');
  t.match(ok, { ok: true, data: { volume: 5 } });
  t.equal(answersOn(b, RES).length, 3, 'no answer for payloads without a readable id');
});

t.test('an expired command is refused with LOAXA_EXPIRED', async (t) => {
  const b = await startBroker(t);
  const { agent } = await startAgent(t, b);
  const cmd = command('set-volume', { volume: 11 }, { expiresAt: Date.now() - 1_000 });
  await b.publish(CMD, cmd.body);
  const answer = await waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 2_000, 'answer');
  t.match(answer, { ok: false, error: { code: 'LOAXA_EXPIRED' } });
  t.not(agent.volume, 11, 'not executed');
});

t.test('sync-agenda is answered with the version held and its item count', async (t) => {
  const b = await startBroker(t);
  const { agent } = await startAgent(t, b);
  const cmd = command('sync-agenda', { version: 1, generatedAt: Date.now(), items: [] });
  await b.publish(CMD, cmd.body);
  const answer = await waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 2_000, 'answer');
  t.match(answer, { ok: true, data: { version: 1, items: 0 } });
  t.equal(agent.agendaVersion, 1);
});

t.test('a command taken before a restart is still recognised after it', async (t) => {
  const b = await startBroker(t);
  const first = await startAgent(t, b);
  const setTo37 = command('set-volume', { volume: 37 });
  await b.publish(CMD, setTo37.body);
  await waitFor(() => answersOn(b, RES).find((a) => a.re === setTo37.id), 2_000, 'answer');
  const setTo20 = command('set-volume', { volume: 20 });
  await b.publish(CMD, setTo20.body);
  await waitFor(() => answersOn(b, RES).find((a) => a.re === setTo20.id), 2_000, 'answer');
  await first.agent.stop({ timeoutMs: 1_000 });

  const second = await startAgent(t, b, { dir: first.dir });
  t.equal(second.agent.volume, 20, 'volume restored from disk');
  const before = answersOn(b, RES).filter((a) => a.re === setTo37.id).length;
  await b.publish(CMD, setTo37.body); // a late QoS 1 redelivery of the old command
  await waitFor(() => answersOn(b, RES).filter((a) => a.re === setTo37.id).length > before, 2_000, 'answer to the redelivery');
  t.match(answersOn(b, RES).filter((a) => a.re === setTo37.id).at(-1), { ok: false, error: { code: 'LOAXA_DUPLICATE' } });
  t.equal(second.agent.volume, 20, 'not executed again');
});

t.test('failover URLs (issue 21): a box whose broker node is down connects to the next, and moves on when that one dies', async (t) => {
  const deadUrl = `mqtt://127.0.0.1:${await freePort()}`;
  const one = await startBroker(t);
  const two = await startBroker(t);
  const { agent } = await startAgent(t, { url: deadUrl }, { mqtt: { url: deadUrl, ...CREDENTIALS, failoverUrls: [one.url, two.url] }, reconnectMs: 50, reconnectMaxMs: 200 });
  t.ok(agent.connected, 'connected');
  t.ok(one.clients.has('spk-01'), 'to the second URL, the first being down');
  await waitFor(() => messagesOn(one, STATUS, 'status').length === 1, 2_000, 'online on the second node');
  // The node dies: its clients' sockets close, and the box tries the third URL next.
  await one.stop();
  await waitFor(() => messagesOn(two, STATUS, 'status').filter((m) => m.payload.state === 'online').length === 1, 5_000, 'online on the third node');
  t.pass('failed over to the third node');
});

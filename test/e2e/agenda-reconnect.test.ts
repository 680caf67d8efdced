/**
 * Issue 8 § connect storm, end to end with real agents: a box says in its `online` status which agenda it
 * holds, so a server restart does not resend every box an agenda it already has — and the box still airs
 * what it holds on time, from its own clock.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { decodeMessage, topics, type HeldAgenda } from '@loaxa/shared';
import { NullPlayer } from '../../device-agent/src/index.js';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startServer, type LoaxaServer } from '../../server/src/app.js';
import { httpApi, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { freePort, waitFor } from '../helpers/wait.js';

const quiet = pino({ level: 'silent' });

t.test('after a server restart, boxes holding the current agenda are not sent it again, and air it on time', async (t) => {
  const dataDir = await tempDir(t, 'loaxa-agenda-');
  const ports = { httpPort: await freePort(), mqttPort: await freePort() };
  const cfg = { ...ports, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD };

  /** Records, per server, the agendas it sent and what reconnecting boxes said they hold. */
  const watch = (server: LoaxaServer) => {
    const agendasSent: string[] = [];
    const held: Array<[string, HeldAgenda | null | undefined]> = [];
    const bus = server.ctx.bus as { publish: (topic: string, payload: string | Buffer, opts: object) => Promise<void> };
    const publish = bus.publish.bind(bus);
    bus.publish = (topic, payload, opts) => {
      const m = decodeMessage(payload, ['sync-agenda']);
      if (m.ok) agendasSent.push(topic);
      return publish(topic, payload, opts);
    };
    const delivery = server.ctx.deliveryService;
    const reconciled = delivery.onReconciled!;
    delivery.onReconciled = (ids, h) => {
      for (const id of ids) held.push([id, h.has(id) ? h.get(id) : undefined]);
      return reconciled(ids, h);
    };
    return { agendasSent, held };
  };

  let server = await startServer(cfg, { logger: quiet });
  t.teardown(() => server.stop());
  let seen = watch(server);
  const base = server.urls.httpUrl;
  const http = httpApi(base);
  const api = async (method: string, path: string, body?: unknown, token?: string) => (await http(method, path, body, token)).body;
  const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).token;
  await importSampleAreas(http, token);
  const players = new Map<string, NullPlayer>();
  const sim = await startSimulation({
    serverUrl: base, count: 2, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: quiet, username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0,
    playerFactory: (id) => { const p = new NullPlayer(); players.set(id, p); return p; },
  });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const ids = sim.devices.map((d) => d.id);
  await waitFor('the first reconciles', () => (seen.held.length >= 2 ? true : null), 5000, 20);
  t.same(seen.held.map(([, h]) => h).sort(), [null, null], 'new boxes say they hold no agenda');
  t.same(seen.agendasSent, [], 'and are sent none while there is nothing for them');

  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Giờ phát', text: 'Thông báo lịch tiêm phòng cho đàn gia súc.' }, token);
  const startAt = Date.now() + 8000;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(startAt).toISOString() }, token);
  await waitFor('both boxes to cache the audio', async () => {
    const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token);
    return b.deliveries.every((d: { state: string }) => d.state === 'cached') ? true : null;
  }, 10_000);
  await waitFor('both boxes to hold the agenda', () => (sim.agents.every((a) => a.agendaVersion !== null) ? true : null), 5000, 20);
  const recorded = () => server.ctx.db.prepare('SELECT device_id, version, sent_at FROM device_agendas ORDER BY device_id').all() as Array<{ device_id: string; version: number; sent_at: number }>;
  const before = recorded();
  t.equal(before.length, 2);

  await server.stop();
  server = await startServer(cfg, { logger: quiet });
  seen = watch(server);
  await waitFor('both boxes back and reconciled', () => (seen.held.length >= 2 ? true : null), 15_000, 50);
  t.same(
    seen.held.map(([id, h]) => [id, h]).sort(),
    before.map((r) => [r.device_id, { version: r.version, generatedAt: r.sent_at }]),
    'each box says it holds the agenda last sent to it',
  );
  await new Promise((r) => setTimeout(r, 300));
  t.same(seen.agendasSent.filter((topic) => ids.some((id) => topic === topics.deviceCmd(id))), [], 'so none is sent again');
  t.same(recorded(), before, 'and none is recorded');

  await waitFor('both boxes to air it', async () => {
    const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token);
    return b.deliveries.every((d: { state: string }) => d.state === 'played') ? true : null;
  }, 20_000, 250);
  const rows = server.ctx.db.prepare(`SELECT at FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`).all(cast.id) as Array<{ at: number }>;
  t.equal(rows.length, 2);
  for (const r of rows) t.ok(Math.abs(r.at - startAt) < 1000, `started on time by the box's clock (${r.at - startAt} ms)`);
  for (const id of ids) t.equal(players.get(id)!.played.length, 1, 'played once');
});

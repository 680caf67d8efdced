/**
 * What must survive real life: a server restart between scheduling and air time, boxes that lose the link
 * before air time, and a cancel that has to reach boxes that are offline.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { NullPlayer } from '../../device-agent/src/index.js';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startServer } from '../../server/src/app.js';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { freePort, waitFor } from '../helpers/wait.js';

const quiet = pino({ level: 'silent' });

t.test('a server restart between scheduling and air time: the boxes still air it and the as-run log records it', async (t) => {
  const dataDir = await tempDir(t, 'loaxa-restart-');
  const ports = { httpPort: await freePort(), mqttPort: await freePort() };
  const cfg = { ...ports, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD };
  let server = await startServer(cfg, { logger: quiet });
  t.teardown(() => server.stop());
  const base = server.urls.httpUrl;
  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await res.json()) as any;
  };
  const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).token;
  await importSampleAreas(async (m, p, b, tk) => ({ status: 200, body: await api(m, p, b, tk), headers: new Headers() }), token);
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: quiet, username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Giờ phát', text: 'Thông báo lịch tiêm phòng cho đàn gia súc.' }, token);
  const startAt = Date.now() + 5000;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(startAt).toISOString() }, token);
  await waitFor('both boxes to cache the audio', async () => {
    const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token);
    return b.deliveries.every((d: { state: string }) => d.state === 'cached') ? true : null;
  }, 10_000);

  await server.stop(); // the link is gone for every box; nothing stays in the embedded broker
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now()) + bulletin.audio.durationMs + 500));
  server = await startServer(cfg, { logger: quiet });

  const tk = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).token;
  const final = await waitFor('the late reports to arrive', async () => {
    const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, tk);
    return b.deliveries.every((d: { state: string }) => d.state === 'played') ? b : null;
  }, 30_000, 250);
  t.equal(final.summary.played, 2, 'both boxes played while the server was down');
  const rows = server.ctx.db.prepare(`SELECT at, received_at FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`).all(cast.id) as Array<{ at: number; received_at: number }>;
  t.equal(rows.length, 2);
  for (const r of rows) {
    t.ok(Math.abs(r.at - startAt) < 1000, `started on time by the box's clock (${r.at - startAt} ms)`);
    t.ok(r.received_at > r.at + bulletin.audio.durationMs, 'the report arrived after the link returned');
  }
});

t.test('cancel: a playing box stops, and a box that was offline drops the item when it reconnects', async (t) => {
  const { api, token, base, server, dataDir } = await startTestServer(t);
  await importSampleAreas(api, token);
  const players = new Map<string, NullPlayer>();
  const sim = await startSimulation({
    serverUrl: base, count: 2, areaCode: '99004', stateFile: join(dataDir, 'sim.json'), logger: quiet, username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0,
    playerFactory: (id) => { const p = new NullPlayer(); players.set(id, p); return p; },
  });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const [a, b] = sim.devices.map((d) => d.id) as [string, string];
  const long = (await api('POST', '/api/v1/bulletins', { title: 'Dài', text: Array.from({ length: 6 }, () => 'Bà con chú ý lắng nghe thông báo của ủy ban nhân dân xã.').join(' ') }, token)).body;

  // Box a plays now; the cancel must cut it off.
  const now = (await api('POST', '/api/v1/broadcasts', { bulletinId: long.id, target: { deviceIds: [a] } }, token)).body;
  await waitFor('box a to play', async () => ((await api('GET', `/api/v1/broadcasts/${now.id}`, undefined, token)).body.deliveries[0].state === 'playing' ? true : null), 10_000);
  await api('POST', `/api/v1/broadcasts/${now.id}/cancel`, {}, token);
  await new Promise((r) => setTimeout(r, 1500));
  t.same(players.get(a)!.played, [], 'box a stopped instead of playing to the end');
  t.equal((await api('GET', `/api/v1/broadcasts/${now.id}`, undefined, token)).body.deliveries[0].state, 'cancelled');

  // Box b has an item for later; it loses the link, the item is cancelled, then it comes back.
  const later = (await api('POST', '/api/v1/broadcasts', { bulletinId: long.id, target: { deviceIds: [b] }, startAt: new Date(Date.now() + 20_000).toISOString() }, token)).body;
  await waitFor('box b to cache it', async () => ((await api('GET', `/api/v1/broadcasts/${later.id}`, undefined, token)).body.deliveries[0].state === 'cached' ? true : null), 10_000);
  server.ctx.disconnectDevice(b);
  await waitFor('box b to be offline', () => (server.ctx.devices.get(b)!.online ? null : true), 5000, 20);
  await api('POST', `/api/v1/broadcasts/${later.id}/cancel`, {}, token);
  await waitFor('box b to come back', () => (server.ctx.devices.get(b)!.online ? true : null), 15_000);
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(later.startAt) - Date.now()) + 1000));
  t.same(players.get(b)!.played, [], 'box b dropped the cancelled item');
  const playing = server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`).get(later.id) as { n: number };
  t.equal(playing.n, 0, 'it never started');
});

/**
 * Fleet mode of the firmware simulator (issue 8): lightweight protocol-level boxes in child processes
 * against the real server — they connect with their own credentials, the server stores their heartbeats,
 * and an emergency broadcast reaches every one (area topic and own topic, taken once) and is played.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { ServerApi, ancestorsOf, runCli, startFleet, type FleetBoxSpec } from '@loaxa/firmware-sim';
import { ADMIN_PASSWORD, importSampleAreas, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('20 fleet boxes in 2 processes: connect, heartbeats stored, an emergency broadcast played once per box', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const serverApi = new ServerApi(base, { username: 'admin', password: ADMIN_PASSWORD });
  await serverApi.login();
  const ancestors = ancestorsOf(await serverApi.areas(), '99003')!;
  const created = (await serverApi.createDevices(Array.from({ length: 20 }, (_, i) => ({ name: `fleet-${i}`, areaCode: '99003' }))))!;
  const boxes: FleetBoxSpec[] = created.map((d) => ({ id: d.id, areaCode: d.areaCode, areaAncestors: ancestors, mqtt: d.mqtt }));

  const bootAt = Date.now();
  const progress: number[] = [];
  const errors: string[] = [];
  const fleet = await startFleet({ boxes, processes: 2, bootAt, onProgress: (c) => progress.push(c.subscribed), onError: (m) => errors.push(m) });
  t.teardown(() => fleet.stop({ timeoutMs: 1_000 }));
  t.equal(fleet.pids.length, 2, 'two child processes');

  fleet.connect(0, 5);
  await fleet.waitFor('every box subscribed', (c) => c.subscribed === 20, 20_000);
  t.ok(progress.length > 0, 'the children report progress to the parent');
  await waitFor('the server to see every box online', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 20 ? true : null), 10_000);

  // Heartbeats: real telemetry envelopes, stored by the server (the latest per device).
  fleet.startHeartbeats(400);
  const device = created[0]!.id;
  const stored = await waitFor(
    'a heartbeat stored',
    async () => {
      const d = (await api('GET', `/api/v1/devices/${device}`, undefined, token)).body;
      return d.health ? d : null;
    },
    10_000,
  );
  fleet.stopHeartbeats();
  // Their `online` status says they hold no agenda, as the agent's does: with none for them, none is sent.
  t.same(server.ctx.db.prepare('SELECT COUNT(*) AS n FROM device_agendas').get(), { n: 0 }, 'no agenda sent to boxes that hold none while there is none');
  const report = await fleet.report();
  const sent = report.boxes.find((b) => b.deviceId === device)!.heartbeats;
  t.ok(sent.length >= 1, 'the box sent heartbeats');
  // `health` is the last heartbeat's payload as sent; its uptime names the heartbeat (milliseconds kept).
  t.ok(sent.includes(stored.health.uptimeS), 'the stored heartbeat is one the box sent', { stored: stored.health.uptimeS, sent });
  t.equal(stored.agentVersion, 'fleet-0.1.0', 'fleet boxes name themselves in status and telemetry');
  t.match(stored.health, { health: { network: { type: 'cellular' } } }, 'the health block as sent');

  // An emergency: area topic and each box's own topic; one delivery per box, played.
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Khẩn', text: 'Thông báo khẩn.' }, token)).body;
  t.equal(bulletin.status, 'ready');
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: ['99'] } }, token)).body;
  t.equal(cast.status, 'approved');
  await waitFor(
    'every box to play it',
    async () => {
      const b = (await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body;
      return b.deliveries.length === 20 && b.deliveries.every((d: { state: string }) => d.state === 'played') ? b : null;
    },
    bulletin.audio.durationMs + 20_000,
    200,
  );
  t.pass('every delivery reached played on the server');
  const after = await fleet.report();
  const mine = after.deliveries.filter((d) => d.broadcastId === cast.id);
  t.equal(mine.length, 20, 'one delivery per box');
  t.ok(mine.every((d) => d.playingAt !== null && d.playedAt !== null && d.playingAt >= d.firstAt), 'each played after its command arrived');
  t.ok(mine.every((d) => d.copies >= 2), 'each box got the area command and its own, and took the item once');
  t.ok(mine.some((d) => d.via === 'area'), 'the area topic carried the emergency');
  t.same(errors, [], 'no child reported an error');

  await fleet.stop({ timeoutMs: 1_000 });
  t.ok(fleet.pids.every((pid) => !alive(pid)), 'every child process has exited');
  await waitFor('the server to see them offline', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 0 ? true : null), 10_000);
});

t.test('npm run sim -- --fleet provisions, runs and stops fleet boxes', async (t) => {
  const { api, token, base, dataDir } = await startTestServer(t);
  await importSampleAreas(api, token);
  let out = '';
  let err = '';
  const signals = new EventEmitter();
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD }, signals };
  const stateFile = join(dataDir, 'fleet-state.json');
  const running = runCli(['--fleet', '--server', base, '--count', '3', '--area', '99004', '--state', stateFile, '--processes', '1', '--spread-ms', '0', '--log-level', 'silent'], io);
  await waitFor('the fleet to connect', () => (/3 fleet boxes in 1 processes in area 99004 \(3 connected\)/.test(out) ? true : null), 20_000);
  t.equal((await api('GET', '/api/v1/devices?area=99004', undefined, token)).body.total, 3, 'provisioned through the server');
  signals.emit('SIGINT');
  t.equal(await running, 0, err);
  t.match(out, /SIGINT: stopping 3 fleet boxes/);
});

t.test('fleet usage errors exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--fleet', '--server', 'http://x', '--area', '00004', '--scenario', 'steady'], /--scenario needs real agents/],
    [['--server', 'http://x', '--area', '00004', '--processes', '2'], /--processes is for fleet mode/],
    [['--fleet', '--server', 'http://x', '--area', '00004', '--spread-ms', 'soon'], /--spread-ms must be a whole number/],
  ];
  for (const [argv, message] of cases) {
    let err = '';
    const code = await runCli(argv, { stdout: { write: () => undefined }, stderr: { write: (s: string) => (err += s) }, env: {}, signals: new EventEmitter() });
    t.equal(code, 2, argv.join(' '));
    t.match(err, message);
  }
});

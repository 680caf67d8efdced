/**
 * Circular 39 on real agents: an emergency interrupts a normal bulletin on every box, and the normal one
 * then resumes where it stopped and ends `played`; the as-run log shows the interruption.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('an emergency interrupts a normal bulletin on every box, which then resumes and finishes', async (t) => {
  const { api, token, base, dataDir, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const sim = await startSimulation({ serverUrl: base, count: 3, areaCode: '99005', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const normal = (await api('POST', '/api/v1/bulletins', { title: 'Bản tin thường', text: Array.from({ length: 4 }, () => 'Hôm nay xã tổ chức ra quân làm đường giao thông nông thôn.').join(' ') }, token)).body;
  const alarm = (await api('POST', '/api/v1/bulletins', { title: 'Khẩn cấp', text: 'Lũ đang lên, bà con di chuyển ngay.' }, token)).body;

  const n = (await api('POST', '/api/v1/broadcasts', { bulletinId: normal.id, target: { areaCodes: ['99005'] }, resume: 'resume' }, token)).body;
  await waitFor('the normal bulletin to play everywhere', async () => {
    const b = (await api('GET', `/api/v1/broadcasts/${n.id}`, undefined, token)).body;
    return b.deliveries.length === 3 && b.deliveries.every((d: { state: string }) => d.state === 'playing') ? true : null;
  }, 15_000);
  await new Promise((r) => setTimeout(r, 1500));
  const e = (await api('POST', '/api/v1/broadcasts', { bulletinId: alarm.id, priority: 'emergency', target: { areaCodes: ['99005'] } }, token)).body;
  t.equal(e.status, 'approved');
  t.ok(e.conflicts.every((c: { outcome: string }) => c.outcome === 'interrupts'), 'the conflict report said it would interrupt');

  await waitFor('the emergency to be played everywhere', async () => {
    const b = (await api('GET', `/api/v1/broadcasts/${e.id}`, undefined, token)).body;
    return b.deliveries.every((d: { state: string }) => d.state === 'played') ? true : null;
  }, alarm.audio.durationMs + 15_000);
  const final = await waitFor('the normal bulletin to finish after it', async () => {
    const b = (await api('GET', `/api/v1/broadcasts/${n.id}`, undefined, token)).body;
    return b.deliveries.every((d: { state: string }) => d.state === 'played') ? b : null;
  }, normal.audio.durationMs + 15_000);
  t.equal(final.summary.played, 3, 'every box finished the normal bulletin');

  for (const d of sim.devices) {
    const ev = (server.ctx.db.prepare('SELECT broadcast_id, state, at, reason FROM delivery_events WHERE device_id = ? ORDER BY at, id').all(d.id) as Array<{ broadcast_id: string; state: string; at: number; reason: string | null }>)
      .filter((x) => x.state === 'playing' || x.state === 'played');
    const seq = ev.map((x) => `${x.broadcast_id === e.id ? 'E' : 'N'}:${x.state}`);
    t.same(seq, ['N:playing', 'E:playing', 'E:played', 'N:playing', 'N:played'], `${d.id}: normal, emergency, normal resumed`);
    t.match(ev[3]!.reason, /resumed after/, 'the resume is in the as-run log');
    const emergencyEnd = ev[2]!.at;
    const normalEnd = ev[4]!.at;
    const normalStart = ev[0]!.at;
    const played = normalEnd - normalStart - (emergencyEnd - ev[1]!.at);
    t.ok(Math.abs(played - normal.audio.durationMs) < 1500, `resumed where it stopped: ${played} ms of ${normal.audio.durationMs} ms aired`);
  }
});

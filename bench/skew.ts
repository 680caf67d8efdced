/**
 * `npm run bench:skew` — start on time (issue 4): N simulated boxes (default 200) running the real device
 * agent get one bulletin scheduled a few seconds ahead; each reports the instant it actually started by its
 * own clock. We report the start skew across boxes (max − min) and the lateness against the scheduled
 * instant (p50 / p99 / max). Target: skew ≤ 50 ms.
 *
 * All boxes run in this one process and share its clock, so this measures the agent's own timing under load
 * (event-loop contention of N boxes on 2 cores), not clock synchronisation; on real boxes the clock offset
 * each agent reports (NTP) adds to it and is visible per box on the server.
 * Reference in the same run: N bare `setTimeout`s aimed at the same instant in this process.
 * Bounded: it stops by itself (BENCH_TIMEOUT_MS, default 120 s) and leaves no process behind.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer } from '../server/src/app.js';
import { startSimulation } from '../firmware-sim/src/index.js';
import { updateReadmeBlock } from './readme-block.js';

const COUNT = Number(process.env.BENCH_BOXES ?? 200);
const LEAD_MS = Number(process.env.BENCH_LEAD_MS ?? 8000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);
const TARGET_SKEW_MS = 50;
const HERE = new URL('.', import.meta.url);
const log = (s: string) => process.stdout.write(`${s}\n`);
const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function reference(n: number, at: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<number>((r) => setTimeout(() => r(Date.now() - at), Math.max(0, at - Date.now())))));
}

async function main(): Promise<void> {
  const guard = setTimeout(() => {
    log(`bench:skew: gave up after ${TIMEOUT_MS} ms`);
    process.exit(1);
  }, TIMEOUT_MS);
  guard.unref();
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-bench-skew-'));
  const quiet = pino({ level: 'silent' });
  const server = await startServer({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: dir, adminPassword: 'bench-password' }, { logger: quiet });
  const base = server.urls.httpUrl;
  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await res.json()) as any;
  };
  try {
    const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: 'bench-password' })).token;
    await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh', communes: [{ code: '99001', name: 'Xã Một', type: 'xã' }] }] }, token);
    log(`bench:skew: provisioning and connecting ${COUNT} boxes…`);
    const sim = await startSimulation({ serverUrl: base, count: COUNT, areaCode: '99001', stateFile: join(dir, 'sim.json'), logger: quiet, username: 'admin', password: 'bench-password', startSpreadMs: 1000 });
    try {
      const connected = await sim.waitForConnections(30_000);
      log(`bench:skew: ${connected} connected`);
      const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Đo độ lệch', text: 'Kiểm tra phát đồng thời.' }, token);
      const startAt = Date.now() + LEAD_MS;
      const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99001'] }, startAt: new Date(startAt).toISOString() }, token);
      const ref = await reference(COUNT, startAt + 2000 + bulletin.audio.durationMs);
      for (;;) {
        const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token);
        if (b.deliveries.every((d: { state: string }) => ['played', 'failed', 'missed', 'expired'].includes(d.state))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const rows = server.ctx.db.prepare(`SELECT at FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`).all(cast.id) as Array<{ at: number }>;
      const late = rows.map((r) => r.at - startAt);
      const result = {
        date: new Date().toISOString(),
        boxes: COUNT,
        started: rows.length,
        skewMs: Math.max(...late) - Math.min(...late),
        latenessMs: { p50: pctl(late, 0.5), p99: pctl(late, 0.99), max: Math.max(...late) },
        reference: { what: `${COUNT} bare setTimeouts in the same process`, skewMs: Math.max(...ref) - Math.min(...ref), p99Ms: pctl(ref, 0.99) },
        targetSkewMs: TARGET_SKEW_MS,
      };
      const met = result.started === COUNT && result.skewMs <= TARGET_SKEW_MS;
      await mkdir(new URL('results/', HERE), { recursive: true });
      await writeFile(new URL('results/skew.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
      const table = [
        `Measured ${result.date.slice(0, 10)} on this 2-core machine, ${COUNT} simulated boxes in one process.`,
        '',
        '| | boxes started | start skew (max − min) | lateness p50 / p99 / max |',
        '|---|---|---|---|',
        `| Loa Xã agents | ${result.started} / ${COUNT} | ${result.skewMs} ms | ${result.latenessMs.p50} / ${result.latenessMs.p99} / ${result.latenessMs.max} ms |`,
        `| reference: bare timers | ${COUNT} | ${result.reference.skewMs} ms | p99 ${result.reference.p99Ms} ms |`,
        '',
        met ? `Target (skew ≤ ${TARGET_SKEW_MS} ms): met.` : `Target (skew ≤ ${TARGET_SKEW_MS} ms): **missed** — see the numbers above.`,
      ].join('\n');
      await updateReadmeBlock(new URL('README.md', HERE), 'skew', table);
      log(table);
    } finally {
      await sim.stop();
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:skew failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);

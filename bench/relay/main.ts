/**
 * `npm run bench:relay` (issue 15): 2,000 boxes relaying one live stream through the server's restream
 * (`GET /streams/{sourceId}`, each box with its own HTTP Basic credentials) against Debian's Icecast2 serving
 * the same stream to the same listeners in the same run. Reported: the server's CPU (the server process and
 * the ffmpeg it runs for the restream, from /proc) and memory as ratios to Icecast's, and every listener's
 * received seconds of audio (min / p1 / p50; starved = under 95 % of the window or a stall over 2 s).
 * Target: the server's CPU ≤ 1.5× Icecast's. Over 300 lines because the run is one script, read top to
 * bottom: set-up of both sides, the ABBA windows, the measures and the clean-up of every process.
 *
 * The stream: a 440 Hz tone encoded by ffmpeg (64 kb/s MP3, 48 kHz mono) pushed to a real Icecast2
 * (test/helpers/icecast.ts, client limit raised above the fleet) on mount /live.mp3; the server is started
 * as `npm start` starts it (its Node options), temp data dir, loopback ports, and given that mount as a
 * source with `restream: true`: it pulls it once and serves its own stream. Both sides serve the same
 * audio from the same origin; Icecast's source push and the server's pull from Icecast are the station's
 * side, not counted for either.
 *
 * The listeners: BENCH_PROCESSES child processes (./relay/listener.ts), each holding its share of the boxes
 * as HTTP listeners that count received audio from the MP3 frame headers (./relay/frames.ts). The same
 * processes and credentials listen to Icecast's mount and to the server's stream in turn, one side at a
 * time, in ABBA order over BENCH_ROUNDS rounds (default 2: Icecast, server, server, Icecast): one side at a
 * time so that each has the cores to itself and a stall is the fault of the side under test (two at once on
 * two cores would let one side starve the other's listeners), and ABBA so the other load on this shared
 * machine, which drifts from one minute to the next, weighs on both sides alike. Each window starts after
 * every listener has its first audio and a few seconds more (Icecast's burst-on-connect is over by then).
 *
 * Bounded: windows shrink to fit BENCH_TIMEOUT_MS (default 285 s); past it, or on SIGINT/SIGTERM, every
 * process the run started is stopped and its temp dirs removed. Results: results/relay.json and the `relay`
 * block of README.md. Settings: BENCH_BOXES (2000), BENCH_PROCESSES (4), BENCH_WINDOW_MS (40000),
 * BENCH_ROUNDS (2), BENCH_IN_FLIGHT (connections each process keeps waiting for headers, 50),
 * BENCH_SERVER_NODE_ARGS (instead of `npm start`'s), BENCH_SIDES=icecast|loaxa (one side only), BENCH_WRITE=0
 * (print only). Type-check: `npx tsc --noEmit -p bench/relay` (its own tsconfig: the orchestrator lives in
 * bench/relay/main.ts so that bench/tsconfig.json, not this task's, need not change).
 *
 * Over 300 lines: the run is one sequence (start, register, listen in turn, report) whose steps share the
 * processes and cleanup; the listeners, framing, /proc readings and the report are in their own files, and
 * starting the server and talking to the listeners in ./harness.ts (shared with bench:live, issue 16).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIcecast } from '../../test/helpers/icecast.js';
import { updateReadmeBlock } from '../readme-block.js';
import { ask, describe, forkListeners, peek, registerBoxes, ROOT, startServer } from './harness.js';
import type { ListenerResult, ToListener } from './listener.js';
import { descendantNames, findDescendant, ownCpuSeconds, treeCpuSeconds, treeRssMiB } from './procs.js';
import { relayBlock, summarize, type PhaseResult, type Side } from './report.js';
import { Cleanup, loadAverage, openFileLimit, sleep } from '../scale/proc.js';

const BOXES = Number(process.env.BENCH_BOXES ?? 2000);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 4);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 50);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 285_000);
/** BENCH_SIDES=icecast (the harness without the server's restream) or loaxa: one side's windows only; nothing written. */
const SIDES = (process.env.BENCH_SIDES ?? 'icecast,loaxa').split(',') as Side[];
const WRITE = process.env.BENCH_WRITE !== '0' && SIDES.length === 2;
/** After every listener has audio: Icecast's 64 KB burst (8 s of 64 kb/s) arrives at once; let it pass. */
const SETTLE_MS = 3_000;
/** Connecting 2,000 listeners and closing them again, per phase (the window shrinks to fit). */
const PHASE_OVERHEAD_MS = 25_000;
/**
 * A listener without audio this long after it began connecting has failed. Icecast 2.4 listens with a
 * backlog of 5 (hard-coded; `ss -lnt` shows it), so in a storm most SYNs to it are dropped and retransmitted
 * by the kernel after 1, 3, 7, 15, 31 s: a box would get in, late; only one not in after 31 s has failed.
 */
const CONNECT_TIMEOUT_MS = 35_000;
const MIN_WINDOW_MS = 15_000;
const PASSWORD = 'bench-relay-password';
const MOUNT = '/live.mp3';
/** bench/. */
const HERE = new URL('..', import.meta.url);

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const started = Date.now();
const deadline = started + TIMEOUT_MS;
const cleanup = new Cleanup();

interface Served {
  side: Side;
  port: number;
  path: string;
  /** The process tree whose CPU and memory count for this side. */
  pid: number;
}

async function main(): Promise<void> {
  const load0 = loadAverage();
  if (openFileLimit() < BOXES / PROCESSES + 200 || openFileLimit() < BOXES + 200) {
    throw new Error(`open-file limit ${openFileLimit()} is too low for ${BOXES} listeners: run through npm (ulimit -n $(ulimit -Hn))`);
  }
  const tempRoot = await mkdtemp(join(tmpdir(), 'loaxa-bench-relay-'));
  cleanup.dir(tempRoot);
  const teardown = { teardown: (fn: () => unknown) => cleanup.add('icecast', fn) };

  log(`bench:relay: starting Icecast2 (client limit ${BOXES + 100}) and the source (ffmpeg, ${MOUNT})…`);
  const icecast = await startIcecast(teardown, { clients: BOXES + 100, maxSeconds: Math.ceil(TIMEOUT_MS / 1000) + 60 });
  await icecast.pushTone(MOUNT, { format: 'mp3' });
  const icecastPid = findDescendant(process.pid, 'icecast2');
  if (!icecastPid) throw new Error('icecast2 is running but its process was not found under this one');
  const icecastVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'icecast2'], { encoding: 'utf8' }).stdout.trim() || '?';

  const server = await startServer({
    tempRoot,
    password: PASSWORD,
    cleanup,
    log,
    name: 'bench:relay',
    env: {
      // Source checks on demand only: a periodic check (another ffmpeg pulling the source) inside a window
      // would be counted as restream work.
      LOAXA_SOURCE_CHECK_SECONDS: process.env.LOAXA_SOURCE_CHECK_SECONDS ?? '0',
      // The bench's station (Icecast) is on loopback, which the server opens only when told (SSRF guard).
      LOAXA_SOURCE_PRIVATE_NETS: '127.0.0.0/8',
    },
  });
  const { base, httpPort, logFile, nodeArgs, api } = server;
  log(`bench:relay: registering ${BOXES} boxes (POST /api/v1/devices/bulk) and the source (restream: true)…`);
  const auths = await registerBoxes(server, BOXES);
  const source = await api('POST', '/api/v1/sources', { name: 'Đài tỉnh (bench)', urls: [icecast.mountUrl(MOUNT)], areaCode: '99', restream: true });
  const streamPath = `/streams/${source.id as string}`;

  // What each side serves to one box, outside the windows; and no stream from the server without credentials.
  const refused = SIDES.includes('loaxa') ? await peek(base + streamPath) : { status: 401 };
  if (refused.status !== 401) throw new Error(`the server's restream answered ${refused.status} without credentials (expected 401)`);
  const viaIcecast = await peek(icecast.mountUrl(MOUNT), auths[0]);
  const viaServer = SIDES.includes('loaxa') ? await peek(base + streamPath, auths[0]) : { status: 200, type: 'not measured', bytes: Buffer.alloc(0) };
  if (viaIcecast.status !== 200 || viaServer.status !== 200) throw new Error(`a box cannot listen: Icecast ${viaIcecast.status}, server ${viaServer.status} (${(await readFile(logFile, 'utf8')).slice(-1500)})`);
  const formats = { icecast: describe(viaIcecast.type, viaIcecast.bytes), loaxa: describe(viaServer.type, viaServer.bytes) };
  log(`bench:relay: Icecast serves ${formats.icecast}; the server's restream serves ${formats.loaxa}`);

  const listeners = forkListeners(PROCESSES, cleanup);
  const per = Math.ceil(BOXES / PROCESSES);
  const sides: Record<Side, Served> = {
    icecast: { side: 'icecast', port: icecast.port, path: MOUNT, pid: icecastPid },
    loaxa: { side: 'loaxa', port: httpPort, path: streamPath, pid: server.child.pid! },
  };
  const order: Side[] = [];
  for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 === 0 ? ['icecast', 'loaxa'] : ['loaxa', 'icecast']).filter((x) => SIDES.includes(x as Side)) as Side[]);

  const phases: PhaseResult[] = [];
  for (let i = 0; i < order.length; i++) {
    const s = sides[order[i]!];
    const left = order.length - i;
    const windowMs = Math.min(WINDOW_MS, Math.floor((deadline - Date.now() - 10_000) / left - PHASE_OVERHEAD_MS));
    if (windowMs < MIN_WINDOW_MS) {
      log(`bench:relay: no time left for ${left} more window(s) of at least ${MIN_WINDOW_MS / 1000} s; stopping here`);
      break;
    }
    await sleep(1000);
    const idleRss = { icecast: treeRssMiB(icecastPid), loaxa: treeRssMiB(server.child.pid!) };
    const cpuConnect0 = treeCpuSeconds(s.pid);
    const t0 = performance.now();
    const connected = await Promise.all(
      listeners.map((c, k) => ask(c, { type: 'connect', port: s.port, path: s.path, authorizations: auths.slice(k * per, (k + 1) * per), inFlight: IN_FLIGHT, timeoutMs: CONNECT_TIMEOUT_MS }, 'connected', CONNECT_TIMEOUT_MS + 30_000)),
    );
    const connectWallMs = Math.round(performance.now() - t0);
    const connectCpuS = treeCpuSeconds(s.pid) - cpuConnect0;
    const failedNow = connected.reduce((n, m) => n + (m.type === 'connected' ? m.failed : 0), 0);
    log(`bench:relay: ${s.side}: ${BOXES - failedNow}/${BOXES} listening after ${(connectWallMs / 1000).toFixed(1)} s${failedNow ? ` (${failedNow} failed: ${connected.flatMap((m) => (m.type === 'connected' ? m.why : [])).join(', ')})` : ''}; window of ${(windowMs / 1000).toFixed(0)} s…`);
    await sleep(SETTLE_MS);

    const cpu0 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.child.pid!) };
    const node0 = ownCpuSeconds(server.child.pid!);
    await Promise.all(listeners.map((c) => ask(c, { type: 'mark' }, 'marked', 5_000)));
    const w0 = performance.now();
    const peakRss = { icecast: 0, loaxa: 0 };
    const children = new Set<string>();
    const sample = (): void => {
      peakRss.icecast = Math.max(peakRss.icecast, treeRssMiB(icecastPid));
      peakRss.loaxa = Math.max(peakRss.loaxa, treeRssMiB(server.child.pid!));
      // tsx's esbuild service is the server's too (as `npm start` runs it) and counted, but idle: not named.
      for (const n of descendantNames(server.child.pid!)) if (!n.startsWith('esbuild')) children.add(n);
    };
    sample();
    const sampler = setInterval(sample, 500);
    await sleep(windowMs);
    clearInterval(sampler);
    sample();
    const cpu1 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.child.pid!) };
    const serverNodeCpuS = ownCpuSeconds(server.child.pid!) - node0;
    const wallS = (performance.now() - w0) / 1000;
    const stopped = await Promise.all(listeners.map((c) => ask(c, { type: 'stop' }, 'stopped', 15_000)));
    const results: ListenerResult[] = stopped.flatMap((m) => (m.type === 'stopped' ? m.results : []));
    const phase: PhaseResult = {
      side: s.side,
      windowS: Math.round(wallS * 10) / 10,
      cpuS: { icecast: cpu1.icecast - cpu0.icecast, loaxa: cpu1.loaxa - cpu0.loaxa },
      serverNodeCpuS,
      idleRssMiB: idleRss,
      peakRssMiB: peakRss,
      connectWallMs,
      connectCpuS,
      serverChildren: [...children],
      listenerCpuS: stopped.reduce((n, m) => n + (m.type === 'stopped' ? m.cpuMs / 1000 : 0), 0),
      listenerLoopDelayMaxMs: Math.max(...stopped.map((m) => (m.type === 'stopped' ? m.loopDelayMaxMs : 0))),
      results,
    };
    phases.push(phase);
    const ok = results.filter((r) => r.ok).map((r) => r.receivedS / r.windowS).sort((a, b) => a - b);
    log(
      `bench:relay: ${s.side}: ${(phase.cpuS[s.side]).toFixed(2)} CPU-s in ${wallS.toFixed(1)} s (the other side idle: ${phase.cpuS[s.side === 'loaxa' ? 'icecast' : 'loaxa'].toFixed(2)}), peak RSS ${peakRss[s.side].toFixed(0)} MiB; ` +
        `received min ${((ok[0] ?? 0) * 100).toFixed(1)} % / p50 ${((ok[Math.floor(ok.length / 2)] ?? 0) * 100).toFixed(1)} % of the window; ${results.filter((r) => !r.ok).length} failed; ` +
        `${(results.reduce((n, r) => n + r.chunks, 0) / results.length / wallS).toFixed(1)} pieces a second per listener`,
    );
  }
  for (const c of listeners) c.send({ type: 'exit' } satisfies ToListener);
  if (SIDES.length < 2) return;
  if (!phases.some((p) => p.side === 'loaxa') || !phases.some((p) => p.side === 'icecast')) throw new Error('not enough time for a window of each side');

  const load1 = loadAverage();
  const summary = summarize(phases);
  const result = {
    date: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '', node: process.version, icecast2: icecastVersion, loadAverage: { before: load0, after: load1 } },
    boxes: BOXES,
    processes: PROCESSES,
    order: phases.map((p) => p.side),
    serverNodeArgs: nodeArgs.join(' '),
    // Issue 21 asks every reference to run with the server's Node options; this one is Icecast (C), not Node.
    referenceNodeArgs: 'none (Icecast2, not a Node process)',
    formats,
    ...summary,
    phases: phases.map(({ results, ...rest }) => ({ ...rest, listeners: results.length })),
  };
  const block = relayBlock(result);
  log('');
  log(block);
  if (WRITE) {
    await mkdir(new URL('results/', HERE), { recursive: true });
    await writeFile(new URL('results/relay.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
    await updateReadmeBlock(new URL('README.md', HERE), 'relay', block);
    log('bench:relay: wrote results/relay.json and the relay block of bench/README.md');
  }
}

const guard = setTimeout(() => {
  log(`bench:relay: gave up after ${TIMEOUT_MS} ms; stopping everything`);
  cleanup.killNow();
  void cleanup.run(log).finally(() => process.exit(1));
}, TIMEOUT_MS + 10_000);
guard.unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanup.killNow();
    void cleanup.run(log).finally(() => process.exit(130));
  });
}

main()
  .then(
    () => cleanup.run(log).then(() => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`bench:relay failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      return cleanup.run(log).then(() => process.exit(1));
    },
  )
  .catch(() => process.exit(1));

/**
 * The scale benchmarks of issue 8 ("a whole province on one small server, measured"):
 *
 *   npm run bench:connect    1. connect storm: every box connects and subscribes; time, retries, server memory
 *   npm run bench:fanout     2. emergency fan-out: one emergency broadcast to every box (two rounds: first, later)
 *   npm run bench:heartbeat  3. heartbeat ingest: every box at the 30 s heartbeat for 60 s; server CPU, sent vs stored
 *   npm run bench:brokers    5. 1–3 against the embedded aedes, Mosquitto (its password and ACL files) and a
 *                               two-node RabbitMQ cluster, in one run (issue 21)
 *   npm run bench:scale      all four, one after the other (each bounded on its own)
 *
 * Each runs the real server process (`node --import tsx server/src/main.ts`, temp data dir, ephemeral
 * loopback ports) and, in the same run and with the same client harness — the firmware simulator's fleet
 * mode, BENCH_BOXES boxes (default 10,000) in child processes of 2,500 — a bare reference: aedes without
 * authentication plus an in-process SQLite subscriber (bench/scale/reference-broker.ts). Our figures are
 * reported as ratios to it. Results: bench/results/<name>.json and a block in bench/README.md.
 *
 * Bounded: every phase shortens its waits to fit BENCH_TIMEOUT_MS (default 290 s); past it, or on
 * SIGINT/SIGTERM, every process this run started (server, Mosquitto, reference, fleet) is killed and the
 * temp dirs removed. Settings: BENCH_BOXES, BENCH_PROCESSES (fleet children), BENCH_IN_FLIGHT (connection
 * attempts each fleet child keeps under way, default 50), BENCH_FANOUT_ROUNDS, BENCH_HEARTBEAT_WINDOW_MS
 * (default 60000), BENCH_BROKERS_HEARTBEAT_WINDOW_MS (default 30000), BENCH_CPU_PROF=1 (write and summarize
 * a V8 CPU profile of the server; BENCH_CPU_PROF_DIR keeps the file), BENCH_SERVER_NODE_ARGS (Node options
 * for the server process, instead of those of `npm start`; the reference gets the same unless
 * BENCH_REFERENCE_NODE_ARGS sets its own).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOXES_PER_PROCESS, startFleet } from '../firmware-sim/src/index.js';
import { updateReadmeBlock } from './readme-block.js';
import { summarizeProfile } from './scale/cpuprofile.js';
import { connectStorm, fanOut, heartbeatIngest, memoryOf, settle, type PhaseContext } from './scale/phases.js';
import { Cleanup, loadAverage, openFileLimit } from './scale/proc.js';
import { brokersBlock, connectBlock, fanoutBlock, heartbeatBlock, type RunResults, type TargetResult } from './scale/report.js';
import { TARGET_LABELS, startOurs, startReference, type Target, type TargetName } from './scale/targets.js';

const HERE = new URL('.', import.meta.url);
const BOXES = Number(process.env.BENCH_BOXES ?? 10_000);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? Math.max(1, Math.ceil(BOXES / BOXES_PER_PROCESS)));
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 50);
/**
 * bench:brokers runs four systems, one of them a RabbitMQ cluster that takes ~20–40 s to boot and whose boxes
 * each log in through the server's HTTP endpoints (~40 CPU-ms a box for the two nodes, measured at 500 boxes):
 * it gets 15 minutes (issue 21: the whole bench under ~15), and the cluster's storm whatever the others left.
 */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? (process.argv[2] === 'brokers' ? 900_000 : 290_000));
const HEARTBEAT_WINDOW_MS = Number(process.env.BENCH_HEARTBEAT_WINDOW_MS ?? 60_000);
const HEARTBEAT_PERIOD_MS = 30_000;
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';

type Phase = 'connect' | 'fanout' | 'heartbeat';
interface Benchmark {
  targets: TargetName[];
  phases: Phase[];
  fanoutRounds: number;
  heartbeatWindowMs: number;
  /**
   * The heartbeat windows of all targets run at the same time, each target with its own fleet, after their
   * connect storms have run one after the other: CPU time on this shared machine drifts by a third from one
   * minute to the next, and a ratio of two windows minutes apart carried that drift.
   */
  pairedHeartbeat?: boolean;
  block: (r: RunResults) => string;
}

/**
 * The reference's boxes send their status unretained except in bench:connect's `reference-retained`:
 * retained messages only cost aedes on new subscriptions (~100 s of the 5-minute budget at 10,000 boxes,
 * measured there), and play no part in fan-out or heartbeats.
 */
const BENCHMARKS: Record<string, Benchmark> = {
  // The retained-status reference is the slowest and only explains the others: it runs last, on what time is left.
  connect: { targets: ['reference', 'ours-aedes', 'reference-retained'], phases: ['connect'], fanoutRounds: 0, heartbeatWindowMs: 0, block: connectBlock },
  fanout: { targets: ['reference', 'ours-aedes'], phases: ['connect', 'fanout'], fanoutRounds: Number(process.env.BENCH_FANOUT_ROUNDS ?? 2), heartbeatWindowMs: 0, block: fanoutBlock },
  heartbeat: { targets: ['reference', 'ours-aedes'], phases: ['connect', 'heartbeat'], fanoutRounds: 0, heartbeatWindowMs: HEARTBEAT_WINDOW_MS, pairedHeartbeat: process.env.BENCH_PAIRED !== '0', block: heartbeatBlock },
  // Four systems in one run (issue 21): one fan-out round and one heartbeat period (30 s) each. Mosquitto runs
  // on its password and ACL files, the registration path for thousands of boxes; its dynamic-security path
  // (`ours-mosquitto`, measured here until issue 21) needs 17–22 minutes to register 10,000 boxes.
  brokers: {
    targets: ['reference', 'ours-aedes', 'ours-mosquitto-files', 'ours-rabbitmq'],
    phases: ['connect', 'fanout', 'heartbeat'],
    fanoutRounds: Number(process.env.BENCH_FANOUT_ROUNDS ?? 1),
    heartbeatWindowMs: Number(process.env.BENCH_BROKERS_HEARTBEAT_WINDOW_MS ?? HEARTBEAT_PERIOD_MS),
    block: brokersBlock,
  },
};

const started = Date.now();
const logLine = (line: string): void => {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
};
const log = logLine;
const active = new Set<Cleanup>();
/** The run's results so far (targets done), and the targets under way: written out if the run is cut short. */
let soFar: { results: RunResults; file: URL } | null = null;
const inProgress = new Set<TargetResult>();

/** Kills everything this run started, writes what it measured so far, removes its temp dirs, and exits. */
async function abort(why: string, code: number): Promise<never> {
  log(`bench: ${why}; stopping every process this run started`);
  for (const c of active) c.killNow();
  if (soFar) {
    const results = { ...soFar.results, targets: [...soFar.results.targets, ...[...inProgress].map((t) => ({ ...t, error: `cut short: ${why}` }))] };
    results.machine.loadAfter = loadAverage();
    await writeFile(soFar.file, `${JSON.stringify(results, null, 2)}\n`).then(
      () => log(`bench: what was measured so far is in ${fileURLToPath(soFar!.file)}`),
      () => undefined,
    );
  }
  await Promise.race([Promise.all([...active].map((c) => c.run(log))), new Promise((r) => setTimeout(r, 10_000))]);
  process.exit(code);
}

/** Where targets run side by side wait for each other (paired heartbeat windows). */
interface Gates {
  /** Before the target starts: the previous target's storm is over. */
  start?: Promise<void>;
  /** Called once the target's storm is over and the target is idle again, or it failed. */
  connected?: () => void;
  /** Before the heartbeat window: every target is ready for it. */
  heartbeat?: () => Promise<void>;
  /** Lines logged by this target carry its name (targets side by side log in between each other). */
  tag?: string;
}

async function runTarget(name: TargetName, bench: Benchmark, remaining: () => number, gates: Gates = {}): Promise<TargetResult> {
  const result: TargetResult = { name, label: TARGET_LABELS[name], info: {} };
  const log = gates.tag ? (line: string) => logLine(line.startsWith('  ') ? `  [${gates.tag}] ${line.trimStart()}` : `[${gates.tag}] ${line}`) : logLine;
  await gates.start;
  const spans: PhaseContext['spans'] = [];
  const cleanup = new Cleanup();
  active.add(cleanup);
  const dir = await mkdtemp(join(tmpdir(), `loaxa-bench-${name}-`));
  cleanup.dir(dir);
  // Kept when BENCH_CPU_PROF_DIR names a directory; otherwise summarized into the results and removed.
  const profDir = CPU_PROF && name.startsWith('ours') ? (process.env.BENCH_CPU_PROF_DIR ? join(process.env.BENCH_CPU_PROF_DIR, `${BENCH}-${name}-${Date.now()}`) : await mkdtemp(join(tmpdir(), 'loaxa-bench-prof-'))) : undefined;
  log(`${result.label}: starting`);
  let target: Target | undefined;
  // A phase that cannot end before the deadline is left out and said so, instead of the whole run being
  // killed at the deadline without its results (a loaded machine makes every target slower, RabbitMQ most).
  const skipped: string[] = [];
  inProgress.add(result);
  try {
    target =
      name === 'reference' || name === 'reference-retained'
        ? await startReference({ dir, boxes: BOXES, retainedStatus: name === 'reference-retained', cleanup, log })
        : await startOurs({ dir, boxes: BOXES, broker: BROKER_OF[name], cleanup, log, cpuProfDir: profDir, lifetimeS: Math.ceil(remaining() / 1000) + 30 });
    result.info = target.info;
    const bootAt = Date.now();
    const fleet = await startFleet({ boxes: target.boxes, processes: PROCESSES, bootAt, retainedStatus: target.retainedStatus, onError: (m) => log(`    fleet: ${m}`) });
    cleanup.add('stop the fleet', () => fleet.stop({ abrupt: true, timeoutMs: 2_000 }));
    log(`  fleet: ${fleet.size} boxes in ${fleet.pids.length} processes (${fleet.pids.join(', ')})`);
    const ctx: PhaseContext = { target, fleet, bootAt, log, remaining, spans };
    // Start-up work (TTS worker, provisioning) is not what the storm measures.
    await settle(ctx, 20_000);
    log(`  1. connect storm (${IN_FLIGHT} attempts under way per fleet process)`);
    // RabbitMQ's storm outlasts 150 s at 10,000 boxes on two cores: it runs last and gets up to 6 minutes of
    // what remains, leaving 3 for its heartbeats, emergency and teardown.
    const stormMs = name === 'ours-rabbitmq' ? Math.max(150_000, Math.min(360_000, remaining() - 180_000)) : 150_000;
    result.connect = await connectStorm(ctx, { inFlight: IN_FLIGHT, timeoutMs: stormMs });
    // VmHWM only grows: the last reading taken while the processes live is their peak so far.
    result.peakMiB = memoryOf(target);
    gates.connected?.();
    // Heartbeats before the fan-out: an emergency is the heaviest moment, and a server that does not survive
    // it must not take the heartbeat figures down with it.
    const fits = (phase: string, needMs: number): boolean => {
      if (remaining() >= needMs) return true;
      skipped.push(phase);
      log(`  ${phase}: left out, ${Math.round(remaining() / 1000)} s left of the run's budget (BENCH_TIMEOUT_MS)`);
      return false;
    };
    if (bench.phases.includes('heartbeat') && fits('heartbeats', bench.heartbeatWindowMs + 60_000)) {
      await gates.heartbeat?.();
      log(`  3. heartbeat ingest: every ${HEARTBEAT_PERIOD_MS / 1000} s ± 10 % for ${bench.heartbeatWindowMs / 1000} s${gates.heartbeat ? ', in the same window as the other targets' : ''}`);
      result.heartbeat = await heartbeatIngest(ctx, { windowMs: bench.heartbeatWindowMs, periodMs: HEARTBEAT_PERIOD_MS });
      await settle(ctx, 10_000);
      result.peakMiB = memoryOf(target);
    }
    if (bench.phases.includes('fanout') && fits('emergency', 60_000)) {
      result.fanout = [];
      for (let round = 1; round <= bench.fanoutRounds && (round === 1 || fits(`emergency round ${round}`, 60_000)); round++) {
        log(`  2. emergency fan-out, round ${round}`);
        result.fanout.push(await fanOut(ctx, round, { timeoutMs: 60_000 }));
        result.peakMiB = memoryOf(target);
      }
    }
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0]!;
    log(`${result.label}: failed: ${(err as Error).stack ?? String(err)}`);
    // The server's own account, before its temp dir goes: warnings and errors, and how it ended.
    const serverLog = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '');
    const lines = serverLog.split('\n').filter(Boolean);
    const bad = lines.filter((l) => /"level":(40|50|60)/.test(l) || !l.startsWith('{'));
    for (const l of [...bad.slice(-15), ...lines.slice(-3)]) log(`    server.log: ${l.slice(0, 400)}`);
    // A crashed server says why on stderr (not JSON): that line belongs in the results.
    const crash = lines.find((l) => /^\w*(Error|Exception)\b.*:/.test(l));
    if (crash) result.error += `; the server died: ${crash.trim()}${(() => {
      const at = lines.find((l) => /^\s+at .*(server|node_modules)\//.test(l));
      return at ? ` (${at.trim()})` : '';
    })()}`;
  } finally {
    // A target that failed before its partners' gates must not keep them waiting.
    gates.connected?.();
    await gates.heartbeat?.();
    inProgress.delete(result);
    result.notes = [...(target?.notes() ?? []), ...skipped.map((p) => `${p} left out: the run's budget (BENCH_TIMEOUT_MS) was spent`)];
    for (const n of result.notes) log(`  note: ${n}`);
    await cleanup.run(log).catch(() => undefined);
    active.delete(cleanup);
  }
  if (profDir) {
    const files = (await readdir(profDir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
    if (files[0]) {
      // The main thread's profile (the others are the TTS workers'), cut into the measured phases.
      const file = join(profDir, files.sort()[0]!);
      result.profile = { file: process.env.BENCH_CPU_PROF_DIR ? file : '(removed)', phases: [] };
      for (const span of spans) {
        const s = await summarizeProfile(file, 20, [span.from, span.to]);
        result.profile.phases.push({ phase: span.phase, busyMs: s.sampledMs, spanMs: s.totalMs, hot: s.hot, byPackage: s.byPackage });
        log(`  server CPU profile, ${span.phase}: busy ${(s.sampledMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s`);
        for (const h of s.hot.slice(0, 10)) log(`    ${String(h.selfMs).padStart(6)} ms ${String(h.pct).padStart(5)} %  ${h.fn}  ${h.where}`);
        log(`    by package: ${s.byPackage.slice(0, 8).map((p) => `${p.pkg} ${p.pct} %`).join(', ')}`);
      }
    }
    if (!process.env.BENCH_CPU_PROF_DIR) await rm(profDir, { recursive: true, force: true });
  }
  return result;
}

/**
 * Targets side by side: each starts once the previous one's connect storm is over (storms never overlap),
 * keeps its fleet connected, and all heartbeat windows start together, so each target's CPU is read over the
 * same minute on the same machine.
 */
async function runPaired(names: TargetName[], bench: Benchmark, remaining: () => number): Promise<TargetResult[]> {
  let waiting = names.length;
  let release!: () => void;
  const allReady = new Promise<void>((r) => (release = r));
  const arrivals = new Set<TargetName>();
  const arrive = (name: TargetName): Promise<void> => {
    if (!arrivals.has(name)) {
      arrivals.add(name);
      if (--waiting === 0) release();
    }
    return allReady;
  };
  let previous: Promise<void> = Promise.resolve();
  return Promise.all(
    names.map((name) => {
      let connected!: () => void;
      const done = new Promise<void>((r) => (connected = r));
      const start = previous;
      previous = done;
      return runTarget(name, bench, remaining, { start, connected, heartbeat: () => arrive(name), tag: name });
    }),
  );
}

const BENCH = process.argv[2] ?? '';

const BROKER_OF = { 'ours-aedes': 'aedes', 'ours-mosquitto': 'mosquitto', 'ours-mosquitto-files': 'mosquitto-files', 'ours-rabbitmq': 'rabbitmq' } as const;

async function main(): Promise<void> {
  if (BENCH === 'all') return runAll();
  if (BENCH === 'render') return render(process.argv[3] ?? '');
  const bench = BENCHMARKS[BENCH];
  if (!bench) {
    process.stderr.write(`usage: node --import tsx bench/scale.ts connect|fanout|heartbeat|brokers|all, or render NAME\n`);
    process.exit(2);
  }
  const limit = openFileLimit();
  // The server (or Mosquitto) holds one socket per box; each fleet child its share.
  if (limit < BOXES + 1_000) {
    process.stderr.write(`bench: the open-file limit is ${limit}; ${BOXES} boxes need ${BOXES + 1_000}. Run it through npm (the script raises it: ulimit -n $(ulimit -Hn)) or lower BENCH_BOXES.\n`);
    process.exit(2);
  }
  const guard = setTimeout(() => void abort(`gave up after ${TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_MS)`, 1), TIMEOUT_MS);
  guard.unref();
  process.once('SIGINT', () => void abort('interrupted', 130));
  process.once('SIGTERM', () => void abort('terminated', 143));
  const remaining = (): number => TIMEOUT_MS - (Date.now() - started);

  const git = (args: string[]): string => spawnSync('git', args, { encoding: 'utf8', cwd: fileURLToPath(new URL('..', HERE)) }).stdout?.trim() ?? '';
  const results: RunResults = {
    benchmark: BENCH,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.trim() ?? '?', node: process.version, loadBefore: loadAverage(), loadAfter: '', openFiles: limit },
    commit: git(['rev-parse', 'HEAD']),
    uncommitted: git(['status', '--porcelain', '--', 'server', 'shared', 'deploy/mosquitto']).split('\n').filter(Boolean).map((l) => l.slice(3)),
    commitAfter: '',
    boxes: BOXES,
    fleetProcesses: PROCESSES,
    targets: [],
  };
  log(`bench:${BENCH}: ${BOXES} boxes, ${PROCESSES} fleet processes, targets ${bench.targets.join(', ')}; load average ${results.machine.loadBefore}; stops by itself after ${TIMEOUT_MS / 1000} s`);
  // BENCH_TARGETS=name,… runs only some of them (for development; the README wants the whole set).
  const only = process.env.BENCH_TARGETS?.split(',').map((x) => x.trim());
  const names = bench.targets.filter((n) => !only || only.includes(n));
  soFar = { results, file: new URL(`results/${BENCH}.cut-short.json`, HERE) };
  if (bench.pairedHeartbeat && names.length > 1) results.targets.push(...(await runPaired(names, bench, remaining)));
  else for (const name of names) results.targets.push(await runTarget(name, bench, remaining));
  results.machine.loadAfter = loadAverage();
  results.commitAfter = git(['rev-parse', 'HEAD']);

  await mkdir(new URL('results/', HERE), { recursive: true });
  // A run of some targets only (BENCH_TARGETS) or with a profiler slowing the server is kept apart: the
  // README and results/<name>.json show complete, unprofiled runs.
  const partial = Boolean(only) || CPU_PROF;
  const file = new URL(`results/${BENCH}${partial ? '.partial' : ''}.json`, HERE);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  const block = bench.block(results);
  if (!partial) await updateReadmeBlock(new URL('README.md', HERE), BENCH, block);
  log(`bench:${BENCH}: done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${fileURLToPath(file)}${partial ? ' written (a partial or profiled run: README left alone)' : ' and bench/README.md updated'}\n\n${block}\n`);
  clearTimeout(guard);
  if (results.targets.some((t) => t.error)) process.exitCode = 1;
}

/** `bench/scale.ts render NAME`: the README block again from results/NAME.json (after a change of the table, not of the figures). */
async function render(name: string): Promise<void> {
  const bench = BENCHMARKS[name];
  if (!bench) {
    process.stderr.write(`usage: node --import tsx bench/scale.ts render connect|fanout|heartbeat|brokers\n`);
    process.exit(2);
  }
  const results = JSON.parse(await readFile(new URL(`results/${name}.json`, HERE), 'utf8')) as RunResults;
  await updateReadmeBlock(new URL('README.md', HERE), name, bench.block(results));
  process.stdout.write(`${bench.block(results)}\n`);
}

/** `bench:scale`: the four benchmarks in turn, each its own bounded process. */
async function runAll(): Promise<void> {
  let failed = 0;
  for (const name of ['connect', 'fanout', 'heartbeat', 'brokers']) {
    process.stdout.write(`\n=== bench:${name} ===\n`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: 'inherit' });
      const stop = (): void => void child.kill('SIGTERM');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      child.once('exit', (c) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(c ?? 1);
      });
    });
    if (code !== 0) failed += 1;
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:${BENCH} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  void abort('failed', 1);
});

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
 * processes and cleanup; the listeners, framing, /proc readings and the report are in their own files.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startIcecast } from '../../test/helpers/icecast.js';
import { updateReadmeBlock } from '../readme-block.js';
import { audioKind, mp3Frame } from './frames.js';
import type { FromListener, ListenerResult, ToListener } from './listener.js';
import { descendantNames, findDescendant, ownCpuSeconds, treeCpuSeconds, treeRssMiB } from './procs.js';
import { relayBlock, summarize, type PhaseResult, type Side } from './report.js';
import { Cleanup, freePort, loadAverage, openFileLimit, sleep } from '../scale/proc.js';

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
/** bench/ and the repository. */
const HERE = new URL('..', import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const started = Date.now();
const deadline = started + TIMEOUT_MS;
const cleanup = new Cleanup();

/** The Node options `npm start` gives the server (package.json), unless BENCH_SERVER_NODE_ARGS says otherwise. */
function serverNodeArgs(): string[] {
  if (process.env.BENCH_SERVER_NODE_ARGS !== undefined) return process.env.BENCH_SERVER_NODE_ARGS.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const m = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+--import tsx /.exec(pkg.scripts.start);
  if (!m) throw new Error(`package.json's start script is not "node <options> --import tsx <entry>": ${pkg.scripts.start}`);
  return m[1]!.split(/\s+/).filter(Boolean);
}

async function waitHttp(url: string, what: string, timeoutMs: number, child: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
    await sleep(150);
  }
}

/** The first bytes of a stream (a few KB or 5 s), its status and type — what one box would get. */
async function peek(url: string, authorization?: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 8_000);
  try {
    const res = await fetch(url, { headers: authorization ? { authorization } : {}, signal: ac.signal });
    const chunks: Buffer[] = [];
    let n = 0;
    if (res.body && res.status === 200) {
      for await (const c of res.body) {
        chunks.push(Buffer.from(c as Uint8Array));
        n += (c as Uint8Array).length;
        if (n >= 16_384) break;
      }
    }
    ac.abort();
    return { status: res.status, type: res.headers.get('content-type') ?? '', bytes: Buffer.concat(chunks) };
  } catch (err) {
    if (ac.signal.aborted) return { status: 0, type: '', bytes: Buffer.alloc(0) };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** "MP3 64 kb/s, 48 kHz mono" from a stream's first bytes (two consecutive frame headers). */
function describe(type: string, bytes: Buffer): string {
  const kind = audioKind(type, bytes);
  if (kind !== 'mp3') return `${kind ?? 'unknown'} (${type || 'no content-type'})`;
  for (let i = 0; i + 4 < bytes.length; i++) {
    const f = mp3Frame(bytes, i);
    if (f && mp3Frame(bytes, i + f.length)) return `MP3 ${f.kbps} kb/s, ${f.rate / 1000} kHz ${(bytes[i + 3]! >> 6) === 3 ? 'mono' : 'stereo'}`;
  }
  return `MP3 (no frame found in ${bytes.length} bytes)`;
}

function ask(child: ChildProcess, msg: ToListener, want: FromListener['type'], timeoutMs: number): Promise<FromListener> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener ${child.pid}: no ${want} within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: FromListener): void => {
      if (m.type !== want) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send(msg);
  });
}

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

  const [httpPort, mqttPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = join(tempRoot, 'data');
  await mkdir(dataDir);
  const logFile = join(tempRoot, 'server.log');
  const fd = openSync(logFile, 'w');
  const nodeArgs = serverNodeArgs();
  log(`bench:relay: starting the server (node ${nodeArgs.join(' ')} --import tsx server/src/main.ts, data in ${dataDir})…`);
  const server = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOAXA_'))),
      LOAXA_HTTP_HOST: '127.0.0.1',
      LOAXA_HTTP_PORT: String(httpPort),
      LOAXA_MQTT_HOST: '127.0.0.1',
      LOAXA_MQTT_PORT: String(mqttPort),
      LOAXA_DATA_DIR: dataDir,
      LOAXA_ADMIN_PASSWORD: PASSWORD,
      LOAXA_LOG_LEVEL: 'info',
      // Source checks on demand only: a periodic check (another ffmpeg pulling the source) inside a window
      // would be counted as restream work.
      LOAXA_SOURCE_CHECK_SECONDS: process.env.LOAXA_SOURCE_CHECK_SECONDS ?? '0',
      // The bench's station (Icecast) is on loopback, which the server opens only when told (SSRF guard).
      LOAXA_SOURCE_PRIVATE_NETS: '127.0.0.0/8',
    },
  });
  closeSync(fd);
  cleanup.process(server, 'server', 10_000);
  const base = `http://127.0.0.1:${httpPort}`;
  await waitHttp(`${base}/healthz`, 'the server', 60_000, server, logFile);

  const api = async (method: string, path: string, body?: unknown, token?: string): Promise<any> => {
    const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: PASSWORD })).token as string;
  await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh', communes: [{ code: '99001', name: 'Xã Một', type: 'xã' }] }] }, token);
  log(`bench:relay: registering ${BOXES} boxes (POST /api/v1/devices/bulk) and the source (restream: true)…`);
  const bulk = await api('POST', '/api/v1/devices/bulk', { devices: Array.from({ length: BOXES }, (_, i) => ({ name: `loa ${i + 1}`, areaCode: '99001' })) }, token);
  const auths = (bulk.items as Array<{ id: string; mqtt: { password: string } }>).map((d) => `Basic ${Buffer.from(`${d.id}:${d.mqtt.password}`).toString('base64')}`);
  const source = await api('POST', '/api/v1/sources', { name: 'Đài tỉnh (bench)', urls: [icecast.mountUrl(MOUNT)], areaCode: '99', restream: true }, token);
  const streamPath = `/streams/${source.id as string}`;

  // What each side serves to one box, outside the windows; and no stream from the server without credentials.
  const refused = SIDES.includes('loaxa') ? await peek(base + streamPath) : { status: 401 };
  if (refused.status !== 401) throw new Error(`the server's restream answered ${refused.status} without credentials (expected 401)`);
  const viaIcecast = await peek(icecast.mountUrl(MOUNT), auths[0]);
  const viaServer = SIDES.includes('loaxa') ? await peek(base + streamPath, auths[0]) : { status: 200, type: 'not measured', bytes: Buffer.alloc(0) };
  if (viaIcecast.status !== 200 || viaServer.status !== 200) throw new Error(`a box cannot listen: Icecast ${viaIcecast.status}, server ${viaServer.status} (${(await readFile(logFile, 'utf8')).slice(-1500)})`);
  const formats = { icecast: describe(viaIcecast.type, viaIcecast.bytes), loaxa: describe(viaServer.type, viaServer.bytes) };
  log(`bench:relay: Icecast serves ${formats.icecast}; the server's restream serves ${formats.loaxa}`);

  const listeners = Array.from({ length: PROCESSES }, () => {
    const c = fork(fileURLToPath(new URL('listener.ts', import.meta.url)), ['--listener'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanup.process(c, 'listener process', 2_000);
    return c;
  });
  const per = Math.ceil(BOXES / PROCESSES);
  const sides: Record<Side, Served> = {
    icecast: { side: 'icecast', port: icecast.port, path: MOUNT, pid: icecastPid },
    loaxa: { side: 'loaxa', port: httpPort, path: streamPath, pid: server.pid! },
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
    const idleRss = { icecast: treeRssMiB(icecastPid), loaxa: treeRssMiB(server.pid!) };
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

    const cpu0 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.pid!) };
    const node0 = ownCpuSeconds(server.pid!);
    await Promise.all(listeners.map((c) => ask(c, { type: 'mark' }, 'marked', 5_000)));
    const w0 = performance.now();
    const peakRss = { icecast: 0, loaxa: 0 };
    const children = new Set<string>();
    const sample = (): void => {
      peakRss.icecast = Math.max(peakRss.icecast, treeRssMiB(icecastPid));
      peakRss.loaxa = Math.max(peakRss.loaxa, treeRssMiB(server.pid!));
      // tsx's esbuild service is the server's too (as `npm start` runs it) and counted, but idle: not named.
      for (const n of descendantNames(server.pid!)) if (!n.startsWith('esbuild')) children.add(n);
    };
    sample();
    const sampler = setInterval(sample, 500);
    await sleep(windowMs);
    clearInterval(sampler);
    sample();
    const cpu1 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.pid!) };
    const serverNodeCpuS = ownCpuSeconds(server.pid!) - node0;
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

/**
 * `npm run bench:media` — media distribution (issue 8, benchmark 4): 2,000 boxes download a new 5-minute
 * bulletin at once. Against the real server process (`node --import tsx server/src/main.ts`, temp data dir,
 * loopback), the bulletin made through the API from `bulletin-vi.txt` (~5 minutes of Opus), 2,000 boxes
 * provisioned through `POST /api/v1/devices/bulk`, each download with its own box's HTTP Basic credentials.
 *
 * In the same run and with the same client harness: nginx (Debian package, configured here on loopback,
 * sendfile) serving the same file from the media store — the reference; and, unless BENCH_PROXY=0, nginx as
 * deploy/nginx/loaxa-media.conf puts it in front of the server (auth_request to the server, file from nginx's
 * cache). Runs are interleaved (BENCH_RUNS rounds, default 3); medians reported, with throughput, server CPU
 * (from /proc) and the ratio to nginx. Target: ours ≤ 1.5× nginx's time. Over 300 lines because the run is
 * one script (nginx configs, the interleaved rounds, the report), read top to bottom.
 *
 * The client harness: BENCH_CLIENTS child processes (default 2) of this script (`--client`), each with an
 * http.Agent without keep-alive (one connection per box, as in the field), all started together; every
 * download's status and length are checked, and the first download of each client is hashed.
 *
 * Bounded: it stops itself after BENCH_TIMEOUT_MS (default 270 s), and always stops nginx, the server and the
 * clients and removes its temp dir. Results: results/media.json and the `media` block of README.md.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateReadmeBlock } from './readme-block.js';
import { freePort } from './scale/proc.js';

const BOXES = Number(process.env.BENCH_BOXES ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 270_000);
const WITH_PROXY = process.env.BENCH_PROXY !== '0';
/** BENCH_WRITE=0: print only (for before/after experiments), keep results/ and README.md as they are. */
const WRITE = process.env.BENCH_WRITE !== '0';
const NGINX = process.env.BENCH_NGINX ?? '/usr/sbin/nginx';
const TARGET_RATIO = 1.5;
const PASSWORD = 'bench-media-password';
const HERE = new URL('.', import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
// Client harness (child process): downloads a list of (path, authorization) from one host:port, all at once.

interface Job {
  path: string;
  authorization: string;
}
interface ClientTask {
  type: 'prepare';
  port: number;
  jobs: Job[];
  bytes: number;
  sha256: string;
}
interface DownloadResult {
  ms: number;
  ok: boolean;
  why?: string;
}
interface ClientReport {
  type: 'done';
  results: DownloadResult[];
  hashed: boolean;
  cpuMs: number;
}

function download(agent: Agent, port: number, job: Job, expect: { bytes: number; sha256: string }, hash: boolean): Promise<DownloadResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: job.path, agent, headers: { authorization: job.authorization } }, (res) => {
      let bytes = 0;
      const h = hash ? createHash('sha256') : null;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        h?.update(c);
      });
      res.on('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) return resolve({ ms, ok: false, why: `status ${res.statusCode}` });
        if (bytes !== expect.bytes) return resolve({ ms, ok: false, why: `${bytes} of ${expect.bytes} bytes` });
        if (h && h.digest('hex') !== expect.sha256) return resolve({ ms, ok: false, why: 'sha256 mismatch' });
        resolve({ ms, ok: true });
      });
      res.on('error', (err) => resolve({ ms: performance.now() - t0, ok: false, why: err.message }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('timeout after 60 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ms: performance.now() - t0, ok: false, why: err.code ?? err.message }));
    req.end();
  });
}

function clientMain(): void {
  let task: ClientTask | null = null;
  process.on('message', (msg: ClientTask | { type: 'go' } | { type: 'exit' }) => {
    if (msg.type === 'prepare') {
      task = msg;
      process.send!({ type: 'ready' });
    } else if (msg.type === 'go' && task) {
      const t = task;
      const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
      const cpu0 = process.cpuUsage();
      void Promise.all(t.jobs.map((job, i) => download(agent, t.port, job, t, i === 0))).then((results) => {
        const cpu = process.cpuUsage(cpu0);
        agent.destroy();
        const report: ClientReport = { type: 'done', results, hashed: results[0]?.ok ?? false, cpuMs: (cpu.user + cpu.system) / 1000 };
        process.send!(report);
      });
    } else if (msg.type === 'exit') {
      process.exit(0);
    }
  });
  // The orchestrator gone: go too.
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------------
// Orchestrator.

const children = new Set<ChildProcess>();
let tempRoot: string | null = null;

/** utime + stime of a process (and, for nginx, its workers), in ms. */
function cpuMsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* gone */
    }
  }
  return (ticks * 1000) / CLK_TCK;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function waitHttp(url: string, what: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function cleanup(): Promise<void> {
  // nginx: SIGTERM is its fast shutdown; its workers are killed by pid too should the master not take them along.
  const workers = [...children].filter((c) => c.spawnfile.endsWith('nginx') && c.pid).flatMap((c) => childPids(c.pid!));
  await Promise.all([...children].map((c) => stopChild(c, 'SIGTERM', 5000).catch(() => undefined)));
  for (const pid of workers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (tempRoot) await rm(tempRoot, { recursive: true, force: true }).catch(() => undefined);
}

function nginxMainConf(prefix: string, httpBlock: string): string {
  const user = process.getuid?.() === 0 ? 'user nobody nogroup;\n' : '';
  return `# written by bench/media.ts
${user}daemon off;
master_process on;
worker_processes auto;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  types { audio/ogg ogg; audio/mpeg mp3; }
  default_type application/octet-stream;
  keepalive_timeout 65;
${httpBlock}
}
`;
}

async function startNginx(name: string, prefix: string, conf: string, port: number): Promise<ChildProcess> {
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const file = join(prefix, 'nginx.conf');
  await writeFile(file, conf);
  const test = spawnSync(NGINX, ['-t', '-q', '-p', prefix, '-c', file, '-e', join(prefix, 'error.log')], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx -t (${name}) failed: ${test.stderr}`);
  const child = spawn(NGINX, ['-p', prefix, '-c', file, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await waitHttp(`http://127.0.0.1:${port}/nope`, name, 10_000, child);
  return child;
}

interface Target {
  name: 'loaxa' | 'nginx' | 'proxy';
  label: string;
  port: number;
  pids: () => number[];
}

interface RunResult {
  wallMs: number;
  ok: number;
  failed: number;
  failures: string[];
  bytes: number;
  cpuMs: number;
  clientCpuMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

async function runOnce(clients: ChildProcess[], target: Target, path: string, creds: Array<{ id: string; password: string }>, file: { bytes: number; sha256: string }): Promise<RunResult> {
  const per = Math.ceil(BOXES / clients.length);
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          const jobs = creds.slice(i * per, (i + 1) * per).map((d) => ({ path, authorization: `Basic ${Buffer.from(`${d.id}:${d.password}`).toString('base64')}` }));
          c.once('message', () => resolve());
          c.send({ type: 'prepare', port: target.port, jobs, bytes: file.bytes, sha256: file.sha256 } satisfies ClientTask);
        }),
    ),
  );
  const pids = target.pids();
  const cpu0 = cpuMsOf(pids);
  const reports = clients.map((c) => new Promise<ClientReport>((resolve) => c.once('message', (m: ClientReport) => resolve(m))));
  const t0 = performance.now();
  for (const c of clients) c.send({ type: 'go' });
  const done = await Promise.all(reports);
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsOf(pids) - cpu0;
  const results = done.flatMap((d) => d.results);
  const ok = results.filter((r) => r.ok);
  const failures = [...new Set(results.filter((r) => !r.ok).map((r) => r.why ?? '?'))];
  const ms = ok.map((r) => r.ms);
  return {
    wallMs: Math.round(wallMs),
    ok: ok.length,
    failed: results.length - ok.length,
    failures,
    bytes: ok.length * file.bytes,
    cpuMs: Math.round(cpuMs),
    clientCpuMs: Math.round(done.reduce((s, d) => s + d.cpuMs, 0)),
    p50Ms: Math.round(ms.length ? pctl(ms, 0.5) : 0),
    p99Ms: Math.round(ms.length ? pctl(ms, 0.99) : 0),
    maxMs: Math.round(ms.length ? Math.max(...ms) : 0),
  };
}

async function main(): Promise<void> {
  const guard = setTimeout(() => {
    log(`bench:media: gave up after ${TIMEOUT_MS} ms; stopping everything`);
    void cleanup().finally(() => process.exit(1));
  }, TIMEOUT_MS);
  guard.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

  const nginxVersion = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  if (nginxVersion.error) throw new Error(`${NGINX} not found: apt-get install -y nginx (or set BENCH_NGINX)`);
  const load0 = loadavg()[0]!;

  tempRoot = await mkdtemp(join(tmpdir(), 'loaxa-bench-media-'));
  // nginx workers run as nobody: they must be able to reach the media store (0711: no listing).
  await chmod(tempRoot, 0o711);
  const dataDir = join(tempRoot, 'data');
  await mkdir(dataDir, { mode: 0o711 });
  const [httpPort, mqttPort, nginxPort, proxyPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

  log(`bench:media: starting the server (data in ${dataDir})…`);
  const serverLog = openSync(join(tempRoot, 'server.log'), 'w');
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
  const serverArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // BENCH_SERVER_DIR: another checkout's server (before/after comparisons); default this one.
  const server = spawn(process.execPath, [...serverArgs, '--import', 'tsx', 'server/src/main.ts'], {
    cwd: process.env.BENCH_SERVER_DIR ?? ROOT,
    stdio: ['ignore', serverLog, serverLog],
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOAXA_'))),
      LOAXA_HTTP_HOST: '127.0.0.1',
      LOAXA_HTTP_PORT: String(httpPort),
      LOAXA_MQTT_HOST: '127.0.0.1',
      LOAXA_MQTT_PORT: String(mqttPort),
      LOAXA_DATA_DIR: dataDir,
      LOAXA_ADMIN_PASSWORD: PASSWORD,
      LOAXA_LOG_LEVEL: 'info',
      LOAXA_TTS_SYNC_WAIT_MS: '60000',
    },
  });
  closeSync(serverLog);
  children.add(server);
  server.once('exit', () => children.delete(server));
  const base = `http://127.0.0.1:${httpPort}`;
  await waitHttp(`${base}/healthz`, 'the server', 60_000, server);

  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: PASSWORD })).token as string;
  await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh', communes: [{ code: '99001', name: 'Xã Một', type: 'xã' }] }] }, token);

  log('bench:media: synthesizing the 5-minute bulletin through the API…');
  const synth0 = performance.now();
  const text = await readFile(new URL('bulletin-vi.txt', HERE), 'utf8');
  let bulletin = await api('POST', '/api/v1/bulletins', { title: 'Bản tin 5 phút', text }, token);
  while (bulletin.status !== 'ready') {
    if (bulletin.status === 'failed') throw new Error(`synthesis failed: ${bulletin.error}`);
    await sleep(500);
    bulletin = await api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token);
  }
  bulletin = await api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token);
  const synthMs = Math.round(performance.now() - synth0);
  const file = { sha256: bulletin.audio.sha256 as string, bytes: bulletin.audio.bytes as number, durationMs: bulletin.audio.durationMs as number };
  log(`bench:media: ${(file.durationMs / 1000).toFixed(1)} s of Opus, ${(file.bytes / 1e6).toFixed(2)} MB, sha256 ${file.sha256.slice(0, 12)}…, in ${(synthMs / 1000).toFixed(1)} s`);

  log(`bench:media: provisioning ${BOXES} boxes (POST /api/v1/devices/bulk)…`);
  const bulk = await api('POST', '/api/v1/devices/bulk', { devices: Array.from({ length: BOXES }, (_, i) => ({ name: `loa ${i + 1}`, areaCode: '99001' })) }, token);
  const creds = (bulk.items as Array<{ id: string; mqtt: { password: string } }>).map((d) => ({ id: d.id, password: d.mqtt.password }));

  // nginx, the reference: the same file, straight from the media store.
  const mediaDir = join(dataDir, 'media');
  const nginxPrefix = join(tempRoot, 'nginx');
  const nginx = await startNginx(
    'nginx',
    nginxPrefix,
    nginxMainConf(
      nginxPrefix,
      `  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:${nginxPort};
    location ~ "^/media/([0-9a-f]{2})([0-9a-f]{62})$" { alias ${mediaDir}/$1/$1$2.ogg; default_type audio/ogg; }
  }`,
    ),
    nginxPort,
  );
  const targets: Target[] = [
    { name: 'loaxa', label: 'Loa Xã server (device Basic auth)', port: httpPort, pids: () => [server.pid!] },
    { name: 'nginx', label: 'nginx, static file (reference)', port: nginxPort, pids: () => [nginx.pid!, ...childPids(nginx.pid!)] },
  ];

  if (WITH_PROXY) {
    // deploy/nginx/loaxa-media.conf as shipped, pointed at this server, port and a temp cache.
    const proxyPrefix = join(tempRoot, 'proxy');
    const deployed = await readFile(join(ROOT, 'deploy/nginx/loaxa-media.conf'), 'utf8');
    const rendered = deployed
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${httpPort};`)
      .replace(/listen 80;/, `listen 127.0.0.1:${proxyPort};`)
      .replace('/var/cache/nginx/loaxa-media', join(proxyPrefix, 'cache'));
    if (!rendered.includes(`127.0.0.1:${proxyPort}`) || !rendered.includes(`127.0.0.1:${httpPort}`)) throw new Error('deploy/nginx/loaxa-media.conf changed shape; update the bench');
    await mkdir(proxyPrefix, { recursive: true });
    await writeFile(join(proxyPrefix, 'loaxa-media.conf'), rendered);
    const proxy = await startNginx('nginx proxy', proxyPrefix, nginxMainConf(proxyPrefix, `  include ${join(proxyPrefix, 'loaxa-media.conf')};`), proxyPort);
    targets.push({ name: 'proxy', label: 'nginx + cache in front (deploy/nginx/loaxa-media.conf)', port: proxyPort, pids: () => [proxy.pid!, ...childPids(proxy.pid!), server.pid!] });
  }

  const clients = Array.from({ length: CLIENTS }, () => {
    const c = fork(fileURLToPath(import.meta.url), ['--client'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(c);
    c.once('exit', () => children.delete(c));
    return c;
  });
  const path = `/media/${file.sha256}`;

  // Is each target serving the right bytes to a box? (One download each, outside the timed runs; not through
  // the proxy, whose cache stays cold for its first round: a new bulletin.)
  for (const tg of targets.filter((x) => x.name !== 'proxy')) {
    const res = await fetch(`http://127.0.0.1:${tg.port}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${creds[0]!.id}:${creds[0]!.password}`).toString('base64')}` } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || createHash('sha256').update(body).digest('hex') !== file.sha256) throw new Error(`${tg.name} does not serve the file (${res.status}, ${body.length} bytes)`);
  }
  if (WITH_PROXY) {
    // The proxy authorises every request with the server: no credentials, no file.
    const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`);
    if (res.status !== 401) throw new Error(`the proxy served media without credentials (${res.status})`);
  }

  const runs: Record<string, RunResult[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  // BENCH_ONLY=loaxa (comma-separated): time only these, for profiling; the summary then needs both loaxa and nginx.
  const only = process.env.BENCH_ONLY?.split(',');
  const timed = only ? targets.filter((t) => only.includes(t.name)) : targets;
  for (let round = 0; round < RUNS; round++) {
    // Alternate the order so neither side always goes first.
    const order = round % 2 === 0 ? timed : [...timed].reverse();
    for (const tg of order) {
      await sleep(1000);
      const r = await runOnce(clients, tg, path, creds, file);
      runs[tg.name]!.push(r);
      log(
        `bench:media: round ${round + 1}/${RUNS} ${tg.name.padEnd(5)} ${(r.wallMs / 1000).toFixed(2)} s, ${r.ok}/${BOXES} ok${r.failed ? ` (${r.failed} failed: ${r.failures.join(', ')})` : ''}, ` +
          `${((r.bytes / 1e6) / (r.wallMs / 1000)).toFixed(0)} MB/s, server CPU ${(r.cpuMs / 1000).toFixed(2)} s, per box p50/p99 ${r.p50Ms}/${r.p99Ms} ms`,
      );
    }
  }
  for (const c of clients) c.send({ type: 'exit' });
  if (WITH_PROXY && runs.proxy!.length) {
    // After its runs the proxy must hold the file: every box after the first was served from nginx's cache.
    const again = await fetch(`http://127.0.0.1:${proxyPort}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${creds[1]!.id}:${creds[1]!.password}`).toString('base64')}` } });
    const body = Buffer.from(await again.arrayBuffer());
    if (again.headers.get('x-cache-status') !== 'HIT' || createHash('sha256').update(body).digest('hex') !== file.sha256) {
      throw new Error(`the proxy did not serve the file from its cache (${again.status}, ${again.headers.get('x-cache-status')})`);
    }
  }
  if (only) return;
  const serverRssMb = rssMb(server.pid!);
  const load1 = loadavg()[0]!;

  const summary = Object.fromEntries(
    targets.map((tg) => {
      const rs = runs[tg.name]!;
      const wall = median(rs.map((r) => r.wallMs));
      return [
        tg.name,
        {
          label: tg.label,
          medianMs: Math.round(wall),
          throughputMBps: Math.round(((BOXES * file.bytes) / 1e6 / (wall / 1000)) * 10) / 10,
          medianCpuS: Math.round(median(rs.map((r) => r.cpuMs)) / 10) / 100,
          medianP99Ms: Math.round(median(rs.map((r) => r.p99Ms))),
          failed: rs.reduce((s, r) => s + r.failed, 0),
          runs: rs,
        },
      ];
    }),
  ) as Record<string, { label: string; medianMs: number; throughputMBps: number; medianCpuS: number; medianP99Ms: number; failed: number; runs: RunResult[] }>;
  const ours = summary.loaxa!;
  const ref = summary.nginx!;
  const ratio = Math.round((ours.medianMs / ref.medianMs) * 100) / 100;
  const met = ratio <= TARGET_RATIO && ours.failed === 0;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, nginx: (nginxVersion.stderr || nginxVersion.stdout).trim(), loadAverage: { before: load0, after: load1 } },
    boxes: BOXES,
    clients: CLIENTS,
    rounds: RUNS,
    file: { ...file, synthesizedInMs: synthMs },
    serverRssMbAfter: serverRssMb,
    targets: summary,
    ratio,
    target: TARGET_RATIO,
    met,
  };

  const mb = (file.bytes / 1e6).toFixed(2);
  const row = (s: (typeof summary)[string], vs: string) =>
    `| ${s.label} | ${(s.medianMs / 1000).toFixed(2)} s | ${s.throughputMBps.toFixed(0)} MB/s | ${s.medianCpuS.toFixed(2)} s | ${s.medianP99Ms} ms | ${s.failed} | ${vs} |`;
  const table = [
    `Last run ${result.date.slice(0, 10)}, ${result.machine.cpus} cores (${result.machine.model.replace(/\s+/g, ' ').trim()}), Node ${process.version}, ${result.machine.nginx.replace('nginx version: ', '')}, load average ${load0.toFixed(2)} before / ${load1.toFixed(2)} after.`,
    `${BOXES} boxes at once, each its own connection and credentials, ${CLIENTS} client processes; the file: ${(file.durationMs / 1000).toFixed(0)} s of Opus, ${mb} MB (${((BOXES * file.bytes) / 1e9).toFixed(2)} GB in all). Medians of ${RUNS} interleaved rounds.`,
    '',
    '| serving | all boxes done | throughput | server CPU | per box p99 | failed | vs nginx |',
    '|---|---|---|---|---|---|---|',
    row(ours, `**${ratio.toFixed(2)}×**`),
    row(ref, '1×'),
    ...(summary.proxy ? [row(summary.proxy, `${(summary.proxy.medianMs / ref.medianMs).toFixed(2)}×`)] : []),
    ...(summary.proxy ? [`| … its first round (cold cache: one fetch from the server, the others wait for it) | ${(summary.proxy.runs[0]!.wallMs / 1000).toFixed(2)} s | | ${(summary.proxy.runs[0]!.cpuMs / 1000).toFixed(2)} s | ${summary.proxy.runs[0]!.p99Ms} ms | ${summary.proxy.runs[0]!.failed} | ${(summary.proxy.runs[0]!.wallMs / ref.medianMs).toFixed(2)}× |`] : []),
    '',
    `Server RSS after the runs: ${serverRssMb} MB. "server CPU": the serving processes during one round (nginx: master and workers; the proxy: nginx and the Loa Xã server answering its authorisation requests).`,
    met ? `Target (≤ ${TARGET_RATIO}× nginx's time): met.` : `Target (≤ ${TARGET_RATIO}× nginx's time): **missed** at ${ratio.toFixed(2)}× — see "Where the time goes" below.`,
  ].join('\n');
  log('');
  log(table);
  if (WRITE) {
    await mkdir(new URL('results/', HERE), { recursive: true });
    await writeFile(new URL('results/media.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
    await updateReadmeBlock(new URL('README.md', HERE), 'media', table);
    log('bench:media: wrote results/media.json and the media block of README.md');
  }
  clearTimeout(guard);
}

if (process.argv.includes('--client')) {
  clientMain();
} else {
  main()
    .then(
      () => cleanup().then(() => process.exit(0)),
      (err: unknown) => {
        process.stderr.write(`bench:media failed: ${err instanceof Error ? err.stack : String(err)}\n`);
        return cleanup().then(() => process.exit(1));
      },
    )
    .catch(() => process.exit(1));
}

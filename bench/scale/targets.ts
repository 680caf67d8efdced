/**
 * The systems the scale benchmarks measure, behind one interface so every phase runs the same client
 * harness (the firmware simulator's fleet mode) against each (over 300 lines: the three targets' start-up and
 * provisioning are kept side by side so they stay alike):
 *
 * - `ours-aedes`: the real server process (`node --import tsx server/src/main.ts`) with its embedded aedes
 *   broker, boxes provisioned through `POST /api/v1/devices/bulk`, an emergency broadcast created through
 *   `POST /api/v1/broadcasts`;
 * - `ours-mosquitto`: the same server on Debian's Mosquitto (`LOAXA_MQTT_URL`, device identities and ACLs
 *   in its dynamic-security plugin, `LOAXA_MQTT_DYNSEC=true`);
 * - `ours-mosquitto-files`: the same server on Mosquitto with its password and ACL files, which the server
 *   writes and reloads as boxes are registered (`LOAXA_MOSQUITTO_*`, issue 21; the bulk route, timed);
 * - `ours-rabbitmq`: the same server on a two-node RabbitMQ cluster (Debian's 3.10, MQTT plugin,
 *   deploy/rabbitmq/rabbitmq.conf; started by test/helpers/rabbitmq.ts like the e2e test's), boxes spread
 *   over both nodes, every login and topic check through the server's HTTP endpoints (issue 21);
 * - `reference`: a bare aedes broker with an in-process SQLite heartbeat subscriber (reference-broker.ts),
 *   no authentication; the fan-out is one QoS 1 `play` on the area topic every box follows. Its boxes
 *   send their `online` status and will unretained, as the clients of the issue's reference figures did;
 * - `reference-retained`: the same with retained statuses, exactly as the boxes treat the server (aedes
 *   then checks every retained message against each new subscription: see bench/README.md).
 *
 * What "stored" means differs and is read where each keeps it, through a read-only connection to its
 * SQLite file: the server keeps the latest heartbeat of each device (devices.uptime_s, last_seen_at), so
 * its file is polled during the heartbeat phase (one box's heartbeats are ≥ 27 s apart: none is
 * overwritten unseen); the reference keeps one row per heartbeat.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { encodeMessage, topics } from '@loaxa/shared';
import { ServerApi, type FleetBoxSpec } from '../../firmware-sim/src/index.js';
import { fromReferenceSchema, type FromReference, type ToReference } from './reference-broker.js';
import { rabbitmqMissing, rabbitmqVersion, startRabbitCluster, type RabbitCluster } from '../../test/helpers/rabbitmq.js';
import { startMosquitto, startMosquittoFiles, writeDeviceIdentities, type BenchMosquitto, type BenchMosquittoFiles } from './mosquitto.js';
import { endProcess, freePort, sleep, type Cleanup } from './proc.js';

export type TargetName = 'ours-aedes' | 'ours-mosquitto' | 'ours-mosquitto-files' | 'ours-rabbitmq' | 'reference' | 'reference-retained';

/** The server's targets, in the order the reports list them. */
export const OURS: ReadonlyArray<TargetName> = ['ours-aedes', 'ours-mosquitto', 'ours-mosquitto-files', 'ours-rabbitmq'];

export const TARGET_LABELS: Record<TargetName, string> = {
  'ours-aedes': 'Loa Xã server, embedded aedes',
  'ours-mosquitto': 'Loa Xã server on Mosquitto (dynsec)',
  'ours-mosquitto-files': 'Loa Xã server on Mosquitto (password and ACL files)',
  'ours-rabbitmq': 'Loa Xã server on a RabbitMQ cluster (2 nodes, HTTP auth)',
  reference: 'reference: bare aedes + SQLite subscriber',
  'reference-retained': 'reference, boxes with a retained status',
};

/** A stored heartbeat: the device, the `uptimeS` it carried (names it), when the store says it was written. */
export type StoredHeartbeat = [deviceId: string, uptimeS: number, storedAt: number];

export interface Target {
  name: TargetName;
  /** Whether the boxes retain their `online` status and will (the agent's protocol; the server needs it). */
  retainedStatus: boolean;
  /** The processes that make up "the server": their CPU and memory are what is measured. */
  processes(): Array<{ name: string; pid: number }>;
  boxes: FleetBoxSpec[];
  /** The area every box is in or under (the province); the fan-out targets it. */
  provinceCode: string;
  /** Devices the server itself counts online (null: the reference keeps no presence). */
  onlineCount(): number | null;
  /** One emergency to every box; `t0` is the instant just before it was asked for. */
  fanOut(round: number): Promise<{ t0: number; broadcastId: string; requestMs: number | null; durationMs: number }>;
  /** The instant each box's `playing` report reached the server's store (or the reference's subscriber). */
  playingReceived(broadcastId: string): Promise<Map<string, number>>;
  /** Heartbeats that reached the store since the previous call (polled every 200 ms during the phase). */
  newHeartbeats(): StoredHeartbeat[];
  /** The server's own count of heartbeats stored (a `heartbeats` column of devices), when it keeps one. */
  heartbeatCount(): number | null;
  /** Heartbeat write batches of the reference (ms each) since the last call; null for the server. */
  batchDurations(): Promise<number[] | null>;
  /** What the server says of its own heartbeat ingest (GET /api/v1/metrics), when it has that route. */
  ingestMetrics(): Promise<IngestMetrics | null>;
  info: Record<string, string | number>;
  /** Warnings worth keeping with the results (e.g. messages Mosquitto says it dropped). */
  notes(): string[];
}

/** The part of `GET /api/v1/metrics` the benchmark reads; anything else in the answer is ignored. */
const latencySchema = z.object({ count: z.number(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable(), maxMs: z.number().nullable() });
const metricsSchema = z.object({
  ingest: z.object({
    heartbeats: z.object({ received: z.number(), stored: z.number(), writeLatency: latencySchema }),
    batches: z.object({ presence: latencySchema }),
  }),
});
export type IngestMetrics = z.infer<typeof metricsSchema>;

const PROVINCE = '98';
const PROBE_PROVINCE = '97';
const PROBE_COMMUNE = '97001';
const BOXES_PER_COMMUNE = 100;
const ADMIN_PASSWORD = 'bench-admin-password';
/** BENCH_RABBITMQ_ERL_ARGS: flags for the RabbitMQ nodes' Erlang VMs on top of the deploy config's (experiments). */
const RABBITMQ_ERL_ARGS = process.env.BENCH_RABBITMQ_ERL_ARGS ?? '';
/** BENCH_RABBITMQ_MIRROR=0: without README's mirroring policy of the MQTT session queues (to see what it costs). */
const RABBITMQ_MIRROR = process.env.BENCH_RABBITMQ_MIRROR !== '0';
/** The server's own login on an external broker that keeps it (Mosquitto's files, RabbitMQ's internal user). */
const SERVER_LOGIN = { username: 'loaxa-server', password: 'bench-server-secret-0123456789abcdef' };
/**
 * The Node options `npm start` runs the server with (package.json: `node <options> --import tsx …`), so the
 * benchmark measures the server as it is started; BENCH_SERVER_NODE_ARGS replaces them (e.g. "" for Node's
 * defaults). The reference gets the very same options (issue 21, "every benchmark gives its reference the same
 * Node options as the server": the 64 MB young generation made the reference cheaper too, 3.81 → 2.34 CPU-s for
 * a heartbeat minute, so a reference at Node's defaults flattered the server's ratio); both are recorded in each
 * target's `info.nodeArgs`. BENCH_REFERENCE_NODE_ARGS sets the reference's apart, for experiments only.
 */
export const SERVER_NODE_ARGS = nodeArgs(process.env.BENCH_SERVER_NODE_ARGS ?? startScriptNodeArgs());
const REFERENCE_NODE_ARGS = process.env.BENCH_REFERENCE_NODE_ARGS !== undefined ? nodeArgs(process.env.BENCH_REFERENCE_NODE_ARGS) : SERVER_NODE_ARGS;

function nodeArgs(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

function startScriptNodeArgs(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } };
  const m = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+--import tsx /.exec(pkg.scripts.start);
  if (!m) throw new Error(`package.json's start script is not "node <options> --import tsx <entry>": ${pkg.scripts.start}`);
  return m[1]!;
}

// BENCH_SERVER_ENTRY measures another checkout's server (before / after a change) with the same harness.
const SERVER_ENTRY = process.env.BENCH_SERVER_ENTRY ?? fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const REFERENCE_ENTRY = fileURLToPath(new URL('./reference-broker.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A province of `ceil(boxes / 100)` communes, 100 boxes each (a province has ~100–200 communes). */
export function benchAreas(boxes: number): { code: string; communes: string[]; body: unknown } {
  const n = Math.max(1, Math.ceil(boxes / BOXES_PER_COMMUNE));
  const communes = Array.from({ length: n }, (_, i) => `${PROVINCE}${String(i + 1).padStart(3, '0')}`);
  return {
    code: PROVINCE,
    communes,
    body: {
      provinces: [
        { code: PROVINCE, name: 'Tỉnh Đo Tải', type: 'tỉnh', communes: communes.map((code, i) => ({ code, name: `Xã Thử ${i + 1}`, type: 'xã' })) },
        // Boxes registered only to time the registration path live here, outside every fan-out.
        { code: PROBE_PROVINCE, name: 'Tỉnh Đăng Ký Thử', type: 'tỉnh', communes: [{ code: PROBE_COMMUNE, name: 'Xã Đăng Ký Thử', type: 'xã' }] },
      ],
    },
  };
}

// ---- the real server -----------------------------------------------------------------------------

export interface OursOptions {
  dir: string;
  boxes: number;
  broker: 'aedes' | 'mosquitto' | 'mosquitto-files' | 'rabbitmq';
  cleanup: Cleanup;
  /** Seconds the RabbitMQ nodes may live at most (they are SIGKILLed then, whatever happens). */
  lifetimeS?: number;
  log: (s: string) => void;
  /** Write a V8 CPU profile of the server here (`--cpu-prof`), read after it exits. */
  cpuProfDir?: string | undefined;
}

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** One server process on the bench's data dir: its URLs, and a graceful stop (SIGTERM, then SIGKILL). */
interface RunningServer {
  proc: ChildProcess;
  urls: { httpUrl: string; mqttUrl: string };
  stop(): Promise<void>;
}

async function launchServer(o: OursOptions, env: Record<string, string>, logName: string, cpuProf: boolean): Promise<RunningServer> {
  const logFile = join(o.dir, logName);
  const fd = openSync(logFile, 'w');
  const execArgv = [...SERVER_NODE_ARGS, '--import', TSX, ...(cpuProf && o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [])];
  const proc: ChildProcess = spawn(process.execPath, [...execArgv, SERVER_ENTRY], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  // Graceful first: the CPU profile is written only by an orderly exit.
  o.cleanup.process(proc, 'server', 15_000);
  const urls = await waitForListening(proc, logFile, 60_000);
  o.log(`  server pid ${proc.pid}: ${urls.httpUrl}, MQTT ${urls.mqttUrl}`);
  return { proc, urls, stop: () => endProcess(proc, 15_000) };
}

/** The admin API of a running server, with a fresh login per call (an emergency needs a recent one). */
function adminApi(httpUrl: string) {
  const login = async (): Promise<string> =>
    (await json<{ token: string }>(await fetch(`${httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) }), 'login')).token;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const token = await login();
    const res = await fetch(httpUrl + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(120_000) });
    return json<T>(res, `${method} ${path}`);
  };
  const devices = new ServerApi(httpUrl, { username: 'admin', password: ADMIN_PASSWORD });
  return { login, call, devices };
}

/** Registers the bench's boxes through `POST /api/v1/devices/bulk`, 2,500 per request, 100 per commune. */
async function provision(api: ReturnType<typeof adminApi>, boxes: number, communes: string[]): Promise<FleetBoxSpec[]> {
  await api.devices.login();
  const out: FleetBoxSpec[] = [];
  for (let i = 0; i < boxes; i += 2_500) {
    const chunk = Array.from({ length: Math.min(2_500, boxes - i) }, (_, k) => ({ name: `bench-${String(i + k + 1).padStart(5, '0')}`, areaCode: communes[Math.floor((i + k) / BOXES_PER_COMMUNE)]! }));
    const created = await api.devices.createDevices(chunk);
    if (!created) throw new Error('the server has no bulk device route');
    for (const d of created) out.push({ id: d.id, areaCode: d.areaCode, areaAncestors: [PROVINCE], mqtt: d.mqtt });
  }
  return out;
}

/**
 * How far the server's own path gets registering boxes into Mosquitto's dynamic-security plugin: batches
 * of 200 through the bulk route (into a province of their own, outside every fan-out), timed, until one
 * fails or `maxBatches` have passed.
 */
async function probeDynsecProvisioning(api: ReturnType<typeof adminApi>, maxBatches: number, log: (s: string) => void): Promise<Array<{ devices: number; ms: number; ok: boolean }>> {
  await api.devices.login();
  const out: Array<{ devices: number; ms: number; ok: boolean }> = [];
  for (let i = 0; i < maxBatches; i++) {
    const t = Date.now();
    const ok = await api.devices.createDevices(Array.from({ length: 200 }, (_, k) => ({ name: `probe-${i}-${k}`, areaCode: PROBE_COMMUNE }))).then(
      () => true,
      () => false,
    );
    out.push({ devices: (i + 1) * 200, ms: Date.now() - t, ok });
    log(`  dynsec provisioning probe: 200 more boxes (${(i + 1) * 200} in all) in ${Date.now() - t} ms${ok ? '' : ' — refused (HTTP 500)'}`);
    if (!ok) break;
  }
  return out;
}

export async function startOurs(o: OursOptions): Promise<Target> {
  const name: TargetName = o.broker === 'aedes' ? 'ours-aedes' : o.broker === 'mosquitto' ? 'ours-mosquitto' : o.broker === 'mosquitto-files' ? 'ours-mosquitto-files' : 'ours-rabbitmq';
  const dataDir = join(o.dir, 'data');
  const embedded: Record<string, string> = {
    LOAXA_HTTP_PORT: '0',
    LOAXA_HTTP_HOST: '127.0.0.1',
    LOAXA_MQTT_PORT: '0',
    LOAXA_MQTT_HOST: '127.0.0.1',
    LOAXA_DATA_DIR: dataDir,
    LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // The production default: what the server logs under load is part of its cost.
    LOAXA_LOG_LEVEL: 'info',
    LOAXA_TTS_WORKERS: '1',
  };
  const onMosquitto = (m: BenchMosquitto): Record<string, string> => ({ ...embedded, LOAXA_MQTT_URL: m.url, LOAXA_MQTT_USERNAME: m.adminUsername, LOAXA_MQTT_PASSWORD: m.adminPassword, LOAXA_MQTT_DYNSEC: 'true' });
  const areas = benchAreas(o.boxes);
  const info: Record<string, string | number> = {};
  let mosquitto: BenchMosquitto | BenchMosquittoFiles | null = null;
  let rabbit: RabbitCluster | null = null;
  let server: RunningServer;
  let boxes: FleetBoxSpec[];
  const started = Date.now();
  if (o.broker === 'aedes') {
    server = await launchServer(o, embedded, 'server.log', true);
    const api = adminApi(server.urls.httpUrl);
    await api.call('POST', '/api/v1/areas/import', areas.body);
    boxes = await provision(api, o.boxes, areas.communes);
    o.log(`  ${boxes.length} boxes provisioned in ${((Date.now() - started) / 1000).toFixed(1)} s (POST /api/v1/devices/bulk)`);
  } else if (o.broker === 'mosquitto-files') {
    // Issue 21's path for thousands of boxes: the server registers them into Mosquitto's password and ACL
    // files and reloads it (SIGHUP through the pid file), one rewrite per bulk request; timed as part of the run.
    const m = await startMosquittoFiles(join(o.dir, 'mosquitto'), o.cleanup);
    mosquitto = m;
    server = await launchServer(
      o,
      { ...embedded, LOAXA_MQTT_URL: m.url, LOAXA_MQTT_USERNAME: SERVER_LOGIN.username, LOAXA_MQTT_PASSWORD: SERVER_LOGIN.password, LOAXA_MOSQUITTO_PASSWORD_FILE: m.passwordFile, LOAXA_MOSQUITTO_ACL_FILE: m.aclFile, LOAXA_MOSQUITTO_PID_FILE: m.pidFile, LOAXA_MOSQUITTO_RELOAD_TIMEOUT_MS: '60000' },
      'server.log',
      true,
    );
    const api = adminApi(server.urls.httpUrl);
    await api.call('POST', '/api/v1/areas/import', areas.body);
    const t = Date.now();
    boxes = (await provision(api, o.boxes, areas.communes)).map((b) => ({ ...b, mqtt: { ...b.mqtt, url: m.url } }));
    info.registerMs = Date.now() - t;
    o.log(`  mosquitto ${m.version} on ${m.url} (pid ${m.pid}): ${boxes.length} boxes registered into its files in ${((Date.now() - t) / 1000).toFixed(1)} s (POST /api/v1/devices/bulk, 2,500 per request)`);
  } else if (o.broker === 'rabbitmq') {
    // The cluster first: the server logs in to it before its HTTP port opens, and the nodes ask that port
    // about every box (auth_http), so the port is chosen now and given to both.
    const missing = rabbitmqMissing();
    if (missing) throw new Error(missing);
    const httpPort = await freePort();
    const authToken = randomBytes(32).toString('hex');
    rabbit = await startRabbitCluster({ teardown: (fn) => o.cleanup.add('stop the RabbitMQ cluster', fn) }, { authBaseUrl: `http://127.0.0.1:${httpPort}`, authToken, serverLogin: SERVER_LOGIN, ...(o.lifetimeS ? { lifetimeS: o.lifetimeS } : {}), ...(RABBITMQ_ERL_ARGS ? { erlArgs: RABBITMQ_ERL_ARGS } : {}), mirrorQueues: RABBITMQ_MIRROR });
    const [a, b] = rabbit.nodes;
    o.log(`  RabbitMQ ${rabbitmqVersion()}: ${a.name} (${a.url}, beam ${a.beamPid()}) and ${b.name} (${b.url}, beam ${b.beamPid()}) clustered in ${(rabbit.startMs / 1000).toFixed(1)} s`);
    info.rabbitmq = rabbitmqVersion();
    info.clusterStartMs = rabbit.startMs;
    if (RABBITMQ_ERL_ARGS) info.rabbitmqErlArgs = RABBITMQ_ERL_ARGS;
    if (!RABBITMQ_MIRROR) info.rabbitmqMirror = 'off';
    server = await launchServer(
      o,
      { ...embedded, LOAXA_HTTP_PORT: String(httpPort), LOAXA_MQTT_URL: a.url, LOAXA_MQTT_FAILOVER_URLS: b.url, LOAXA_MQTT_USERNAME: SERVER_LOGIN.username, LOAXA_MQTT_PASSWORD: SERVER_LOGIN.password, LOAXA_BROKER_AUTH_TOKEN: authToken },
      'server.log',
      true,
    );
    const api = adminApi(server.urls.httpUrl);
    await api.call('POST', '/api/v1/areas/import', areas.body);
    // Half the boxes on each node, as a load balancer in front of the cluster would spread them.
    boxes = (await provision(api, o.boxes, areas.communes)).map((box, i) => ({ ...box, mqtt: { ...box.mqtt, url: (i % 2 === 0 ? a : b).url } }));
    o.log(`  ${boxes.length} boxes registered (the database only: RabbitMQ asks the server about each login)`);
  } else {
    // 1. The server's own path into Mosquitto: its bulk route creates each box's dynsec client and role,
    //    which slows down with every box already there (see bench/README.md); measured, not relied on.
    const first = await startMosquitto(join(o.dir, 'mosquitto-probe'), o.cleanup);
    let s = await launchServer(o, onMosquitto(first), 'server-probe.log', false);
    let api = adminApi(s.urls.httpUrl);
    await api.call('POST', '/api/v1/areas/import', areas.body);
    const probe = await probeDynsecProvisioning(api, 4, o.log);
    info.dynsecProbe = probe.map((p) => `${p.devices}: ${p.ms} ms${p.ok ? '' : ' (failed)'}`).join(', ');
    await s.stop();
    await first.stop();
    // 2. The boxes registered with the embedded broker on the same data dir, then written into a fresh
    //    dynsec file the way the server would have (same clients, passwords, roles and ACLs).
    s = await launchServer(o, embedded, 'server-provision.log', false);
    api = adminApi(s.urls.httpUrl);
    const created = await provision(api, o.boxes, areas.communes);
    await s.stop();
    mosquitto = await startMosquitto(join(o.dir, 'mosquitto'), o.cleanup, (file) => writeDeviceIdentities(file, created));
    boxes = created.map((b) => ({ ...b, mqtt: { ...b.mqtt, url: mosquitto!.url } }));
    o.log(`  mosquitto ${mosquitto.version} on ${mosquitto.url} (pid ${mosquitto.pid}), ${boxes.length} boxes in its dynsec file (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    server = await launchServer(o, onMosquitto(mosquitto), 'server.log', true);
  }
  info.provisionMs = Date.now() - started;
  const { urls } = server;
  const { login, call } = adminApi(urls.httpUrl);

  // The bulletin every fan-out plays: short, so the boxes go on to `played` within seconds.
  const bulletin = await call<{ id: string; status: string; audio?: { durationMs: number } }>('POST', '/api/v1/bulletins', { title: 'Cảnh báo thử', text: 'Thông báo khẩn. Đây là bản tin thử nghiệm hệ thống.' });
  let durationMs = bulletin.audio?.durationMs ?? 0;
  for (let i = 0; bulletin.status !== 'ready' && i < 120; i++) {
    await sleep(500);
    const b = await call<{ status: string; audio?: { durationMs: number } | null }>('GET', `/api/v1/bulletins/${bulletin.id}`);
    if (b.status === 'ready') {
      durationMs = b.audio?.durationMs ?? 0;
      break;
    }
  }
  info.bulletinMs = durationMs;
  info.nodeArgs = SERVER_NODE_ARGS.join(' ');
  if (mosquitto) info.mosquitto = mosquitto.version;
  // Each node's Erlang VM, found once (a /proc scan); its CPU and memory count with the server's.
  const beams = rabbit ? rabbit.nodes.map((n, i) => ({ name: `rabbitmq-${'ab'[i]}`, pid: n.beamPid() })).filter((p): p is { name: string; pid: number } => p.pid !== null) : [];
  if (rabbit && beams.length !== 2) throw new Error('the Erlang VM of a RabbitMQ node was not found under its start script');

  const db = new Database(join(dataDir, 'loaxa.sqlite'), { readonly: true, fileMustExist: true });
  o.cleanup.add('close the server database reader', () => db.close());
  const onlineStmt = db.prepare('SELECT COUNT(*) AS n FROM devices WHERE online = 1');
  // Rows whose heartbeat may have changed lately: the server stamps last_seen_at when a heartbeat arrives
  // and may write it a little later (write-behind), so the window reaches back 10 s.
  const heartbeatStmt = db.prepare<[number], { id: string; uptime_s: number | null; last_seen_at: number }>('SELECT id, uptime_s, last_seen_at FROM devices WHERE last_seen_at >= ?');
  // Servers since migration 14 append heartbeats to heartbeat_log and fold them into devices about once a
  // minute: both are read, since a fold deletes the rows it folded (the latest of each box is then in devices).
  const hasLog = (db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'heartbeat_log'`).get() as { n: number }).n > 0;
  const logStmt = hasLog
    ? db.prepare<[number], { seq: number; id: string; uptime_s: number | null; at: number }>(`SELECT seq, device_id AS id, uptime_s, at FROM heartbeat_log WHERE seq > ? ORDER BY seq`)
    : null;
  let lastSeq = 0;
  const playingStmt = db.prepare<[string], { device_id: string; at: number }>(`SELECT device_id, MIN(received_at) AS at FROM delivery_events WHERE broadcast_id = ? AND state = 'playing' GROUP BY device_id`);
  const counted = (db.prepare(`SELECT COUNT(*) AS n FROM pragma_table_info('devices') WHERE name = 'heartbeats'`).get() as { n: number }).n > 0;
  const countStmt = counted ? db.prepare(hasLog ? 'SELECT (SELECT SUM(heartbeats) FROM devices) + (SELECT COUNT(*) FROM heartbeat_log) AS n' : 'SELECT SUM(heartbeats) AS n FROM devices') : null;
  // Each device's last heartbeat seen, so a change is reported once.
  const seen = new Map<string, number>();

  return {
    name,
    retainedStatus: true,
    boxes,
    provinceCode: PROVINCE,
    processes: () => [
      { name: 'server', pid: server.proc.pid! },
      ...(mosquitto ? [{ name: 'mosquitto', pid: mosquitto.pid }] : []),
      ...beams,
    ],
    onlineCount: () => (onlineStmt.get() as { n: number }).n,
    async fanOut() {
      const t0 = Date.now();
      const token = await login();
      const res = await fetch(`${urls.httpUrl}/api/v1/broadcasts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: [PROVINCE] } }),
        signal: AbortSignal.timeout(120_000),
      });
      const cast = await json<{ id: string; status: string }>(res, 'POST /api/v1/broadcasts');
      if (cast.status !== 'approved') throw new Error(`the emergency broadcast is ${cast.status}, not approved`);
      return { t0, broadcastId: cast.id, requestMs: Date.now() - t0, durationMs };
    },
    async playingReceived(broadcastId) {
      return new Map(playingStmt.all(broadcastId).map((r) => [r.device_id, r.at]));
    },
    newHeartbeats() {
      const out: StoredHeartbeat[] = [];
      const note = (id: string, uptimeS: number | null, at: number): void => {
        if (uptimeS === null || seen.get(id) === uptimeS) return;
        seen.set(id, uptimeS);
        out.push([id, uptimeS, at]);
      };
      if (logStmt) {
        for (const r of logStmt.iterate(lastSeq)) {
          lastSeq = r.seq;
          note(r.id, r.uptime_s, r.at);
        }
      }
      for (const r of heartbeatStmt.iterate(Date.now() - 10_000)) note(r.id, r.uptime_s, r.last_seen_at);
      return out;
    },
    heartbeatCount: () => (countStmt ? ((countStmt.get() as { n: number | null }).n ?? 0) : null),
    async ingestMetrics() {
      const res = await fetch(`${urls.httpUrl}/api/v1/metrics`, { headers: { authorization: `Bearer ${await login()}` }, signal: AbortSignal.timeout(10_000) }).catch(() => null);
      if (!res?.ok) return null; // a server without the route (or it failed): the file is all we have
      const parsed = metricsSchema.safeParse(await res.json().catch(() => null));
      if (!parsed.success) o.log(`    GET /api/v1/metrics answered in an unexpected shape: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return parsed.success ? parsed.data : null;
    },
    async batchDurations() {
      return null;
    },
    info,
    notes() {
      if (!mosquitto) return [];
      // Mosquitto drops QoS 1 messages past max_queued_messages for a client, and says so (once per episode).
      const dropped = mosquitto.log().split('\n').filter((l) => /dropp/i.test(l));
      return dropped.length ? [`mosquitto: ${dropped.length} log line(s) about dropped messages, first: ${dropped[0]!.trim()}`] : [];
    },
  };
}

/** Waits for the server's "listening" log line (pino JSON) and returns the URLs it bound. */
async function waitForListening(server: ChildProcess, logFile: string, timeoutMs: number): Promise<{ httpUrl: string; mqttUrl: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes('server listening')) continue;
      try {
        const rec = JSON.parse(line) as { httpUrl?: string; mqttUrl?: string };
        if (rec.httpUrl && rec.mqttUrl) return { httpUrl: rec.httpUrl, mqttUrl: rec.mqttUrl };
      } catch {
        // A line being written: read again.
      }
    }
    if (Date.now() > deadline) throw new Error(`the server did not listen within ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    await sleep(100);
  }
}

// ---- the bare reference ----------------------------------------------------------------------------

export async function startReference(o: { dir: string; boxes: number; retainedStatus: boolean; cleanup: Cleanup; log: (s: string) => void; drainTimeoutMs?: number }): Promise<Target> {
  const proc = fork(REFERENCE_ENTRY, [], { execArgv: [...REFERENCE_NODE_ARGS, '--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  o.cleanup.process(proc, 'reference broker', 3_000);
  const waiters: Array<(m: FromReference) => boolean> = [];
  proc.on('message', (raw: unknown) => {
    const parsed = fromReferenceSchema.safeParse(raw);
    if (!parsed.success) return o.log(`  reference: unreadable message (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    if (parsed.data.type === 'error') o.log(`  reference: ${parsed.data.message}`);
    const i = waiters.findIndex((w) => w(parsed.data));
    if (i >= 0) waiters.splice(i, 1);
  });
  const ask = <K extends FromReference['type']>(m: ToReference | null, type: K, timeoutMs = 30_000): Promise<Extract<FromReference, { type: K }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the reference broker did not answer ${type} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push((r) => {
        if (r.type !== type) return false;
        clearTimeout(timer);
        resolve(r as Extract<FromReference, { type: K }>);
        return true;
      });
      if (m) proc.send(m);
    });
  await ask(null, 'ready');
  const dbFile = join(o.dir, 'reference.sqlite');
  const { port } = await ask({ type: 'start', dbFile, drainTimeoutMs: o.drainTimeoutMs ?? 10_000 }, 'listening');
  o.log(`  reference broker pid ${proc.pid} on mqtt://127.0.0.1:${port}`);
  const areas = benchAreas(o.boxes);
  const boxes: FleetBoxSpec[] = Array.from({ length: o.boxes }, (_, i) => ({
    id: `ref-${String(i + 1).padStart(5, '0')}`,
    areaCode: areas.communes[Math.floor(i / BOXES_PER_COMMUNE)]!,
    areaAncestors: [PROVINCE],
    mqtt: { url: `mqtt://127.0.0.1:${port}` },
  }));
  // What the reference has reported so far: `playing` receipts per broadcast, heartbeat batch durations.
  const playing = new Map<string, Map<string, number>>();
  const batches: number[] = [];
  const pull = async (): Promise<void> => {
    const stats = await ask({ type: 'stats' }, 'stats');
    for (const p of stats.playing) {
      const m = playing.get(p.broadcastId) ?? new Map<string, number>();
      if (!m.has(p.deviceId)) m.set(p.deviceId, p.receivedAt);
      playing.set(p.broadcastId, m);
    }
    batches.push(...stats.batchMs);
  };
  let db: Database.Database | null = null;
  let lastRow = 0;
  o.cleanup.add('close the reference database reader', () => db?.close());
  const DURATION_MS = 3_000;
  return {
    name: o.retainedStatus ? 'reference-retained' : 'reference',
    retainedStatus: o.retainedStatus,
    boxes,
    provinceCode: PROVINCE,
    processes: () => [{ name: 'reference', pid: proc.pid! }],
    onlineCount: () => null,
    async fanOut(round) {
      const broadcastId = `bc-reference-${round}`;
      const now = Date.now();
      // The same `play` envelope the server would send, on the area topic every box follows.
      const payload = encodeMessage(
        'play',
        { broadcastId, occurrenceAt: now, priority: 'emergency', media: { sha256: 'a'.repeat(64), url: `http://127.0.0.1/media/${'a'.repeat(64)}`, durationMs: DURATION_MS }, startAt: now, windowMs: 300_000, title: 'Cảnh báo thử' },
        { expiresAt: now + 300_000 },
      );
      const published = await ask({ type: 'publish', topic: topics.areaCmd(PROVINCE), payload, qos: 1 }, 'published');
      return { t0: published.at, broadcastId, requestMs: null, durationMs: DURATION_MS };
    },
    async playingReceived(broadcastId) {
      await pull();
      return playing.get(broadcastId) ?? new Map();
    },
    newHeartbeats() {
      db ??= new Database(dbFile, { readonly: true, fileMustExist: true });
      const rows = db
        .prepare<[number], { rowid: number; device_id: string; u: number; stored_at: number }>(`SELECT rowid, device_id, json_extract(body, '$.payload.uptimeS') AS u, stored_at FROM heartbeats WHERE rowid > ? ORDER BY rowid`)
        .all(lastRow);
      lastRow = rows.at(-1)?.rowid ?? lastRow;
      return rows.map((r) => [r.device_id, r.u, r.stored_at] as StoredHeartbeat);
    },
    heartbeatCount: () => null,
    ingestMetrics: async () => null,
    async batchDurations() {
      await pull();
      return batches.splice(0);
    },
    info: { bulletinMs: DURATION_MS, nodeArgs: REFERENCE_NODE_ARGS.join(' ') },
    notes: () => [],
  };
}

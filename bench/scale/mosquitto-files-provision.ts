/**
 * Registering boxes into Mosquitto's password and ACL files (issue 21, server/src/broker/mosquitto-files.ts;
 * bench/README.md "Registering boxes with Mosquitto's files"). `npm run bench:mosquitto-files`. Two parts:
 *
 * - `route`: the real server (`node --import tsx server/src/main.ts`) on a fresh Mosquitto started with
 *   deploy/mosquitto/mosquitto-files.conf (temp paths, its pid file for the server's SIGHUP). BENCH_BOXES (10,000)
 *   boxes in requests of BENCH_CHUNK (10,000) through `POST /api/v1/devices/bulk`, BENCH_ROUNDS (2) times, so the
 *   second round lands on a broker already holding 10,000; then one box through `POST /api/v1/devices`. The
 *   server's log line for each request splits it (hashing, render, write, reload until the probe logs in).
 * - `reload`: what one reload costs Mosquitto with BENCH_CONNECTED (2,000) boxes connected, whose passwords it
 *   checks again on every reload (security_default.c mosquitto_security_apply_default), for box hashes of 1 and of
 *   101 PBKDF2 iterations (DEVICE_HASH_ITERATIONS): SIGHUP to the probe's login, with 10,000 boxes in the files.
 *
 * Results: bench/results/mosquitto-files.json (BENCH_WRITE=0: print only). Bounded by BENCH_TIMEOUT_MS (280 s);
 * every process and the temp dir are removed on the way out.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { mosquittoHashSync, renderAclFile, renderPasswordFile, PROBE_USERNAME } from '../../server/src/broker/mosquitto-files.js';
import { Cleanup, endProcess, freePort, loadAverage, sleep } from './proc.js';
import { benchConf, filesLines } from './mosquitto.js';

const MODES = (process.argv[2] ?? 'route,reload').split(',');
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 280_000);
const BOXES = Number(process.env.BENCH_BOXES ?? 10_000);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTED = Number(process.env.BENCH_CONNECTED ?? 2_000);
const WRITE = process.env.BENCH_WRITE !== '0';
const SERVER_ENTRY = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const DEPLOY_CONF = new URL('../../deploy/mosquitto/mosquitto-files.conf', import.meta.url);
const ADMIN_PASSWORD = 'bench-admin-password';
const SERVER_LOGIN = { username: 'loaxa-server', password: 'bench-server-secret-0123456789' };
const PROVINCE = '96';
const COMMUNES = Array.from({ length: 100 }, (_, i) => `${PROVINCE}${String(i + 1).padStart(3, '0')}`);

const log = (s: string) => console.log(s);

interface Broker {
  url: string;
  pid: number;
  passwordFile: string;
  aclFile: string;
  pidFile: string;
}

async function startBroker(dir: string, cleanup: Cleanup, files?: { passwd: string; acl: string }): Promise<Broker> {
  await mkdir(dir, { recursive: true });
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const pidFile = join(dir, 'mosquitto.pid');
  await writeFile(passwordFile, files?.passwd ?? '', { mode: 0o640 });
  await writeFile(aclFile, files?.acl ?? '', { mode: 0o640 });
  const port = await freePort();
  const conf = benchConf(await readFile(DEPLOY_CONF, 'utf8'), port, filesLines(passwordFile, aclFile));
  const confFile = join(dir, 'mosquitto.conf');
  await writeFile(confFile, [`user ${userInfo().username}`, 'log_dest stderr', `pid_file ${pidFile}`, ...conf].join('\n') + '\n');
  const proc = spawn('/usr/sbin/mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.process(proc, 'mosquitto', 3_000);
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => (err = (err + d).slice(-5_000)));
  // Listening means its files are read and its signal handlers are next (a SIGHUP before them would end it).
  const t0 = performance.now();
  for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not start: ${err}`);
    const up = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port }, () => (sock.destroy(), resolve(true)));
      sock.once('error', () => (sock.destroy(), resolve(false)));
    });
    if (up) break;
  }
  if (files) log(`  mosquitto started on files of ${files.passwd.split('\n').length - 1} logins in ${Math.round(performance.now() - t0)} ms`);
  await sleep(200);
  return { url: `mqtt://127.0.0.1:${port}`, pid: proc.pid!, passwordFile, aclFile, pidFile };
}

async function routeRun(dir: string, cleanup: Cleanup): Promise<Record<string, unknown>> {
  const m = await startBroker(join(dir, 'mosquitto'), cleanup);
  const logFile = join(dir, 'server.log');
  const fd = openSync(logFile, 'w');
  const env = {
    ...process.env,
    LOAXA_HTTP_PORT: '0',
    LOAXA_HTTP_HOST: '127.0.0.1',
    LOAXA_DATA_DIR: join(dir, 'data'),
    LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOAXA_LOG_LEVEL: 'info',
    LOAXA_TTS_WORKERS: '1',
    LOAXA_MQTT_URL: m.url,
    LOAXA_MQTT_USERNAME: SERVER_LOGIN.username,
    LOAXA_MQTT_PASSWORD: SERVER_LOGIN.password,
    LOAXA_MOSQUITTO_PASSWORD_FILE: m.passwordFile,
    LOAXA_MOSQUITTO_ACL_FILE: m.aclFile,
    LOAXA_MOSQUITTO_PID_FILE: m.pidFile,
    LOAXA_MOSQUITTO_RELOAD_TIMEOUT_MS: '60000',
  };
  const server = spawn(process.execPath, ['--import', TSX, SERVER_ENTRY], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  cleanup.process(server, 'server', 10_000);
  let httpUrl = '';
  for (const deadline = Date.now() + 60_000; !httpUrl; await sleep(100)) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes('server listening')) continue;
      try {
        httpUrl = (JSON.parse(line) as { httpUrl?: string }).httpUrl ?? '';
      } catch {
        // a line being written: read again
      }
    }
  }
  const call = async (path: string, body: unknown, token?: string): Promise<unknown> => {
    const res = await fetch(httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  const { token } = (await call('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })) as { token: string };
  await call('/api/v1/areas/import', { provinces: [{ code: PROVINCE, name: 'Tỉnh Đăng Ký', type: 'tỉnh', communes: COMMUNES.map((code, i) => ({ code, name: `Xã ${i + 1}`, type: 'xã' })) }] }, token);
  const requests: Array<Record<string, unknown>> = [];
  let done = 0;
  let lastCreds: { username: string; password: string } | null = null;
  for (let round = 0; round < ROUNDS; round++) {
    for (let inRound = 0; inRound < BOXES; ) {
      const n = Math.min(CHUNK, BOXES - inRound);
      const devices = Array.from({ length: n }, (_, i) => ({ name: `files-${done + i + 1}`, areaCode: COMMUNES[(done + i) % COMMUNES.length]! }));
      const t0 = performance.now();
      const res = (await call('/api/v1/devices/bulk', { devices }, token)) as { items: Array<{ mqtt: { username: string; password: string } }> };
      const seconds = (performance.now() - t0) / 1000;
      lastCreds = res.items.at(-1)!.mqtt;
      const line = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('devices written to the Mosquitto files')).at(-1);
      const split = line ? (JSON.parse(line) as Record<string, number>) : {};
      const entry = { boxesBefore: done, boxes: n, seconds: Number(seconds.toFixed(2)), hashMs: split.hashMs, renderMs: split.renderMs, writeMs: split.writeMs, reloadMs: split.reloadMs };
      requests.push(entry);
      done += n;
      inRound += n;
      log(`  ${n} boxes (${entry.boxesBefore} there before): ${entry.seconds} s — hashing ${entry.hashMs} ms, render ${entry.renderMs} ms, write ${entry.writeMs} ms, reload until the probe logs in ${entry.reloadMs} ms`);
    }
  }
  // The last box of the last request logs in as soon as the answer came.
  const c = await mqtt.connectAsync(m.url, { clientId: lastCreds!.username, ...lastCreds!, reconnectPeriod: 0, protocolVersion: 4 });
  await c.endAsync(true);
  const t0 = performance.now();
  await call('/api/v1/devices', { name: 'one more', areaCode: COMMUNES[0] }, token);
  const oneMs = Math.round(performance.now() - t0);
  log(`  one more box through POST /api/v1/devices with ${done} there: ${oneMs} ms`);
  await endProcess(server, 10_000);
  return { requests, singleRegistrationMs: oneMs, boxesAtTheEnd: done + 1 };
}

/** One reload with `connected` boxes online, whose passwords are hashed with `iterations`. */
async function reloadRun(dir: string, cleanup: Cleanup, iterations: number): Promise<Record<string, unknown>> {
  const boxes = Array.from({ length: 10_000 }, (_, i) => ({ deviceId: `spk-bench${String(i).padStart(8, '0')}`, password: `secret-${i}-0123456789abcdef`, areaAncestry: [COMMUNES[i % 100]!, PROVINCE] }));
  const probe = (password: string) => ({ username: PROBE_USERNAME, hash: mosquittoHashSync(password, 1) });
  const passwd = (probePassword: string) => renderPasswordFile([probe(probePassword), ...boxes.map((b) => ({ username: b.deviceId, hash: mosquittoHashSync(b.password, iterations) }))]);
  const acl = renderAclFile(SERVER_LOGIN.username, boxes);
  const m = await startBroker(join(dir, `reload-${iterations}`), cleanup, { passwd: passwd('first'), acl });
  const clients: mqtt.MqttClient[] = [];
  cleanup.add('bench boxes', async () => void (await Promise.all(clients.map((c) => c.endAsync(true)))));
  for (let i = 0; i < CONNECTED; i += 100) {
    clients.push(...(await Promise.all(boxes.slice(i, Math.min(i + 100, CONNECTED)).map((b) => mqtt.connectAsync(m.url, { clientId: b.deviceId, username: b.deviceId, password: b.password, reconnectPeriod: 0, protocolVersion: 4, keepalive: 600 })))));
  }
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const pw = `probe-${r}-${Math.random()}`;
    await writeFile(m.passwordFile, passwd(pw));
    const t0 = performance.now();
    process.kill(m.pid, 'SIGHUP');
    for (;;) {
      const ok = await mqtt.connectAsync(m.url, { username: PROBE_USERNAME, password: pw, clientId: `probe-${r}`, reconnectPeriod: 0, protocolVersion: 4 }).then(
        (c) => (void c.endAsync(true), true),
        () => false,
      );
      if (ok) break;
      await sleep(5);
    }
    times.push(Math.round(performance.now() - t0));
  }
  const still = clients.filter((c) => c.connected).length;
  log(`  ${iterations} iteration(s), ${CONNECTED} boxes connected, 10,000 in the files: a reload until the probe logs in ${times.join(' / ')} ms; ${still} of ${CONNECTED} still connected`);
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  return { iterations, connected: CONNECTED, inFiles: boxes.length, reloadMs: times, stillConnected: still };
}

const cleanup = new Cleanup();
const dir = await mkdtemp(join(tmpdir(), 'loaxa-mosquitto-files-provision-'));
cleanup.dir(dir);
const hard = setTimeout(() => {
  log(`bench: stopped after ${TIMEOUT_MS} ms (BENCH_TIMEOUT_MS)`);
  cleanup.killNow();
  void cleanup.run(log).then(() => process.exit(2));
}, TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (cleanup.killNow(), void cleanup.run(log).then(() => process.exit(130))));
try {
  log(`mosquitto-files-provision ${MODES.join(',')} (load average ${loadAverage()})`);
  const result: Record<string, unknown> = { date: new Date().toISOString(), loadAverage: loadAverage() };
  if (MODES.includes('route')) result.route = await routeRun(dir, cleanup);
  if (MODES.includes('reload')) result.reload = [await reloadRun(dir, cleanup, 1), await reloadRun(dir, cleanup, 101)];
  result.targetSeconds = 30;
  if (WRITE) {
    await mkdir(new URL('../results/', import.meta.url), { recursive: true });
    await writeFile(new URL('../results/mosquitto-files.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  clearTimeout(hard);
  await cleanup.run(log);
}

/**
 * How long registering boxes takes with Mosquitto's dynamic-security plugin (bench/README.md, "registering
 * boxes with Mosquitto"). Two measurements:
 *
 * - `plugin`: what one more box costs the plugin when it already holds K boxes, for K in BENCH_EXISTING
 *   (default 0,1000,5000,10000): Mosquitto started on a dynsec file holding K boxes written by
 *   writeDeviceIdentities (the server driver's own layout), then BENCH_PROBE (50) new boxes created in one
 *   control message with the commands MosquittoDynsec sends for a new box. Also counts the file's renames
 *   with strace when it is installed (BENCH_STRACE=0 to skip), which shows one save per command.
 * - `route` (default): the real server (`node --import tsx server/src/main.ts`) on a fresh Mosquitto,
 *   BENCH_BOXES (2,000) boxes registered through `POST /api/v1/devices/bulk` in requests of BENCH_CHUNK
 *   (1,000), the time after each request printed. BENCH_EXISTING=K (one value) first writes K boxes into the
 *   dynsec file, so the figures are those of a broker that already holds K.
 *
 * Bounded by BENCH_TIMEOUT_MS (280 s); every process and the temp dir are removed on the way out. Run it as
 * `flock /tmp/loaxa-bench.lock node --import tsx bench/scale/dynsec-provision.ts [plugin|route]`.
 * BENCH_SERVER_ENTRY=<another checkout>/server/src/main.ts measures another server (before / after).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { deviceRoleAcls, deviceRoleName, DYNSEC_RESPONSE_TOPIC, DYNSEC_TOPIC } from '../../server/src/broker/mosquitto-dynsec.js';
import type { FleetBoxSpec } from '../../firmware-sim/src/index.js';
import { startMosquitto, writeDeviceIdentities } from './mosquitto.js';
import { Cleanup, loadAverage, sleep } from './proc.js';

const MODE = process.argv[2] ?? 'route';
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 280_000);
const EXISTING = (process.env.BENCH_EXISTING ?? (MODE === 'plugin' ? '0,1000,5000,10000' : '0')).split(',').map(Number);
const PROBE = Number(process.env.BENCH_PROBE ?? 50);
const BOXES = Number(process.env.BENCH_BOXES ?? 2_000);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 1_000);
const SERVER_ENTRY = process.env.BENCH_SERVER_ENTRY ?? fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const ADMIN_PASSWORD = 'bench-admin-password';
const PROVINCE = '96';
const COMMUNES = Array.from({ length: 100 }, (_, i) => `${PROVINCE}${String(i + 1).padStart(3, '0')}`);

const log = (s: string) => console.log(s);

/** K boxes already at the broker: identities only (their passwords are never used). */
function existingBoxes(k: number): FleetBoxSpec[] {
  return Array.from({ length: k }, (_, i) => ({
    id: `spk-pre${String(i).padStart(12, '0')}`,
    areaCode: COMMUNES[i % COMMUNES.length]!,
    areaAncestors: [PROVINCE],
    mqtt: { url: '', username: '', password: `pre-${i}-0123456789abcdef0123456789abcdef` },
  }));
}

async function pluginRun(dir: string, cleanup: Cleanup, k: number): Promise<void> {
  const m = await startMosquitto(join(dir, `plugin-${k}`), cleanup, (file) => writeDeviceIdentities(file, existingBoxes(k)));
  const file = join(dir, `plugin-${k}`, 'dynamic-security.json');
  const size = (await stat(file)).size;
  const c = await mqtt.connectAsync(m.url, { username: m.adminUsername, password: m.adminPassword, clientId: 'bench-dynsec', protocolVersion: 4 });
  cleanup.add('admin connection', () => c.endAsync(true));
  await c.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
  let answer: ((b: Buffer) => void) | null = null;
  c.on('message', (_t, p) => answer?.(p));
  const send = async (commands: object[]): Promise<number> => {
    const got = new Promise<Buffer>((r) => (answer = r));
    const t0 = performance.now();
    await c.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands }), { qos: 1 });
    const body = JSON.parse((await got).toString()) as { responses: Array<{ command: string; error?: string }> };
    const ms = performance.now() - t0;
    const failed = body.responses.filter((r) => r.error);
    if (failed.length) throw new Error(`${failed.length} commands failed: ${failed[0]!.command}: ${failed[0]!.error}`);
    return ms;
  };
  const readMs = await send([{ command: 'getClient', username: m.adminUsername }]);
  // What MosquittoDynsec.ensureBatch sends for a new box.
  const newBoxes = (from: number, n: number) =>
    Array.from({ length: n }, (_, j) => {
      const i = from + j;
      const deviceId = `spk-new${String(i).padStart(12, '0')}`;
      const rolename = deviceRoleName(deviceId);
      return [
        { command: 'createRole', rolename, acls: deviceRoleAcls({ deviceId, areaAncestry: [COMMUNES[i % COMMUNES.length]!, PROVINCE] }) },
        { command: 'createClient', username: deviceId, password: `new-${i}-0123456789abcdef0123456789abcdef`, clientid: deviceId, roles: [{ rolename }] },
      ];
    }).flat();
  const commands = newBoxes(0, PROBE);
  const ms = await send(commands);
  // Then, under strace (which slows the broker, so not timed), how often 10 more boxes make it save.
  let renames = '';
  if (process.env.BENCH_STRACE !== '0' && spawnSync('strace', ['-V']).status === 0) {
    const straceOut = join(dir, `strace-${k}.txt`);
    const strace = spawn('strace', ['-f', '-p', String(m.pid), '-e', 'trace=rename,renameat,renameat2', '-c', '-o', straceOut], { stdio: 'ignore' });
    cleanup.process(strace, 'strace', 2_000);
    await sleep(500); // attached
    const more = newBoxes(PROBE, 10);
    await send(more);
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
    // strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall"
    const row = (existsSync(straceOut) ? readFileSync(straceOut, 'utf8') : '').split('\n').find((l) => /\srename\w*\s*$/.test(l));
    renames = row ? `; under strace, ${more.length} more commands in one message: ${row.trim().split(/\s+/)[3]} renames of the file` : '';
  }
  log(
    `  ${String(k).padStart(6)} boxes there (file ${(size / 1024 / 1024).toFixed(1)} MiB): ${PROBE} new boxes, ${commands.length} commands in ${ms.toFixed(0)} ms = ` +
      `${(ms / commands.length).toFixed(2)} ms per command, ${(ms / PROBE).toFixed(1)} ms per box${renames} (a read: ${readMs.toFixed(1)} ms)`,
  );
  await c.endAsync(true);
  await m.stop();
}

async function routeRun(dir: string, cleanup: Cleanup, k: number): Promise<void> {
  const m = await startMosquitto(join(dir, 'mosquitto'), cleanup, k > 0 ? (file) => writeDeviceIdentities(file, existingBoxes(k)) : undefined);
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
    LOAXA_MQTT_USERNAME: m.adminUsername,
    LOAXA_MQTT_PASSWORD: m.adminPassword,
    LOAXA_MQTT_DYNSEC: 'true',
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
  log(`  mosquitto ${m.version} holding ${k} boxes; server ${SERVER_ENTRY}`);
  const started = Date.now();
  for (let done = 0; done < BOXES; ) {
    const n = Math.min(CHUNK, BOXES - done);
    const t0 = Date.now();
    const devices = Array.from({ length: n }, (_, i) => ({ name: `dynsec-${done + i + 1}`, areaCode: COMMUNES[(done + i) % COMMUNES.length]! }));
    try {
      const { token: fresh } = (await call('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })) as { token: string };
      await call('/api/v1/devices/bulk', { devices }, fresh);
    } catch (err) {
      log(`  request of ${n} boxes (${done} done) failed after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(err as Error).message}`);
      break;
    }
    done += n;
    log(`  ${String(done).padStart(6)} boxes registered: this request ${((Date.now() - t0) / 1000).toFixed(1)} s, all ${((Date.now() - started) / 1000).toFixed(1)} s (${((Date.now() - t0) / n).toFixed(1)} ms per box)`);
  }
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const progress = lines.filter((l) => l.includes('registering devices at the broker'));
  log(`  server log: ${progress.length} progress lines${progress.length ? `, the last: ${progress.at(-1)}` : ''}`);
  const summary = lines.filter((l) => l.includes('devices ensured at the broker')).at(-1);
  if (summary) log(`  and at the end of the last request: ${summary}`);
}

const cleanup = new Cleanup();
const dir = await mkdtemp(join(tmpdir(), 'loaxa-dynsec-provision-'));
cleanup.dir(dir);
const hard = setTimeout(() => {
  log(`bench: stopped after ${TIMEOUT_MS} ms (BENCH_TIMEOUT_MS)`);
  cleanup.killNow();
  void cleanup.run(log).then(() => process.exit(2));
}, TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (cleanup.killNow(), void cleanup.run(log).then(() => process.exit(130))));
try {
  log(`dynsec-provision ${MODE} (load average ${loadAverage()})`);
  if (MODE === 'plugin') for (const k of EXISTING) await pluginRun(dir, cleanup, k);
  else if (MODE === 'route') await routeRun(dir, cleanup, EXISTING[0] ?? 0);
  else throw new Error(`unknown mode ${MODE}: plugin or route`);
} finally {
  clearTimeout(hard);
  await cleanup.run(log);
}

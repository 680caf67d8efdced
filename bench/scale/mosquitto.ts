/**
 * Debian's Mosquitto for the broker comparison (issue 8 § 5): the project's own config
 * (deploy/mosquitto/mosquitto.conf, dynamic-security plugin) with only what a benchmark must change — a
 * free loopback port, paths in the run's temp dir, the log on stderr, no persistence — and a
 * dynamic-security file made by `mosquitto_ctrl dynsec init` whose admin is the server's login.
 * test/server/broker/mosquitto.ts does the same for the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { deviceRoleAcls, deviceRoleName, serverRoleAcls, SERVER_ROLE } from '../../server/src/broker/mosquitto-dynsec.js';
import type { FleetBoxSpec } from '../../firmware-sim/src/index.js';
import { endProcess, freePort, sleep, type Cleanup } from './proc.js';

const DEPLOY_CONF = new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url);

function which(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function pluginPath(): string | null {
  const dirs = ['/usr/lib', ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d))];
  return dirs.map((d) => join(d, 'mosquitto_dynamic_security.so')).find((p) => existsSync(p)) ?? null;
}

/** Why Mosquitto cannot run here, or null. */
export function mosquittoMissing(): string | null {
  if (!which('mosquitto') || !which('mosquitto_ctrl')) return 'mosquitto is not installed (apt-get install mosquitto)';
  if (!pluginPath()) return 'the dynamic-security plugin of the mosquitto package was not found';
  return null;
}

export interface BenchMosquitto {
  url: string;
  pid: number;
  adminUsername: string;
  adminPassword: string;
  version: string;
  log(): string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts Mosquitto on a fresh dynamic-security file; `prepare` may add to that file before the broker
 * reads it (the bench writes its boxes' identities there).
 */
export async function startMosquitto(dir: string, cleanup: Cleanup, prepare?: (dynsecFile: string) => Promise<void>): Promise<BenchMosquitto> {
  const missing = mosquittoMissing();
  if (missing) throw new Error(missing);
  await mkdir(dir, { recursive: true });
  const adminUsername = 'loaxa-server';
  const adminPassword = 'bench-broker-admin-secret-0123456789';
  const dynsecFile = join(dir, 'dynamic-security.json');
  const init = spawnSync(which('mosquitto_ctrl')!, ['dynsec', 'init', dynsecFile, adminUsername, adminPassword], { encoding: 'utf8', timeout: 10_000 });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
  await prepare?.(dynsecFile);
  const version = /version (\S+)/.exec(spawnSync(which('mosquitto')!, ['-h'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?';
  const port = await freePort();
  const conf = benchConf(await readFile(DEPLOY_CONF, 'utf8'), port, [
    [/^plugin_opt_config_file\s+.*$/, `plugin_opt_config_file ${dynsecFile}`],
    [/^plugin\s+\S+mosquitto_dynamic_security\.so\s*$/, `plugin ${pluginPath()!}`],
  ]);
  if (!conf.includes(`listener ${port} 127.0.0.1`)) throw new Error('deploy/mosquitto/mosquitto.conf has no `listener 1883 127.0.0.1` line');
  const confFile = join(dir, 'mosquitto.conf');
  // Started as root, Mosquitto would drop to the `mosquitto` user, which cannot write the temp dir.
  await writeFile(confFile, [`user ${userInfo().username}`, 'log_dest stderr', ...conf].join('\n') + '\n');
  const proc = spawn(which('mosquitto')!, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.process(proc, 'mosquitto', 3_000);
  let log = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => {
    // Keep the head (start-up errors) and the tail, not 10,000 lines of it.
    log = log.length > 200_000 ? log.slice(0, 20_000) + '\n…\n' + log.slice(-100_000) + d : log + d;
  });
  const deadline = Date.now() + 5_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}:\n${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen within 5 s:\n${log}`);
    await sleep(50);
  }
  return { url: `mqtt://127.0.0.1:${port}`, pid: proc.pid!, adminUsername, adminPassword, version, log: () => log, proc, stop: () => endProcess(proc, 3_000) };
}

interface DynsecFile {
  clients: Array<Record<string, unknown> & { username: string; roles?: Array<{ rolename: string }> }>;
  roles: Array<{ rolename: string; acls: unknown[] }>;
  [key: string]: unknown;
}

/**
 * Writes what the server's dynsec driver (server/src/broker/mosquitto-dynsec.ts) would create for each box
 * — a client named by the device id, bound to that client id, with the device's secret as password
 * (PBKDF2-SHA512, 101 iterations, as `mosquitto_ctrl` writes them), and a role with the device's ACLs —
 * plus the server's role on the admin login, into a dynamic-security file Mosquitto has not loaded yet.
 * The bench needs this because the server's own path, though it completes, takes minutes for 10,000 boxes:
 * Mosquitto 2.0's plugin rewrites this whole file after every command, two per new box (the top of
 * mosquitto-dynsec.ts; bench/scale/dynsec-provision.ts measures it). So the boxes are registered with the
 * embedded broker and their identities moved here, built by the driver's own deviceRoleAcls/deviceRoleName.
 */
export async function writeDeviceIdentities(file: string, boxes: readonly FleetBoxSpec[]): Promise<void> {
  const config = JSON.parse(await readFile(file, 'utf8')) as DynsecFile;
  const admin = config.clients[0]!;
  admin.roles = [...(admin.roles ?? []), { rolename: SERVER_ROLE }];
  config.roles.push({ rolename: SERVER_ROLE, acls: serverRoleAcls() });
  for (const b of boxes) {
    const password = b.mqtt.password;
    if (!password) throw new Error(`box ${b.id} has no password to write into the dynsec file`);
    const rolename = deviceRoleName(b.id);
    // The device's area first, then its ancestors (AreaRepository.ancestry's order).
    config.roles.push({ rolename, acls: deviceRoleAcls({ deviceId: b.id, areaAncestry: [b.areaCode, ...[...b.areaAncestors].reverse()] }) });
    const salt = randomBytes(12);
    config.clients.push({
      username: b.id,
      clientid: b.id,
      password: pbkdf2Sync(password, salt, 101, 64, 'sha512').toString('base64'),
      salt: salt.toString('base64'),
      iterations: 101,
      roles: [{ rolename }],
    });
  }
  await writeFile(file, JSON.stringify(config));
}

const FILES_CONF = new URL('../../deploy/mosquitto/mosquitto-files.conf', import.meta.url);

export interface BenchMosquittoFiles {
  url: string;
  pid: number;
  version: string;
  passwordFile: string;
  aclFile: string;
  pidFile: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Mosquitto on its password and ACL files (issue 21; deploy/mosquitto/mosquitto-files.conf with only the port,
 * the paths, the log and persistence changed), empty at first: the server writes them, with its own login and
 * every box it registers, and sends SIGHUP through the pid file (LOAXA_MOSQUITTO_PID_FILE), as in production.
 * bench/scale/mosquitto-files-provision.ts starts the same broker to time registration alone.
 */
export async function startMosquittoFiles(dir: string, cleanup: Cleanup): Promise<BenchMosquittoFiles> {
  if (!which('mosquitto')) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  await mkdir(dir, { recursive: true });
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const pidFile = join(dir, 'mosquitto.pid');
  await writeFile(passwordFile, '', { mode: 0o640 });
  await writeFile(aclFile, '', { mode: 0o640 });
  const port = await freePort();
  const conf = benchConf(await readFile(FILES_CONF, 'utf8'), port, filesLines(passwordFile, aclFile));
  if (!conf.includes(`listener ${port} 127.0.0.1`)) throw new Error('deploy/mosquitto/mosquitto-files.conf has no `listener 1883 127.0.0.1` line');
  const confFile = join(dir, 'mosquitto.conf');
  await writeFile(confFile, [`user ${userInfo().username}`, 'log_dest stderr', `pid_file ${pidFile}`, ...conf].join('\n') + '\n');
  const proc = spawn(which('mosquitto')!, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.process(proc, 'mosquitto', 3_000);
  let log = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => {
    log = log.length > 200_000 ? log.slice(0, 20_000) + '\n…\n' + log.slice(-100_000) + d : log + d;
  });
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}:\n${log}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen within 10 s:\n${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (up) break;
  }
  // Listening comes just before its signal handlers are set: a SIGHUP in between would end it.
  await sleep(200);
  const version = /version (\S+)/.exec(spawnSync(which('mosquitto')!, ['-h'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?';
  return { url: `mqtt://127.0.0.1:${port}`, pid: proc.pid!, version, passwordFile, aclFile, pidFile, log: () => log, stop: () => endProcess(proc, 3_000) };
}

/**
 * A shipped Mosquitto configuration made into a bench run's: the run's port on loopback, no persistence, and
 * the paths, pid file, log and user the caller writes itself; `extra` points the rest at the run's files.
 */
export function benchConf(shipped: string, port: number, extra: Array<[RegExp, string]>): string[] {
  return shipped
    .split('\n')
    .filter((l) => !/^\s*(pid_file|persistence_location|log_dest|user)\b/.test(l))
    .map((l) =>
      extra.reduce(
        (line, [re, to]) => line.replace(re, to),
        l.replace(/^persistence\s+true\b.*$/, 'persistence false').replace(/^listener\s+1883\s+127\.0\.0\.1\s*$/, `listener ${port} 127.0.0.1`),
      ),
    );
}

/** The password and ACL file lines of deploy/mosquitto/mosquitto-files.conf, pointed at a run's files. */
export function filesLines(passwordFile: string, aclFile: string): Array<[RegExp, string]> {
  return [
    [/^password_file\s+.*$/, `password_file ${passwordFile}`],
    [/^acl_file\s+.*$/, `acl_file ${aclFile}`],
  ];
}

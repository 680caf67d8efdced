/**
 * Starts a real Mosquitto (Debian's package) for a test: deploy/mosquitto/mosquitto.conf with only the
 * port, paths, log destination and persistence changed, a dynamic-security file made by
 * `mosquitto_ctrl dynsec init`, killed in teardown; or deploy/mosquitto/mosquitto-files.conf with its
 * password and ACL files in the temp dir (issue 21).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { userInfo } from 'node:os';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/server.js';
import { freePort } from '../../helpers/wait.js';

export const DEPLOY_CONF = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/mosquitto/mosquitto.conf');

interface TestLike {
  teardown(fn: () => unknown): void;
}

function which(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin']) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** The dynamic-security plugin as the Debian package installs it, for this machine's architecture. */
function pluginPath(): string | null {
  let dirs = ['/usr/lib'];
  try {
    dirs = [...dirs, ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d))];
  } catch {
    /* no /usr/lib: nothing installed there */
  }
  return dirs.map((d) => join(d, 'mosquitto_dynamic_security.so')).find((p) => existsSync(p)) ?? null;
}

/** Why the Mosquitto tests cannot run here, or null when they can. */
export function mosquittoMissing(): string | null {
  if (!which('mosquitto')) return 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)';
  if (!which('mosquitto_ctrl')) return 'mosquitto_ctrl is not installed (Debian package mosquitto)';
  if (!pluginPath()) return 'the dynamic-security plugin of the mosquitto package was not found';
  return null;
}

/** The deploy config with what a test must change, and nothing else. */
export function testConfig(deployConf: string, o: { port: number; dir: string; dynsecFile: string; plugin: string }): string {
  const lines = deployConf.split('\n').filter((l) => !/^\s*(pid_file|persistence_location|log_dest|user)\b/.test(l));
  const out = lines.map((l) =>
    l
      .replace(/^persistence\s+true\b.*$/, 'persistence false')
      .replace(/^listener\s+1883\s+127\.0\.0\.1\s*$/, `listener ${o.port} 127.0.0.1`)
      .replace(/^plugin_opt_config_file\s+.*$/, `plugin_opt_config_file ${o.dynsecFile}`)
      .replace(/^plugin\s+\S+mosquitto_dynamic_security\.so\s*$/, `plugin ${o.plugin}`),
  );
  if (!out.includes(`listener ${o.port} 127.0.0.1`)) throw new Error('deploy/mosquitto/mosquitto.conf has no `listener 1883 127.0.0.1` line');
  // Started as root, Mosquitto drops to the `mosquitto` user, which cannot write the temp dir: stay who we are.
  return [`user ${userInfo().username}`, 'log_dest stderr', ...out].join('\n') + '\n';
}

export interface RunningMosquitto {
  url: string;
  port: number;
  /** The broker's process (a test may stop it with SIGSTOP to play an unanswering broker). */
  pid: number;
  adminUsername: string;
  adminPassword: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startMosquitto(t: TestLike, opts: { adminUsername?: string; adminPassword?: string } = {}): Promise<RunningMosquitto> {
  const dir = await tempDir(t, 'loaxa-mosquitto-');
  const adminUsername = opts.adminUsername ?? 'loaxa-server';
  const adminPassword = opts.adminPassword ?? 'test-admin-secret-0123456789';
  const dynsecFile = join(dir, 'dynamic-security.json');
  const init = spawnSync(which('mosquitto_ctrl')!, ['dynsec', 'init', dynsecFile, adminUsername, adminPassword], { encoding: 'utf8', timeout: 10_000 });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
  const deployConf = await readFile(DEPLOY_CONF, 'utf8');
  const run = await launch(t, dir, (port) => testConfig(deployConf, { port, dir, dynsecFile, plugin: pluginPath()! }));
  return { ...run, adminUsername, adminPassword };
}

export const DEPLOY_FILES_CONF = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/mosquitto/mosquitto-files.conf');

/** Why the Mosquitto-files tests (issue 21) cannot run here, or null when they can: they need only the broker. */
export function mosquittoFilesMissing(): string | null {
  return which('mosquitto') ? null : 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)';
}

export interface RunningMosquittoFiles {
  /** The loopback listener of deploy/mosquitto/mosquitto-files.conf: the server's. */
  url: string;
  port: number;
  /** A second listener with `use_username_as_clientid`, as the conf's (commented) TLS listener for boxes. */
  boxUrl: string;
  pid: number;
  dir: string;
  passwordFile: string;
  aclFile: string;
  pidFile: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Mosquitto with deploy/mosquitto/mosquitto-files.conf: its password and ACL files in a temp dir, empty until
 * someone (the server, or `prepare`) writes them, a pid file there, and a box listener on a second port.
 */
export async function startMosquittoFiles(t: TestLike, opts: { prepare?: (files: { passwordFile: string; aclFile: string }) => Promise<void>; extraConf?: string[] } = {}): Promise<RunningMosquittoFiles> {
  const dir = await tempDir(t, 'loaxa-mosquitto-files-');
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const pidFile = join(dir, 'mosquitto.pid');
  await writeFile(passwordFile, '', { mode: 0o640 });
  await writeFile(aclFile, '', { mode: 0o640 });
  await opts.prepare?.({ passwordFile, aclFile });
  const deployConf = await readFile(DEPLOY_FILES_CONF, 'utf8');
  let boxPort = 0;
  const run = await launch(t, dir, async (port) => {
    boxPort = await freePort();
    const lines = deployConf.split('\n').filter((l) => !/^\s*(pid_file|persistence_location|log_dest|user)\b/.test(l));
    const out = lines.map((l) =>
      l
        .replace(/^persistence\s+true\b.*$/, 'persistence false')
        .replace(/^listener\s+1883\s+127\.0\.0\.1\s*$/, `listener ${port} 127.0.0.1`)
        .replace(/^password_file\s+.*$/, `password_file ${passwordFile}`)
        .replace(/^acl_file\s+.*$/, `acl_file ${aclFile}`),
    );
    for (const want of [`listener ${port} 127.0.0.1`, `password_file ${passwordFile}`, `acl_file ${aclFile}`]) {
      if (!out.includes(want)) throw new Error(`deploy/mosquitto/mosquitto-files.conf: no line to turn into "${want}"`);
    }
    return [`user ${userInfo().username}`, 'log_dest stderr', `pid_file ${pidFile}`, ...out, ...(opts.extraConf ?? []), `listener ${boxPort} 127.0.0.1`, 'use_username_as_clientid true'].join('\n') + '\n';
  });
  return { ...run, boxUrl: `mqtt://127.0.0.1:${boxPort}`, dir, passwordFile, aclFile, pidFile };
}

/** Starts Mosquitto on the config `conf(port)` writes, retrying on another port if that one was taken meanwhile. */
async function launch(t: TestLike, dir: string, conf: (port: number) => string | Promise<string>): Promise<{ url: string; port: number; pid: number; log(): string; stop(): Promise<void> }> {
  let lastErr: Error | null = null;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const confFile = join(dir, 'mosquitto.conf');
    await writeFile(confFile, await conf(port));
    const child = spawn(which('mosquitto')!, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (log += d));
    const stop = () => killProcess(child);
    t.teardown(stop);
    try {
      await new Promise<void>((resolve, reject) => {
        const exited = (code: number | null) => reject(new Error(`mosquitto exited with ${code}:\n${log}`));
        child.once('exit', exited);
        // Ready when the listener accepts a TCP connection.
        const deadline = Date.now() + 5_000;
        const probe = () => {
          const s = createConnection({ host: '127.0.0.1', port }, () => {
            s.destroy();
            child.off('exit', exited);
            resolve();
          });
          s.once('error', () => {
            s.destroy();
            if (child.exitCode !== null) return;
            if (Date.now() > deadline) reject(new Error(`mosquitto did not listen within 5 s:\n${log}`));
            else setTimeout(probe, 50);
          });
        };
        probe();
      });
      return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid!, log: () => log, stop };
    } catch (err) {
      lastErr = err as Error;
      await stop();
      if (!/Address already in use/.test(log)) break;
    }
  }
  throw lastErr ?? new Error('mosquitto did not start');
}

/** SIGTERM, then SIGKILL if it has not exited within 2 s. */
function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

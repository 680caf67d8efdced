/**
 * A two-node RabbitMQ cluster on loopback for a test (issue 21), from Debian's `rabbitmq-server`: each node
 * in its own temp dir with deploy/rabbitmq/rabbitmq.conf (only the ports and the auth URLs changed), one
 * Erlang cookie, and an epmd of its own on a free port (ERL_EPMD_PORT), so nothing meets a system
 * RabbitMQ or another test's nodes. Node B joins A with `rabbitmqctl stop_app; join_cluster; start_app`
 * (https://www.rabbitmq.com/clustering.html#single-machine). Teardown kills both nodes and the epmd.
 * Starting took 17–35 s on the 2-core CI machine (two Erlang VMs booting, then four rabbitmqctl VMs), so
 * a test file starts one cluster and runs all its cases on it. bench:brokers (bench/scale/targets.ts) starts
 * its cluster with this same code: `t` only needs a `teardown`, so the bench passes its own cleanup list.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from './wait.js';

const DEPLOY_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../deploy/rabbitmq');
/** Debian's scripts under /usr/sbin re-run themselves as user `rabbitmq` with /var/lib/rabbitmq; these do not. */
const BIN = '/usr/lib/rabbitmq/bin';
const EPMD_CANDIDATES = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd'];

interface TestLike {
  teardown(fn: () => unknown): void;
}

/** Why the RabbitMQ tests cannot run here, or null when they can. */
export function rabbitmqMissing(): string | null {
  if (!existsSync(join(BIN, 'rabbitmq-server'))) return 'rabbitmq-server is not installed (apt-get install rabbitmq-server; .ci/run installs it)';
  if (!EPMD_CANDIDATES.some((p) => existsSync(p))) return 'epmd (Debian package erlang-base) is not installed';
  return null;
}

export interface RabbitNode {
  /** Erlang node name, e.g. `loaxa-a-1f2e@localhost`. */
  name: string;
  mqttPort: number;
  url: string;
  /** Whether its VM is still running. */
  alive(): boolean;
  /** The pid of the node's Erlang VM (beam.smp), whose CPU and memory are the node's; null before it runs. */
  beamPid(): number | null;
  /** SIGKILL to the node's VM: a crash, not a shutdown (no clean disconnects, no queue handover). */
  kill(): Promise<void>;
  log(): Promise<string>;
}

export interface RabbitCluster {
  nodes: [RabbitNode, RabbitNode];
  /** Milliseconds from the first spawn to both MQTT listeners accepting in a joined cluster. */
  startMs: number;
  /** rabbitmqctl against one node (30 s at most). */
  ctl(node: RabbitNode, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Where the nodes reach Loa Xã, e.g. `http://127.0.0.1:41234` (the server is started after the cluster). */
  authBaseUrl: string;
  /** LOAXA_BROKER_AUTH_TOKEN (hex: it stands in the URLs' user info). */
  authToken: string;
  /** The server's own login, RabbitMQ's one internal user (`default_user`/`default_pass`). */
  serverLogin: { username: string; password: string };
  /** Every process is SIGKILLed after this many seconds, whatever happens (default 600). */
  lifetimeS?: number;
  /** More flags for each node's Erlang VM (e.g. scheduler settings a benchmark compares). */
  erlArgs?: string;
  /** false: leave out the mirroring policy README asks for (a benchmark measuring what mirroring costs). */
  mirrorQueues?: boolean;
}

/** The deploy config with the ports and the auth URLs of this test, and nothing else changed. */
export function nodeConfig(deployConf: string, o: { amqpPort: number; mqttPort: number; authBaseUrl: string; authToken: string; serverLogin: { username: string; password: string } }): string {
  const base = new URL(o.authBaseUrl);
  const withToken = `${base.protocol}//rabbitmq:${o.authToken}@${base.host}`;
  let urls = 0;
  const out = deployConf
    .split('\n')
    .map((l) =>
      l
        .replace(/^listeners\.tcp\.default\s*=.*$/, `listeners.tcp.default = 127.0.0.1:${o.amqpPort}`)
        .replace(/^mqtt\.listeners\.tcp\.default\s*=.*$/, `mqtt.listeners.tcp.default = 127.0.0.1:${o.mqttPort}`)
        .replace(/^default_user\s*=.*$/, `default_user = ${o.serverLogin.username}`)
        .replace(/^default_pass\s*=.*$/, `default_pass = ${o.serverLogin.password}`)
        .replace(/^(auth_http\.\w+_path\s*=\s*)https?:\/\/[^/]+(\/.*)$/, (_m, key: string, path: string) => {
          urls++;
          return `${key}${withToken}${path}`;
        }),
    );
  if (urls !== 4) throw new Error(`deploy/rabbitmq/rabbitmq.conf should set four auth_http.*_path URLs, found ${urls}`);
  return out.join('\n').replace(/\n*$/, '\n');
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function waitListening(port: number, child: ChildProcess, what: string, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before listening:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms:\n${(await readFile(logFile, 'utf8').catch(() => '')).slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGKILL to the whole process group (the start script, erl, beam.smp and its port programs). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const done = setTimeout(resolve, 5_000);
    child.once('exit', () => {
      clearTimeout(done);
      resolve();
    });
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
  });
}

/**
 * Every process started here runs under coreutils' `timeout`, which leads its process group and kills the
 * whole group at the end: a test process killed before its teardown leaves no node behind for long.
 */
const LIFETIME_S = 600;

/** The pid of `beam.smp` in the process group that `leader` leads (the node's start script runs it as a grandchild). */
function beamIn(leader: number | undefined): number | null {
  if (!leader) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Field 5 of proc(5) is the process group; counted after the command's closing ") ".
      const pgrp = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[2]);
      if (pgrp === leader && comm === 'beam.smp') return Number(entry);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return null;
}

/** `rabbitmqctl set_policy` arguments that mirror the MQTT session queues (classic mirrored queues, RabbitMQ 3.10). */
export const MQTT_QUEUE_POLICY = ['--apply-to', 'queues', '--priority', '10', 'loaxa-mqtt-ha', '^mqtt-subscription-', '{"ha-mode":"all","ha-sync-mode":"automatic"}'];

export async function startRabbitCluster(t: TestLike, opts: ClusterOptions): Promise<RabbitCluster> {
  const started = performance.now();
  const lifetimeS = String(opts.lifetimeS ?? LIFETIME_S);
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-rabbitmq-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const deployConf = await readFile(join(DEPLOY_DIR, 'rabbitmq.conf'), 'utf8');
  const plugins = await readFile(join(DEPLOY_DIR, 'enabled_plugins'), 'utf8');
  const home = join(dir, 'home');
  await mkdir(home);
  // Every node and every rabbitmqctl of the cluster must share this cookie (Erlang distribution's secret).
  await writeFile(join(home, '.erlang.cookie'), randomBytes(20).toString('hex'));
  await chmod(join(home, '.erlang.cookie'), 0o400);
  const epmdPort = await freePort();
  const ctlPort = await freePort();
  const tag = randomBytes(3).toString('hex');
  // Distribution (and the CLI's) on loopback only; the node would otherwise listen on every address.
  const loopbackDist = '-kernel inet_dist_use_interface {127,0,0,1}';
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPort),
    RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPort),
    RABBITMQ_CTL_ERL_ARGS: loopbackDist,
  };

  const epmdBin = EPMD_CANDIDATES.find((p) => existsSync(p))!;
  const epmd = spawn('timeout', ['-s', 'KILL', lifetimeS, epmdBin, '-port', String(epmdPort), '-address', '127.0.0.1'], { stdio: 'ignore', detached: true });
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => killGroup(c)));
    await killGroup(epmd, 'SIGTERM');
  };
  t.teardown(stop);
  // Listening before any node starts, or erl would start an `epmd -daemon` of its own, outside our group.
  await waitListening(epmdPort, epmd, 'epmd', 10_000, join(dir, 'none')).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  const nodes: RabbitNode[] = [];
  const waits: Promise<void>[] = [];
  for (const letter of ['a', 'b']) {
    const nodeDir = join(dir, letter);
    await mkdir(nodeDir);
    const [amqpPort, mqttPort, distPort] = [await freePort(), await freePort(), await freePort()];
    const name = `loaxa-${letter}-${tag}@localhost`;
    await writeFile(join(nodeDir, 'rabbitmq.conf'), nodeConfig(deployConf, { amqpPort, mqttPort, authBaseUrl: opts.authBaseUrl, authToken: opts.authToken, serverLogin: opts.serverLogin }));
    await writeFile(join(nodeDir, 'enabled_plugins'), plugins);
    const logFile = join(nodeDir, 'node.log');
    const env: NodeJS.ProcessEnv = {
      ...common,
      RABBITMQ_NODENAME: name,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(amqpPort),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: opts.erlArgs ? `${loopbackDist} ${opts.erlArgs}` : loopbackDist,
      RABBITMQ_CONFIG_FILE: join(nodeDir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(nodeDir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(nodeDir, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(nodeDir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(nodeDir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(nodeDir, 'log'),
      RABBITMQ_PID_FILE: join(nodeDir, 'node.pid'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(nodeDir, 'plugins-expand'),
      RABBITMQ_LOGS: logFile,
    };
    // Its own process group (led by `timeout`), so teardown and a test's kill() reach beam.smp and its port programs.
    const child = spawn('timeout', ['-s', 'KILL', lifetimeS, join(BIN, 'rabbitmq-server')], { env, stdio: 'ignore', detached: true });
    children.push(child);
    waits.push(waitListening(mqttPort, child, `RabbitMQ node ${name}`, 60_000, logFile));
    nodes.push({
      name,
      mqttPort,
      url: `mqtt://127.0.0.1:${mqttPort}`,
      alive: () => child.exitCode === null && child.signalCode === null,
      beamPid: () => beamIn(child.pid),
      kill: () => killGroup(child),
      log: () => readFile(logFile, 'utf8').catch(() => ''),
    });
  }
  const ctl = (node: RabbitNode, args: string[]) => run(join(BIN, 'rabbitmqctl'), ['-n', node.name, ...args], common, 30_000);
  try {
    await Promise.all(waits);
    const [a, b] = nodes as [RabbitNode, RabbitNode];
    await ctl(b, ['stop_app']);
    await ctl(b, ['join_cluster', a.name]);
    await ctl(b, ['start_app']);
    // As README § RabbitMQ cluster says: mirror the MQTT plugin's session queues
    // on every node, else a box whose queue lived on a dead node cannot come back anywhere (measured:
    // `NOT_FOUND - home node … of durable queue 'mqtt-subscription-…qos1' … is down or inaccessible`).
    if (opts.mirrorQueues !== false) await ctl(a, ['set_policy', ...MQTT_QUEUE_POLICY]);
    await waitListening(b.mqttPort, children[1]!, `RabbitMQ node ${b.name}`, 60_000, join(dir, 'b', 'node.log'));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: nodes as [RabbitNode, RabbitNode], startMs: Math.round(performance.now() - started), ctl, stop };
}

/** Which Debian version of RabbitMQ is installed (for the report lines of a test). */
export function rabbitmqVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

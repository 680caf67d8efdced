/**
 * `npm run sim -- --server <url> --count N --area <code> [--state FILE] [--scenario NAME…]`
 * `npm run sim -- --fleet --server <url> --count N --area <code> [--processes P] [--spread-ms MS]`
 * Runs simulated boxes until SIGINT/SIGTERM: real device agents, or (--fleet) lightweight protocol-level
 * boxes in child processes for load tests (fleet.ts). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SCENARIOS, checkScenarios } from './scenarios.js';
import { startFleet } from './fleet.js';
import { ensureDevices, startSimulation, type SimulationOptions } from './sim.js';
import { SimError } from './state-file.js';

export const DEFAULT_STATE_FILE = '.sim-state.json';
const STOP_TIMEOUT_MS = 8_000;
const HARD_EXIT_MS = 10_000;

const OPTIONS = {
  server: { type: 'string' },
  count: { type: 'string', default: '1' },
  area: { type: 'string' },
  state: { type: 'string', default: DEFAULT_STATE_FILE },
  scenario: { type: 'string', multiple: true },
  'heartbeat-ms': { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  'agent-log-level': { type: 'string', default: 'warn' },
  fleet: { type: 'boolean', default: false },
  processes: { type: 'string' },
  'spread-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function helpText(): string {
  const scenarios = Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(18)}${s.description}`);
  return [
    'Loa Xã firmware simulator: runs real device agents on simulated speaker boxes.',
    '',
    'Usage: npm run sim -- --server <url> --count N --area <code> [--state FILE] [--scenario NAME…]',
    '       npm run sim -- --fleet --server <url> --count N --area <code> [--processes P] [--spread-ms MS]',
    '',
    'Options:',
    '  --server URL            base URL of the Loa Xã server, e.g. http://localhost:8080 (required)',
    '  --count N               number of boxes to run (default 1); missing ones are provisioned',
    '  --area CODE             area (commune) code the boxes are installed in, e.g. 00004 (required)',
    `  --state FILE            where box credentials are kept between runs (default ${DEFAULT_STATE_FILE});`,
    '                          caches go to FILE-name.boxes/ next to it',
    '  --scenario NAME         behaviour of the boxes; repeat it or separate names with commas (default steady)',
    '  --heartbeat-ms MS       telemetry period of every box (default 30000)',
    '  --log-level LEVEL       simulator log level: fatal, error, warn, info, debug (default info)',
    '  --agent-log-level LEVEL log level of each box (default warn)',
    '  --fleet                 lightweight boxes for load tests instead of real agents: the agent\'s MQTT',
    '                          protocol only (status, heartbeats, commands, delivery reports; audio treated',
    '                          as cached), thousands per process; no scenarios',
    '  --processes P           fleet mode: child processes to spread the boxes over (default 1 per 2,500)',
    '  --spread-ms MS          fleet mode: boxes connect at random within MS (default 20 per box, ≤ 10 s;',
    '                          0 = all at once, a connect storm)',
    '  -h, --help              show this help',
    '',
    'Scenarios:',
    ...scenarios,
    '',
    'Environment:',
    '  LOAXA_ADMIN_USERNAME    user that provisions boxes (default admin)',
    '  LOAXA_ADMIN_PASSWORD    its password (the one the server printed at its first start)',
    '',
  ].join('\n');
}

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Where SIGINT/SIGTERM arrive (the process; tests pass an emitter). */
  signals: EventEmitter;
  /** Hooks for tests and embedding. */
  simulationOverrides?: Partial<SimulationOptions>;
}

class UsageError extends Error {}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true as const };
  if (!v.server) throw new UsageError('--server is required (e.g. --server http://localhost:8080)');
  try {
    const u = new URL(v.server);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--server must be an http:// or https:// URL, got ${JSON.stringify(v.server)}`);
  }
  if (!v.area) throw new UsageError('--area is required (a commune code such as 00004)');
  if (!/^\d+$/.test(v.count)) throw new UsageError(`--count must be a whole number, got ${JSON.stringify(v.count)}`);
  const heartbeat = v['heartbeat-ms'];
  if (heartbeat !== undefined && !/^\d+$/.test(heartbeat)) throw new UsageError(`--heartbeat-ms must be a whole number, got ${JSON.stringify(heartbeat)}`);
  const scenarios = (v.scenario ?? ['steady']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  try {
    checkScenarios(scenarios);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const flag of ['processes', 'spread-ms'] as const) {
    const value = v[flag];
    if (value !== undefined && !/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(value)}`);
    if (value !== undefined && !v.fleet) throw new UsageError(`--${flag} is for fleet mode: add --fleet`);
  }
  if (v.fleet && v.scenario) throw new UsageError('--scenario needs real agents; fleet boxes only run the protocol (drop --fleet or --scenario)');
  if (v.processes !== undefined && Number(v.processes) < 1) throw new UsageError('--processes must be at least 1');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  for (const flag of ['log-level', 'agent-log-level'] as const) {
    if (!levels.includes(v[flag])) throw new UsageError(`--${flag} must be one of ${levels.join(', ')}`);
  }
  return {
    help: false as const,
    server: v.server,
    count: Number(v.count),
    area: v.area,
    state: resolve(v.state),
    scenarios,
    heartbeatMs: heartbeat === undefined ? undefined : Number(heartbeat),
    logLevel: v['log-level'],
    agentLogLevel: v['agent-log-level'],
    fleet: v.fleet,
    processes: v.processes === undefined ? undefined : Number(v.processes),
    spreadMs: v['spread-ms'] === undefined ? undefined : Number(v['spread-ms']),
  };
}

type Args = Exclude<ReturnType<typeof parse>, { help: true }>;

/** Waits for SIGINT or SIGTERM and answers its name. */
function signalled(io: CliIo): Promise<string> {
  return new Promise<string>((done) => {
    io.signals.once('SIGINT', () => done('SIGINT'));
    io.signals.once('SIGTERM', () => done('SIGTERM'));
  });
}

/** Fleet mode: provision like the simulator, then run lightweight boxes in child processes until a signal. */
async function runFleet(args: Args, io: CliIo): Promise<number> {
  const logger = pino({ name: 'loaxa-sim', level: args.logLevel });
  let devices;
  try {
    const options: SimulationOptions = { serverUrl: args.server, count: args.count, areaCode: args.area, stateFile: args.state, logger, env: io.env, ...io.simulationOverrides };
    if (!Number.isInteger(args.count) || args.count < 1 || args.count > 20_000) throw new SimError(`--count must be a whole number from 1 to 20000, got ${args.count}`);
    ({ devices } = await ensureDevices(options, io.env, logger.child({ module: 'sim' })));
  } catch (err) {
    if (err instanceof SimError) {
      io.stderr.write(`sim: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let last = '';
  let lastAt = 0;
  const fleet = await startFleet({
    boxes: devices.map((d) => ({ id: d.id, areaCode: d.areaCode, areaAncestors: d.areaAncestors, mqtt: d.mqtt })),
    ...(args.processes !== undefined ? { processes: args.processes } : {}),
    onProgress: (c) => {
      const line = `fleet: ${c.subscribed} of ${c.boxes} boxes connected, ${c.heartbeats} heartbeats, ${c.commands} commands, ${c.deliveries} deliveries (${c.playing} played or playing)${c.lastError && c.subscribed < c.boxes ? `; last error: ${c.lastError}` : ''}\n`;
      // One line every few seconds at most, and only when something changed.
      if (line === last || Date.now() - lastAt < 5_000) return;
      last = line;
      lastAt = Date.now();
      io.stdout.write(line);
    },
    onError: (m) => io.stderr.write(`sim: ${m}\n`),
  });
  fleet.connect(args.spreadMs ?? Math.min(20 * devices.length, 10_000));
  fleet.startHeartbeats(args.heartbeatMs ?? 30_000);
  const counts = await fleet.waitFor('every box to connect', (c) => c.subscribed >= c.boxes, 30_000 + (args.spreadMs ?? 10_000)).catch(() => fleet.counts());
  io.stdout.write(`${devices.length} fleet boxes in ${fleet.pids.length} processes in area ${args.area} (${counts.subscribed} connected); state in ${args.state}. Ctrl-C stops them.\n`);
  const signal = await signalled(io);
  io.stdout.write(`${signal}: stopping ${devices.length} fleet boxes…\n`);
  await fleet.stop({ timeoutMs: STOP_TIMEOUT_MS });
  return 0;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`sim: ${err.message}\nRun with --help to see every flag and scenario.\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(helpText());
    return 0;
  }
  if (args.fleet) return runFleet(args, io);
  const logger = pino({ name: 'loaxa-sim', level: args.logLevel });
  let sim;
  try {
    sim = await startSimulation({
      serverUrl: args.server,
      count: args.count,
      areaCode: args.area,
      stateFile: args.state,
      logger,
      scenarios: args.scenarios,
      agentLogLevel: args.agentLogLevel,
      env: io.env,
      ...(args.heartbeatMs !== undefined ? { heartbeatMs: args.heartbeatMs } : {}),
      ...io.simulationOverrides,
    });
  } catch (err) {
    if (err instanceof SimError) {
      io.stderr.write(`sim: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const connected = await sim.waitForConnections(30_000);
  io.stdout.write(`${sim.agents.length} boxes running in area ${args.area} (${sim.provisioned} newly provisioned, ${connected} connected); state in ${args.state}. Ctrl-C stops them.\n`);
  if (connected < sim.agents.length) {
    io.stderr.write(
      `sim: ${sim.agents.length - connected} boxes could not connect to ${sim.devices[0]?.mqtt.url ?? 'the broker'} yet and keep retrying; check that the broker is reachable from here (LOAXA_MQTT_PUBLIC_URL on the server) or, if the server's database was reset, move ${args.state} away to provision new boxes\n`,
    );
  }
  const signal = await signalled(io);
  io.stdout.write(`${signal}: stopping ${sim.agents.length} boxes…\n`);
  // The hard deadline holds even if a box hangs on the way down.
  const hard = setTimeout(() => {
    io.stderr.write('sim: stop took too long; exiting\n');
    process.exit(1);
  }, HARD_EXIT_MS);
  hard.unref();
  await sim.stop({ timeoutMs: STOP_TIMEOUT_MS });
  clearTimeout(hard);
  return 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sim: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Runs N real device agents in one process on simulated hardware: a SimBoard (GPIO inputs, amplifier,
 * mixer, disk, modem, sound card), a SimPlayer recording what it decodes and a MarkerSink for streams (a
 * CountingSink that also times live-voice markers, live-markers.ts), a drifting clock, a media path and, when a scenario
 * needs it, a flaky 4G link. Boxes are provisioned on the server once and remembered in a state file,
 * so later runs reuse them.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AREA_CODE_PATTERN } from '@loaxa/shared';
import { DeviceAgent, NullPlayer, SimBoard, parseAgentConfig, type AgentConfigInput, type Player } from '@loaxa/device-agent';
import { FlakyLink } from './flaky-link.js';
import { MarkerSink } from './live-markers.js';
import { checkScenarios, SCENARIOS, type Scenario, type ScenarioOptions } from './scenarios.js';
import { MediaPath, SimClock, type SimBox } from './sim-box.js';
import { SimPlayer } from './sim-player.js';
import { ServerApi, ancestorsOf, type FetchLike } from './server-api.js';
import { SimError, boxDir, readSimState, writeSimState, type SimDevice, type SimState } from './state-file.js';

export interface SimulationOptions {
  serverUrl: string;
  count: number;
  areaCode: string;
  stateFile: string;
  logger: Logger;
  /** One player per box (the SimPlayer records around it); a NullPlayer by default. */
  playerFactory?: (deviceId: string) => Player;
  /** Defaults: LOAXA_ADMIN_USERNAME (else `admin`) and LOAXA_ADMIN_PASSWORD from `env`. */
  username?: string;
  password?: string;
  scenarios?: string[];
  /** Timings and shares of the scenarios (their field-like defaults otherwise). */
  scenarioOptions?: ScenarioOptions;
  /** Random source of the scenarios (tests make it deterministic). */
  random?: () => number;
  /** Extra agent settings for every box (fault poll period, debounce…). */
  agentConfig?: Partial<AgentConfigInput>;
  /** Agents start at random moments within this span, not all at once (default: 20 ms per box, ≤ 10 s). */
  startSpreadMs?: number;
  heartbeatMs?: number;
  /** Logger level of the agents (default: the logger's own). */
  agentLogLevel?: string;
  env?: NodeJS.ProcessEnv;
  fetch?: FetchLike;
  /**
   * The brokers box `index` connects to, first one first, the others its failover (agent `mqtt.failoverUrls`):
   * spreads a fleet over the nodes of a broker cluster (issue 21). Default: the URL the server issued.
   */
  brokerUrls?: (index: number) => string[];
}

export interface Simulation {
  agents: DeviceAgent[];
  /** Each box with its simulated hardware, in the order of `agents`. */
  boxes: SimBox[];
  devices: SimDevice[];
  /** Boxes created on the server by this run. */
  provisioned: number;
  /** How many agents are connected right now. */
  connectedCount(): number;
  /** Resolves with the number connected once all are, or when `timeoutMs` has passed. */
  waitForConnections(timeoutMs: number): Promise<number>;
  stop(opts?: { timeoutMs?: number }): Promise<void>;
}

/** Device creations in flight at once: quick without flooding the server. */
const PROVISION_CONCURRENCY = 8;
/**
 * Boxes per bulk registration request; each answer is saved before the next request. 500 keeps one request
 * within fetch's 300 s wait for an answer even on an external Mosquitto holding 10,000 boxes (~0.3 s a box).
 */
const BULK_SIZE = 500;

export async function startSimulation(opts: SimulationOptions): Promise<Simulation> {
  const env = opts.env ?? process.env;
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 20_000) throw new SimError(`--count must be a whole number from 1 to 20000, got ${opts.count}`);
  if (!AREA_CODE_PATTERN.test(opts.areaCode)) throw new SimError(`--area must be a numeric area code (2–10 digits), got ${JSON.stringify(opts.areaCode)}`);
  const scenarios = checkScenarios(opts.scenarios?.length ? opts.scenarios : ['steady']);
  const log = opts.logger.child({ module: 'sim' });

  const { devices, provisioned } = await ensureDevices(opts, env, log);
  const needsLink = scenarios.some((n) => (SCENARIOS[n] as Scenario).needsLink);
  const agents: DeviceAgent[] = [];
  const boxes: SimBox[] = [];
  for (const [index, d] of devices.entries()) {
    const dir = boxDir(opts.stateFile, d.id);
    await mkdir(dir, { recursive: true });
    let link: FlakyLink | null = null;
    const [chosen, ...failoverUrls] = opts.brokerUrls?.(index) ?? [];
    let mqttUrl = chosen ?? d.mqtt.url;
    const broker = /^mqtt:\/\/([^:/]+):(\d+)\/?$/.exec(d.mqtt.url);
    if (needsLink && broker) {
      link = new FlakyLink({ host: broker[1]!, port: Number(broker[2]) });
      mqttUrl = await link.start();
    } else if (needsLink) log.warn({ url: d.mqtt.url }, 'the flaky link needs a plain mqtt://host:port broker URL; this box connects directly');
    const config = parseAgentConfig({
      // A simulated fleet comes back from a server restart within half a minute (the field default is 5 min).
      reconnectMaxMs: 30_000,
      ...opts.agentConfig,
      deviceId: d.id,
      mqtt: { ...d.mqtt, url: mqttUrl, failoverUrls },
      areaCode: d.areaCode,
      areaAncestors: d.areaAncestors,
      cacheDir: join(dir, 'cache'),
      stateDir: join(dir, 'state'),
      player: 'null',
      ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
    });
    const logger = opts.agentLogLevel ? opts.logger.child({}, { level: opts.agentLogLevel }) : opts.logger;
    const board = new SimBoard();
    const clock = new SimClock();
    const media = new MediaPath(opts.fetch ?? globalThis.fetch);
    // Relays and live voice are really pulled and decoded (the agent's ffmpeg: set `ffmpegPath` in
    // agentConfig); the sink counts, and times the markers of a live voice (issue 16).
    const sink = new MarkerSink();
    // Files are timed and recorded as they decode (issue 15: gaps between a programme's items, seconds decoded).
    const player = new SimPlayer(opts.playerFactory?.(d.id) ?? new NullPlayer());
    const agent = new DeviceAgent({ config, player, sink, hardware: board.hardware(), clock, fetch: media.fetch, logger });
    agents.push(agent);
    boxes.push({ id: d.id, agent, board, clock, media, sink, player, link, markers: () => sink.markers() });
  }

  // Real boxes power up at different moments; a fleet connecting in one instant is a load test, not a demo.
  const spread = opts.startSpreadMs ?? Math.min(20 * agents.length, 10_000);
  const started: DeviceAgent[] = [];
  try {
    await Promise.all(
      agents.map(async (agent) => {
        await new Promise((r) => setTimeout(r, Math.random() * spread));
        await agent.start();
        started.push(agent);
      }),
    );
  } catch (err) {
    await Promise.allSettled(started.map((a) => a.stop({ timeoutMs: 2_000 })));
    await Promise.allSettled(boxes.map(async (b) => b.link?.stop()));
    throw err;
  }
  const ctx = { boxes, agents, logger: log, options: opts.scenarioOptions ?? {}, random: opts.random ?? Math.random };
  const undo = scenarios.map((name) => (SCENARIOS[name] as Scenario).start(ctx));
  log.info({ boxes: agents.length, provisioned, areaCode: opts.areaCode, scenarios }, 'simulation started');

  const connectedCount = (): number => agents.filter((a) => a.connected).length;
  let stopped = false;
  return {
    agents,
    boxes,
    devices,
    provisioned,
    connectedCount,
    async waitForConnections(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (connectedCount() < agents.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return connectedCount();
    },
    async stop(stopOpts = {}) {
      if (stopped) return;
      stopped = true;
      for (const u of undo) await u();
      await Promise.allSettled(agents.map((a) => a.stop({ timeoutMs: stopOpts.timeoutMs ?? 5_000 })));
      await Promise.allSettled(boxes.map(async (b) => b.link?.stop()));
      log.info('simulation stopped');
    },
  };
}

/** The boxes of this area from the state file, provisioning the missing ones on the server (also used by fleet mode). */
export async function ensureDevices(opts: SimulationOptions, env: NodeJS.ProcessEnv, log: Logger): Promise<{ devices: SimDevice[]; provisioned: number }> {
  const serverUrl = opts.serverUrl.replace(/\/+$/, '');
  const state: SimState = (await readSimState(opts.stateFile)) ?? { serverUrl, devices: [] };
  if (state.serverUrl.replace(/\/+$/, '') !== serverUrl) {
    throw new SimError(`the state file ${opts.stateFile} holds boxes of ${state.serverUrl}, not ${serverUrl}: use --state with another file for this server`);
  }
  const have = state.devices.filter((d) => d.areaCode === opts.areaCode);
  const missing = opts.count - have.length;
  if (missing <= 0) return { devices: have.slice(0, opts.count), provisioned: 0 };

  const api = new ServerApi(serverUrl, {
    username: opts.username ?? env.LOAXA_ADMIN_USERNAME ?? 'admin',
    password: opts.password ?? env.LOAXA_ADMIN_PASSWORD,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  await api.login();
  const ancestors = ancestorsOf(await api.areas(), opts.areaCode);
  if (!ancestors) throw new SimError(`area ${opts.areaCode} is not in the server's area tree: import the areas first (POST /api/v1/areas/import) or pick another --area`);

  log.info({ missing, areaCode: opts.areaCode }, 'provisioning boxes');
  const taken = new Set(state.devices.map((d) => d.name));
  const names: string[] = [];
  for (let n = 1; names.length < missing; n++) {
    const name = `sim-${opts.areaCode}-${String(n).padStart(4, '0')}`;
    if (!taken.has(name)) names.push(name);
  }
  let provisioned = 0;
  // In batches of BULK_SIZE through the bulk route; saved after every batch: passwords are shown only once.
  for (let i = 0; i < names.length; i += BULK_SIZE) {
    const created = await api.createDevices(names.slice(i, i + BULK_SIZE).map((name) => ({ name, areaCode: opts.areaCode })));
    if (!created) break; // no bulk route: one request per box below
    for (const d of created) state.devices.push({ id: d.id, name: d.name, areaCode: d.areaCode, areaAncestors: ancestors, mqtt: d.mqtt });
    provisioned += created.length;
    await writeSimState(opts.stateFile, state);
  }
  const remaining = names.filter((n) => !state.devices.some((d) => d.name === n));
  for (let i = 0; i < remaining.length && provisioned < names.length; i += PROVISION_CONCURRENCY) {
    const batch = remaining.slice(i, i + PROVISION_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((name) => api.createDevice({ name, areaCode: opts.areaCode })));
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      const d = r.value;
      state.devices.push({ id: d.id, name: d.name, areaCode: d.areaCode, areaAncestors: ancestors, mqtt: d.mqtt });
      provisioned += 1;
    }
    // Saved after every batch: the server shows a device password only once.
    await writeSimState(opts.stateFile, state);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason as Error;
  }
  return { devices: state.devices.filter((d) => d.areaCode === opts.areaCode).slice(0, opts.count), provisioned };
}

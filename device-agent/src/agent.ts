/**
 * The composition root of the device agent: wires the MQTT link, the command table, the audio cache and
 * the playout. The constructor only stores dependencies; `start()` and `stop()` do the work (STYLE.md 1).
 */
import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ErrorCode, decodeMessage, encodeMessage, parseTopic, topics, type MessageType, type Payload } from '@loaxa/shared';
import { AgentStateStore, RecentIds, DEFAULT_VOLUME } from './agent-state.js';
import { CommandDispatcher, type CommandTable } from './commands.js';
import type { AgentConfig } from './config.js';
import { MediaCache, basicAuth, type FetchLike } from './media-cache.js';
import type { Player } from './player.js';
import { Playout, type DeliveryReport } from './playout.js';
import { jitter, systemClock, type Clock } from './timing.js';
import { AGENT_VERSION } from './version.js';

export interface DeviceAgentDeps {
  config: AgentConfig;
  player: Player;
  logger: Logger;
  /** The device's clock (epoch ms); defaults to the system clock. */
  clock?: Clock;
  /** Used to download media; defaults to the global fetch. */
  fetch?: FetchLike;
}

export interface DeviceAgentEvents {
  /** Connected (again) and announced online. */
  connect: [];
  /** Lost the broker; mqtt.js reconnects by itself. */
  offline: [];
  /** A delivery transition, as reported to the server. */
  delivery: [DeliveryReport];
}

/** Commands remembered for the at-most-once check (a few days of traffic for one box). */
const RECENT_COMMANDS = 2_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;

export class DeviceAgent extends EventEmitter<DeviceAgentEvents> {
  private client: MqttClient | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private playout: Playout | null = null;
  private cache: MediaCache | null = null;
  private stateStore: AgentStateStore | null = null;
  private readonly recent = new RecentIds<string | null>(RECENT_COMMANDS);
  private currentVolume = DEFAULT_VOLUME;
  private startedAt = 0;
  private stopping = false;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: DeviceAgentDeps) {
    super();
    this.log = deps.logger.child({ module: 'agent', deviceId: deps.config.deviceId });
    this.clock = deps.clock ?? systemClock;
  }

  get deviceId(): string {
    return this.deps.config.deviceId;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get volume(): number {
    return this.currentVolume;
  }

  async start(): Promise<void> {
    if (this.client) throw new Error('agent already started');
    const { config } = this.deps;
    this.stopping = false;
    this.startedAt = performance.now();

    this.stateStore = new AgentStateStore({ dir: config.stateDir, logger: this.log });
    const saved = await this.stateStore.load();
    this.currentVolume = saved.volume;
    for (const id of saved.recentCommandIds) this.recent.set(id, null);

    this.cache = new MediaCache({
      dir: config.cacheDir,
      maxBytes: config.cacheMaxBytes,
      authorization: basicAuth(config.mqtt.username, config.mqtt.password),
      fetch: this.deps.fetch ?? globalThis.fetch,
      logger: this.log.child({ module: 'cache' }),
      downloadTimeoutMs: config.downloadTimeoutMs,
    });
    await this.cache.open();
    this.playout = new Playout({
      cache: this.cache,
      player: this.deps.player,
      clock: this.clock,
      logger: this.log.child({ module: 'playout' }),
      report: (r) => this.reportDelivery(r),
      volume: () => this.currentVolume,
      downloadRetryMs: config.downloadRetryMs,
    });
    const dispatcher = new CommandDispatcher({
      table: this.commandTable(),
      clock: this.clock,
      logger: this.log.child({ module: 'commands' }),
      answer: (body) => this.publishRaw(topics.deviceRes(config.deviceId), body, { qos: 1 }),
      recent: this.recent,
      onRecorded: () => void this.saveState(),
    });

    const client = connect(config.mqtt.url, this.mqttOptions());
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('offline', () => {
      // A new period per outage: boxes that lost the broker together do not come back in step.
      client.options.reconnectPeriod = jitter(config.reconnectMs, 0.5);
      this.log.warn({ retryInMs: client.options.reconnectPeriod }, 'broker connection lost; reconnecting');
      this.emit('offline');
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // A refused CONNECT (bad credentials, not authorized) will not fix itself quickly: back off longer.
      if (code === 4 || code === 5) client.options.reconnectPeriod = jitter(Math.min(config.reconnectMs * 12, 300_000), 0.5);
      this.log.error({ err: err.message, code }, 'mqtt error');
    });
    client.on('message', (topic, payload) => {
      if (this.stopping) return;
      const parsed = parseTopic(topic);
      if (parsed?.kind === 'server-status') return this.onServerStatus(payload);
      if (parsed?.kind === 'area' || (parsed?.kind === 'device' && parsed.channel === 'cmd' && parsed.deviceId === config.deviceId)) {
        void dispatcher.handle(payload, topic);
        return;
      }
      this.log.debug({ topic }, 'ignoring a message on an unexpected topic');
    });
    this.scheduleHeartbeat(this.deps.config.heartbeatMs * Math.random());
    this.log.info({ url: config.mqtt.url, areaCode: config.areaCode, version: AGENT_VERSION }, 'agent started');
  }

  /** Announces offline, leaves the broker and winds everything down within `timeoutMs`. */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const left = (): number => Math.max(0, deadline - Date.now());
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = null;
    await withTimeout(this.playout?.close() ?? Promise.resolve(), left() / 3);
    if (client.connected) {
      // A clean DISCONNECT discards the will [MQTT-3.14.4-3], so the offline status is published here.
      const body = this.envelope('status', { state: 'offline', agentVersion: AGENT_VERSION, areaCode: this.deps.config.areaCode });
      if (body) await withTimeout(client.publishAsync(topics.deviceStatus(this.deviceId), body, { qos: 1, retain: true }).catch(() => undefined), left() / 2);
    }
    const ended = await withTimeout(client.endAsync(false).then(() => true, () => false), left());
    if (!ended) await withTimeout(client.endAsync(true).catch(() => undefined), 200);
    await withTimeout(this.saveState().then(() => this.stateStore?.flush()), left() + 200);
    this.client = null;
    this.log.info('agent stopped');
  }

  private mqttOptions(): IClientOptions {
    const { config } = this.deps;
    const will = this.envelope('status', { state: 'offline', agentVersion: AGENT_VERSION, areaCode: config.areaCode });
    return {
      clientId: config.deviceId,
      username: config.mqtt.username,
      password: config.mqtt.password,
      protocolVersion: 4,
      // A persistent session keeps QoS 1 commands sent while the box was briefly away [MQTT-3.1.2-4].
      clean: false,
      keepalive: 60,
      connectTimeout: 30_000,
      reconnectPeriod: jitter(config.reconnectMs, 0.5),
      reconnectOnConnackError: true,
      resubscribe: false,
      ...(will ? { will: { topic: topics.deviceStatus(config.deviceId), payload: Buffer.from(will), qos: 1 as const, retain: true } } : {}),
    };
  }

  private onConnect(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    const { config } = this.deps;
    this.log.info('connected to the broker');
    const online = this.envelope('status', { state: 'online', agentVersion: AGENT_VERSION, areaCode: config.areaCode });
    if (online) this.publishRaw(topics.deviceStatus(config.deviceId), online, { qos: 1, retain: true });
    const areaTopics = [...new Set([config.areaCode, ...config.areaAncestors])].map((code) => topics.areaCmd(code));
    const wanted = [topics.deviceCmd(config.deviceId), ...areaTopics, topics.serverStatus()];
    client.subscribe(wanted, { qos: 1 }, (err, granted) => {
      if (err) return this.log.error({ err: err.message }, 'subscribe failed');
      // 0x80 in a SUBACK is a refusal [MQTT-3.9.3]; the broker's ACL did not allow that topic.
      for (const g of granted ?? []) if (g.qos === 128) this.log.error({ topic: g.topic }, 'broker refused a subscription');
      this.emit('connect');
    });
  }

  private onServerStatus(payload: Buffer): void {
    const decoded = decodeMessage(payload, ['status']);
    if (!decoded.ok) return void this.log.warn({ reason: decoded.error.message }, 'unreadable server status');
    this.log.info({ state: decoded.value.payload.state }, 'server status');
  }

  private commandTable(): CommandTable {
    return {
      play: (env) => ({ ok: true, data: this.playout!.submit(env.id, env.payload) }),
      stop: (env) => ({ ok: true, data: { stopped: this.playout!.stop(env.payload) } }),
      'set-volume': (env) => {
        this.currentVolume = env.payload.volume;
        void this.saveState();
        this.log.info({ volume: this.currentVolume }, 'volume set');
        return { ok: true, data: { volume: this.currentVolume } };
      },
      // The agenda (local schedule) arrives with the scheduling work.
      'sync-agenda': () => ({ ok: false, error: { code: ErrorCode.BAD_REQUEST, message: 'agenda sync arrives with scheduling' } }),
    };
  }

  private reportDelivery(r: DeliveryReport): void {
    this.log.info({ broadcastId: r.broadcastId, occurrenceAt: r.occurrenceAt, state: r.state, reason: r.reason }, 'delivery');
    const body = this.envelope('event', { kind: 'delivery', ...r, at: this.clock.now() });
    if (body) this.publishRaw(topics.deviceEvent(this.deviceId), body, { qos: 1 });
    this.emit('delivery', r);
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeat = setTimeout(() => {
      this.sendTelemetry();
      this.scheduleHeartbeat(jitter(this.deps.config.heartbeatMs, 0.1));
    }, delayMs);
  }

  private sendTelemetry(): void {
    // A heartbeat lost while offline is replaced by the next one; it is not queued.
    if (!this.client?.connected || this.stopping) return;
    const body = this.envelope('telemetry', {
      uptimeS: Math.floor((performance.now() - this.startedAt) / 1000),
      volume: this.currentVolume,
      cacheBytes: this.cache?.bytes ?? 0,
      cacheItems: this.cache?.items ?? 0,
      playing: this.playout?.playing ?? null,
      agentVersion: AGENT_VERSION,
    });
    if (body) this.publishRaw(topics.deviceTelemetry(this.deviceId), body, { qos: 0 });
  }

  /** Encodes through the shared schema; an invalid message is logged, never sent. */
  private envelope<T extends MessageType>(type: T, payload: Payload<T>): string | null {
    try {
      return encodeMessage(type, payload, { ts: this.clock.now() });
    } catch (err) {
      this.log.error({ err, type }, 'refusing to send an invalid message');
      return null;
    }
  }

  private publishRaw(topic: string, body: string, opts: { qos: 0 | 1; retain?: boolean }): void {
    this.client?.publish(topic, body, { qos: opts.qos, retain: opts.retain ?? false }, (err) => {
      if (err) this.log.warn({ topic, err: err.message }, 'publish failed');
    });
  }

  private saveState(): Promise<void> {
    if (!this.stateStore) return Promise.resolve();
    return this.stateStore.save(() => ({ v: 1, volume: this.currentVolume, recentCommandIds: this.recent.ids() }));
  }
}

/** Resolves with the promise's value, or `undefined` after `ms` (the promise keeps running). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * The composition root of the device agent: wires the MQTT link, the command table, the audio cache, the
 * playout, the hardware (mixer, amplifier, sense inputs, health readers) and the fault monitor. The
 * constructor only stores dependencies; `start()` and `stop()` do the work (STYLE.md 1).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ErrorCode, decodeMessage, encodeMessage, envelopeSchema, parseTopic, topics, type MessageType, type Payload } from '@loaxa/shared';
import { AgentStateStore, RecentIds, DEFAULT_VOLUME } from './agent-state.js';
import { ClockOffsetEstimator } from './clock-offset.js';
import { CommandDispatcher, type CommandTable } from './commands.js';
import type { AgentConfig } from './config.js';
import { applyOverrides, readOverrides, type ConfigChange, type ConfigOverrides } from './config-overrides.js';
import { FaultMonitor, buildFaultChecks, type FaultTransition } from './faults.js';
import { AmplifiedPlayer } from './hardware/amplifier.js';
import { createHardware, type Hardware } from './hardware/index.js';
import { collectHealth } from './health.js';
import { ModemRecovery, ReconnectPolicy } from './link.js';
import type { LogRing } from './log-ring.js';
import { MediaCache, basicAuth, type FetchLike } from './media-cache.js';
import { createPlayer, type Player } from './player.js';
import { Playout, type DeliveryReport } from './playout.js';
import { SHARED_HAS_HEALTH, telemetryWithHealthSchema, type TelemetryWithHealth } from './proposed-messages.js';
import { remoteCommandTable } from './remote-commands.js';
import { jitter, systemClock, type Clock } from './timing.js';
import { AGENT_VERSION } from './version.js';

export interface DeviceAgentDeps {
  config: AgentConfig;
  logger: Logger;
  /** Audio output; by default the one the config names (ffmpeg, aplay or null). */
  player?: Player;
  /** The board; by default the real one the config describes (a SimBoard's in the simulator). */
  hardware?: Hardware;
  /** The device's clock (epoch ms); defaults to the system clock. */
  clock?: Clock;
  /** Used to download media; defaults to the global fetch. */
  fetch?: FetchLike;
  /** Where recent log lines are kept for `fetch-logs`. */
  logs?: LogRing;
  /** Environment of the hardware tools (their PATH); defaults to the process's. */
  env?: NodeJS.ProcessEnv;
  /** Commands arriving this soon after a connect are not clock samples (they may have waited in the broker). */
  clockSampleSettleMs?: number;
}

export interface DeviceAgentEvents {
  /** Connected (again) and announced online. */
  connect: [];
  /** Lost the broker; the agent reconnects by itself. */
  offline: [];
  /** A delivery transition, as reported to the server. */
  delivery: [DeliveryReport];
  /** A fault started or ended, as reported to the server. */
  fault: [FaultTransition];
  /**
   * The server asked for a restart (or a setting needs one). With a listener (main.ts) the process exits
   * and systemd starts it again; without one the agent restarts in place.
   */
  'restart-requested': [string];
}

/** Commands remembered for the at-most-once check (a few days of traffic for one box). */
const RECENT_COMMANDS = 2_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** Messages arriving this soon after a connect may have waited in the broker: not clock samples. */
const CLOCK_SAMPLE_SETTLE_MS = 5_000;
/** Slow fault checks (tools, statfs) run once per this many polls. */
const SLOW_CHECK_EVERY = 6;

export class DeviceAgent extends EventEmitter<DeviceAgentEvents> {
  private client: MqttClient | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private playout: Playout | null = null;
  private cache: MediaCache | null = null;
  private stateStore: AgentStateStore | null = null;
  private faults: FaultMonitor | null = null;
  private hardware: Hardware | null = null;
  private amplified: AmplifiedPlayer | null = null;
  private policy: ReconnectPolicy | null = null;
  private recovery: ModemRecovery | null = null;
  private readonly recent = new RecentIds<string | null>(RECENT_COMMANDS);
  /** Faults whose current start was published (sent, or queued by mqtt.js) by this process. */
  private readonly announced = new Set<string>();
  private readonly offset = new ClockOffsetEstimator();
  private currentVolume = DEFAULT_VOLUME;
  private config: AgentConfig;
  private overrides: ConfigOverrides = {};
  private startedAt = 0;
  private connectedAt = 0;
  private linkFailures = 0;
  /** Failed connection attempts since the last successful connect. */
  private failedAttempts = 0;
  private wasConnected = false;
  private stopping = false;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: DeviceAgentDeps) {
    super();
    this.config = deps.config;
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

  /** The configuration in force (the installer's plus remote overrides). */
  get effectiveConfig(): AgentConfig {
    return this.config;
  }

  /** Server minus device clock, estimated from commands; null before the first sample. */
  get clockOffsetMs(): number | null {
    return this.offset.offsetMs;
  }

  /** Faults active right now. */
  get activeFaults(): FaultTransition[] {
    return (this.faults?.active() ?? []).map((f) => ({ fault: f.fault, active: true, at: f.since, ...(f.detail ? { detail: f.detail } : {}) }));
  }

  /** Runs one round of every fault check now (tests, and after a command that changes the hardware). */
  async checkFaults(): Promise<void> {
    await this.faults?.poll(true);
  }

  async start(): Promise<void> {
    if (this.client) throw new Error('agent already started');
    this.stopping = false;
    this.startedAt = performance.now();
    const loaded = await readOverrides(this.deps.config.stateDir);
    if (loaded.error) this.log.error({ err: loaded.error }, 'ignoring an unreadable config-overrides.json');
    this.overrides = loaded.overrides;
    this.config = applyOverrides(this.deps.config, this.overrides);
    const config = this.config;

    this.stateStore = new AgentStateStore({ dir: config.stateDir, logger: this.log });
    const saved = await this.stateStore.load();
    this.currentVolume = saved.volume;
    for (const id of saved.recentCommandIds) this.recent.set(id, null);

    const hw = (this.hardware = this.deps.hardware ?? createHardware(config, this.deps.env ? { env: this.deps.env } : {}));
    await hw.mixer.setVolume(this.currentVolume).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'cannot set the mixer volume'));
    this.amplified = new AmplifiedPlayer(this.deps.player ?? createPlayer(config), hw.amplifier, { holdMs: config.ampHoldMs, logger: this.log.child({ module: 'amplifier' }) });

    this.cache = new MediaCache({
      dir: config.cacheDir,
      maxBytes: config.cacheMaxBytes,
      authorization: basicAuth(config.mqtt.username, config.mqtt.password),
      fetch: this.deps.fetch ?? globalThis.fetch,
      logger: this.log.child({ module: 'cache' }),
      downloadTimeoutMs: () => this.config.downloadTimeoutMs,
      freeBytes: async () => (await hw.system.disk())?.freeBytes ?? null,
    });
    await this.cache.open();
    this.playout = new Playout({
      cache: this.cache,
      player: this.amplified,
      clock: this.clock,
      logger: this.log.child({ module: 'playout' }),
      report: (r) => this.reportDelivery(r),
      volume: () => this.playerVolume(this.currentVolume),
      downloadRetryMs: () => this.config.downloadRetryMs,
    });
    this.faults = new FaultMonitor({
      checks: buildFaultChecks({ hardware: hw, config: () => this.config, uptimeMs: () => performance.now() - this.startedAt, clockOffsetMs: () => this.offset.offsetMs }),
      pollMs: config.faultPollMs,
      debounce: config.faultDebounce,
      slowEvery: SLOW_CHECK_EVERY,
      clock: this.clock,
      logger: this.log.child({ module: 'faults' }),
      onChange: (t) => this.reportFault(t),
      initial: saved.activeFaults,
    });
    const dispatcher = new CommandDispatcher({
      table: this.commandTable(),
      proposed: remoteCommandTable({
        baseConfig: this.deps.config,
        config: () => this.config,
        overrides: () => this.overrides,
        volume: () => this.currentVolume,
        playTone: (file, durationMs, volume) => this.playout!.playLocal('test-tone', file, durationMs, this.playerVolume(volume)),
        logs: this.deps.logs,
        requestRestart: (reason, delayMs) => this.requestRestart(reason, delayMs),
        applyConfig: (change) => this.applyConfig(change),
        logger: this.log.child({ module: 'commands' }),
      }),
      clock: this.clock,
      logger: this.log.child({ module: 'commands' }),
      answer: (body) => this.publishRaw(topics.deviceRes(config.deviceId), body, { qos: 1 }),
      recent: this.recent,
      onRecorded: () => void this.saveState(),
    });

    this.policy = new ReconnectPolicy({ baseMs: config.reconnectMs, maxMs: config.reconnectMaxMs });
    this.recovery = new ModemRecovery({
      command: config.modemRecoveryCommand,
      afterFailures: config.modemRecoveryAfterFailures,
      intervalMs: config.modemRecoveryIntervalMs,
      runner: hw.runner,
      logger: this.log.child({ module: 'link' }),
    });
    this.wasConnected = false;
    this.announced.clear();
    const client = connect(config.mqtt.url, this.mqttOptions());
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose(client));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // A refused CONNECT (bad credentials, not authorized) will not fix itself quickly: back off longer.
      if (code === 4 || code === 5) this.policy?.refused();
      // Socket errors (ECONNREFUSED, ETIMEDOUT…) recur on every attempt during an outage; the reconnect
      // line already says so, so they stay out of the error level.
      this.log[typeof code === 'string' ? 'debug' : 'error']({ err: err.message, code }, 'mqtt error');
    });
    client.on('message', (topic, payload, packet) => {
      if (this.stopping) return;
      const parsed = parseTopic(topic);
      if (parsed?.kind === 'server-status') return this.onServerStatus(payload);
      if (parsed?.kind === 'area' || (parsed?.kind === 'device' && parsed.channel === 'cmd' && parsed.deviceId === config.deviceId)) {
        if (!packet.retain) this.sampleClock(payload);
        void dispatcher.handle(payload, topic);
        return;
      }
      this.log.debug({ topic }, 'ignoring a message on an unexpected topic');
    });
    this.faults.start();
    this.scheduleHeartbeat(config.heartbeatMs * Math.random());
    this.log.info({ url: config.mqtt.url, areaCode: config.areaCode, version: AGENT_VERSION }, 'agent started');
  }

  /**
   * Announces offline, leaves the broker and winds everything down within `timeoutMs`. `abrupt` drops the
   * connection without a word, like a power cut (the broker then publishes the will).
   */
  async stop(opts: { timeoutMs?: number; abrupt?: boolean } = {}): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const left = (): number => Math.max(0, deadline - Date.now());
    for (const t of [this.heartbeat, this.reconnectTimer, this.restartTimer]) if (t) clearTimeout(t);
    this.heartbeat = this.reconnectTimer = this.restartTimer = null;
    await withTimeout(this.faults?.stop() ?? Promise.resolve(), left() / 4);
    await withTimeout(this.playout?.close() ?? Promise.resolve(), left() / 3);
    await withTimeout(this.amplified?.shutdown() ?? Promise.resolve(), left() / 3);
    if (opts.abrupt) {
      client.end(true);
    } else if (client.connected) {
      // A clean DISCONNECT discards the will [MQTT-3.14.4-3], so the offline status is published here.
      const body = this.envelope('status', { state: 'offline', agentVersion: AGENT_VERSION, areaCode: this.config.areaCode });
      if (body) await withTimeout(client.publishAsync(topics.deviceStatus(this.deviceId), body, { qos: 1, retain: true }).catch(() => undefined), left() / 2);
    }
    if (!opts.abrupt) {
      const ended = await withTimeout(client.endAsync(false).then(() => true, () => false), left());
      if (!ended) await withTimeout(client.endAsync(true).catch(() => undefined), 200);
    }
    await withTimeout(this.saveState().then(() => this.stateStore?.flush()), left() + 200);
    if (!this.deps.hardware) await withTimeout(this.hardware?.close() ?? Promise.resolve(), 1_000);
    this.client = null;
    this.log.info('agent stopped');
  }

  private mqttOptions(): IClientOptions {
    const { config } = this;
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
      // Reconnects are ours (onClose): mqtt.js's fixed interval cannot back off.
      reconnectPeriod: 0,
      resubscribe: false,
      ...(will ? { will: { topic: topics.deviceStatus(config.deviceId), payload: Buffer.from(will), qos: 1 as const, retain: true } } : {}),
    };
  }

  private onConnect(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    const { config } = this;
    this.policy?.connected();
    this.failedAttempts = 0;
    this.wasConnected = true;
    this.connectedAt = performance.now();
    this.log.info('connected to the broker');
    const online = this.envelope('status', { state: 'online', agentVersion: AGENT_VERSION, areaCode: config.areaCode });
    if (online) this.publishRaw(topics.deviceStatus(config.deviceId), online, { qos: 1, retain: true });
    // Faults carried over from before a restart are announced again: their start, queued in memory by the
    // previous process, may never have left the box. The server takes a repeated start as the same fault.
    for (const f of this.activeFaults) if (!this.announced.has(f.fault)) this.publishFault(f);
    const areaTopics = [...new Set([config.areaCode, ...config.areaAncestors])].map((code) => topics.areaCmd(code));
    const wanted = [topics.deviceCmd(config.deviceId), ...areaTopics, topics.serverStatus()];
    client.subscribe(wanted, { qos: 1 }, (err, granted) => {
      if (err) return this.log.error({ err: err.message }, 'subscribe failed');
      // 0x80 in a SUBACK is a refusal [MQTT-3.9.3]; the broker's ACL did not allow that topic.
      for (const g of granted ?? []) if (g.qos === 128) this.log.error({ topic: g.topic }, 'broker refused a subscription');
      this.emit('connect');
    });
  }

  /** The connection closed (lost, or an attempt failed): wait per the policy, then try again. */
  private onClose(client: MqttClient): void {
    if (this.stopping || this.client !== client || this.reconnectTimer) return;
    const policy = this.policy!;
    if (this.wasConnected) {
      this.wasConnected = false;
      this.emit('offline');
    } else {
      this.linkFailures += 1;
      this.failedAttempts += 1;
    }
    const delay = policy.nextDelay();
    this.log.warn({ retryInMs: delay, failedAttempts: this.failedAttempts }, 'broker connection lost; reconnecting');
    void this.recovery?.onFailure(this.failedAttempts);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || this.client !== client) return;
      // The same stores: QoS 1 events queued while offline are sent after the reconnect.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  get modemRecoveries(): number {
    return this.recovery?.runs ?? 0;
  }

  private onServerStatus(payload: Buffer): void {
    const decoded = decodeMessage(payload, ['status']);
    if (!decoded.ok) return void this.log.warn({ reason: decoded.error.message }, 'unreadable server status');
    this.log.info({ state: decoded.value.payload.state }, 'server status');
  }

  private sampleClock(payload: Buffer): void {
    if (performance.now() - this.connectedAt < (this.deps.clockSampleSettleMs ?? CLOCK_SAMPLE_SETTLE_MS)) return;
    try {
      const env = envelopeSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (env.success) this.offset.sample(env.data.ts, this.clock.now());
    } catch {
      // Unreadable commands are answered by the dispatcher.
    }
  }

  private commandTable(): CommandTable {
    return {
      play: (env) => ({ ok: true, data: this.playout!.submit(env.id, env.payload) }),
      stop: (env) => ({ ok: true, data: { stopped: this.playout!.stop(env.payload) } }),
      'set-volume': async (env) => {
        try {
          await this.hardware!.mixer.setVolume(env.payload.volume);
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'cannot set the mixer volume');
          return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: (err as Error).message } };
        }
        this.currentVolume = env.payload.volume;
        void this.saveState();
        this.log.info({ volume: this.currentVolume }, 'volume set');
        return { ok: true, data: { volume: this.currentVolume } };
      },
      // The agenda (local schedule) arrives with the scheduling work.
      'sync-agenda': () => ({ ok: false, error: { code: ErrorCode.BAD_REQUEST, message: 'agenda sync arrives with scheduling' } }),
    };
  }

  /** The level the player applies: the volume itself, or full scale when the hardware mixer sets it. */
  private playerVolume(volume: number): number {
    if (this.hardware?.mixer.software !== false) return volume;
    return Math.min(100, Math.round((100 * volume) / Math.max(1, this.currentVolume)));
  }

  private applyConfig(change: ConfigChange): void {
    this.overrides = change.overrides;
    this.config = change.config;
    if (change.changed.includes('heartbeatMs') && this.heartbeat) {
      clearTimeout(this.heartbeat);
      this.scheduleHeartbeat(jitter(this.config.heartbeatMs, 0.1));
    }
    if (change.restart) this.requestRestart(`settings changed: ${change.changed.join(', ')}`, 1_000);
  }

  private requestRestart(reason: string, delayMs: number): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.log.warn({ reason, delayMs }, 'restarting');
    // The delay lets the answer leave before the connection closes.
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.listenerCount('restart-requested') > 0) return void this.emit('restart-requested', reason);
      void this.stop()
        .then(() => this.start())
        .catch((err: unknown) => this.log.error({ err }, 'restart failed'));
    }, delayMs);
  }

  private reportDelivery(r: DeliveryReport): void {
    this.log.info({ broadcastId: r.broadcastId, occurrenceAt: r.occurrenceAt, state: r.state, reason: r.reason }, 'delivery');
    const body = this.envelope('event', { kind: 'delivery', ...r, at: this.clock.now() });
    if (body) this.publishRaw(topics.deviceEvent(this.deviceId), body, { qos: 1 });
    this.emit('delivery', r);
  }

  private reportFault(t: FaultTransition): void {
    void this.saveState();
    this.publishFault(t);
    this.emit('fault', t);
  }

  /** QoS 1; while offline mqtt.js queues it and sends it after the reconnect. */
  private publishFault(t: FaultTransition): void {
    if (t.active) this.announced.add(t.fault);
    else this.announced.delete(t.fault);
    const body = this.envelope('event', { kind: 'fault', fault: t.fault, active: t.active, at: t.at, ...(t.detail ? { detail: t.detail.slice(0, 500) } : {}) });
    if (body) this.publishRaw(topics.deviceEvent(this.deviceId), body, { qos: 1 });
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeat = setTimeout(() => {
      void this.sendTelemetry().finally(() => {
        if (!this.stopping && this.heartbeat) this.scheduleHeartbeat(jitter(this.config.heartbeatMs, 0.1));
      });
    }, delayMs);
  }

  private async sendTelemetry(): Promise<void> {
    // A heartbeat lost while offline is replaced by the next one; it is not queued.
    if (!this.client?.connected || this.stopping || !this.hardware) return;
    const health = await collectHealth(this.hardware, {
      faults: this.activeFaults.map((f) => f.fault),
      linkFailures: this.linkFailures,
      modemRecoveries: this.modemRecoveries,
    });
    const payload: TelemetryWithHealth = {
      uptimeS: Math.floor((performance.now() - this.startedAt) / 1000),
      volume: this.currentVolume,
      cacheBytes: this.cache?.bytes ?? 0,
      cacheItems: this.cache?.items ?? 0,
      playing: this.playout?.playing ?? null,
      agentVersion: AGENT_VERSION,
      health,
    };
    const offset = this.offset.offsetMs;
    if (offset !== null) payload.clockOffsetMs = offset;
    const body = this.telemetryBody(payload);
    if (body && this.client?.connected) this.publishRaw(topics.deviceTelemetry(this.deviceId), body, { qos: 0 });
  }

  /** Through the shared schema once it has the health block; until then through the proposed one. */
  private telemetryBody(payload: TelemetryWithHealth): string | null {
    if (SHARED_HAS_HEALTH) return this.envelope('telemetry', payload);
    const parsed = telemetryWithHealthSchema.safeParse(payload);
    if (!parsed.success) {
      this.log.error({ err: parsed.error.message }, 'refusing to send invalid telemetry');
      return null;
    }
    return JSON.stringify({ v: 1, id: randomUUID(), type: 'telemetry', ts: this.clock.now(), payload: parsed.data });
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
    return this.stateStore.save(() => ({
      v: 1,
      volume: this.currentVolume,
      recentCommandIds: this.recent.ids(),
      activeFaults: (this.faults?.active() ?? []).map((f) => ({ fault: f.fault, since: f.since, ...(f.detail ? { detail: f.detail.slice(0, 500) } : {}) })),
    }));
  }
}

/** Resolves with the promise's value, or `undefined` after `ms` (the promise keeps running). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

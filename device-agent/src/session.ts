/**
 * The agent's MQTT session: connect with a persistent session and a last will, announce online, subscribe
 * to the device's own `cmd`, its area's and ancestors' `a/{code}/cmd` and `server/status`, and reconnect
 * after a loss with jittered exponential backoff (link.ts), running the modem recovery command after
 * repeated failures. Commands are handed to `onCommand`; their timestamps feed the clock offset estimate.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { decodeMessage, envelopeSchema, topics, type HeldAgenda } from '@loaxa/shared';
import type { ClockOffsetEstimator } from './clock-offset.js';
import type { AgentConfig } from './config.js';
import type { CommandRunner } from './hardware/command.js';
import { ModemRecovery, ReconnectPolicy } from './link.js';
import { connectOptions, inboundKind, refusedTopics, statusMessage, subscriptionTopics } from './protocol/session.js';
import type { Clock } from './timing.js';
import { AGENT_VERSION } from './version.js';

/** Messages arriving this soon after a connect may have waited in the broker: not clock samples. */
const CLOCK_SAMPLE_SETTLE_MS = 5_000;
const KEEPALIVE_S = 60;
const CONNECT_TIMEOUT_MS = 30_000;

export interface SessionDeps {
  config: AgentConfig;
  runner: CommandRunner;
  clock: Clock;
  logger: Logger;
  offset: ClockOffsetEstimator;
  clockSampleSettleMs?: number | undefined;
  /** Connected, announced online and subscribed. */
  onConnected: () => void;
  /** The connection was lost; the session reconnects by itself. */
  onOffline: () => void;
  /** A command from the device's own topic or an area topic. */
  onCommand: (payload: Buffer, topic: string) => void;
  /**
   * The agenda held now (null: none; undefined: not known), reported in every `online` status so that the
   * server resends it only when it differs from the one last sent (issue 8: a reconnect storm of boxes that
   * are up to date).
   */
  heldAgenda?: (() => HeldAgenda | null | undefined) | undefined;
}

export class Session {
  private client: MqttClient | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly policy: ReconnectPolicy;
  private readonly recovery: ModemRecovery;
  private connectedAt = 0;
  private wasConnected = false;
  private stopping = false;
  /** Connection attempts that failed since the agent started, and since the last success. */
  linkFailures = 0;
  private failedAttempts = 0;

  constructor(private readonly deps: SessionDeps) {
    const { config } = deps;
    this.policy = new ReconnectPolicy({ baseMs: config.reconnectMs, maxMs: config.reconnectMaxMs });
    this.recovery = new ModemRecovery({
      command: config.modemRecoveryCommand,
      afterFailures: config.modemRecoveryAfterFailures,
      intervalMs: config.modemRecoveryIntervalMs,
      runner: deps.runner,
      logger: deps.logger,
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get modemRecoveries(): number {
    return this.recovery.runs;
  }

  start(): void {
    if (this.client) throw new Error('session already started');
    const { config, logger } = this.deps;
    const client = connect(config.mqtt.url, this.options());
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose(client));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // A refused CONNECT (bad credentials, not authorized) will not fix itself quickly: back off longer.
      if (code === 4 || code === 5) this.policy.refused();
      // Socket errors (ECONNREFUSED, ETIMEDOUT…) recur on every attempt during an outage; the reconnect
      // line already says so, so they stay out of the error level.
      logger[typeof code === 'string' ? 'debug' : 'error']({ err: err.message, code }, 'mqtt error');
    });
    client.on('message', (topic, payload, packet) => {
      if (this.stopping) return;
      const kind = inboundKind(topic, config.deviceId);
      if (kind === 'server-status') return this.onServerStatus(payload);
      if (kind !== null) {
        if (!packet.retain) this.sampleClock(payload);
        this.deps.onCommand(payload, topic);
        return;
      }
      logger.debug({ topic }, 'ignoring a message on an unexpected topic');
    });
  }

  /**
   * Leaves the broker within `timeoutMs`: announces offline and disconnects cleanly, or (`abrupt`) drops
   * the socket without a word, like a power cut (the broker then publishes the will).
   */
  async stop(opts: { timeoutMs: number; abrupt?: boolean | undefined }): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const deadline = Date.now() + opts.timeoutMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    if (opts.abrupt || !client.connected) {
      // Nothing to say goodbye to (or a power cut): QoS 1 reports still unacknowledged are on disk.
      client.end(true);
      return;
    }
    // A clean DISCONNECT discards the will [MQTT-3.14.4-3], so the offline status is published here.
    await withTimeout(client.publishAsync(topics.deviceStatus(this.deps.config.deviceId), this.status('offline'), { qos: 1, retain: true }).catch(() => undefined), left() / 2);
    const ended = await withTimeout(client.endAsync(false).then(() => true, () => false), left());
    if (!ended) await withTimeout(client.endAsync(true).catch(() => undefined), 200);
  }

  /** Publishes now, or (QoS 1) when the link is back; failures are logged. */
  publish(topic: string, body: string, opts: { qos: 0 | 1; retain?: boolean }): void {
    this.client?.publish(topic, body, { qos: opts.qos, retain: opts.retain ?? false }, (err) => {
      if (err) this.deps.logger.warn({ topic, err: err.message }, 'publish failed');
    });
  }

  /** QoS 1; resolves on the broker's acknowledgement. */
  async publishAcked(topic: string, body: string): Promise<void> {
    if (!this.client) throw new Error('not started');
    await this.client.publishAsync(topic, body, { qos: 1, retain: false });
  }

  private status(state: 'online' | 'offline'): string {
    const { config, heldAgenda } = this.deps;
    return statusMessage(state, { agentVersion: AGENT_VERSION, areaCode: config.areaCode, heldAgenda }, this.deps.clock.now());
  }

  private options(): IClientOptions {
    const { config } = this.deps;
    return connectOptions({
      deviceId: config.deviceId,
      username: config.mqtt.username,
      password: config.mqtt.password,
      keepaliveSeconds: KEEPALIVE_S,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      will: this.status('offline'),
      retainStatus: true,
      brokerUrls: [config.mqtt.url, ...config.mqtt.failoverUrls],
    });
  }

  private onConnect(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    const { config, logger } = this.deps;
    this.policy.connected();
    this.failedAttempts = 0;
    this.wasConnected = true;
    this.connectedAt = performance.now();
    logger.info('connected to the broker');
    this.publish(topics.deviceStatus(config.deviceId), this.status('online'), { qos: 1, retain: true });
    const wanted = subscriptionTopics({ deviceId: config.deviceId, areaCode: config.areaCode, areaAncestors: config.areaAncestors });
    client.subscribe(wanted, { qos: 1 }, (err, granted) => {
      if (err) return logger.error({ err: err.message }, 'subscribe failed');
      for (const topic of refusedTopics(granted)) logger.error({ topic }, 'broker refused a subscription');
      this.deps.onConnected();
    });
  }

  /** The connection closed (lost, or an attempt failed): wait per the policy, then try again. */
  private onClose(client: MqttClient): void {
    if (this.stopping || this.client !== client || this.reconnectTimer) return;
    if (this.wasConnected) {
      this.wasConnected = false;
      this.deps.onOffline();
    } else {
      this.linkFailures += 1;
      this.failedAttempts += 1;
    }
    const delay = this.policy.nextDelay();
    this.deps.logger.warn({ retryInMs: delay, failedAttempts: this.failedAttempts }, 'broker connection lost; reconnecting');
    void this.recovery.onFailure(this.failedAttempts);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || this.client !== client) return;
      // The same stores: QoS 1 messages queued while offline are sent after the reconnect.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  private onServerStatus(payload: Buffer): void {
    const decoded = decodeMessage(payload, ['status']);
    if (!decoded.ok) return void this.deps.logger.warn({ reason: decoded.error.message }, 'unreadable server status');
    this.deps.logger.info({ state: decoded.value.payload.state }, 'server status');
  }

  private sampleClock(payload: Buffer): void {
    if (performance.now() - this.connectedAt < (this.deps.clockSampleSettleMs ?? CLOCK_SAMPLE_SETTLE_MS)) return;
    try {
      const env = envelopeSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (env.success) this.deps.offset.sample(env.data.ts, this.deps.clock.now());
    } catch {
      // Unreadable commands are answered by the dispatcher.
    }
  }
}

/** Resolves with the promise's value, or `undefined` after `ms` (the promise keeps running). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * An external MQTT broker (LOAXA_MQTT_URL) behind the same `Broker` interface (bus.ts) as the embedded aedes: one mqtt.js
 * client with its own login, clean session, QoS 1, jittered reconnects that resubscribe, and a retained
 * last will that marks the server `offline` when its connection dies (issue 8 § External broker path).
 * Device identities and ACLs reach such a broker in its own way: `mosquitto-dynsec.ts` or `mosquitto-files.ts`
 * (issue 21) for Mosquitto, `routes/broker-auth.ts` for brokers with HTTP auth (EMQX and others),
 * `routes/broker-auth-rabbitmq.ts` for a RabbitMQ cluster, whose other nodes are `failoverUrls` (issue 21).
 * Over 300 lines because the connection's life (connect, wait, jittered reconnect, resubscribe, last will)
 * is one state machine, best read whole.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeMessage, topics } from '@loaxa/shared';
import type { MessageHandler, PublishOptions } from './bus.js';
import type { Broker } from './broker.js';
import type { BrokerIdentities } from './identities.js';
import { MosquittoDynsec } from './mosquitto-dynsec.js';
import type { MosquittoFiles } from './mosquitto-files.js';

export interface ExternalBrokerOptions {
  /** mqtt://, mqtts:// or tcp:// URL of the broker. */
  url: string;
  /**
   * Other nodes of the same cluster (LOAXA_MQTT_FAILOVER_URLS): each reconnect tries the next URL in turn,
   * `url` first (mqtt.js `servers`), so a dead node costs one reconnect delay (issue 21).
   */
  failoverUrls?: readonly string[] | undefined;
  /** The server's own login at the broker (LOAXA_MQTT_USERNAME / LOAXA_MQTT_PASSWORD). */
  username?: string | undefined;
  password?: string | undefined;
  /** Sent in the retained `server/status` messages (the last will and the `online` after a reconnect). */
  serverVersion: string;
  logger: Logger;
  /** start() gives up after this long without a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** A publish not acknowledged within this long is reported failed (default 10 s); it may still arrive. */
  publishTimeoutMs?: number;
  /** stop() waits this long for in-flight messages before closing the socket (default 2 s). */
  stopTimeoutMs?: number;
  /** Reconnect delays grow from `minMs` to `maxMs`, each drawn with jitter (default 500 ms … 30 s). */
  reconnect?: { minMs: number; maxMs: number };
  keepaliveSeconds?: number;
  /** Mosquitto's dynamic-security plugin manages device identities (LOAXA_MQTT_DYNSEC). */
  dynamicSecurity?: boolean | { requestTimeoutMs?: number };
  /**
   * Mosquitto's password and ACL files, written by the server (LOAXA_MOSQUITTO_PASSWORD_FILE, issue 21): written
   * and taken by the broker before the server logs in, since the server's own login is in them.
   */
  mosquittoFiles?: MosquittoFiles;
  /** Client id prefix; a random suffix keeps two server processes from taking over each other's session. */
  clientIdPrefix?: string;
}

// CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2-3]: 4 = bad user name or password, 5 = not authorized.
const REFUSED_CREDENTIALS = new Set([4, 5]);

/** Whether a concrete topic matches a subscription filter (MQTT 3.1.1 § 4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  // Wildcards at the first level never match `$`-topics [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed,
 * half random), so a fleet of server replicas does not hammer a restarted broker in lockstep.
 */
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

interface Waiter {
  after: number;
  /** start(): a refused login fails at once instead of at the deadline. */
  failOnRefusal: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class ExternalBroker implements Broker {
  /** Present when the dynamic-security plugin manages device identities. */
  readonly dynsec: MosquittoDynsec | null;
  readonly mosquittoFiles: MosquittoFiles | null;
  private client: MqttClient | null = null;
  private readonly subscriptions = new Map<string, Set<MessageHandler>>();
  private readonly waiters = new Set<Waiter>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** Counts connections; `ready` is the last one whose subscriptions are in place (waiters compare with it). */
  private generation = 0;
  private ready = 0;
  private everConnected = false;
  private stopping = false;
  private lastError: Error | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: ExternalBrokerOptions) {
    this.log = opts.logger;
    const dyn = opts.dynamicSecurity;
    this.dynsec = dyn
      ? new MosquittoDynsec({
          bus: this,
          logger: opts.logger.child({ module: 'dynsec' }),
          requestTimeoutMs: typeof dyn === 'object' ? dyn.requestTimeoutMs : undefined,
          nextConnection: (timeoutMs) => this.nextConnection(timeoutMs),
        })
      : null;
    this.mosquittoFiles = opts.mosquittoFiles ?? null;
    if (this.dynsec && this.mosquittoFiles) throw new Error('dynamic security and the Mosquitto files exclude each other');
  }

  /** Whichever keeps the boxes' identities at this broker, if either. */
  get deviceIdentities(): BrokerIdentities | null {
    return this.dynsec ?? this.mosquittoFiles;
  }

  health(): { up: boolean; deviceConnections: null } {
    return { up: this.connected, deviceConnections: null };
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects (bounded by connectTimeoutMs); with dynsec, also makes sure the server may publish its topics. */
  async start(): Promise<{ port: number }> {
    if (this.client) throw new Error('external broker already started');
    const url = new URL(this.opts.url);
    this.stopping = false;
    this.everConnected = false;
    const since = this.ready;
    // The server's own login is one of the files' lines: the broker must have them before it can log in.
    await this.mosquittoFiles?.start(this.opts.connectTimeoutMs ?? 10_000);
    const clientOpts: IClientOptions = {
      clientId: `${this.opts.clientIdPrefix ?? 'loaxa-server'}-${randomBytes(6).toString('hex')}`,
      protocolVersion: 4,
      clean: true,
      // Reconnects are ours (jittered); mqtt.js's own would retry at a fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: Math.min(this.opts.connectTimeoutMs ?? 10_000, 30_000),
      keepalive: this.opts.keepaliveSeconds ?? 30,
      will: {
        topic: topics.serverStatus(),
        payload: Buffer.from(encodeMessage('status', { state: 'offline', agentVersion: this.opts.serverVersion })),
        qos: 1,
        retain: true,
      },
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      ...(this.opts.failoverUrls?.length ? { servers: brokerServers([this.opts.url, ...this.opts.failoverUrls]) } : {}),
    };
    const client = mqtt.connect(this.opts.url, clientOpts);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    try {
      await this.waitConnection(since, this.opts.connectTimeoutMs ?? 10_000, true);
      if (this.dynsec) await this.dynsec.start(this.opts.username);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ url: redact(url), clientId: clientOpts.clientId, dynsec: !!this.dynsec, mosquittoFiles: !!this.mosquittoFiles }, 'connected to the external MQTT broker');
    const port = url.port ? Number(url.port) : url.protocol === 'mqtts:' ? 8883 : 1883;
    return { port };
  }

  publish(topic: string, payload: string, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return Promise.reject(new Error('external broker not started'));
    const timeoutMs = this.opts.publishTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      // While disconnected mqtt.js queues the message and sends it on reconnect; the caller learns of
      // the delay through the timeout instead of waiting without bound.
      const timer = setTimeout(() => reject(new Error(`publish to ${topic} not acknowledged within ${timeoutMs} ms`)), timeoutMs);
      client.publish(topic, payload, { qos: opts.qos, retain: opts.retain }, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async subscribe(pattern: string, handler: MessageHandler): Promise<void> {
    if (!this.client || this.stopping) throw new Error('external broker not started');
    let handlers = this.subscriptions.get(pattern);
    const fresh = !handlers;
    if (!handlers) {
      handlers = new Set();
      this.subscriptions.set(pattern, handlers);
    }
    handlers.add(handler);
    // Not connected: the next connection subscribes every registered pattern.
    if (fresh && this.client.connected) await this.subscribeAtBroker([pattern]);
  }

  /**
   * Disconnects a device's live session. With Mosquitto's dynamic-security plugin this kicks it (the
   * plugin has no kick command in 2.0: disabling and re-enabling the client kicks every connection of it);
   * other brokers need their own admin API, so this only says so.
   */
  disconnect(deviceId: string): void {
    if (this.mosquittoFiles) {
      // 2.0 has no way to cut a client off but a plugin; a reload of the files cuts off a box whose line went
      // (revoked) or changed (a claim's new secret): security_default.c mosquitto_security_apply_default.
      // Logged, not warned: the revoke and claim routes call this right after the reload has cut the box off.
      this.log.info({ deviceId }, 'Mosquitto with password files cannot disconnect a box on demand; its revocation or new secret did, at the reload');
      return;
    }
    if (!this.dynsec) {
      this.log.warn({ deviceId }, 'cannot disconnect a device on this external broker (no dynamic-security plugin); revoke it at the broker');
      return;
    }
    this.dynsec.kick(deviceId).catch((err: unknown) => this.log.error({ err, deviceId }, 'kicking the device through dynamic security failed'));
  }

  /** Bounded: waits stopTimeoutMs for in-flight messages, then closes the socket. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const w of [...this.waiters]) this.settle(w, new Error('external broker stopped'));
    this.dynsec?.stop();
    this.mosquittoFiles?.stop();
    const client = this.client;
    this.client = null;
    if (!client) return;
    const limit = this.opts.stopTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    // A clean DISCONNECT: the broker discards the last will [MQTT-3.1.2-10]; app.ts publishes `offline` first.
    const graceful = client.endAsync(false).then(() => true, () => false);
    const ended = await Promise.race([graceful, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), limit)))]);
    clearTimeout(timer);
    if (!ended) await client.endAsync(true).catch(() => undefined);
    client.removeAllListeners();
    client.on('error', () => undefined);
  }

  /** Resolves at the first connection made after this call (the dynsec plugin kicks a client whose roles change). */
  nextConnection(timeoutMs: number): Promise<void> {
    return this.waitConnection(this.ready, timeoutMs, false);
  }

  private waitConnection(after: number, timeoutMs: number, failOnRefusal: boolean): Promise<void> {
    if (this.ready > after) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        after,
        failOnRefusal,
        resolve,
        reject,
        timer: setTimeout(() => {
          const why = this.lastError ? `: ${this.lastError.message}` : '';
          this.settle(waiter, new Error(`no connection to the MQTT broker at ${redact(new URL(this.opts.url))} within ${timeoutMs} ms${why}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private settle(w: Waiter, err?: Error): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }

  private onConnect(): void {
    this.generation++;
    this.attempt = 0;
    this.lastError = null;
    const generation = this.generation;
    const reconnect = this.everConnected;
    this.everConnected = true;
    if (reconnect) this.log.info({ generation }, 'reconnected to the external MQTT broker');
    // A clean session forgets subscriptions, and the broker may have published our last will meanwhile.
    // Waiters wake only once the subscriptions are back, so a request sent then gets its answer.
    const patterns = [...this.subscriptions.keys()];
    void (async () => {
      try {
        if (patterns.length) await this.subscribeAtBroker(patterns);
      } catch (err) {
        this.log.error({ err }, 'restoring subscriptions failed');
      }
      if (this.generation !== generation) return;
      this.ready = generation;
      this.wake();
      if (!reconnect) return; // the first `online` is app.ts's to publish, after everything has started
      await this.publish(topics.serverStatus(), encodeMessage('status', { state: 'online', agentVersion: this.opts.serverVersion }), { qos: 1, retain: true }).catch((err: unknown) =>
        this.log.warn({ err }, 'republishing the server status after a reconnect failed'),
      );
    })();
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (this.ready > w.after) this.settle(w);
  }

  private onError(err: Error & { code?: unknown }): void {
    this.lastError = err;
    if (typeof err.code === 'number' && REFUSED_CREDENTIALS.has(err.code)) {
      // At start a refused login is final: fail now instead of retrying until the deadline.
      for (const w of [...this.waiters]) {
        if (w.failOnRefusal) this.settle(w, new Error(`the MQTT broker refused the server's login (${err.message}); check LOAXA_MQTT_USERNAME and LOAXA_MQTT_PASSWORD`));
      }
      this.log.error({ err: err.message }, 'the MQTT broker refused the server’s login');
      return;
    }
    this.log.debug({ err: err.message }, 'mqtt client error');
  }

  private onClose(): void {
    if (this.stopping || !this.client) return;
    if (this.reconnectTimer) return;
    const delay = reconnectDelayMs(this.attempt++, this.opts.reconnect?.minMs ?? 500, this.opts.reconnect?.maxMs ?? 30_000);
    if (this.generation > 0) this.log.warn({ delayMs: delay, attempt: this.attempt }, 'lost the external MQTT broker; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const client = this.client;
      if (!client || this.stopping) return;
      // Keep the stores: QoS 1 messages not yet acknowledged are sent again on the new connection.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  private async subscribeAtBroker(patterns: string[]): Promise<void> {
    const client = this.client;
    if (!client) return;
    const granted = await client.subscribeAsync(patterns, { qos: 1 }).catch((err: Error & { packet?: { granted?: number[] } }) => {
      if (err.packet?.granted) return patterns.map((topic, i) => ({ topic, qos: err.packet!.granted![i] ?? 128 }));
      throw err;
    });
    const refused = granted.filter((g) => (g.qos & 0x80) !== 0).map((g) => g.topic);
    if (refused.length) throw new Error(`the MQTT broker refused the server's subscription to ${refused.join(', ')}; check its ACL`);
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const [pattern, handlers] of this.subscriptions) {
      if (!topicMatches(pattern, topic)) continue;
      for (const handler of handlers) {
        try {
          handler(topic, payload);
        } catch (err) {
          this.log.error({ err, topic }, 'mqtt handler threw');
        }
      }
    }
  }
}

/**
 * mqtt.js's `servers`: every stream it opens (the first connect and each reconnect) takes the next entry,
 * round robin. The URLs' user info is not used there: the login is in the client options.
 */
export function brokerServers(urls: readonly string[]): Array<{ host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'tcp' }> {
  return urls.map((u) => {
    const url = new URL(u);
    const protocol = url.protocol.slice(0, -1) as 'mqtt' | 'mqtts' | 'tcp';
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : protocol === 'mqtts' ? 8883 : 1883, protocol };
  });
}

function redact(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

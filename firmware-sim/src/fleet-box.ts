/**
 * One lightweight simulated speaker box for load tests (issue 8): the device agent's MQTT protocol and
 * nothing else. It connects as the agent does (session.ts: its own credentials, client id = device id,
 * persistent session, retained `online` status and a retained `offline` last will), subscribes to its own
 * `cmd`, the `a/{code}/cmd` of its area and the area's ancestors and `server/status`, sends real telemetry
 * envelopes on the agent's heartbeat rhythm, and answers commands the way the agent's dispatcher does: one
 * answer on `res` per command id, `play` items taken at most once per delivery (broadcast + occurrence)
 * whichever topic or agenda brought them, with the delivery reports the agent makes (acknowledged → cached
 * → playing → played) on `event`.
 *
 * What it leaves out, so that thousands fit in one process: no disk (agenda, outbox, caches), no audio,
 * no hardware. The media is treated as already cached (the bench measures the command path, not the
 * download), and playing is a timer of the item's duration.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  COMMAND_TYPES,
  ErrorCode,
  decodeMessage,
  encodeMessage,
  encodeResponse,
  parseTopic,
  topics,
  type CommandType,
  type DeliveryState,
  type Envelope,
  type Payload,
  type ResponseData,
} from '@loaxa/shared';

/** Reported as the agent version in status and telemetry, so fleet boxes are told apart on the server. */
export const FLEET_AGENT_VERSION = 'fleet-0.1.0';

export interface FleetBoxSpec {
  id: string;
  areaCode: string;
  /** Ancestors of the area, root first (their `a/{code}/cmd` topics are followed too). */
  areaAncestors: string[];
  /** Broker URL and the box's own login; a broker without authentication (the bench's bare reference) needs none. */
  mqtt: { url: string; username?: string | undefined; password?: string | undefined };
}

export interface FleetBoxOptions {
  /** Instant the fleet "booted": telemetry `uptimeS` counts from it, with millisecond precision. */
  bootAt: number;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  /** Reconnect delays grow from 1 s to this, jittered (the agent's policy, shorter). */
  reconnectMaxMs: number;
  /**
   * Whether the `online` status and the will are retained, as the agent's are (default). Only for
   * measuring a broker without them: the Loa Xã server needs the retained status for presence.
   */
  retainedStatus?: boolean;
  /** Called on every change the fleet counts (connections, deliveries…). */
  onChange: () => void;
}

type PlayPayload = Payload<'play'>;
type Source = 'device' | 'area' | 'agenda';

/** One delivery (broadcast + occurrence) on this box, with the instants the bench needs. */
export interface BoxDelivery {
  broadcastId: string;
  occurrenceAt: number;
  state: DeliveryState;
  /** When the first command (or agenda item) carrying it arrived, and on which topic. */
  firstAt: number;
  via: Source;
  /** How many commands carried it (the area topic, the device's own topic, the agenda). */
  copies: number;
  playingAt: number | null;
  /** When the broker acknowledged the `playing` report (PUBACK). */
  playingAckedAt: number | null;
  playedAt: number | null;
}

interface Held extends BoxDelivery {
  commandId: string;
  play: PlayPayload;
  started: boolean;
  timer: NodeJS.Timeout | null;
  fromAgenda: boolean;
}

/** Answers remembered per command id (a QoS 1 redelivery gets the same answer again). */
const ANSWERS_KEPT = 64;
/** Agenda items are taken in hand this long before they start (the agent's prefetch lead, shortened). */
const AGENDA_LEAD_MS = 60_000;

export class FleetBox {
  private client: MqttClient | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatPeriodMs = 0;
  private stopping = false;
  private failures = 0;
  private volume = 70;
  private agendaVersion: number | null = null;
  /** `generatedAt` of the agenda held, reported with its version in the `online` status. */
  private agendaGeneratedAt = 0;
  private agendaKeys = new Set<string>();
  private readonly answers = new Map<string, string>();
  private readonly held = new Map<string, Held>();

  /** First CONNACK and first SUBACK of this box (epoch ms), for the connect storm. */
  connectStartedAt: number | null = null;
  connectedAt: number | null = null;
  subscribedAt: number | null = null;
  connects = 0;
  linkFailures = 0;
  lastError: string | null = null;
  subscribed = false;
  /** `uptimeS` of every heartbeat handed to the socket since the last `takeHeartbeats()`. */
  private heartbeatsSent: number[] = [];
  heartbeatCount = 0;
  heartbeatsFailed = 0;
  commands = 0;

  constructor(
    readonly spec: FleetBoxSpec,
    private readonly opts: FleetBoxOptions,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connects, and keeps reconnecting until stopped. `onFirstAttempt` is called once, when the first attempt
   * has succeeded or failed (the fleet paces a connect storm with it).
   */
  start(onFirstAttempt?: () => void): void {
    if (this.client) return;
    this.connectStartedAt = Date.now();
    const client = mqtt.connect(this.spec.mqtt.url, this.clientOptions());
    this.client = client;
    let first = onFirstAttempt;
    const settled = (): void => {
      first?.();
      first = undefined;
    };
    client.on('connect', () => {
      settled();
      this.onConnect(client);
    });
    client.on('close', () => {
      settled();
      this.onClose(client);
    });
    client.on('error', (err) => {
      this.lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => {
      if (this.stopping) return;
      // Stamped on arrival, handled a moment later: thousands of boxes share this process's CPU (a real box
      // has its own), so the boxes whose messages arrived in the same turn must not wait for each other's
      // decoding and reports before their arrival is noted. Order is kept (setImmediate runs in FIFO order).
      const at = Date.now();
      setImmediate(() => {
        if (this.stopping) return;
        const parsed = parseTopic(topic);
        if (!parsed || parsed.kind === 'server-status') return;
        // Commands arrive only on the box's own topic or an area topic it follows; a retained copy is none.
        if (packet.retain) return;
        if (parsed.kind === 'device' && (parsed.channel !== 'cmd' || parsed.deviceId !== this.spec.id)) return;
        this.onCommand(payload, parsed.kind === 'area' ? 'area' : 'device', at);
      });
    });
  }

  /** Heartbeats every `periodMs` ± 10 %, the first at a random moment within one period (heartbeat.ts). */
  startHeartbeats(periodMs: number): void {
    this.stopHeartbeats();
    this.heartbeatPeriodMs = periodMs;
    this.scheduleHeartbeat(periodMs * Math.random());
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.heartbeatPeriodMs = 0;
  }

  /** The `uptimeS` values of the heartbeats sent since the last call (they identify each one on the server). */
  takeHeartbeats(): number[] {
    const sent = this.heartbeatsSent;
    this.heartbeatsSent = [];
    return sent;
  }

  deliveryCounts(): { deliveries: number; playing: number; played: number } {
    let playing = 0;
    let played = 0;
    for (const h of this.held.values()) {
      if (h.playingAt !== null) playing += 1;
      if (h.playedAt !== null) played += 1;
    }
    return { deliveries: this.held.size, playing, played };
  }

  deliveries(): BoxDelivery[] {
    return [...this.held.values()].map(({ broadcastId, occurrenceAt, state, firstAt, via, copies, playingAt, playingAckedAt, playedAt }) => ({
      broadcastId,
      occurrenceAt,
      state,
      firstAt,
      via,
      copies,
      playingAt,
      playingAckedAt,
      playedAt,
    }));
  }

  /**
   * Leaves the broker: a clean goodbye (retained `offline`, then DISCONNECT, which discards the will) or,
   * with `abrupt`, a dropped socket like a power cut (the broker then publishes the will).
   */
  async stop(opts: { timeoutMs: number; abrupt?: boolean }): Promise<void> {
    this.stopping = true;
    this.stopHeartbeats();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const h of this.held.values()) if (h.timer) clearTimeout(h.timer);
    const client = this.client;
    if (!client) return;
    if (opts.abrupt || !client.connected) {
      client.end(true);
      return;
    }
    const bounded = <T>(p: Promise<T>, ms: number) => Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
    await bounded(client.publishAsync(topics.deviceStatus(this.spec.id), this.status('offline'), { qos: 1, retain: this.opts.retainedStatus ?? true }), opts.timeoutMs / 2);
    await bounded(client.endAsync(false), opts.timeoutMs / 2);
    client.end(true);
  }

  private clientOptions(): IClientOptions {
    const { mqtt: m, id } = this.spec;
    return {
      clientId: id,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      protocolVersion: 4,
      clean: false,
      keepalive: this.opts.keepaliveSeconds,
      connectTimeout: this.opts.connectTimeoutMs,
      // Reconnects are ours (onClose), jittered: mqtt.js's fixed period would bring a fleet back in lockstep.
      reconnectPeriod: 0,
      resubscribe: false,
      will: { topic: topics.deviceStatus(id), payload: Buffer.from(this.status('offline')), qos: 1, retain: this.opts.retainedStatus ?? true },
    };
  }

  private status(state: 'online' | 'offline'): string {
    // The agenda held (in memory only: none after the fleet restarts), as the agent reports it (session.ts).
    const agenda = state === 'online' ? { agenda: this.agendaVersion === null ? null : { version: this.agendaVersion, generatedAt: this.agendaGeneratedAt } } : {};
    return encodeMessage('status', { state, agentVersion: FLEET_AGENT_VERSION, areaCode: this.spec.areaCode, ...agenda });
  }

  private onConnect(client: MqttClient): void {
    if (this.stopping || this.client !== client) return;
    this.connects += 1;
    this.failures = 0;
    this.connectedAt ??= Date.now();
    client.publish(topics.deviceStatus(this.spec.id), this.status('online'), { qos: 1, retain: this.opts.retainedStatus ?? true });
    const areas = [...new Set([this.spec.areaCode, ...this.spec.areaAncestors])].map((code) => topics.areaCmd(code));
    client.subscribe([topics.deviceCmd(this.spec.id), ...areas, topics.serverStatus()], { qos: 1 }, (err, granted) => {
      if (err) {
        this.lastError = `subscribe failed: ${err.message}`;
      } else if ((granted ?? []).some((g) => g.qos === 128)) {
        // 0x80 is a refusal [MQTT-3.9.3]: the broker's ACL and our topics disagree.
        this.lastError = `broker refused ${granted!.filter((g) => g.qos === 128).map((g) => g.topic).join(', ')}`;
      } else {
        this.subscribed = true;
        this.subscribedAt ??= Date.now();
      }
      this.opts.onChange();
    });
    this.opts.onChange();
  }

  private onClose(client: MqttClient): void {
    if (this.stopping || this.client !== client || this.reconnectTimer) return;
    if (this.subscribed) this.subscribed = false;
    else this.linkFailures += 1;
    this.failures += 1;
    const ceiling = Math.min(this.opts.reconnectMaxMs, 1000 * 2 ** Math.min(this.failures - 1, 10));
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || this.client !== client) return;
      client.reconnect();
    }, delay);
    this.opts.onChange();
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeatTimer = setTimeout(() => {
      this.beat();
      if (this.heartbeatPeriodMs > 0) this.scheduleHeartbeat(this.heartbeatPeriodMs * (0.9 + 0.2 * Math.random()));
    }, delayMs);
  }

  /** One telemetry envelope like the agent's (heartbeat.ts + health.ts), at QoS 0. */
  private beat(): void {
    const client = this.client;
    if (!client?.connected || this.stopping) return;
    const now = Date.now();
    // Milliseconds kept: the uptime names this heartbeat, and with bootAt gives the instant it was sent.
    const uptimeS = (now - this.opts.bootAt) / 1000;
    const playing = [...this.held.values()].find((h) => h.state === 'playing');
    const payload: Payload<'telemetry'> = {
      uptimeS,
      volume: this.volume,
      cacheBytes: 1_843_200,
      cacheItems: 3,
      playing: playing ? { broadcastId: playing.broadcastId, occurrenceAt: playing.occurrenceAt } : null,
      clockOffsetMs: 0,
      agentVersion: FLEET_AGENT_VERSION,
      health: {
        systemUptimeS: Math.floor(uptimeS) + 86_400,
        cpuTempC: 48.5,
        load1: 0.08,
        load5: 0.05,
        load15: 0.03,
        memTotalBytes: 1_024_000_000,
        memAvailableBytes: 612_000_000,
        diskFreeBytes: 5_100_000_000,
        diskTotalBytes: 7_800_000_000,
        network: { type: 'cellular', interface: 'wwan0', accessTech: 'LTE', signalPct: 64, operator: 'Viettel', modemState: 'connected' },
        clockSynced: true,
        amplifierOn: playing !== undefined,
        faults: [],
        linkFailures: this.linkFailures,
        modemRecoveries: 0,
      },
    };
    client.publish(topics.deviceTelemetry(this.spec.id), encodeMessage('telemetry', payload, { ts: now }), { qos: 0 }, (err) => {
      if (err) this.heartbeatsFailed += 1;
      else {
        this.heartbeatCount += 1;
        this.heartbeatsSent.push(uptimeS);
        this.opts.onChange();
      }
    });
  }

  /** The agent's dispatcher (commands.ts): decode, at most once per id, expiry, handler, one answer. */
  private onCommand(raw: Buffer, source: 'device' | 'area', arrivedAt: number): void {
    const decoded = decodeMessage(raw, COMMAND_TYPES);
    if (!decoded.ok) {
      const { id, code, message } = decoded.error;
      if (id) this.answer(encodeResponse(id, { ok: false, error: { code, message } }));
      return;
    }
    const env = decoded.value;
    this.commands += 1;
    const previous = this.answers.get(env.id);
    if (previous !== undefined) return this.answer(previous);
    if (env.expiresAt !== undefined && env.expiresAt < Date.now()) {
      return this.remember(env.id, encodeResponse(env.id, { ok: false, error: { code: ErrorCode.EXPIRED, message: `command expired at ${new Date(env.expiresAt).toISOString()}` } }));
    }
    this.remember(env.id, this.handle(env, source, arrivedAt));
  }

  private handle(env: Envelope<CommandType>, source: 'device' | 'area', arrivedAt: number): string {
    const ok = <T extends CommandType>(type: T, data: ResponseData<T>) => encodeResponse(env.id, { ok: true, data }, type);
    switch (env.type) {
      case 'play':
        return ok('play', this.submit(env.id, env.payload as PlayPayload, source, arrivedAt));
      case 'stop': {
        const p = env.payload as Payload<'stop'>;
        let stopped = 0;
        for (const h of this.held.values()) {
          if (p.broadcastId !== undefined && h.broadcastId !== p.broadcastId) continue;
          if (p.occurrenceAt !== undefined && h.occurrenceAt !== p.occurrenceAt) continue;
          if (this.cancel(h, 'stopped by the server')) stopped += 1;
        }
        return ok('stop', { stopped });
      }
      case 'set-volume':
        this.volume = (env.payload as Payload<'set-volume'>).volume;
        return ok('set-volume', { volume: this.volume });
      case 'sync-agenda':
        return ok('sync-agenda', this.syncAgenda(env.payload as Payload<'sync-agenda'>, arrivedAt));
      default:
        // Maintenance commands need a real agent (logs, config, updates): the firmware simulator's full boxes.
        return encodeResponse(env.id, { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: `a fleet box does not run ${env.type}` } });
    }
  }

  /** The agenda: items starting soon are taken in hand now, later ones a minute before they start. */
  private syncAgenda(p: Payload<'sync-agenda'>, arrivedAt: number): { version: number; items: number } {
    if (this.agendaVersion !== null && p.version <= this.agendaVersion) return { version: this.agendaVersion, items: this.agendaKeys.size };
    const keys = new Set(p.items.map((i) => `${i.broadcastId}@${i.occurrenceAt}`));
    // A newer agenda without an item is how a cancellation reaches a box (agenda.ts).
    for (const key of this.agendaKeys) {
      const h = this.held.get(key);
      if (!keys.has(key) && h?.fromAgenda) this.cancel(h, `no longer in the agenda (version ${p.version})`);
    }
    this.agendaVersion = p.version;
    this.agendaGeneratedAt = p.generatedAt;
    this.agendaKeys = keys;
    for (const item of p.items) {
      const { commandId, ...play } = item;
      this.submit(commandId, play, 'agenda', arrivedAt);
    }
    return { version: p.version, items: p.items.length };
  }

  /** Takes a play item in hand once per delivery (playout.ts `submit`). */
  private submit(commandId: string, play: PlayPayload, via: Source, arrivedAt: number): { accepted: boolean; state: DeliveryState } {
    const key = `${play.broadcastId}@${play.occurrenceAt}`;
    const known = this.held.get(key);
    if (known) {
      known.copies += 1;
      return { accepted: true, state: known.state };
    }
    const now = Date.now();
    const h: Held = {
      broadcastId: play.broadcastId,
      occurrenceAt: play.occurrenceAt,
      state: 'acknowledged',
      firstAt: arrivedAt,
      via,
      copies: 1,
      playingAt: null,
      playingAckedAt: null,
      playedAt: null,
      commandId,
      play,
      started: false,
      timer: null,
      fromAgenda: via === 'agenda',
    };
    this.held.set(key, h);
    this.opts.onChange();
    if (via === 'agenda' && play.startAt - now > AGENDA_LEAD_MS) {
      // Not yet: reported when taken in hand, like the agent hands agenda items to its playout.
      h.state = 'queued';
      h.timer = setTimeout(() => this.take(h), Math.min(play.startAt - now - AGENDA_LEAD_MS, 2 ** 31 - 1));
      return { accepted: true, state: 'acknowledged' };
    }
    this.take(h);
    return { accepted: true, state: 'acknowledged' };
  }

  private take(h: Held): void {
    h.timer = null;
    this.transition(h, 'acknowledged');
    const now = Date.now();
    if (now > h.play.startAt + h.play.windowMs) return this.transition(h, 'missed', 'arrived after the end of its window');
    // Pre-cached: what a box that downloaded the bulletin ahead reports at once.
    this.transition(h, 'cached');
    h.timer = setTimeout(() => this.air(h), Math.max(0, h.play.startAt - now));
  }

  private air(h: Held): void {
    h.started = true;
    this.transition(h, 'playing');
    h.timer = setTimeout(() => {
      h.timer = null;
      this.transition(h, 'played');
    }, h.play.media.durationMs);
  }

  private cancel(h: Held, reason: string): boolean {
    if (h.started || h.state === 'cancelled' || h.state === 'missed' || h.state === 'played') return false;
    if (h.timer) clearTimeout(h.timer);
    h.timer = null;
    this.transition(h, 'cancelled', reason);
    return true;
  }

  /** One delivery report on `event` at QoS 1, as the agent's reporter sends it. */
  private transition(h: Held, state: DeliveryState, reason?: string): void {
    h.state = state;
    const at = Date.now();
    if (state === 'playing') h.playingAt = at;
    if (state === 'played') h.playedAt = at;
    const payload: Payload<'event'> = {
      kind: 'delivery',
      commandId: h.commandId,
      broadcastId: h.broadcastId,
      occurrenceAt: h.occurrenceAt,
      state,
      at,
      ...(reason !== undefined ? { reason } : {}),
      ...(state === 'cached' || state === 'playing' || state === 'played' ? { sha256: h.play.media.sha256 } : {}),
    };
    this.client?.publish(topics.deviceEvent(this.spec.id), encodeMessage('event', payload, { ts: at }), { qos: 1 }, (err) => {
      if (!err && state === 'playing') h.playingAckedAt ??= Date.now();
    });
    this.opts.onChange();
  }

  private remember(id: string, body: string): void {
    this.answers.set(id, body);
    if (this.answers.size > ANSWERS_KEPT) this.answers.delete(this.answers.keys().next().value!);
    this.answer(body);
  }

  private answer(body: string): void {
    this.client?.publish(topics.deviceRes(this.spec.id), body, { qos: 1 });
  }
}

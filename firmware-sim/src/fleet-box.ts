/**
 * One lightweight simulated speaker box for load tests (issue 8): the device agent's MQTT protocol and
 * nothing else, built from the agent's own protocol code (device-agent/src/protocol, issue 14) so the two
 * cannot drift. It connects as the agent does (its own credentials, client id = device id, persistent
 * session, retained `online` status and a retained `offline` last will, the agent's reconnect policy),
 * subscribes to what the agent subscribes to, sends the agent's telemetry envelope on its heartbeat rhythm,
 * and answers commands through the agent's dispatcher (commands.ts: one answer on `res` per command id).
 * `play` items are taken at most once per delivery (broadcast + occurrence) whichever topic or agenda
 * brought them, with the delivery reports the agent makes (acknowledged → cached → playing → played) on
 * `event`.
 *
 * What it leaves out, so that thousands fit in one process: no disk (agenda, outbox, caches), no audio,
 * no hardware. The media is treated as already cached (the bench measures the command path, not the
 * download), and playing is a timer of the item's duration. That stand-in for the agent's playout and
 * agenda (playout.ts, agenda.ts: disk, audio and a speaker) and the instants the bench records are what
 * is left here; they share the box's state, hence one file of more than 300 lines.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { ErrorCode, encodeMessage, isTerminal, topics, type CommandType, type DeliveryState, type Envelope, type Payload } from '@loaxa/shared';
import {
  CommandDispatcher,
  DEFAULT_VOLUME,
  RecentIds,
  ReconnectPolicy,
  connectOptions,
  deliveryEvent,
  deliveryKey,
  deliveryReport,
  firstHeartbeatDelay,
  healthBlock,
  inboundKind,
  nextHeartbeatDelay,
  refusedTopics,
  statusMessage,
  subscriptionTopics,
  systemClock,
  telemetryPayload,
  type CommandResult,
  type CommandTable,
  type NetworkSnapshot,
} from '@loaxa/device-agent';

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

/** What the dispatcher hands each handler along with the command: the box, and where and when it arrived. */
interface Arrival {
  box: FleetBox;
  via: 'device' | 'area';
  at: number;
}

/** Answers remembered per command id (a QoS 1 redelivery gets the same answer again). */
const ANSWERS_KEPT = 64;
/** Agenda items are taken in hand this long before they start (the agent's prefetch lead, shortened). */
const AGENDA_LEAD_MS = 60_000;
/** The agent's first reconnect delay (its `reconnectMs`, shortened): later ones double up to reconnectMaxMs. */
const RECONNECT_BASE_MS = 1_000;
/** One silent logger for every box of the process: the dispatcher logs, a fleet box has nobody to tell. */
const QUIET = pino({ level: 'silent' });
const nothing = (): void => undefined;
/** What a fleet box reports of its hardware and cache: a healthy box on 4G whose bulletin audio is cached. */
const SYSTEM = { cpuTempC: 48.5, load1: 0.08, load5: 0.05, load15: 0.03, memTotalBytes: 1_024_000_000, memAvailableBytes: 612_000_000, diskFreeBytes: 5_100_000_000, diskTotalBytes: 7_800_000_000 };
const NETWORK: NetworkSnapshot = { type: 'cellular', interface: 'wwan0', accessTech: 'LTE', signalPct: 64, operator: 'Viettel', modemState: 'connected' };
const CACHE = { cacheBytes: 1_843_200, cacheItems: 3 };

/** Maintenance commands need a real agent (logs, config, updates): the firmware simulator's full boxes. */
function unavailable<T extends CommandType>(env: Envelope<T>): CommandResult<T> {
  return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: `a fleet box does not run ${env.type}` } };
}

export class FleetBox {
  /**
   * The command table of every fleet box (the agent's typed table: a command type without a handler is a
   * compile error). One for the process, not one per box: thousands of boxes share it.
   */
  private static readonly table: CommandTable<Arrival> = {
    play: (env, a) => ({ ok: true, data: a.box.submit(env.id, env.payload, a.via, a.at) }),
    stop: (env, a) => ({ ok: true, data: { stopped: a.box.stopItems(env.payload) } }),
    'set-volume': (env, a) => {
      a.box.volume = env.payload.volume;
      return { ok: true, data: { volume: a.box.volume } };
    },
    'sync-agenda': (env, a) => ({ ok: true, data: a.box.syncAgenda(env.payload, a.at) }),
    'test-tone': unavailable,
    reboot: unavailable,
    'fetch-logs': unavailable,
    'update-config': unavailable,
    'self-update': unavailable,
  };

  private client: MqttClient | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatPeriodMs = 0;
  private stopping = false;
  private readonly policy: ReconnectPolicy;
  /** Made at the first command: a box of a connect or heartbeat benchmark never needs one. */
  private dispatcher: CommandDispatcher<Arrival> | null = null;
  private volume = DEFAULT_VOLUME;
  private agendaVersion: number | null = null;
  /** `generatedAt` of the agenda held, reported with its version in the `online` status. */
  private agendaGeneratedAt = 0;
  private agendaKeys = new Set<string>();
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
  /** Command messages received (every copy, on any topic the box follows). */
  commands = 0;

  constructor(
    readonly spec: FleetBoxSpec,
    private readonly opts: FleetBoxOptions,
  ) {
    this.policy = new ReconnectPolicy({ baseMs: RECONNECT_BASE_MS, maxMs: opts.reconnectMaxMs });
  }

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
    const { mqtt: m, id } = this.spec;
    const { keepaliveSeconds, connectTimeoutMs } = this.opts;
    const options = connectOptions({ deviceId: id, username: m.username, password: m.password, keepaliveSeconds, connectTimeoutMs, will: this.status('offline'), retainStatus: this.retained });
    const client = mqtt.connect(m.url, options);
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
      const code = (err as { code?: unknown }).code;
      // A refused CONNECT (bad credentials, not authorized) will not fix itself quickly: back off longer.
      if (code === 4 || code === 5) this.policy.refused();
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
        const via = inboundKind(topic, this.spec.id);
        // Commands arrive only on the box's own topic or an area topic it follows; a retained copy is none.
        if (via === null || via === 'server-status' || packet.retain) return;
        this.commands += 1;
        void this.intake().handle(payload, via, { box: this, via, at });
      });
    });
  }

  /** Heartbeats every `periodMs` ± 10 %, the first at a random moment within one period (heartbeat.ts). */
  startHeartbeats(periodMs: number): void {
    this.stopHeartbeats();
    this.heartbeatPeriodMs = periodMs;
    this.scheduleHeartbeat(firstHeartbeatDelay(periodMs));
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
    await bounded(client.publishAsync(topics.deviceStatus(this.spec.id), this.status('offline'), { qos: 1, retain: this.retained }), opts.timeoutMs / 2);
    await bounded(client.endAsync(false), opts.timeoutMs / 2);
    client.end(true);
  }

  /** The agent's command intake (commands.ts): decode, at most once per command id, expiry, the table, one answer. */
  private intake(): CommandDispatcher<Arrival> {
    this.dispatcher ??= new CommandDispatcher<Arrival>({
      table: FleetBox.table,
      clock: systemClock,
      logger: QUIET,
      answer: (body) => this.client?.publish(topics.deviceRes(this.spec.id), body, { qos: 1 }),
      recent: new RecentIds(ANSWERS_KEPT),
      onRecorded: nothing,
    });
    return this.dispatcher;
  }

  private get retained(): boolean {
    return this.opts.retainedStatus ?? true;
  }

  private status(state: 'online' | 'offline'): string {
    // The agenda held (in memory only: none after the fleet restarts), as the agent reports it (session.ts).
    const heldAgenda = () => (this.agendaVersion === null ? null : { version: this.agendaVersion, generatedAt: this.agendaGeneratedAt });
    return statusMessage(state, { agentVersion: FLEET_AGENT_VERSION, areaCode: this.spec.areaCode, heldAgenda });
  }

  private onConnect(client: MqttClient): void {
    if (this.stopping || this.client !== client) return;
    this.connects += 1;
    this.policy.connected();
    this.connectedAt ??= Date.now();
    client.publish(topics.deviceStatus(this.spec.id), this.status('online'), { qos: 1, retain: this.retained });
    const { id, areaCode, areaAncestors } = this.spec;
    client.subscribe(subscriptionTopics({ deviceId: id, areaCode, areaAncestors }), { qos: 1 }, (err, granted) => {
      const refused = refusedTopics(granted);
      if (err) {
        this.lastError = `subscribe failed: ${err.message}`;
      } else if (refused.length > 0) {
        // The broker's ACL and our topics disagree.
        this.lastError = `broker refused ${refused.join(', ')}`;
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
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || this.client !== client) return;
      client.reconnect();
    }, this.policy.nextDelay());
    this.opts.onChange();
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeatTimer = setTimeout(() => {
      this.beat();
      if (this.heartbeatPeriodMs > 0) this.scheduleHeartbeat(nextHeartbeatDelay(this.heartbeatPeriodMs));
    }, delayMs);
  }

  /** The agent's telemetry envelope (heartbeat.ts + health.ts) with fixed readings, at QoS 0. */
  private beat(): void {
    const client = this.client;
    if (!client?.connected || this.stopping) return;
    const now = Date.now();
    // Milliseconds kept: the uptime names this heartbeat, and with bootAt gives the instant it was sent.
    const uptimeS = (now - this.opts.bootAt) / 1000;
    const onAir = [...this.held.values()].find((h) => h.state === 'playing');
    const playing = onAir ? { broadcastId: onAir.broadcastId, occurrenceAt: onAir.occurrenceAt } : null;
    const system = { ...SYSTEM, systemUptimeS: Math.floor(uptimeS) + 86_400 };
    const health = healthBlock({ system, network: NETWORK, clockSynced: true, amplifierOn: playing !== null }, { faults: [], linkFailures: this.linkFailures, modemRecoveries: 0 });
    const payload = telemetryPayload({ uptimeS, volume: this.volume, ...CACHE, playing, clockOffsetMs: 0 }, health, FLEET_AGENT_VERSION);
    client.publish(topics.deviceTelemetry(this.spec.id), encodeMessage('telemetry', payload, { ts: now }), { qos: 0 }, (err) => {
      if (err) this.heartbeatsFailed += 1;
      else {
        this.heartbeatCount += 1;
        this.heartbeatsSent.push(uptimeS);
        this.opts.onChange();
      }
    });
  }

  /** `stop`: cancels the matching items that have not started playing (playout.ts `stop`). */
  private stopItems(p: Payload<'stop'>): number {
    let stopped = 0;
    for (const h of this.held.values()) {
      if (p.broadcastId !== undefined && h.broadcastId !== p.broadcastId) continue;
      if (p.occurrenceAt !== undefined && h.occurrenceAt !== p.occurrenceAt) continue;
      if (this.cancel(h, 'stopped by the server')) stopped += 1;
    }
    return stopped;
  }

  /** The agenda: items starting soon are taken in hand now, later ones a minute before they start. */
  private syncAgenda(p: Payload<'sync-agenda'>, arrivedAt: number): { version: number; items: number } {
    if (this.agendaVersion !== null && p.version <= this.agendaVersion) return { version: this.agendaVersion, items: this.agendaKeys.size };
    const keys = new Set(p.items.map((i) => deliveryKey(i.broadcastId, i.occurrenceAt)));
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
    const key = deliveryKey(play.broadcastId, play.occurrenceAt);
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
    // A relay (issue 15) is "played" as a timer of its stream window from now, a programme as the sum of its
    // items (a relay segment until its end): fleet boxes decode no audio.
    h.timer = setTimeout(() => {
      h.timer = null;
      this.transition(h, 'played');
    }, h.play.stream?.durationMs ?? h.play.media?.durationMs ?? programmeMs(h.play, Date.now()));
  }

  private cancel(h: Held, reason: string): boolean {
    if (h.started || isTerminal(h.state)) return false;
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
    const body = encodeMessage('event', deliveryEvent(deliveryReport(h.commandId, h.play, state, reason), at), { ts: at });
    this.client?.publish(topics.deviceEvent(this.spec.id), body, { qos: 1 }, (err) => {
      if (!err && state === 'playing') h.playingAckedAt ??= Date.now();
    });
    this.opts.onChange();
  }
}

/** How long a programme takes on a box that decodes nothing: its files, pauses and relay segments in turn. */
export function programmeMs(play: Pick<PlayPayload, 'programme'>, now: number): number {
  let at = now;
  for (const item of play.programme?.items ?? []) {
    if (item.stream) at = Math.max(at, item.stream.endsAt ?? at + (item.stream.durationMs ?? 0));
    else at += item.pauseMs ?? item.media?.durationMs ?? 0;
  }
  return Math.min(at - now, 2 ** 31 - 1);
}

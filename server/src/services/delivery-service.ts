/**
 * Moves broadcasts to devices and device reports back into the store: sends `play` commands, applies
 * delivery transitions reported on `event`, tracks presence from `status`, stores heartbeats, and
 * re-sends pending work to a device when it comes back (the embedded broker keeps no state across
 * restarts, so SQLite is the source of truth — ARCHITECTURE.md § MQTT).
 *
 * Sized for a province of 10,000 boxes on two cores (issue 8 § Make it fast): heartbeats and statuses are
 * written behind in batches (DeviceRepository.writeBehind), delivery reports in short batches, the boxes
 * that come online together are reconciled together, and work for many devices is done with one query
 * and one transaction per thousand devices instead of one of each per device.
 */
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import {
  topics,
  parseTopic,
  decodeMessage,
  decodeResponse,
  encodeMessage,
  canTransition,
  ErrorCode,
  type DeliveryState,
  type Payload,
} from '@loaxa/shared';
import type { MessageBus } from '../broker/bus.js';
import type { BroadcastRepository, Broadcast, Delivery, Transition } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { ServerEvents } from './events.js';
import type { RequestCorrelator } from './requests.js';
import type { MisbehaviourMeter } from './misbehaviour.js';
import { IngestMetrics } from './ingest-metrics.js';
import { PlayBook } from './play-book.js';
import { agendaCommandId } from '../scheduling/agenda.js';

/** States a device may report; `queued` and `sent` are the server's own. */
const DEVICE_REPORTED: ReadonlySet<DeliveryState> = new Set(['acknowledged', 'cached', 'playing', 'played', 'failed', 'missed', 'cancelled']);

/**
 * Delivery reports wait at most this long for their batch: short, because a report is acknowledged to the
 * box (PUBACK) before it is stored — aedes acknowledges QoS 1 before handing the message on — and only a
 * crash inside this window can lose one.
 */
const REPORT_FLUSH_MS = 20;
const REPORT_MAX_BATCH = 2_000;
/** Boxes whose `online` arrives within this long of each other are reconciled with one set of queries. */
const RECONCILE_GATHER_MS = 10;
/** Per-device commands go out this many at a time, each group's `sent` states in one transaction. */
const DEVICE_CHUNK = 1_000;

export interface DeliveryServiceDeps {
  bus: MessageBus;
  broadcasts: BroadcastRepository;
  bulletins: BulletinRepository;
  devices: DeviceRepository;
  logger: Logger;
  now?: () => number;
  /** Where transitions, presence and faults are announced (the live-status stream listens). */
  events?: ServerEvents;
  /** Where reported faults are kept (start and end of each). */
  faults?: FaultRepository;
  /** How long before air time an item is sent to its box (default 24 h). */
  dispatchAheadMs?: number;
  /** How long heartbeats and statuses wait in memory before their batch is written (default 250 ms). */
  ingestFlushMs?: number;
  /** A batch of heartbeats and statuses is written at once when this many devices wait (default 2,000). */
  ingestMaxBatch?: number;
}

interface PendingReport {
  deviceId: string;
  p: Extract<Payload<'event'>, { kind: 'delivery' }>;
}

/** A state change asked for; `replay` records a second `playing` (an interrupted item that plays again). */
interface Change {
  d: Pick<Delivery, 'broadcastId' | 'deviceId' | 'occurrenceAt'>;
  state: DeliveryState;
  at: number;
  reason: string | null;
  replay?: boolean;
}
type Outcome = 'applied' | 'refused' | 'unknown';

export class DeliveryService {
  private readonly fannedOut = new Set<string>();
  /** Each box's last reported clock offset (server − device, ms); see `onServerClock`. */
  private readonly clockOffsets = new Map<string, number>();
  private readonly aheadMs: number;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Arrived, stored and write latency of what devices send (GET /api/v1/metrics). */
  readonly metrics = new IngestMetrics();
  private started = false;
  private presenceTimer: NodeJS.Timeout | null = null;
  private reports: PendingReport[] = [];
  private reportTimer: NodeJS.Timeout | null = null;
  private readonly reconcileQueue = new Set<string>();
  private reconcileTimer: NodeJS.Timeout | null = null;
  private minuteTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: DeliveryServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.aheadMs = deps.dispatchAheadMs ?? 24 * 3600_000;
    this.flushMs = deps.ingestFlushMs ?? 250;
    this.maxBatch = deps.ingestMaxBatch ?? 2_000;
    this.log = deps.logger.child({ module: 'delivery' });
    // Whoever triggers a write of pending presence (the timer, a full batch, a read), its messages count as
    // stored then; set here, not in start(), so that counting holds before start and after stop too.
    deps.devices.onFlushed = (_n, ms) => {
      this.metrics.committed(['heartbeats', 'statuses']);
      this.metrics.presenceBatches.record(ms);
    };
  }

  async start(): Promise<void> {
    const { bus, devices } = this.deps;
    devices.writeBehind(this.maxBatch);
    this.started = true;
    await bus.subscribe(topics.allDevices('status'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('telemetry'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('event'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('res'), (t, p) => this.onDeviceMessage(t, p));
    this.minuteTimer = setInterval(() => this.logMinute(), 60_000);
    this.minuteTimer.unref();
  }

  /** Writes everything still waiting in memory; from then on every message is written as it arrives. */
  stop(): void {
    this.started = false;
    for (const t of [this.presenceTimer, this.reportTimer, this.reconcileTimer]) if (t) clearTimeout(t);
    if (this.minuteTimer) clearInterval(this.minuteTimer);
    this.presenceTimer = this.reportTimer = this.reconcileTimer = this.minuteTimer = null;
    // Boxes not reconciled yet are brought up to date when they next connect.
    this.reconcileQueue.clear();
    this.flush();
    this.deps.devices.writeThrough();
    this.fannedOut.clear();
  }

  /** Writes pending delivery reports, heartbeats and statuses now (shutdown, tests). */
  flush(): void {
    this.flushReports();
    this.flushPresence();
  }

  /**
   * Sends every queued delivery due within the dispatch horizon to its device, if online; the others get
   * theirs when they connect. Boxes get items well ahead of air time so they pre-fetch the audio and play
   * from their own clock even if the link drops before the start (issue 4 § Delivery).
   * Emergency items first go once to each target area's topic, for the fastest fan-out (ARCHITECTURE.md),
   * before any per-device work: with 10,000 boxes the per-device commands take a second that the alarm must
   * not wait for.
   */
  async dispatchDue(): Promise<number> {
    this.flushReports();
    const now = this.now();
    const book = this.playBook();
    for (const e of this.deps.broadcasts.emergenciesDue(now, now + this.aheadMs)) {
      const b = book.broadcast(e.broadcastId);
      if (b) await this.fanOut(b, e.occurrenceAt, book);
    }
    // Presence waiting in memory is written first: the query below reads who is online from the table.
    this.flushPresence();
    const todo = this.deps.broadcasts.queuedDueOnline(now, now + this.aheadMs).filter((d) => book.broadcast(d.broadcastId));
    await this.sendPlays(todo, book);
    return todo.length;
  }

  /**
   * An emergency just saved or approved goes to its areas' topics at once, before its deliveries are
   * written and sent one by one (dispatchDue then finds the occurrence fanned out already). Only its first
   * occurrence, and only when it is due: later ones go out with dispatchDue like any other.
   */
  async fanOutFirst(b: Broadcast): Promise<void> {
    const now = this.now();
    if (b.priority !== 'emergency' || b.status !== 'approved') return;
    if (b.startAt > now + this.aheadMs || b.startAt + b.windowMs < now) return;
    // A submitted broadcast's first occurrence may have been cancelled or moved before it was approved.
    if (this.deps.broadcasts.exceptions(b.id).some((e) => e.occurrenceAt === b.startAt)) return;
    await this.fanOut(b, b.startAt, this.playBook().seed(b));
  }

  private async fanOut(b: Broadcast, occurrenceAt: number, book: PlayBook): Promise<void> {
    const key = `${b.id}@${occurrenceAt}`;
    if (this.fannedOut.has(key)) return;
    this.fannedOut.add(key);
    const payload = book.payload(b, occurrenceAt);
    if (!payload) return;
    await Promise.all(
      (b.target.areaCodes ?? []).map((code) => {
        const msg = payload.envelope({ id: agendaCommandId(b.id, occurrenceAt, `area-${code}`), expiresAt: occurrenceAt + b.windowMs });
        return this.deps.bus.publish(topics.areaCmd(code), msg, { qos: 1, retain: false }).catch((err: unknown) => this.log.warn({ err, areaCode: code }, 'area fan-out failed'));
      }),
    );
  }

  playBook(): PlayBook {
    return new PlayBook(this, this.deps.broadcasts, this.log);
  }

  playPayload(broadcast: Broadcast, occurrenceAt: number): Payload<'play'> | null {
    const bulletin = this.deps.bulletins.get(broadcast.bulletinId);
    if (!bulletin?.audioSha256 || !bulletin.durationMs) {
      this.log.error({ broadcastId: broadcast.id }, 'broadcast has no audio; not sent');
      return null;
    }
    return {
      broadcastId: broadcast.id,
      occurrenceAt,
      priority: broadcast.priority,
      media: {
        sha256: bulletin.audioSha256,
        url: `${broadcast.mediaBaseUrl}/media/${bulletin.audioSha256}`,
        durationMs: bulletin.durationMs,
        ...(bulletin.audioBytes ? { bytes: bulletin.audioBytes } : {}),
      },
      startAt: occurrenceAt,
      windowMs: broadcast.windowMs,
      title: bulletin.title.slice(0, 300),
      resume: broadcast.resumeMode,
    };
  }

  async sendPlay(broadcast: Broadcast, delivery: Delivery): Promise<void> {
    await this.sendPlays([delivery], this.playBook().seed(broadcast));
  }

  /**
   * Publishes each delivery's play command on its device's topic, a thousand at a time; the queued ones
   * whose publish succeeded become `sent`, each thousand in one transaction.
   */
  private async sendPlays(list: readonly Delivery[], book: PlayBook): Promise<void> {
    for (let i = 0; i < list.length; i += DEVICE_CHUNK) {
      const chunk = list.slice(i, i + DEVICE_CHUNK);
      const published = await Promise.all(chunk.map((d) => this.publishPlay(d, book)));
      const at = this.now();
      this.applyMany(chunk.filter((d, j) => published[j] && d.state === 'queued').map((d) => ({ d, state: 'sent' as const, at, reason: null })));
    }
  }

  private async publishPlay(d: Delivery, book: PlayBook): Promise<boolean> {
    const b = book.broadcast(d.broadcastId);
    const payload = b ? book.payload(b, d.occurrenceAt) : null;
    if (!b || !payload) return false;
    // The same command id on every re-send: the agent executes an id once (CONTRACTS.md § MQTT).
    const msg = payload.envelope({ id: d.commandId, expiresAt: d.occurrenceAt + b.windowMs });
    try {
      await this.deps.bus.publish(topics.deviceCmd(d.deviceId), msg, { qos: 1, retain: false });
      return true;
    } catch (err) {
      this.log.warn({ err, deviceId: d.deviceId, broadcastId: b.id }, 'play publish failed; will retry on reconnect');
      return false;
    }
  }

  /**
   * Cancels a broadcast's open deliveries (one occurrence, or all) and tells online boxes to drop them;
   * boxes that are offline are told when they reconnect.
   */
  async cancel(broadcast: Broadcast, occurrenceAt: number | undefined, reason: string): Promise<string[]> {
    this.flushReports();
    const open = this.deps.broadcasts.openDeliveries(broadcast.id, occurrenceAt);
    const at = this.now();
    this.applyMany(open.map((d) => ({ d, state: 'cancelled' as const, at, reason })));
    const told = open.filter((d) => d.state !== 'queued');
    const online = this.deps.devices.onlineAmong(told.map((d) => d.deviceId));
    await Promise.all(told.filter((d) => online.has(d.deviceId)).map((d) => this.sendStop(d)));
    return open.map((d) => d.deviceId);
  }

  /** Answers to commands someone is waiting for (remote maintenance). */
  requests: RequestCorrelator | null = null;

  /** Rejected messages per device; past the limit the device is disconnected (see MisbehaviourMeter). */
  meter: MisbehaviourMeter | null = null;
  onFlood: ((deviceId: string) => void) | null = null;

  private malformed(deviceId: string, detail: Record<string, unknown>): void {
    const over = this.meter?.record(deviceId) ?? false;
    if (!over) {
      this.deviceLog(deviceId).warn(detail, 'malformed device message dropped');
      return;
    }
    if (this.flooding.has(deviceId)) return; // logged once per flood, not 10,000 times
    this.flooding.add(deviceId);
    setTimeout(() => this.flooding.delete(deviceId), 60_000).unref();
    this.deviceLog(deviceId).error(detail, 'device floods the server with malformed messages; disconnecting it');
    this.onFlood?.(deviceId);
  }

  private readonly flooding = new Set<string>();

  /** A child logger only when something is logged: creating one per message cost more than the rest of a heartbeat's handling. */
  private deviceLog(deviceId: string): Logger {
    return this.log.child({ deviceId });
  }

  /** The broker saw the device's last connection end: it is offline whatever it last said. */
  deviceGone(deviceId: string): void {
    if (!this.deps.devices.isOnline(deviceId)) return;
    this.deps.devices.setStatus(deviceId, false, this.now(), null);
    this.presenceWritten();
    this.deps.events?.emit('device', { deviceId, online: false });
  }

  /** Called after devices are brought up to date on reconnect (the agenda service sends their agendas). */
  onReconciled: ((deviceIds: string[]) => Promise<unknown>) | null = null;

  private async sendStop(d: Delivery): Promise<void> {
    const msg = encodeMessage('stop', { broadcastId: d.broadcastId, occurrenceAt: d.occurrenceAt });
    await this.deps.bus.publish(topics.deviceCmd(d.deviceId), msg, { qos: 1, retain: false }).catch((err: unknown) => this.log.warn({ err, deviceId: d.deviceId }, 'stop publish failed'));
  }

  /**
   * Applies state changes in order, each checked against the state it finds (the stored one, or the one an
   * earlier change of the same batch left), written in one transaction, then announced.
   */
  private applyMany(changes: readonly Change[]): Outcome[] {
    if (changes.length === 0) return [];
    const states = new Map<string, DeliveryState | null>();
    const writes: Transition[] = [];
    const outcomes = changes.map((c): Outcome => {
      const key = `${c.d.broadcastId}\0${c.d.deviceId}\0${c.d.occurrenceAt}`;
      let current = states.get(key);
      if (current === undefined) states.set(key, (current = this.deps.broadcasts.delivery(c.d.broadcastId, c.d.deviceId, c.d.occurrenceAt)?.state ?? null));
      if (current === null) return 'unknown';
      // Circular 39: an item interrupted by a higher priority plays again (resumed or restarted); the second
      // `playing` is no transition, but the as-run log must show it.
      if (!(c.replay && current === 'playing' && c.state === 'playing') && !canTransition(current, c.state)) return 'refused';
      states.set(key, c.state);
      writes.push({ broadcastId: c.d.broadcastId, deviceId: c.d.deviceId, occurrenceAt: c.d.occurrenceAt, state: c.state, at: c.at, reason: c.reason });
      return 'applied';
    });
    this.deps.broadcasts.transitionMany(writes, this.now());
    const events = this.deps.events;
    if (events) for (const w of writes) events.emit('delivery', w);
    return outcomes;
  }

  private apply(d: Change['d'], state: DeliveryState, at: number, reason: string | null): boolean {
    return this.applyMany([{ d, state, at, reason }])[0] === 'applied';
  }

  /**
   * Brings a device that (re)connected up to date from SQLite: what it still has to play within the
   * dispatch horizon, and the items cancelled while it was away, which it must drop.
   */
  async reconcile(deviceId: string): Promise<void> {
    await this.reconcileMany([deviceId]);
  }

  /** `reconcile` for many devices with one query of each kind (a connect storm after a restart). */
  async reconcileMany(deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    this.flushReports();
    const now = this.now();
    const book = this.playBook();
    const plays = this.deps.broadcasts.pendingForDevices(deviceIds).filter((d) => {
      const b = book.broadcast(d.broadcastId);
      return !!b && b.status === 'approved' && d.occurrenceAt + b.windowMs >= now && d.occurrenceAt <= now + this.aheadMs;
    });
    await this.sendPlays(plays, book);
    await Promise.all(this.deps.broadcasts.cancelledOpenForDevices(deviceIds, now).map((d) => this.sendStop(d)));
    await this.onReconciled?.(deviceIds);
  }

  private reconcileSoon(deviceId: string): void {
    this.reconcileQueue.add(deviceId);
    this.reconcileTimer ??= setTimeout(() => {
      this.reconcileTimer = null;
      const ids = [...this.reconcileQueue];
      this.reconcileQueue.clear();
      void (async () => {
        for (let i = 0; i < ids.length; i += DEVICE_CHUNK) {
          const chunk = ids.slice(i, i + DEVICE_CHUNK);
          await this.reconcileMany(chunk).catch((err: unknown) => this.log.error({ err, devices: chunk.length }, 'reconcile failed'));
        }
      })();
    }, RECONCILE_GATHER_MS);
  }

  expireOverdue(): number {
    this.flushReports();
    const at = this.now();
    const outcomes = this.applyMany(this.deps.broadcasts.overdue(at).map((d) => ({ d, state: 'expired' as const, at, reason: 'the device did not receive the command before its window closed' })));
    return outcomes.filter((o) => o === 'applied').length;
  }

  /** One entry point for every upstream device message; never throws (STYLE.md habit 6). */
  onDeviceMessage(topic: string, payload: Buffer): void {
    const arrived = performance.now();
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind !== 'device') return;
    const { deviceId, channel } = parsed;
    try {
      if (channel === 'res') return this.onResponse(deviceId, payload);
      if (channel !== 'status' && channel !== 'telemetry' && channel !== 'event') return;
      const decoded = decodeMessage(payload, [channel]);
      if (!decoded.ok) {
        this.malformed(deviceId, { channel, error: decoded.error });
        return;
      }
      const env = decoded.value;
      if (env.type === 'status') {
        const p = env.payload as Payload<'status'>;
        this.metrics.arrived('statuses', arrived);
        this.deps.devices.setStatus(deviceId, p.state === 'online', this.now(), p.agentVersion ?? null);
        this.presenceWritten();
        this.deps.events?.emit('device', { deviceId, online: p.state === 'online' });
        if (p.state === 'online') this.reconcileSoon(deviceId);
      } else if (env.type === 'telemetry') {
        const p = env.payload as Payload<'telemetry'>;
        this.metrics.arrived('heartbeats', arrived);
        if (p.clockOffsetMs !== undefined) this.clockOffsets.set(deviceId, p.clockOffsetMs);
        this.deps.devices.recordTelemetry(deviceId, {
          at: this.now(),
          volume: p.volume,
          cacheBytes: p.cacheBytes,
          uptimeS: p.uptimeS,
          agentVersion: p.agentVersion ?? null,
          healthJson: JSON.stringify(p),
        });
        this.presenceWritten();
      } else if (env.type === 'event') {
        const p = env.payload as Payload<'event'>;
        if (p.kind === 'delivery') this.onDeliveryEvent(deviceId, { ...p, at: this.onServerClock(deviceId, p.at) }, arrived);
        else if (this.deps.faults?.report(deviceId, p.fault, p.active, this.onServerClock(deviceId, p.at), p.detail ?? null, this.now())) {
          this.deps.events?.emit('device', { deviceId, fault: { kind: p.fault, active: p.active, at: this.onServerClock(deviceId, p.at) } });
          this.deviceLog(deviceId).info({ fault: p.fault, active: p.active }, p.active ? 'device fault began' : 'device fault ended');
        }
      }
    } catch (err) {
      this.deviceLog(deviceId).error({ err, channel }, 'device message handler failed');
    }
  }

  /**
   * A device-reported instant on the server's clock. Boxes stamp reports with their own clock, and a box whose
   * clock is off (no NTP, a flat RTC battery: issue 7's clock-skewed devices) would otherwise write wrong start
   * and end times into the as-run log the province reports from. The agent measures its offset to the server
   * from command timestamps and sends it in every heartbeat, so reports are moved by that offset; and nothing
   * can have happened after it reached us, so a time still in the future is capped at the arrival.
   * Reports queued on a box while offline keep their (corrected) past times.
   */
  private onServerClock(deviceId: string, deviceAt: number): number {
    let offset = this.clockOffsets.get(deviceId);
    if (offset === undefined) {
      // After a server restart, before the box's first heartbeat: the offset it reported last time.
      const stored = this.deps.devices.get(deviceId)?.health?.clockOffsetMs;
      offset = typeof stored === 'number' && Number.isFinite(stored) ? stored : 0;
      this.clockOffsets.set(deviceId, offset);
    }
    return Math.min(deviceAt + offset, this.now());
  }

  /** Heartbeats or statuses wait in the device repository: make sure a write follows within `flushMs`. */
  private presenceWritten(): void {
    if (!this.started || this.presenceTimer || this.deps.devices.pendingCount() === 0) return;
    this.presenceTimer = setTimeout(() => this.flushPresence(), this.flushMs);
    this.presenceTimer.unref();
  }

  private flushPresence(): void {
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    try {
      this.deps.devices.flushPending();
    } catch (err) {
      // Kept in memory and tried again: a busy database must not cost heartbeats.
      this.log.error({ err, devices: this.deps.devices.pendingCount() }, 'heartbeats and statuses not written; retrying');
      this.presenceWritten();
    }
  }

  private onDeliveryEvent(deviceId: string, p: Extract<Payload<'event'>, { kind: 'delivery' }>, arrived: number): void {
    if (!DEVICE_REPORTED.has(p.state)) {
      this.deviceLog(deviceId).warn({ state: p.state }, 'device reported a server-side state; ignored');
      return;
    }
    this.metrics.arrived('deliveryReports', arrived);
    this.reports.push({ deviceId, p });
    if (!this.started || this.reports.length >= REPORT_MAX_BATCH) this.flushReports();
    else if (!this.reportTimer) {
      this.reportTimer = setTimeout(() => this.flushReports(), REPORT_FLUSH_MS);
      this.reportTimer.unref();
    }
  }

  /** Applies the delivery reports received so far, in arrival order, in one transaction. */
  private flushReports(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = null;
    if (this.reports.length === 0) return;
    const batch = this.reports;
    this.reports = [];
    const t0 = performance.now();
    // The delivery is looked up with the device id from the topic, so a box can only report its own deliveries.
    const changes = batch.map(({ deviceId, p }): Change => ({ d: { broadcastId: p.broadcastId, deviceId, occurrenceAt: p.occurrenceAt }, state: p.state, at: p.at, reason: p.reason ?? null, replay: p.state === 'playing' && !!p.reason }));
    let outcomes: Outcome[];
    try {
      outcomes = this.applyMany(changes);
    } catch (err) {
      // One report the database refuses must not cost the others in its batch (the boxes have had their
      // PUBACK and will not send them again): apply them one by one and lose only the one that fails.
      this.log.error({ err, reports: batch.length }, 'a batch of delivery reports failed; applying them one by one');
      let lost = 0;
      outcomes = changes.map((c) => {
        try {
          return this.applyMany([c])[0]!;
        } catch (one) {
          lost++;
          this.log.error({ err: one, deviceId: c.d.deviceId, broadcastId: c.d.broadcastId, state: c.state }, 'delivery report could not be stored');
          return 'refused';
        }
      });
      this.metrics.failed('deliveryReports', lost);
    }
    this.metrics.committed(['deliveryReports']);
    this.metrics.reportBatches.record(performance.now() - t0);
    batch.forEach(({ deviceId, p }, i) => {
      if (outcomes[i] === 'applied') return;
      this.metrics.reportsIgnored++;
      if (outcomes[i] === 'unknown') this.deviceLog(deviceId).warn({ broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt }, 'report for an unknown delivery');
      else this.log.debug({ deviceId, broadcastId: p.broadcastId, to: p.state }, 'stale or repeated report ignored');
    });
  }

  private onResponse(deviceId: string, payload: Buffer): void {
    const decoded = decodeResponse(payload);
    if (!decoded.ok) {
      this.malformed(deviceId, { channel: 'res', error: decoded.error });
      return;
    }
    const res = decoded.value;
    if (this.requests?.settle(deviceId, res)) return;
    // A duplicate is the agent recognising a re-send of a command it already runs: not a failure.
    if (res.ok || res.error.code === ErrorCode.DUPLICATE) return;
    this.flushReports();
    const d = this.deps.broadcasts.byCommand(res.re, deviceId);
    const state: DeliveryState = res.error.code === ErrorCode.EXPIRED ? 'expired' : 'failed';
    if (d && this.apply(d, state, this.now(), `${res.error.code}: ${res.error.message}`)) {
      this.deviceLog(deviceId).warn({ broadcastId: d.broadcastId, error: res.error }, 'device refused a play command');
    }
  }

  private logMinute(): void {
    const m = this.metrics.snapshot();
    if (m.heartbeats.writeLatency.count + m.statuses.writeLatency.count + m.deliveryReports.writeLatency.count === 0) return;
    this.log.info(
      {
        heartbeats: { received: m.heartbeats.received, stored: m.heartbeats.stored, p99Ms: m.heartbeats.writeLatency.p99Ms, lastMinute: m.heartbeats.writeLatency.count },
        statuses: { lastMinute: m.statuses.writeLatency.count, p99Ms: m.statuses.writeLatency.p99Ms },
        deliveryReports: { lastMinute: m.deliveryReports.writeLatency.count, p99Ms: m.deliveryReports.writeLatency.p99Ms },
      },
      'ingest write latency',
    );
  }
}

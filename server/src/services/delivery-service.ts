/**
 * Moves broadcasts to devices: sends `play` commands (an emergency first to its areas' topics), `stop` for
 * cancelled items, writes delivery state transitions, and re-sends pending work to a device when it comes
 * back (the embedded broker keeps no state across restarts, so SQLite is the source of truth —
 * ARCHITECTURE.md § MQTT). What devices send back is taken in by the DeviceIngest this service owns.
 *
 * Sized for a province of 10,000 boxes on two cores (issue 8 § Make it fast): the boxes that come online
 * together are reconciled together, and work for many devices is done with one query and one transaction
 * per thousand devices instead of one of each per device.
 * Just over 300 lines because sending, cancelling and re-sending to a box that comes back all write the
 * same delivery transitions by the same rules, so they stay in one class; the emergency fan-out is its own
 * file (emergency-fan-out.ts) so that path reads alone.
 */
import type { Logger } from 'pino';
import { topics, encodeMessage, canTransition, type DeliveryState, type HeldAgenda, type Payload } from '@loaxa/shared';
import type { MessageBus } from '../broker/bus.js';
import type { BroadcastRepository, Broadcast, Delivery, Transition } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { SourceRepository } from '../repos/sources.js';
import type { LiveRepository } from '../repos/live.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { ServerEvents } from './events.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { DeviceIngest, type Change, type DeviceIngestDeps, type Outcome } from './device-ingest.js';
import { PlayBook, PlayPayloads } from './play-book.js';
import { EmergencyFanOut } from './emergency-fan-out.js';

/** Boxes whose `online` arrives within this long of each other are reconciled with one set of queries. */
const RECONCILE_GATHER_MS = 10;
/** Per-device commands go out this many at a time, each group's `sent` states in one transaction. */
const DEVICE_CHUNK = 1_000;

/** `requests`, `meter` and `onFlood` go on to the DeviceIngest this service owns. */
export interface DeliveryServiceDeps extends Pick<DeviceIngestDeps, 'requests' | 'meter' | 'onFlood' | 'relayLog' | 'programmes'> {
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
  /** The live sources relay bulletins name (issue 15); without it a relay is not sendable. */
  sources?: SourceRepository;
  /** Live airings (issue 16): their own broadcast plays the voice's stream. */
  live?: Pick<LiveRepository, 'get'>;
  /** How long before air time an item is sent to its box (default 24 h). */
  dispatchAheadMs?: number;
  /** How long heartbeats and statuses wait in memory before their batch is written (default 250 ms). */
  ingestFlushMs?: number;
  /** A batch of heartbeats and statuses is written at once when this many messages wait (default 2,000). */
  ingestMaxBatch?: number;
  /** Called after devices are brought up to date on reconnect; see `onReconciled`. */
  onReconciled?: (deviceIds: string[], held: HeldAgendas) => Promise<unknown>;
}

export type { Change, Outcome } from './device-ingest.js';

/** The agendas reconnecting boxes said they hold (null: none); a box missing here did not say (an older agent). */
export type HeldAgendas = ReadonlyMap<string, HeldAgenda | null>;

export class DeliveryService {
  /** An emergency's first way to its boxes: its areas' topics (emergency-fan-out.ts). */
  private readonly alarm: EmergencyFanOut;
  private readonly payloads: PlayPayloads;
  private readonly aheadMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly reconcileQueue = new Set<string>();
  private readonly reconcileHeld = new Map<string, HeldAgenda | null>();
  private reconcileTimer: NodeJS.Timeout | null = null;
  /**
   * What devices send. Its hooks (`requests`, `meter`, `onFlood`) come with this service's deps; the calls
   * others make below are kept here so callers need not know about the split.
   */
  readonly ingest: DeviceIngest;
  /** Arrived, stored and write latency of what devices send (GET /api/v1/metrics). */
  readonly metrics: IngestMetrics;

  constructor(private readonly deps: DeliveryServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.aheadMs = deps.dispatchAheadMs ?? 24 * 3600_000;
    this.log = deps.logger.child({ module: 'delivery' });
    this.onReconciled = deps.onReconciled ?? null;
    this.ingest = new DeviceIngest({
      ...deps,
      deliveries: { applyMany: (changes) => this.applyMany(changes), reconcileSoon: (deviceId, agenda) => this.reconcileSoon(deviceId, agenda) },
    });
    this.metrics = this.ingest.metrics;
    this.payloads = new PlayPayloads({ bulletins: deps.bulletins, sources: deps.sources, programmes: deps.programmes, live: deps.live, log: this.log });
    this.alarm = new EmergencyFanOut({ bus: deps.bus, broadcasts: deps.broadcasts, playBook: () => this.playBook(), now: this.now, aheadMs: this.aheadMs, log: this.log });
  }

  async start(): Promise<void> {
    await this.ingest.start();
  }

  /** Writes everything still waiting in memory; from then on every message is written as it arrives. */
  stop(): void {
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    this.reconcileTimer = null;
    // Boxes not reconciled yet are brought up to date when they next connect.
    this.reconcileQueue.clear();
    this.reconcileHeld.clear();
    this.ingest.stop();
    this.alarm.clear();
  }

  /** Writes pending delivery reports, heartbeats and statuses now (shutdown, tests). */
  flush(): void {
    this.ingest.flush();
  }

  /** One entry point for every upstream device message; see DeviceIngest. */
  onDeviceMessage(topic: string, payload: Buffer): void {
    this.ingest.onDeviceMessage(topic, payload);
  }

  /** The broker saw the device's last connection end; see DeviceIngest. */
  deviceGone(deviceId: string): void {
    this.ingest.deviceGone(deviceId);
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
    // One pass at a time: a pass started while another still sends (the scheduler's tick during an
    // emergency's background sends) would read the same queued deliveries and send them twice.
    const pass = this.dispatching.then(() => this.dispatchPass());
    this.dispatching = pass.then(() => undefined, () => undefined);
    return pass;
  }

  private dispatching: Promise<unknown> = Promise.resolve();

  private async dispatchPass(): Promise<number> {
    this.ingest.flushReports();
    const now = this.now();
    const book = this.playBook();
    for (const e of this.deps.broadcasts.emergenciesDue(now, now + this.aheadMs)) {
      const b = book.broadcast(e.broadcastId);
      if (b) await this.alarm.occurrence(b, e.occurrenceAt, book);
    }
    // Presence waiting in memory is written first: the query below reads who is online from the table.
    this.ingest.flushPresence();
    const todo = this.deps.broadcasts.queuedDueOnline(now, now + this.aheadMs).filter((d) => book.broadcast(d.broadcastId));
    await this.sendPlays(todo, book);
    return todo.length;
  }

  /**
   * An emergency just saved or approved goes to its areas' topics at once, before its deliveries are
   * written and sent one by one (dispatchDue then finds the occurrence fanned out already). Only its first
   * occurrence, and only when it is due: later ones go out with dispatchDue like any other. The whole
   * path, from this call to the publish, is in emergency-fan-out.ts.
   */
  async fanOutFirst(b: Broadcast): Promise<void> {
    await this.alarm.first(b);
  }

  playBook(): PlayBook {
    return new PlayBook(this, this.deps.broadcasts, this.log);
  }

  /** The `play` of one occurrence: a file, or a relay with its fallback file (play-book.ts). */
  playPayload(broadcast: Broadcast, occurrenceAt: number): Payload<'play'> | null {
    return this.payloads.playPayload(broadcast, occurrenceAt);
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
   * Cancels a broadcast's open deliveries (one occurrence, or all; or only those not playing yet) and tells
   * online boxes to drop them; boxes that are offline are told when they reconnect.
   */
  async cancel(broadcast: Broadcast, occurrenceAt: number | undefined, reason: string, opts: { notStarted?: boolean } = {}): Promise<string[]> {
    this.ingest.flushReports();
    // `notStarted`: a live voice that ended (issue 16) leaves the boxes playing it alone — they air what they
    // hold and report it — and cancels only those that had not begun.
    const open = this.deps.broadcasts.openDeliveries(broadcast.id, occurrenceAt).filter((d) => !opts.notStarted || d.state !== 'playing');
    const at = this.now();
    this.applyMany(open.map((d) => ({ d, state: 'cancelled' as const, at, reason })));
    const told = open.filter((d) => d.state !== 'queued');
    const online = this.deps.devices.onlineAmong(told.map((d) => d.deviceId));
    await Promise.all(told.filter((d) => online.has(d.deviceId)).map((d) => this.sendStop(d)));
    return open.map((d) => d.deviceId);
  }

  /**
   * Called after devices are brought up to date on reconnect (the agenda service sends their agendas), with
   * the agendas they said they hold.
   */
  onReconciled: ((deviceIds: string[], held: HeldAgendas) => Promise<unknown>) | null;

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
      writes.push({ broadcastId: c.d.broadcastId, deviceId: c.d.deviceId, occurrenceAt: c.d.occurrenceAt, state: c.state, at: c.at, reason: c.reason, airedMs: c.airedMs ?? null });
      return 'applied';
    });
    this.deps.broadcasts.transitionMany(writes, this.now());
    const events = this.deps.events;
    if (events) for (const w of writes) events.emit('delivery', w);
    return outcomes;
  }

  /**
   * Brings a device that (re)connected up to date from SQLite: what it still has to play within the
   * dispatch horizon, and the items cancelled while it was away, which it must drop.
   */
  async reconcile(deviceId: string, held: HeldAgendas = new Map()): Promise<void> {
    await this.reconcileMany([deviceId], held);
  }

  /**
   * `reconcile` for many devices with one query of each kind (a connect storm after a restart). `held`: the
   * agendas they said they hold, handed on to `onReconciled`.
   */
  async reconcileMany(deviceIds: string[], held: HeldAgendas = new Map()): Promise<void> {
    if (deviceIds.length === 0) return;
    this.ingest.flushReports();
    const now = this.now();
    const book = this.playBook();
    const plays = this.deps.broadcasts.pendingForDevices(deviceIds).filter((d) => {
      const b = book.broadcast(d.broadcastId);
      return !!b && b.status === 'approved' && d.occurrenceAt + b.windowMs >= now && d.occurrenceAt <= now + this.aheadMs;
    });
    await this.sendPlays(plays, book);
    await Promise.all(this.deps.broadcasts.cancelledOpenForDevices(deviceIds, now).map((d) => this.sendStop(d)));
    await this.onReconciled?.(deviceIds, held);
  }

  private reconcileSoon(deviceId: string, agenda: HeldAgenda | null | undefined): void {
    this.reconcileQueue.add(deviceId);
    // The latest status counts: a box that said nothing this time is treated as one that never says.
    if (agenda === undefined) this.reconcileHeld.delete(deviceId);
    else this.reconcileHeld.set(deviceId, agenda);
    this.reconcileTimer ??= setTimeout(() => {
      this.reconcileTimer = null;
      const ids = [...this.reconcileQueue];
      const held = new Map(this.reconcileHeld);
      this.reconcileQueue.clear();
      this.reconcileHeld.clear();
      void (async () => {
        for (let i = 0; i < ids.length; i += DEVICE_CHUNK) {
          const chunk = ids.slice(i, i + DEVICE_CHUNK);
          await this.reconcileMany(chunk, held).catch((err: unknown) => this.log.error({ err, devices: chunk.length }, 'reconcile failed'));
        }
      })();
    }, RECONCILE_GATHER_MS);
  }

  expireOverdue(): number {
    this.ingest.flushReports();
    const at = this.now();
    const outcomes = this.applyMany(this.deps.broadcasts.overdue(at).map((d) => ({ d, state: 'expired' as const, at, reason: 'the device did not receive the command before its window closed' })));
    return outcomes.filter((o) => o === 'applied').length;
  }
}

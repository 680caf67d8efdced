/**
 * Takes in everything devices send: tracks presence from `status`, stores heartbeats from `telemetry`,
 * applies the delivery transitions reported on `event` (and records faults), and settles answers on `res`.
 * Owned by the DeliveryService, which writes the delivery transitions and brings reconnecting boxes up to
 * date; ingest only decides what a device said and when it is stored.
 *
 * Sized for a province of 10,000 boxes on two cores (issue 8 § Make it fast): heartbeats and statuses are
 * written behind in batches (the devices' PresenceWriter owns buffer, timer and fold), delivery reports in
 * short batches.
 * Over 300 lines because every channel a box publishes on (status, telemetry, event, res) is taken in
 * here, through one entry point that never throws, each handler a few lines.
 */
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { topics, parseTopic, decodeMessage, decodeResponse, ErrorCode, type DeliveryState, type HeldAgenda, type Payload } from '@loaxa/shared';
import type { MessageBus } from '../broker/bus.js';
import type { BroadcastRepository, Delivery } from '../repos/broadcasts.js';
import { heartbeatReadings } from '../repos/device-health.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { RelayLogRepository } from '../repos/relay-log.js';
import type { ProgrammeRepository } from '../repos/programmes.js';
import type { ServerEvents } from './events.js';
import type { RequestCorrelator } from './requests.js';
import type { MisbehaviourMeter } from './misbehaviour.js';
import { IngestMetrics } from './ingest-metrics.js';
import { hideCredentialsIn, hideUrlCredentials } from './source-checker.js';

/** States a device may report; `queued` and `sent` are the server's own. */
const DEVICE_REPORTED: ReadonlySet<DeliveryState> = new Set(['acknowledged', 'cached', 'playing', 'played', 'failed', 'missed', 'cancelled']);

/**
 * Delivery reports wait at most this long for their batch: short, because a report is acknowledged to the
 * box (PUBACK) before it is stored — aedes acknowledges QoS 1 before handing the message on — and only a
 * crash inside this window can lose one.
 */
const REPORT_FLUSH_MS = 20;
const REPORT_MAX_BATCH = 2_000;
/**
 * Issue 15 review (6): a relay report is kept only from a minute before its occurrence to five minutes after
 * its window or length (a box's clock and queue are not exact), and at most this many per box and airing
 * (a relay of hours with a flapping source makes a few dozen).
 */
const RELAY_EVENT_EARLY_MS = 60_000;
const RELAY_EVENT_LATE_MS = 5 * 60_000;
export const RELAY_EVENTS_MAX = 500;
/** Programme-item reports per box and airing: a playing and an end per item (100 at most), and the replays interruptions cause. */
export const PROGRAMME_ITEM_EVENTS_MAX = 1_000;

/** A state change asked for; `replay` records a second `playing` (an interrupted item that plays again). */
export interface Change {
  d: Pick<Delivery, 'broadcastId' | 'deviceId' | 'occurrenceAt'>;
  state: DeliveryState;
  at: number;
  reason: string | null;
  replay?: boolean;
  /** A relay's `played`: the ms of the stream the box actually aired (issue 15). */
  airedMs?: number | null;
}
export type Outcome = 'applied' | 'refused' | 'unknown';

/**
 * What ingest needs from the dispatch side (DeliveryService): the one writer of delivery transitions.
 * Declared here, with the types it speaks, so that ingest imports nothing from the service that owns it.
 */
export interface DeliveryTransitions {
  /** Applies state changes in order, each checked against the state it finds; see DeliveryService. */
  applyMany(changes: readonly Change[]): Outcome[];
  /**
   * A box said it is online: bring it up to date soon, together with the others connecting now. `agenda` is
   * the agenda it says it holds (null: none; undefined: it did not say, as older agents do not).
   */
  reconcileSoon(deviceId: string, agenda: HeldAgenda | null | undefined): void;
}

export interface DeviceIngestDeps {
  bus: MessageBus;
  broadcasts: BroadcastRepository;
  devices: DeviceRepository;
  logger: Logger;
  deliveries: DeliveryTransitions;
  now?: () => number;
  /** Where transitions, presence and faults are announced (the live-status stream listens). */
  events?: ServerEvents;
  /** Where reported faults are kept (start and end of each). */
  faults?: FaultRepository;
  /** Where relay events are kept (issue 15: starts, failovers, returns, fallbacks, ends). */
  relayLog?: RelayLogRepository;
  /** Where programme-item events are kept (issue 15: how each item of a programme went). */
  programmes?: ProgrammeRepository;
  /** How long heartbeats and statuses wait in memory before their batch is written (default 250 ms). */
  ingestFlushMs?: number;
  /** A batch of heartbeats and statuses is written at once when this many messages wait (default 2,000). */
  ingestMaxBatch?: number;
  /** Answers to commands someone is waiting for (remote maintenance). */
  requests?: RequestCorrelator;
  /** Rejected messages per device; past the limit the device is disconnected (see MisbehaviourMeter). */
  meter?: MisbehaviourMeter;
  /** A device is over its budget of malformed messages: its connections are to be closed. */
  onFlood?: (deviceId: string) => void;
}

interface PendingReport {
  deviceId: string;
  p: Extract<Payload<'event'>, { kind: 'delivery' }>;
}

export class DeviceIngest {
  /** Each box's last reported clock offset (server − device, ms); see `onServerClock`. */
  private readonly clockOffsets = new Map<string, number>();
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Arrived, stored and write latency of what devices send (GET /api/v1/metrics). */
  readonly metrics = new IngestMetrics();
  private started = false;
  private reports: PendingReport[] = [];
  private reportTimer: NodeJS.Timeout | null = null;
  private minuteTimer: NodeJS.Timeout | null = null;
  private readonly flooding = new Set<string>();

  constructor(private readonly deps: DeviceIngestDeps) {
    this.now = deps.now ?? Date.now;
    this.flushMs = deps.ingestFlushMs ?? 250;
    this.maxBatch = deps.ingestMaxBatch ?? 2_000;
    // Same module tag as before ingest had its own file, so log searches for `delivery` still find these lines.
    this.log = deps.logger.child({ module: 'delivery' });
    // Whoever triggers a write of pending presence (the timer, a full batch, a read), its messages count as
    // stored then; observed here, not in start(), so that counting holds before start and after stop too.
    deps.devices.presence.observe({
      written: (_n, ms) => {
        this.metrics.committed(['heartbeats', 'statuses']);
        this.metrics.presenceBatches.record(ms);
      },
      failed: (err, messages) => this.log.error({ err, messages }, 'heartbeats and statuses not written (or not folded); retrying'),
    });
  }

  async start(): Promise<void> {
    const { bus, devices } = this.deps;
    // A clock given to ingest (a test's fake one) times the fold interval too; by default presence keeps
    // its monotonic one.
    devices.presence.start({ flushMs: this.flushMs, maxBatch: this.maxBatch, ...(this.deps.now ? { now: this.deps.now } : {}) });
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
    if (this.reportTimer) clearTimeout(this.reportTimer);
    if (this.minuteTimer) clearInterval(this.minuteTimer);
    this.reportTimer = this.minuteTimer = null;
    this.flushReports();
    this.deps.devices.presence.stop();
  }

  /** Writes pending delivery reports, heartbeats and statuses now (shutdown, tests). */
  flush(): void {
    this.flushReports();
    this.flushPresence();
  }

  private malformed(deviceId: string, detail: Record<string, unknown>): void {
    const over = this.deps.meter?.record(deviceId) ?? false;
    if (!over) {
      this.deviceLog(deviceId).warn(detail, 'malformed device message dropped');
      return;
    }
    // Every message over the budget closes the box's connections, not only the first one of a minute: a
    // connection let in meanwhile sent 300 malformed messages unhindered (issue 13 finding 7).
    this.deps.onFlood?.(deviceId);
    if (this.flooding.has(deviceId)) return; // logged once per flood, not 10,000 times
    this.flooding.add(deviceId);
    setTimeout(() => this.flooding.delete(deviceId), 60_000).unref();
    this.deviceLog(deviceId).error(detail, 'device floods the server with malformed messages; disconnecting it');
  }

  /** A child logger only when something is logged: creating one per message cost more than the rest of a heartbeat's handling. */
  private deviceLog(deviceId: string): Logger {
    return this.log.child({ deviceId });
  }

  /** The broker saw the device's last connection end: it is offline whatever it last said. */
  deviceGone(deviceId: string): void {
    if (!this.deps.devices.isOnline(deviceId)) return;
    this.deps.devices.presence.setStatus(deviceId, false, this.now(), null);
    this.deps.events?.emit('device', { deviceId, online: false });
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
      // Only heartbeats are stored as their payload's text; the cut is not worth making for anything else.
      const decoded = decodeMessage(payload, [channel], { payloadText: channel === 'telemetry' });
      if (!decoded.ok) {
        this.malformed(deviceId, { channel, error: decoded.error });
        return;
      }
      const env = decoded.value;
      if (env.type === 'status') {
        const p = env.payload as Payload<'status'>;
        this.metrics.arrived('statuses', arrived);
        this.deps.devices.presence.setStatus(deviceId, p.state === 'online', this.now(), p.agentVersion ?? null);
        this.deps.events?.emit('device', { deviceId, online: p.state === 'online' });
        if (p.state === 'online') this.deps.deliveries.reconcileSoon(deviceId, p.agenda);
      } else if (env.type === 'telemetry') {
        const p = env.payload as Payload<'telemetry'>;
        this.metrics.arrived('heartbeats', arrived);
        if (p.clockOffsetMs !== undefined) this.clockOffsets.set(deviceId, p.clockOffsetMs);
        this.deps.devices.presence.recordTelemetry(deviceId, {
          at: this.now(),
          // The checked readings, apart from the text: JSON with a key twice reads differently in SQL.
          volume: p.volume,
          cacheBytes: p.cacheBytes,
          uptimeS: p.uptimeS,
          agentVersion: p.agentVersion ?? null,
          // The payload's text as it came, when the decoder could cut it out exactly: serializing 20,000
          // heartbeats a minute again was 5 % of the server's CPU (issue 8 bench).
          healthJson: decoded.payloadJson ?? JSON.stringify(p),
          // Issue 20: the readings the box page's history keeps, as columns of the log.
          readings: heartbeatReadings(p),
        });
      } else if (env.type === 'event') {
        const p = env.payload as Payload<'event'>;
        const at = this.onServerClock(deviceId, p.at);
        if (p.kind === 'delivery') this.onDeliveryEvent(deviceId, { ...p, at }, arrived);
        else if (p.kind === 'relay') this.onRelayEvent(deviceId, { ...p, at });
        else if (p.kind === 'programme-item') this.onProgrammeItemEvent(deviceId, { ...p, at });
        else if (this.deps.faults?.report(deviceId, p.fault, p.active, at, p.detail ?? null, this.now())) {
          this.deps.events?.emit('device', { deviceId, fault: { kind: p.fault, active: p.active, at } });
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

  /** Writes heartbeats and statuses waiting in memory (dispatch calls this before it reads who is online). */
  flushPresence(): void {
    this.deps.devices.presence.flushNow();
  }

  /**
   * How one item of a programme went (issue 15), kept for the as-run. Guarded as relay reports are (issue 15
   * review (6)): only for a programme delivery of this box (the id from the topic), a version the programme
   * has and an index inside it, at an instant its airing can have had, and a bounded number per airing;
   * anything else is misbehaviour like a malformed message. Rare (a few per item), so written as it comes.
   */
  private onProgrammeItemEvent(deviceId: string, p: Extract<Payload<'event'>, { kind: 'programme-item' }>): void {
    const log = this.deps.programmes;
    if (!log) return;
    const refuse = (error: string) => this.malformed(deviceId, { channel: 'event', error, broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt, index: p.index });
    const d = log.itemDelivery(p.broadcastId, deviceId, p.occurrenceAt);
    if (!d) return refuse('programme-item report for an unknown or non-programme delivery');
    const version = log.version(d.programmeId, p.version);
    if (!version || p.index >= version.rendered.length) return refuse('programme-item report for a version or item the programme does not have');
    // A relay segment "until" a time of day may run up to a day past the nominal length.
    const from = p.occurrenceAt - RELAY_EVENT_EARLY_MS;
    const to = p.occurrenceAt + Math.max(d.windowMs, d.durationMs + (d.openEnded ? 24 * 3600_000 : 0)) + RELAY_EVENT_LATE_MS;
    if (p.at < from || p.at > to) return refuse('programme-item report outside its airing');
    if (d.logged >= PROGRAMME_ITEM_EVENTS_MAX) return refuse(`more than ${PROGRAMME_ITEM_EVENTS_MAX} programme-item reports for one airing`);
    // airedMs means something only with played or failed (contract), and never more than the item lasts (a
    // relay segment until a time of day: than the airing allows), as for relays (issue 15 review (5)).
    const itemMs = version.rendered[p.index]!.durationMs ?? to - from;
    const airedMs = p.airedMs !== undefined && (p.state === 'played' || p.state === 'failed') ? Math.min(p.airedMs, itemMs) : null;
    const entry = { deviceId, broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt, version: p.version, index: p.index, state: p.state, at: p.at, airedMs, reason: p.reason ?? null };
    if (!log.record(entry, this.now())) return; // a redelivery
    this.deps.events?.emit('programme-item', entry);
    const level = p.state === 'failed' ? 'warn' : 'debug';
    this.deviceLog(deviceId)[level]({ broadcastId: p.broadcastId, version: p.version, index: p.index, state: p.state, reason: entry.reason }, 'programme item');
  }

  private onRelayEvent(deviceId: string, p: Extract<Payload<'event'>, { kind: 'relay' }>): void {
    const log = this.deps.relayLog;
    if (!log) return;
    // Issue 15 review (6): a box could fill relay_log without bound (any delivery of its own, file plays and
    // long-finished ones, any instant). Only a relay delivery of this box, at an instant its airing can have
    // had, and a bounded number per airing; anything else is misbehaviour like a malformed message.
    const d = log.relayDelivery(p.broadcastId, deviceId, p.occurrenceAt);
    if (!d) {
      this.malformed(deviceId, { channel: 'event', error: 'relay report for an unknown or non-relay delivery', broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt });
      return;
    }
    const from = p.occurrenceAt - RELAY_EVENT_EARLY_MS;
    const to = p.occurrenceAt + Math.max(d.windowMs, d.durationMs) + RELAY_EVENT_LATE_MS;
    if (p.at < from || p.at > to) {
      this.malformed(deviceId, { channel: 'event', error: 'relay report outside its airing', broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt, at: p.at });
      return;
    }
    if (d.logged >= RELAY_EVENTS_MAX) {
      this.malformed(deviceId, { channel: 'event', error: `more than ${RELAY_EVENTS_MAX} relay reports for one airing`, broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt });
      return;
    }
    const entry = { deviceId, broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt, url: p.url, cause: p.cause, at: p.at, detail: p.detail ?? null };
    if (!log.record(entry, this.now())) return; // a redelivery
    // Issue 15 review (1): the live status page and the log show the URL without its credentials.
    const shown = { ...entry, url: entry.url === null ? null : hideUrlCredentials(entry.url), detail: entry.detail === null ? null : hideCredentialsIn(entry.detail) };
    this.deps.events?.emit('relay', shown);
    const level = p.cause === 'started' || p.cause === 'returned' || p.cause === 'ended' ? 'info' : 'warn';
    this.deviceLog(deviceId)[level]({ broadcastId: p.broadcastId, cause: p.cause, url: shown.url, detail: shown.detail }, 'relay changed');
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

  /**
   * Applies the delivery reports received so far, in arrival order, in one transaction. Dispatch calls this
   * before it reads or changes delivery states, so it never acts on a state a waiting report has moved on.
   */
  flushReports(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = null;
    if (this.reports.length === 0) return;
    const batch = this.reports;
    this.reports = [];
    const t0 = performance.now();
    const { deliveries } = this.deps;
    // The delivery is looked up with the device id from the topic, so a box can only report its own deliveries.
    const changes = batch.map(({ deviceId, p }): Change => ({ d: { broadcastId: p.broadcastId, deviceId, occurrenceAt: p.occurrenceAt }, state: p.state, at: p.at, reason: p.reason ?? null, replay: p.state === 'playing' && !!p.reason, airedMs: p.airedMs ?? null }));
    let outcomes: Outcome[];
    try {
      outcomes = deliveries.applyMany(changes);
    } catch (err) {
      // One report the database refuses must not cost the others in its batch (the boxes have had their
      // PUBACK and will not send them again): apply them one by one and lose only the one that fails.
      this.log.error({ err, reports: batch.length }, 'a batch of delivery reports failed; applying them one by one');
      let lost = 0;
      outcomes = changes.map((c) => {
        try {
          return deliveries.applyMany([c])[0]!;
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
    if (this.deps.requests?.settle(deviceId, res)) return;
    // A duplicate is the agent recognising a re-send of a command it already runs: not a failure.
    if (res.ok || res.error.code === ErrorCode.DUPLICATE) return;
    this.flushReports();
    const d = this.deps.broadcasts.byCommand(res.re, deviceId);
    const state: DeliveryState = res.error.code === ErrorCode.EXPIRED ? 'expired' : 'failed';
    if (d && this.deps.deliveries.applyMany([{ d, state, at: this.now(), reason: `${res.error.code}: ${res.error.message}` }])[0] === 'applied') {
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

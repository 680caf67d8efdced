/**
 * Moves broadcasts to devices and device reports back into the store: sends `play` commands, applies
 * delivery transitions reported on `event`, tracks presence from `status`, stores heartbeats, and
 * re-sends pending work to a device when it comes back (the embedded broker keeps no state across
 * restarts, so SQLite is the source of truth — ARCHITECTURE.md § MQTT).
 */
import type { Logger } from 'pino';
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
import type { BroadcastRepository, Broadcast, Delivery } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { ServerEvents } from './events.js';
import type { RequestCorrelator } from './requests.js';
import type { MisbehaviourMeter } from './misbehaviour.js';
import { agendaCommandId } from '../scheduling/agenda.js';

/** States a device may report; `queued` and `sent` are the server's own. */
const DEVICE_REPORTED: ReadonlySet<DeliveryState> = new Set(['acknowledged', 'cached', 'playing', 'played', 'failed', 'missed', 'cancelled']);

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
}

export class DeliveryService {
  private readonly fannedOut = new Set<string>();
  private readonly aheadMs: number;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly deps: DeliveryServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.aheadMs = deps.dispatchAheadMs ?? 24 * 3600_000;
    this.log = deps.logger.child({ module: 'delivery' });
  }

  async start(): Promise<void> {
    const { bus } = this.deps;
    await bus.subscribe(topics.allDevices('status'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('telemetry'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('event'), (t, p) => this.onDeviceMessage(t, p));
    await bus.subscribe(topics.allDevices('res'), (t, p) => this.onDeviceMessage(t, p));
  }

  stop(): void {
    this.fannedOut.clear();
  }

  /**
   * Sends every queued delivery due within the dispatch horizon to its device, if online; the others get
   * theirs when they connect. Boxes get items well ahead of air time so they pre-fetch the audio and play
   * from their own clock even if the link drops before the start (issue 4 § Delivery).
   * Emergency items also go once to each target area's topic, for the fastest fan-out (ARCHITECTURE.md).
   */
  async dispatchDue(): Promise<number> {
    const now = this.now();
    const due = this.deps.broadcasts.queuedDue(now, now + this.aheadMs);
    const cache = new Map<string, Broadcast | null>();
    const online = new Map<string, boolean>();
    let sent = 0;
    for (const d of due) {
      if (!cache.has(d.broadcastId)) cache.set(d.broadcastId, this.deps.broadcasts.get(d.broadcastId));
      const b = cache.get(d.broadcastId);
      if (!b) continue;
      if (b.priority === 'emergency') await this.fanOut(b, d.occurrenceAt);
      if (!online.has(d.deviceId)) online.set(d.deviceId, this.deps.devices.get(d.deviceId)?.online ?? false);
      if (!online.get(d.deviceId)) continue;
      await this.sendPlay(b, d);
      sent++;
    }
    return sent;
  }

  private async fanOut(b: Broadcast, occurrenceAt: number): Promise<void> {
    const key = `${b.id}@${occurrenceAt}`;
    if (this.fannedOut.has(key)) return;
    this.fannedOut.add(key);
    const payload = this.playPayload(b, occurrenceAt);
    if (!payload) return;
    for (const code of b.target.areaCodes ?? []) {
      const msg = encodeMessage('play', payload, { id: agendaCommandId(b.id, occurrenceAt, `area-${code}`), expiresAt: occurrenceAt + b.windowMs });
      await this.deps.bus.publish(topics.areaCmd(code), msg, { qos: 1, retain: false }).catch((err: unknown) => this.log.warn({ err, areaCode: code }, 'area fan-out failed'));
    }
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
    const payload = this.playPayload(broadcast, delivery.occurrenceAt);
    if (!payload) return;
    // The same command id on every re-send: the agent executes an id once (CONTRACTS.md § MQTT).
    const msg = encodeMessage('play', payload, { id: delivery.commandId, expiresAt: delivery.occurrenceAt + broadcast.windowMs });
    try {
      await this.deps.bus.publish(topics.deviceCmd(delivery.deviceId), msg, { qos: 1, retain: false });
      if (delivery.state === 'queued') this.apply(delivery, 'sent', this.now(), null);
    } catch (err) {
      this.log.warn({ err, deviceId: delivery.deviceId, broadcastId: broadcast.id }, 'play publish failed; will retry on reconnect');
    }
  }

  /**
   * Cancels a broadcast's open deliveries (one occurrence, or all) and tells online boxes to drop them;
   * boxes that are offline are told when they reconnect.
   */
  async cancel(broadcast: Broadcast, occurrenceAt: number | undefined, reason: string): Promise<string[]> {
    const open = this.deps.broadcasts.openDeliveries(broadcast.id, occurrenceAt);
    for (const d of open) this.apply(d, 'cancelled', this.now(), reason);
    for (const d of open) {
      if (d.state !== 'queued' && this.deps.devices.get(d.deviceId)?.online) await this.sendStop(d);
    }
    return open.map((d) => d.deviceId);
  }

  /** Answers to commands someone is waiting for (remote maintenance). */
  requests: RequestCorrelator | null = null;

  /** Rejected messages per device; past the limit the device is disconnected (see MisbehaviourMeter). */
  meter: MisbehaviourMeter | null = null;
  onFlood: ((deviceId: string) => void) | null = null;

  private malformed(deviceId: string, log: Logger, detail: Record<string, unknown>): void {
    const over = this.meter?.record(deviceId) ?? false;
    if (!over) {
      log.warn(detail, 'malformed device message dropped');
      return;
    }
    if (this.flooding.has(deviceId)) return; // logged once per flood, not 10,000 times
    this.flooding.add(deviceId);
    setTimeout(() => this.flooding.delete(deviceId), 60_000).unref();
    log.error(detail, 'device floods the server with malformed messages; disconnecting it');
    this.onFlood?.(deviceId);
  }

  private readonly flooding = new Set<string>();

  /** The broker saw the device's last connection end: it is offline whatever it last said. */
  deviceGone(deviceId: string): void {
    if (!this.deps.devices.get(deviceId)?.online) return;
    this.deps.devices.setStatus(deviceId, false, this.now(), null);
    this.deps.events?.emit('device', { deviceId, online: false });
  }

  /** Called after a device is brought up to date on reconnect (the agenda service sends its agenda). */
  onReconciled: ((deviceId: string) => Promise<unknown>) | null = null;

  private async sendStop(d: Delivery): Promise<void> {
    const msg = encodeMessage('stop', { broadcastId: d.broadcastId, occurrenceAt: d.occurrenceAt });
    await this.deps.bus.publish(topics.deviceCmd(d.deviceId), msg, { qos: 1, retain: false }).catch((err: unknown) => this.log.warn({ err, deviceId: d.deviceId }, 'stop publish failed'));
  }

  private apply(d: Delivery, state: DeliveryState, at: number, reason: string | null): boolean {
    const current = this.deps.broadcasts.delivery(d.broadcastId, d.deviceId, d.occurrenceAt);
    if (!current || !canTransition(current.state, state)) return false;
    this.deps.broadcasts.transition({ broadcastId: d.broadcastId, deviceId: d.deviceId, occurrenceAt: d.occurrenceAt, state, at, reason }, this.now());
    this.deps.events?.emit('delivery', { broadcastId: d.broadcastId, deviceId: d.deviceId, occurrenceAt: d.occurrenceAt, state, at, reason });
    return true;
  }

  /**
   * Brings a device that (re)connected up to date from SQLite: what it still has to play within the
   * dispatch horizon, and the items cancelled while it was away, which it must drop.
   */
  async reconcile(deviceId: string): Promise<void> {
    const now = this.now();
    for (const d of this.deps.broadcasts.pendingForDevice(deviceId)) {
      const b = this.deps.broadcasts.get(d.broadcastId);
      if (!b || b.status !== 'approved') continue;
      if (d.occurrenceAt + b.windowMs < now || d.occurrenceAt > now + this.aheadMs) continue;
      await this.sendPlay(b, d);
    }
    for (const d of this.deps.broadcasts.cancelledOpenForDevice(deviceId, now)) await this.sendStop(d);
    await this.onReconciled?.(deviceId);
  }

  expireOverdue(): number {
    let n = 0;
    for (const d of this.deps.broadcasts.overdue(this.now())) {
      if (this.apply(d, 'expired', this.now(), 'the device did not receive the command before its window closed')) n++;
    }
    return n;
  }

  /** One entry point for every upstream device message; never throws (STYLE.md habit 6). */
  onDeviceMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind !== 'device') return;
    const { deviceId, channel } = parsed;
    const log = this.log.child({ deviceId });
    try {
      if (channel === 'res') return this.onResponse(deviceId, payload, log);
      if (channel !== 'status' && channel !== 'telemetry' && channel !== 'event') return;
      const decoded = decodeMessage(payload, [channel]);
      if (!decoded.ok) {
        this.malformed(deviceId, log, { channel, error: decoded.error });
        return;
      }
      const env = decoded.value;
      if (env.type === 'status') {
        const p = env.payload as Payload<'status'>;
        this.deps.devices.setStatus(deviceId, p.state === 'online', this.now(), p.agentVersion ?? null);
        this.deps.events?.emit('device', { deviceId, online: p.state === 'online' });
        if (p.state === 'online') void this.reconcile(deviceId).catch((err: unknown) => log.error({ err }, 'reconcile failed'));
      } else if (env.type === 'telemetry') {
        const p = env.payload as Payload<'telemetry'>;
        this.deps.devices.recordTelemetry(deviceId, {
          at: this.now(),
          volume: p.volume,
          cacheBytes: p.cacheBytes,
          uptimeS: p.uptimeS,
          agentVersion: p.agentVersion ?? null,
          healthJson: JSON.stringify(p),
        });
      } else if (env.type === 'event') {
        const p = env.payload as Payload<'event'>;
        if (p.kind === 'delivery') this.onDeliveryEvent(deviceId, p, log);
        else if (this.deps.faults?.report(deviceId, p.fault, p.active, p.at, p.detail ?? null, this.now())) {
          this.deps.events?.emit('device', { deviceId, fault: { kind: p.fault, active: p.active, at: p.at } });
          log.info({ fault: p.fault, active: p.active }, p.active ? 'device fault began' : 'device fault ended');
        }
      }
    } catch (err) {
      log.error({ err, channel }, 'device message handler failed');
    }
  }

  private onDeliveryEvent(deviceId: string, p: Extract<Payload<'event'>, { kind: 'delivery' }>, log: Logger): void {
    if (!DEVICE_REPORTED.has(p.state)) {
      log.warn({ state: p.state }, 'device reported a server-side state; ignored');
      return;
    }
    // The delivery is looked up with the device id from the topic, so a box can only report its own deliveries.
    const d = this.deps.broadcasts.delivery(p.broadcastId, deviceId, p.occurrenceAt);
    if (!d) {
      log.warn({ broadcastId: p.broadcastId, occurrenceAt: p.occurrenceAt }, 'report for an unknown delivery');
      return;
    }
    // Circular 39: an item interrupted by a higher priority plays again (resumed or restarted); the second
    // `playing` is no transition, but the as-run log must show it.
    if (d.state === 'playing' && p.state === 'playing' && p.reason) {
      this.deps.broadcasts.transition({ broadcastId: d.broadcastId, deviceId, occurrenceAt: d.occurrenceAt, state: 'playing', at: p.at, reason: p.reason }, this.now());
      this.deps.events?.emit('delivery', { broadcastId: d.broadcastId, deviceId, occurrenceAt: d.occurrenceAt, state: 'playing', at: p.at, reason: p.reason });
      return;
    }
    if (!this.apply(d, p.state, p.at, p.reason ?? null)) {
      log.debug({ broadcastId: p.broadcastId, from: d.state, to: p.state }, 'stale or repeated report ignored');
    }
  }

  private onResponse(deviceId: string, payload: Buffer, log: Logger): void {
    const decoded = decodeResponse(payload);
    if (!decoded.ok) {
      this.malformed(deviceId, log, { channel: 'res', error: decoded.error });
      return;
    }
    const res = decoded.value;
    if (this.requests?.settle(deviceId, res)) return;
    // A duplicate is the agent recognising a re-send of a command it already runs: not a failure.
    if (res.ok || res.error.code === ErrorCode.DUPLICATE) return;
    const d = this.deps.broadcasts.byCommand(res.re, deviceId);
    const state: DeliveryState = res.error.code === ErrorCode.EXPIRED ? 'expired' : 'failed';
    if (d && this.apply(d, state, this.now(), `${res.error.code}: ${res.error.message}`)) {
      log.warn({ broadcastId: d.broadcastId, error: res.error }, 'device refused a play command');
    }
  }
}

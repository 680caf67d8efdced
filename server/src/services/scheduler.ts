/**
 * Turns approved broadcasts into deliveries and gets them to the boxes ahead of air time.
 *
 * Recurrence is evaluated by the pure `expandOccurrences` (Asia/Ho_Chi_Minh); this service only decides
 * *when* to look: at start (so a restart loses nothing: everything is rebuilt from SQLite), after every
 * change, and on a relative tick. A plain interval is enough for the tick — calendar rules never live in
 * the timer — so node-cron's calendar expressions would add nothing here.
 */
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { expandOccurrences } from '../scheduling/recurrence.js';
import { agendaCommandId, AGENDA_HORIZON_MS } from '../scheduling/agenda.js';
import type { Schedule } from '../scheduling/schedule.js';
import type { AreaRepository } from '../repos/areas.js';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { DeliveryService } from './delivery-service.js';
import type { OfferRepository } from '../repos/offers.js';
import type { AgendaService } from './agenda-service.js';
import { transitionOffer } from '../scheduling/inbox.js';

export interface SchedulerDeps {
  broadcasts: BroadcastRepository;
  devices: DeviceRepository;
  areas: AreaRepository;
  delivery: DeliveryService;
  logger: Logger;
  now?: () => number;
  tickMs?: number;
  /**
   * Calls `fn` once after `ms` and answers a cancel function (test/helpers/clock.ts `fakeClock().schedule`
   * drives the tick without waiting); an unref'd `setTimeout` by default, so the tick never keeps the process up.
   */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** How far ahead occurrences are written as deliveries (the devices' agenda horizon). */
  horizonMs?: number;
  /** Offers in communes' inboxes, expired by the tick once their time has passed. */
  offers?: OfferRepository;
  agenda?: AgendaService;
}

/** The schedule a broadcast follows; a one-off broadcast is a `once` at its start. */
export function scheduleOf(b: Pick<Broadcast, 'schedule' | 'startAt'>): Schedule {
  return b.schedule ?? { kind: 'once', at: new Date(b.startAt).toISOString() };
}

/** The default timer: real time, never keeping the process alive on its own. */
function realTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

export class Scheduler {
  /** Cancels the next tick; null while stopped. */
  private cancelTick: (() => void) | null = null;
  private running: Promise<void> | null = null;
  /**
   * Per broadcast, what the last pass wrote: a digest of its target devices and the occurrences written for
   * all of them. A daily broadcast to 10,000 boxes holds 140,000 deliveries in its week; rewriting them all
   * (INSERT OR IGNORE) every tick cost a second of CPU each 30 s, so a pass only writes the occurrences
   * new since the last one — or everything again when the devices changed (issue 8 § Make it fast).
   */
  private readonly written = new Map<string, { devices: string; times: Set<number> }>();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ module: 'scheduler' });
  }

  async start(): Promise<void> {
    await this.tick();
    this.armTick();
  }

  /**
   * The relative tick: every `tickMs`, re-armed as it fires (not when the pass ends), so passes start on the
   * same beat an interval would give; `tick` itself keeps passes from overlapping.
   */
  private armTick(): void {
    this.cancelTick = (this.deps.schedule ?? realTimer)(() => {
      this.armTick();
      void this.tick();
    }, this.deps.tickMs ?? 30_000);
  }

  stop(): void {
    this.cancelTick?.();
    this.cancelTick = null;
  }

  /** Devices a broadcast reaches now: its areas' subtrees (devices installed later included) and its devices. */
  targetDevices(b: Pick<Broadcast, 'target'>): string[] {
    const ids = new Set<string>(b.target.deviceIds ?? []);
    for (const code of b.target.areaCodes ?? []) for (const id of this.deps.devices.idsInAreas(this.deps.areas.subtree(code))) ids.add(id);
    return [...ids].sort();
  }

  /** Occurrences of a broadcast in [from, to), exceptions applied. */
  occurrences(b: Broadcast, from: number, to: number): number[] {
    return expandOccurrences(scheduleOf(b), { from, to }, { exceptions: this.deps.broadcasts.exceptions(b.id) });
  }

  /** Writes the broadcast's occurrences up to the horizon as queued deliveries (idempotent). */
  materialize(b: Broadcast): number {
    const now = this.now();
    const until = now + (this.deps.horizonMs ?? AGENDA_HORIZON_MS);
    // INSERT OR IGNORE makes a pass idempotent. The first pass (and any pass after the target devices
    // changed: a box installed in a target area joins the occurrences already written) covers the whole
    // horizon; the others only the occurrences the last pass did not see (`written`).
    const times = this.occurrences(b, now - b.windowMs, until);
    const devices = this.targetDevices(b);
    const digest = createHash('sha256').update(devices.join('\n')).digest('base64');
    const before = this.written.get(b.id);
    const todo = before?.devices === digest ? times.filter((t) => !before.times.has(t)) : times;
    const rows = todo.flatMap((occurrenceAt) => devices.map((deviceId) => ({ deviceId, occurrenceAt, commandId: agendaCommandId(b.id, occurrenceAt, deviceId) })));
    const added = this.deps.broadcasts.insertDeliveries(b.id, rows, now);
    this.written.set(b.id, { devices: digest, times: new Set(times) });
    this.deps.broadcasts.setMaterializedUntil(b.id, until);
    if (added) this.deps.agenda?.markDirty(devices);
    if (added) this.log.debug({ broadcastId: b.id, added }, 'occurrences written');
    return added;
  }

  expireOffers(): number {
    const now = this.now();
    let n = 0;
    for (const o of this.deps.offers?.due(now) ?? []) {
      const t = transitionOffer({ offerId: o.id, priority: o.priority, status: o.status, since: o.since, ...(o.expiresAt !== null ? { expiresAt: o.expiresAt } : {}) }, { type: 'expire', at: now });
      if (t.ok) {
        this.deps.offers!.update(o.id, { status: t.state.status, since: now, reason: t.state.reason ?? null });
        n++;
      }
    }
    return n;
  }

  /** One pass: extend every active broadcast, then send what is due. Passes never overlap. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        const active = this.deps.broadcasts.active();
        const ids = new Set(active.map((b) => b.id));
        for (const id of this.written.keys()) if (!ids.has(id)) this.written.delete(id);
        for (const b of active) {
          try {
            this.materialize(b);
          } catch (err) {
            this.log.error({ err, broadcastId: b.id }, 'could not expand the schedule');
          }
        }
        await this.deps.delivery.dispatchDue();
        this.deps.delivery.expireOverdue();
        this.expireOffers();
        await this.deps.agenda?.flush();
      } catch (err) {
        this.log.error({ err }, 'scheduler pass failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}

/**
 * Turns approved broadcasts into deliveries and gets them to the boxes ahead of air time.
 *
 * Recurrence is evaluated by the pure `expandOccurrences` (Asia/Ho_Chi_Minh); this service only decides
 * *when* to look: at start (so a restart loses nothing: everything is rebuilt from SQLite), after every
 * change, and on a relative tick. A plain interval is enough for the tick — calendar rules never live in
 * the timer — so node-cron's calendar expressions would add nothing here.
 */
import type { Logger } from 'pino';
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

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ module: 'scheduler' });
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
    // Every pass covers the whole horizon again: INSERT OR IGNORE makes that idempotent, and a device
    // installed in a target area since the last pass joins the occurrences already written.
    const times = this.occurrences(b, now - b.windowMs, until);
    const devices = this.targetDevices(b);
    const rows = times.flatMap((occurrenceAt) => devices.map((deviceId) => ({ deviceId, occurrenceAt, commandId: agendaCommandId(b.id, occurrenceAt, deviceId) })));
    const added = this.deps.broadcasts.insertDeliveries(b.id, rows, now);
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
        for (const b of this.deps.broadcasts.active()) {
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

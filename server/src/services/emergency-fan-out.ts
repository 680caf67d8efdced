/**
 * An emergency's first way to the boxes, start to publish in this one file (Circular 39/2020/TT-BTTTT: it
 * plays at once, see `playsAtOnce`). One `play` goes to each target area's `cmd` topic, which every box of
 * the area and of the areas below it subscribes to (ARCHITECTURE.md § MQTT), before anything is done per box:
 * with 10,000 boxes the per-box commands take a second that the alarm must not wait for (issue 8). The
 * per-box sends that follow (DeliveryService) are a second path to the same boxes; the agent plays a
 * delivery once, whichever path brings it first (CONTRACTS.md § MQTT).
 *
 * Callers: BroadcastService.launch for an emergency just saved or approved (`first`), and each dispatch pass
 * for later occurrences of emergencies that come due (`occurrence`).
 */
import type { Logger } from 'pino';
import { playsAtOnce, topics } from '@loaxa/shared';
import type { MessageBus } from '../broker/bus.js';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import { agendaCommandId } from '../scheduling/agenda.js';
import type { PlayBook } from './play-book.js';

export interface EmergencyFanOutDeps {
  bus: MessageBus;
  broadcasts: Pick<BroadcastRepository, 'exceptions'>;
  /** A fresh play book: the broadcast's `play` payload, checked against its schema once. */
  playBook: () => PlayBook;
  now: () => number;
  /** How long before air time an item is sent (DeliveryService's dispatch horizon). */
  aheadMs: number;
  log: Logger;
}

export class EmergencyFanOut {
  /** `broadcastId@occurrenceAt` already sent to its areas: an occurrence goes this way once per server run. */
  private readonly sent = new Set<string>();

  constructor(private readonly deps: EmergencyFanOutDeps) {}

  /**
   * The first occurrence of a broadcast just saved or approved, if it plays at once and is due now; later
   * occurrences go out with the dispatch passes like any other (`occurrence`).
   */
  async first(b: Broadcast): Promise<void> {
    const now = this.deps.now();
    if (!playsAtOnce(b.priority) || b.status !== 'approved') return;
    if (b.startAt > now + this.deps.aheadMs || b.startAt + b.windowMs < now) return;
    // A submitted broadcast's first occurrence may have been cancelled or moved before it was approved.
    if (this.deps.broadcasts.exceptions(b.id).some((e) => e.occurrenceAt === b.startAt)) return;
    await this.occurrence(b, b.startAt, this.deps.playBook().seed(b));
  }

  /**
   * One occurrence to its target areas' topics, once: its `play` payload, an envelope per area (a command id
   * of its own per area, expiring when the play window closes), published at QoS 1. A failed area is logged;
   * its boxes still get the per-box send.
   */
  async occurrence(b: Broadcast, occurrenceAt: number, book: PlayBook): Promise<void> {
    const key = `${b.id}@${occurrenceAt}`;
    if (this.sent.has(key)) return;
    this.sent.add(key);
    const payload = book.payload(b, occurrenceAt);
    if (!payload) return;
    await Promise.all(
      (b.target.areaCodes ?? []).map((code) => {
        const msg = payload.envelope({ id: agendaCommandId(b.id, occurrenceAt, `area-${code}`), expiresAt: occurrenceAt + b.windowMs });
        return this.deps.bus.publish(topics.areaCmd(code), msg, { qos: 1, retain: false }).catch((err: unknown) => this.deps.log.warn({ err, areaCode: code }, 'area fan-out failed'));
      }),
    );
  }

  /** Forgets what was sent (the service stops). */
  clear(): void {
    this.sent.clear();
  }
}

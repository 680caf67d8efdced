/**
 * The typed event bus between server features (STYLE.md: features never import each other to notify).
 * Emitters: the delivery service (transitions, presence, faults); the user and auth routes (`sessions`: a user's
 * sessions were revoked or the user changed); the embedded broker (`deviceGone`). Listeners: the live-status
 * stream, which coalesces what it sends to each browser (`Coalescer`) and checks its login again on `sessions`;
 * the delivery service's ingest on `deviceGone` (wired in wiring/delivery.ts). The broadcast service emits
 * `broadcast` (submitted, decided) and the coverage service `coverage` (a snapshot taken); the notifications
 * (notifications/notification-service.ts) listen to those and to `device` faults.
 */
import { EventEmitter } from 'node:events';
import type { DeliveryState, ProgrammeItemState, RelayCause } from '@loaxa/shared';

export interface ServerEventMap {
  /** `airedMs`: a relay's or live voice's `played`, the ms the box actually aired (issue 15); the national play log reports it. */
  delivery: [{ broadcastId: string; deviceId: string; occurrenceAt: number; state: DeliveryState; at: number; reason: string | null; airedMs?: number | null }];
  device: [{ deviceId: string; online?: boolean; fault?: { kind: string; active: boolean; at: number } }];
  /** A box's relay started, failed over, returned, fell back or ended (issue 15), as stored in the relay log. */
  relay: [{ deviceId: string; broadcastId: string; occurrenceAt: number; url: string | null; cause: RelayCause; at: number; detail: string | null }];
  /** How one item of a programme went on a box (issue 15), as stored in the programme item log. */
  'programme-item': [{ deviceId: string; broadcastId: string; occurrenceAt: number; version: number; index: number; state: ProgrammeItemState; at: number; airedMs: number | null; reason: string | null }];
  /** A session of this user was revoked (logout) or the user was changed (disabled, role, area, password). */
  sessions: [{ userId: string; /** Every session ended: the user was changed (password, role, area, disabled). */ all?: boolean }];
  /** The embedded broker saw a box's last connection end (a clean disconnect sends no last will); ingest marks it offline. */
  deviceGone: [{ deviceId: string }];
  /** A broadcast was submitted for approval, approved, rejected or withdrawn while waiting (issue 20: the notifications tell who must act or the author). `by`: the user who acted. */
  broadcast: [{ broadcastId: string; status: 'submitted' | 'approved' | 'rejected' | 'withdrawn'; by: string | null; reason: string | null }];
  /** The coverage service took its periodic snapshot (issue 20: the notifications look for communes whose coverage fell). */
  coverage: [{ at: number }];
}

export class ServerEvents extends EventEmitter<ServerEventMap> {
  constructor() {
    super();
    // Every open dashboard adds listeners; the default cap of 10 would warn at the eleventh browser tab.
    this.setMaxListeners(0);
  }
}

/**
 * Gathers one listener's events and hands them over together at most every `everyMs`, keeping only the
 * latest event per key: an emergency to 10,000 boxes makes 40,000 transitions within seconds, and a
 * browser's live view needs each box's current state, not 10,000 separate writes a second (issue 8).
 * A key that comes again moves to the end, so what is handed over keeps the order of the latest events.
 */
export class Coalescer<T> {
  private readonly waiting = new Map<string, T>();
  /** Cancels the pending hand-over; null when none is due. */
  private cancel: (() => void) | null = null;

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly deliver: (items: T[]) => void,
    private readonly everyMs = 250,
    /** Runs `fn` after `ms` and answers how to cancel it: a real timer, or a test's fake clock. */
    private readonly schedule: (fn: () => void, ms: number) => () => void = realTimer,
  ) {}

  push(item: T): void {
    const key = this.keyOf(item);
    this.waiting.delete(key);
    this.waiting.set(key, item);
    this.cancel ??= this.schedule(() => this.flush(), this.everyMs);
  }

  flush(): void {
    this.cancel?.();
    this.cancel = null;
    if (this.waiting.size === 0) return;
    const items = [...this.waiting.values()];
    this.waiting.clear();
    this.deliver(items);
  }

  /** Drops what waits (the listener left). */
  close(): void {
    this.cancel?.();
    this.cancel = null;
    this.waiting.clear();
  }
}

function realTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

/**
 * The device's agenda (issue 4 § Delivery on the devices): the next days of occurrences, synced from the
 * server with `sync-agenda` and kept on disk, so the box plays from its own clock while the link is down
 * and after a restart without one. Each item is handed to the playout `prefetchLeadMs` before it starts
 * (the playout then fetches its audio and waits for the start instant). A newer agenda replaces the
 * stored one: items it no longer holds that have not started are dropped — that is how a cancellation
 * reaches a box that was offline. An older version is ignored.
 *
 * At most once (CONTRACTS.md § MQTT): an item whose delivery (broadcast + occurrence) or command id is
 * already in hand or finished — by a `play` command, the area topic or an earlier agenda — is skipped.
 */
import type { Logger } from 'pino';
import type { AgendaItem, AgendaStore, SyncAgenda } from './agenda-store.js';
import { deliveryKey, type PlayPayload, type Playout } from './playout.js';
import { after, type Clock } from './timing.js';

export interface AgendaDeps {
  store: AgendaStore;
  playout: Playout;
  clock: Clock;
  logger: Logger;
  prefetchLeadMs: () => number;
}

/** The timer is re-armed at least this often, so a stepped clock (NTP at boot) is followed. */
const MAX_TIMER_MS = 60_000;

function keyOf(item: AgendaItem): string {
  return deliveryKey(item.broadcastId, item.occurrenceAt);
}

function playOf(item: AgendaItem): PlayPayload {
  const { commandId: _commandId, ...play } = item;
  return play;
}

/** Whether two items of the same delivery differ in what or when they play. */
function changed(a: AgendaItem, b: AgendaItem): boolean {
  return JSON.stringify(playOf(a)) !== JSON.stringify(playOf(b));
}

export class Agenda {
  private current: SyncAgenda | null = null;
  private byKey = new Map<string, AgendaItem>();
  /** Cancels the pending tick; on the agent's clock (timing.ts `after`), so a test's fake clock drives it. */
  private cancelTimer: (() => void) | null = null;
  private running = false;
  /** Syncs are applied one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AgendaDeps) {}

  /** The version held, or null before the first agenda. */
  get version(): number | null {
    return this.current?.version ?? null;
  }

  /**
   * Which agenda is held, as the `online` status reports it: null for none (a new box, a wiped disk),
   * undefined before the stored one is loaded (not known yet: the status then says nothing).
   */
  get held(): { version: number; generatedAt: number } | null | undefined {
    if (!this.running) return undefined;
    return this.current ? { version: this.current.version, generatedAt: this.current.generatedAt } : null;
  }

  get size(): number {
    return this.current?.items.length ?? 0;
  }

  /** Loads the stored agenda and starts scheduling it. */
  async open(): Promise<void> {
    this.current = await this.deps.store.load();
    this.byKey = new Map((this.current?.items ?? []).map((i) => [keyOf(i), i]));
    this.running = true;
    if (this.current) this.deps.logger.info({ version: this.current.version, items: this.current.items.length }, 'agenda loaded from disk');
    this.tick();
  }

  close(): void {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Takes an agenda from the server; answers with the version held afterwards. */
  sync(next: SyncAgenda): Promise<{ version: number; items: number }> {
    const run = this.queue.then(() => this.apply(next));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(next: SyncAgenda): Promise<{ version: number; items: number }> {
    const cur = this.current;
    if (cur && next.version <= cur.version) {
      // An older agenda overtaken by a newer one (or the same one again): the stored one stands.
      if (next.version < cur.version) this.deps.logger.info({ version: next.version, held: cur.version }, 'ignoring an older agenda');
      return { version: cur.version, items: cur.items.length };
    }
    // On disk first: once answered, the agenda survives a power cut.
    await this.deps.store.save(next);
    const before = this.byKey;
    this.current = next;
    this.byKey = new Map(next.items.map((i) => [keyOf(i), i]));
    let dropped = 0;
    const resubmit: string[] = [];
    for (const [key, old] of before) {
      const now = this.byKey.get(key);
      if (!now) {
        if (this.deps.playout.cancelIfNotStarted(key, `no longer in the agenda (version ${next.version})`)) dropped += 1;
      } else if (changed(old, now) && this.deps.playout.withdraw(key)) {
        resubmit.push(key);
      }
    }
    for (const key of resubmit) await this.deps.playout.settled(key);
    this.deps.logger.info({ version: next.version, items: next.items.length, dropped, changed: resubmit.length }, 'agenda updated');
    this.tick();
    return { version: next.version, items: next.items.length };
  }

  /**
   * Cancels agenda items not yet in hand that a `stop` names (the playout cancels those in hand), so they
   * are not taken later. A stop without a broadcast id stops what plays now, not the whole agenda.
   */
  cancel(filter: { broadcastId?: string | undefined; occurrenceAt?: number | undefined }, reason: string): number {
    if (filter.broadcastId === undefined) return 0;
    let n = 0;
    for (const item of this.byKey.values()) {
      if (item.broadcastId !== filter.broadcastId) continue;
      if (filter.occurrenceAt !== undefined && item.occurrenceAt !== filter.occurrenceAt) continue;
      if (this.deps.playout.stateOf(keyOf(item))) continue;
      this.deps.playout.settle(item.commandId, playOf(item), 'cancelled', reason);
      n += 1;
    }
    return n;
  }

  /** Audio of items still to play: the cache never evicts it. */
  upcomingHashes(): Set<string> {
    const now = this.deps.clock.now();
    const out = new Set<string>();
    for (const item of this.byKey.values()) {
      // A relay airs (and may need its fallback) to the end of its stream window.
      if (item.startAt + Math.max(item.windowMs, item.stream?.durationMs ?? 0) < now) continue;
      const state = this.deps.playout.stateOf(keyOf(item));
      if (!(state === undefined || state === 'acknowledged' || state === 'cached' || state === 'playing')) continue;
      // A relay's fallback file is protected like a file item's audio (issue 15); a relay without one has none.
      if (item.media) out.add(item.media.sha256);
      // So is every file of a programme, its relay segments' fallbacks included (issue 15).
      for (const p of item.programme?.items ?? []) if (p.media) out.add(p.media.sha256);
    }
    return out;
  }

  /** Hands every item due for pre-fetch to the playout, and sets the timer for the next one. */
  private tick(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (!this.running) return;
    const { playout, clock, logger } = this.deps;
    const now = clock.now();
    const lead = this.deps.prefetchLeadMs();
    let next = Infinity;
    for (const item of this.byKey.values()) {
      const key = keyOf(item);
      if (playout.stateOf(key) !== undefined || playout.knowsCommand(item.commandId)) continue;
      const due = item.startAt - lead;
      if (due > now) {
        next = Math.min(next, due);
      } else if (item.startAt + item.windowMs < now) {
        // Its whole window passed while the agent was not running (power cut, reboot).
        logger.warn({ broadcastId: item.broadcastId, occurrenceAt: item.occurrenceAt }, 'agenda item missed while the agent was down');
        playout.settle(item.commandId, playOf(item), 'missed', 'the agent was not running during its window');
      } else {
        logger.debug({ broadcastId: item.broadcastId, occurrenceAt: item.occurrenceAt, startAt: item.startAt }, 'agenda item taken in hand');
        playout.submit(item.commandId, playOf(item));
      }
    }
    if (next === Infinity) return;
    this.cancelTimer = after(clock, Math.min(Math.max(0, next - now), MAX_TIMER_MS), () => this.tick());
  }
}

/**
 * Plays `play` items one at a time and reports each delivery transition:
 * acknowledged → cached → playing → played, or failed / missed / cancelled.
 * An item of higher priority interrupts the one playing (equal priority waits its turn).
 */
import { ErrorCode, type DeliveryState, type Payload, type Priority } from '@loaxa/shared';
import type { Logger } from 'pino';
import { DownloadError, HashMismatchError, type MediaCache } from './media-cache.js';
import type { Player } from './player.js';
import { RecentIds } from './agent-state.js';
import { interrupts, pickNext } from './priority.js';
import { abortable, jitter, sleep, sleepUntil, type Clock } from './timing.js';

export type PlayPayload = Payload<'play'>;

export interface DeliveryReport {
  commandId: string;
  broadcastId: string;
  occurrenceAt: number;
  state: DeliveryState;
  reason?: string;
  sha256?: string;
}

export interface PlayoutDeps {
  cache: MediaCache;
  player: Player;
  clock: Clock;
  logger: Logger;
  /** Called for every transition, in order. */
  report: (r: DeliveryReport) => void;
  volume: () => number;
  downloadRetryMs: () => number;
}

/** Why an item was stopped from outside; decides what it reports. */
type AbortKind = 'interrupted' | 'cancelled' | 'shutdown';

interface Item {
  key: string;
  seq: number;
  commandId: string;
  play: PlayPayload;
  priority: Priority;
  startAt: number;
  state: DeliveryState;
  controller: AbortController;
  abortKind?: AbortKind;
  /** A sound of the box itself (the test tone): holds the speaker like an item, reports nothing. */
  local?: boolean;
}

interface Waiter {
  item: Item;
  priority: Priority;
  startAt: number;
  seq: number;
  grant: () => void;
}

class MissedError extends Error {
  override name = 'MissedError';
}

export class SpeakerBusyError extends Error {
  override name = 'SpeakerBusyError';
}

const MAX_RETRY_MS = 30_000;
const MAX_REASON = 500;

export function deliveryKey(broadcastId: string, occurrenceAt: number): string {
  return `${broadcastId}@${occurrenceAt}`;
}

export class Playout {
  private readonly items = new Map<string, Item>();
  /** Final states of recent deliveries: a late copy of a finished item is not played again. */
  private readonly finished = new RecentIds<DeliveryState>(1_000);
  private readonly runs = new Set<Promise<void>>();
  private current: { item: Item; released: Promise<void>; release: () => void } | null = null;
  private waiting: Waiter[] = [];
  private seq = 0;

  constructor(private readonly deps: PlayoutDeps) {}

  /** The item on air, for telemetry. */
  get playing(): { broadcastId: string; occurrenceAt: number } | null {
    const item = this.current?.item;
    return item && !item.local && item.state === 'playing' ? { broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt } : null;
  }

  /**
   * Takes a play item in hand. The same delivery (broadcast + occurrence) already in hand is not started a
   * second time, whichever command carried it.
   */
  submit(commandId: string, play: PlayPayload): { accepted: boolean; state: DeliveryState } {
    const key = deliveryKey(play.broadcastId, play.occurrenceAt);
    const existing = this.items.get(key);
    if (existing) return { accepted: true, state: existing.state };
    const final = this.finished.get(key);
    if (final) return { accepted: true, state: final };
    const item: Item = {
      key,
      seq: this.seq++,
      commandId,
      play,
      priority: play.priority,
      startAt: play.startAt,
      state: 'acknowledged',
      controller: new AbortController(),
    };
    this.items.set(key, item);
    this.transition(item, 'acknowledged');
    const run = this.run(item).catch((err: unknown) => this.deps.logger.error({ err, key }, 'playout crashed'));
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
    return { accepted: true, state: 'acknowledged' };
  }

  /** Cancels matching items (all when no filter); returns how many. */
  stop(filter: { broadcastId?: string | undefined; occurrenceAt?: number | undefined }): number {
    let n = 0;
    for (const item of this.items.values()) {
      if (filter.broadcastId !== undefined && item.play.broadcastId !== filter.broadcastId) continue;
      if (filter.occurrenceAt !== undefined && item.play.occurrenceAt !== filter.occurrenceAt) continue;
      this.abort(item, 'cancelled');
      n += 1;
    }
    return n;
  }

  /** Stops everything without reporting (the agent is going down) and waits for the items to wind up. */
  async close(): Promise<void> {
    for (const item of this.items.values()) this.abort(item, 'shutdown');
    await Promise.allSettled([...this.runs]);
  }

  private abort(item: Item, kind: AbortKind): void {
    if (item.controller.signal.aborted) return;
    item.abortKind = kind;
    item.controller.abort(new Error(kind));
  }

  /**
   * Plays a sound of the box itself (the test tone) now, holding the speaker like a normal item: it is
   * refused while anything plays, and any higher-priority item interrupts it (it then rejects).
   */
  async playLocal(label: string, file: string, durationMs: number, volume: number): Promise<void> {
    if (this.current) throw new SpeakerBusyError(`the speaker is busy with ${this.current.item.key}`);
    const now = this.deps.clock.now();
    const play: PlayPayload = {
      broadcastId: label,
      occurrenceAt: now,
      priority: 'normal',
      media: { sha256: '0'.repeat(64), url: 'http://localhost/', durationMs },
      startAt: now,
      windowMs: durationMs,
    };
    const item: Item = { key: `local:${label}@${now}`, seq: this.seq++, commandId: '', play, priority: 'normal', startAt: now, state: 'playing', controller: new AbortController(), local: true };
    this.items.set(item.key, item);
    const release = this.take(item);
    try {
      await this.deps.player.play(file, { durationMs, volume, signal: item.controller.signal });
    } finally {
      release();
      this.items.delete(item.key);
    }
  }

  private transition(item: Item, state: DeliveryState, reason?: string): void {
    item.state = state;
    if (item.local) return;
    const r: DeliveryReport = { commandId: item.commandId, broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt, state };
    if (reason !== undefined) r.reason = reason.slice(0, MAX_REASON);
    if (state === 'cached' || state === 'playing' || state === 'played') r.sha256 = item.play.media.sha256;
    this.deps.report(r);
  }

  private async run(item: Item): Promise<void> {
    const { signal } = item.controller;
    const unpin = this.deps.cache.pin(item.play.media.sha256);
    try {
      if (this.deps.clock.now() > this.deadline(item)) throw new MissedError('arrived after the end of its window');
      const file = await this.obtain(item);
      this.transition(item, 'cached');
      await sleepUntil(this.deps.clock, item.startAt, signal);
      const release = await this.acquire(item);
      try {
        signal.throwIfAborted();
        this.transition(item, 'playing');
        await this.deps.player.play(file, { durationMs: item.play.media.durationMs, volume: this.deps.volume(), signal });
        this.transition(item, 'played');
      } finally {
        release();
      }
    } catch (err) {
      this.settleFailure(item, err);
    } finally {
      unpin();
      this.items.delete(item.key);
      if (item.abortKind !== 'shutdown') this.finished.set(item.key, item.state);
    }
  }

  private settleFailure(item: Item, err: unknown): void {
    const log = this.deps.logger.child({ broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt });
    if (item.abortKind === 'shutdown') return;
    if (item.abortKind === 'cancelled') return this.transition(item, 'cancelled');
    // "interrupted" for now; the scheduling work will let an interrupted item resume.
    if (item.abortKind === 'interrupted') return this.transition(item, 'failed', 'interrupted');
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof MissedError) {
      log.warn({ reason: message }, 'missed');
      return this.transition(item, 'missed', message);
    }
    if (err instanceof HashMismatchError || err instanceof DownloadError) {
      log.error({ reason: message }, 'media refused');
      return this.transition(item, 'failed', `${err.code}: ${message}`);
    }
    log.error({ err }, 'playback failed');
    this.transition(item, 'failed', `${ErrorCode.PLAYBACK_FAILED}: ${message}`);
  }

  private deadline(item: Item): number {
    return item.startAt + item.play.windowMs;
  }

  /** The cached file, downloading it with retries and backoff until the item's window closes. */
  private async obtain(item: Item): Promise<string> {
    const { signal } = item.controller;
    const { sha256, url } = item.play.media;
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      const hit = await this.deps.cache.lookup(sha256);
      if (hit) return hit;
      try {
        return await abortable(this.deps.cache.fetchOnce(sha256, url, item.play.media.bytes), signal);
      } catch (err) {
        if (signal.aborted || err instanceof HashMismatchError || (err instanceof DownloadError && err.permanent)) throw err;
        const wait = jitter(Math.min(this.deps.downloadRetryMs() * 2 ** attempt, MAX_RETRY_MS), 0.2);
        const message = err instanceof Error ? err.message : String(err);
        if (this.deps.clock.now() + wait > this.deadline(item)) throw new MissedError(`not cached before the end of its window: ${message}`);
        this.deps.logger.warn({ sha256, attempt, retryInMs: wait, err: message }, 'download failed; retrying');
        await sleep(wait, signal);
      }
    }
  }

  /** Resolves with a release function once the item may use the speaker. */
  private acquire(item: Item): Promise<() => void> {
    if (this.deps.clock.now() > this.deadline(item)) return Promise.reject(new MissedError('ready only after the end of its window'));
    const cur = this.current;
    if (!cur) return Promise.resolve(this.take(item));
    if (interrupts(item.priority, cur.item.priority)) {
      this.deps.logger.info({ interrupted: cur.item.key, by: item.key }, 'interrupting for a higher priority item');
      this.abort(cur.item, 'interrupted');
      const release = this.take(item);
      // The speaker is ours once the interrupted player has stopped (no two outputs on one ALSA device).
      return cur.released.then(() => release);
    }
    return new Promise((resolve, reject) => {
      const { signal } = item.controller;
      const leave = (err: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting = this.waiting.filter((w) => w !== waiter);
        reject(err);
      };
      const onAbort = (): void => leave(signal.reason as Error);
      const timer = setTimeout(() => leave(new MissedError('the speaker was busy until the end of its window')), Math.max(0, this.deadline(item) - this.deps.clock.now()));
      const waiter: Waiter = {
        item,
        priority: item.priority,
        startAt: item.startAt,
        seq: item.seq,
        grant: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(this.take(item));
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private take(item: Item): () => void {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slot = { item, released, release };
    this.current = slot;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      slot.release();
      if (this.current !== slot) return; // an interrupting item already holds the speaker
      this.current = null;
      const next = pickNext(this.waiting);
      if (next) {
        this.waiting = this.waiting.filter((w) => w !== next);
        next.grant();
      }
    };
  }
}

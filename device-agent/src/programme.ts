/**
 * Airs one programme (issue 15): an ordered list of items — files (bulletin, chime, music), relay segments and
 * pauses — played one after another while the programme holds the speaker. The playout (playout.ts) owns the
 * delivery (its reports, the speaker's arbitration, cancel and shutdown); this module owns what happens inside:
 * - every file of every item (a relay's fallback too) is fetched and pinned before the start; a file that cannot
 *   be had by then costs only its own item, reported `failed` when its turn comes (a whole programme lost for
 *   one jingle would be wrong);
 * - between items nothing is fetched, hashed or waited for: the files are resolved beforehand, the amplifier
 *   is kept powered for the whole stretch (`holdOutput`), and while an item plays the next file's player is
 *   prepared (player.ts `prepare`: its ffmpeg spawned, waiting on a pipe), so the gap is only the decoder's
 *   first output (issue 15 asks for under 200 ms);
 * - an interruption by a higher priority (Circular 39/2020/TT-BTTTT) stops the item on air; once the speaker is
 *   back the programme continues AT that item: a file or pause resumes where it stopped or restarts
 *   (`play.resume`, as single broadcasts do), a relay segment continues live to the end fixed when it first
 *   started (never from where it stopped), and the items after it follow. Items already played never play again;
 * - each item reports `playing` when it starts (again) and one of `played` (with `airedMs`), `skipped`, `failed`.
 * Fetching the files is programme-files.ts's. Over 300 lines because one programme's run (the cursor, each item's
 * offset and relay runner, the next file's prepared player) is one state machine that every step reads and moves.
 */
import { ErrorCode, type Payload, type ProgrammeItemRef, type ProgrammeItemState, type ProgrammeRef } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { MediaCache } from './media-cache.js';
import { fetchFiles } from './programme-files.js';
import type { Player, PlayOptions, PreparedPlay } from './player.js';
import type { ProgrammeItemReport } from './protocol/deliveries.js';
import type { RelayChange, RelayRunner, StartRelay } from './relay/stream-relay.js';
import { sleep, type Clock } from './timing.js';

/** A programme taken in hand after its start fetches its files for at most this long before it airs. */
const LATE_FETCH_MS = 30_000;

export interface ProgrammeDeps {
  cache: MediaCache;
  player: Player;
  clock: Clock;
  logger: Logger;
  volume: () => number;
  downloadRetryMs: () => number;
  /** Absent: relay segments fail (a box without a stream player); the other items still play. */
  startRelay?: StartRelay | undefined;
  /** Keeps the output (the amplifier's power) on around `fn`; absent, items just play. */
  holdOutput?: (<T>(signal: AbortSignal, fn: () => Promise<T>) => Promise<T>) | undefined;
  /** Monotonic milliseconds for what aired (Playout's time base). */
  elapsed: () => number;
  report: (r: ProgrammeItemReport) => void;
  /** A relay segment's changes, reported like a relay broadcast's (same broadcast and occurrence). */
  relayChange: (c: RelayChange) => void;
}

/** One stretch at the speaker, lent by the playout. */
export interface Stretch {
  /** Aborts on an interruption and on the delivery's own end (cancel, shutdown). */
  signal: AbortSignal;
  /** Aborted only by a higher priority taking the speaker. */
  interrupted: AbortSignal;
  release(): void;
}

/** What the playout lends a programme: the speaker under its delivery's claim, and the delivery's reports. */
export interface ProgrammeStage {
  /** Waits for the speaker: the first time within the delivery's window, `again` after an interruption. */
  take(again: boolean): Promise<Stretch>;
  /** The delivery is on air (again), with why. */
  playing(reason?: string): void;
  /** Who took the speaker last. */
  interruptedBy(): string;
}

interface ItemRun {
  ref: ProgrammeItemRef;
  /** The file in the cache (the item's, or a relay's fallback); null when there is none or it was not had. */
  file: string | null;
  /** Why its file was not had before the start. */
  missing?: string;
  state?: ProgrammeItemState;
  /** Reached `playing` once. */
  started: boolean;
  /** Where a file or pause goes on after an interruption (`resume`). */
  offsetMs: number;
  airedMs: number;
  /** A relay segment's end, fixed when it first starts (issue 15). */
  endAt?: number;
  relay?: RelayRunner;
}

export type ProgrammeOutcome = { state: 'played' | 'failed'; reason?: string };

export class ProgrammeAiring {
  private readonly items: ItemRun[];
  private readonly unpins: Array<() => void> = [];
  private cursor = 0;
  /** The delivery reached `playing`. */
  private started = false;
  /** Set after an interruption, for the next item report's reason. */
  private resumedAfter: string | null = null;
  /** The next file's player, started while the item before it plays. */
  private prepared: { index: number; play: PreparedPlay } | null = null;

  constructor(
    private readonly deps: ProgrammeDeps,
    private readonly play: Pick<Payload<'play'>, 'broadcastId' | 'occurrenceAt' | 'resume'> & { programme: ProgrammeRef },
    /** The delivery's whole life (cancel, withdraw, shutdown). */
    private readonly signal: AbortSignal,
  ) {
    const refs = [...play.programme.items].sort((a, b) => a.index - b.index);
    // The schema bounds each index; two items at one position would make the reports ambiguous.
    for (let i = 1; i < refs.length; i++) if (refs[i]!.index === refs[i - 1]!.index) throw new Error(`programme ${play.programme.programmeId} has two items at index ${refs[i]!.index}`);
    this.items = refs.map((ref) => ({ ref, file: null, started: false, offsetMs: 0, airedMs: 0 }));
  }

  /**
   * Fetches and pins every file before `startAt` (issue 15: "pre-fetch every file of a programme before air
   * time"). Never throws for a file: what could not be had is noted on its items. Answers a note for the
   * delivery's `cached` report when some file is missing. A programme taken in hand after its start (within its
   * window, which ends at `lastStart`) gets a short grace instead: neither every file failed at once nor its
   * window waited out.
   */
  async prefetch(startAt: number, lastStart: number): Promise<string | undefined> {
    const now = this.deps.clock.now();
    const until = now < startAt ? startAt : Math.min(lastStart, now + LATE_FETCH_MS);
    const media = this.items.flatMap((it) => (it.ref.media ? [it.ref.media] : []));
    const distinct = new Set(media.map((m) => m.sha256));
    for (const sha of distinct) this.unpins.push(this.deps.cache.pin(sha));
    const { files, errors } = await fetchFiles(media, until, this.signal, this.deps);
    for (const it of this.items) {
      const sha = it.ref.media?.sha256;
      if (!sha) continue;
      it.file = files.get(sha) ?? null;
      if (!it.file) it.missing = errors.get(sha) ?? 'not cached';
    }
    if (errors.size === 0) return undefined;
    const first = [...errors.values()][0]!;
    this.deps.logger.warn({ missing: errors.size, files: distinct.size, err: first }, 'programme files not cached before the start; their items will fail');
    return `${errors.size} of ${distinct.size} files not cached before the start; their items fail, a relay segment airs without its fallback (${first})`;
  }

  /** Unpins the files (the delivery has left the playout). */
  close(): void {
    this.dropPrepared();
    for (const unpin of this.unpins.splice(0)) unpin();
  }

  /**
   * Airs the items from the first, at the speaker lent by `stage`, taking it again after each interruption.
   * Rejects like a single item does (missed, cancelled, shutdown); the playout reports that.
   */
  async air(stage: ProgrammeStage): Promise<ProgrammeOutcome> {
    let reason: string | undefined;
    for (;;) {
      let stretch: Stretch;
      try {
        stretch = await stage.take(this.started);
      } catch (err) {
        // Never back at the speaker (Circular 39 allows the wait to end): what was left did not air. A cancel is
        // `cancelled`'s to report; a shutdown reports nothing (the delivery is not over for the box).
        if (this.started && !this.signal.aborted) this.skipRest(err instanceof Error ? err.message : String(err));
        throw err;
      }
      try {
        this.signal.throwIfAborted();
        if (!stretch.interrupted.aborted) {
          stage.playing(reason);
          this.started = true;
          const run = (): Promise<void> => this.playOn(stretch.signal);
          await (this.deps.holdOutput ? this.deps.holdOutput(stretch.signal, run) : run());
          return this.outcome();
        }
      } catch (err) {
        if (this.signal.aborted || !stretch.interrupted.aborted) throw err;
      } finally {
        stretch.release();
      }
      if (!this.started) continue; // taken over before it began: wait again within its window
      const by = stage.interruptedBy();
      const current = this.items[this.cursor];
      if (current?.relay && current.state === 'playing') this.deps.relayChange({ cause: 'interrupted', url: null, at: this.deps.clock.now(), detail: `by ${by}` });
      this.resumedAfter = by;
      reason = `continued at item ${current?.ref.index ?? this.cursor} after ${by}`;
      this.deps.logger.info({ index: current?.ref.index, by }, 'programme interrupted; waiting to continue');
    }
  }

  /** The delivery was cancelled (a `stop`, an agenda without it): the item on air ends there. */
  cancelled(reason: string): void {
    const it = this.items[this.cursor];
    if (!it?.started || it.state !== 'playing') return;
    if (it.relay) this.relayEnded(it, `stopped; ${Math.round(it.relay.airedMs / 1000)} s of the stream aired`);
    this.finish(it, 'skipped', `the programme was stopped: ${reason}`, it.relay ? it.relay.airedMs : it.airedMs);
  }

  private async playOn(signal: AbortSignal): Promise<void> {
    try {
      for (; this.cursor < this.items.length; this.cursor++) {
        const it = this.items[this.cursor]!;
        if (it.ref.kind === 'pause') await this.timed(it, it.ref.pauseMs!, signal, (opts) => this.pause(opts));
        else if (it.ref.kind === 'relay') await this.relay(it, signal);
        else if (!it.file) this.finish(it, 'failed', it.missing ?? `${ErrorCode.DOWNLOAD_FAILED}: not cached`);
        else await this.timed(it, it.ref.media!.durationMs, signal, (opts) => this.playFile(it, opts));
        this.resumedAfter = null;
      }
    } finally {
      // Interrupted or stopped: the prepared player holds no sound card, but nothing says it will be wanted.
      this.dropPrepared();
    }
  }

  /** A file item: through its prepared player when there is one. */
  private playFile(it: ItemRun, opts: PlayOptions): Promise<void> {
    const ready = this.prepared?.index === it.ref.index ? this.prepared.play : null;
    this.prepared = null;
    return ready ? ready.play(opts) : this.deps.player.play(it.file!, opts);
  }

  /**
   * Prepares the player of the next file item while the current item plays (called once it has started, so
   * the spawn does not compete with the current item's own start).
   */
  private prepareNext(): void {
    // The next item with sound: a relay connects when its turn comes (relay/stream-relay.ts), a file is prepared.
    const next = this.items.slice(this.cursor + 1).find((i) => i.ref.kind === 'relay' || (i.ref.kind !== 'pause' && i.file));
    if (!next?.file || next.ref.kind === 'relay' || next.offsetMs > 0 || !this.deps.player.prepare || this.prepared?.index === next.ref.index) return;
    this.dropPrepared();
    try {
      this.prepared = { index: next.ref.index, play: this.deps.player.prepare(next.file, this.deps.volume()) };
    } catch (err) {
      // Then it starts the ordinary way when its turn comes.
      this.deps.logger.warn({ index: next.ref.index, err: (err as Error).message }, 'cannot prepare the next item');
    }
  }

  private dropPrepared(): void {
    this.prepared?.play.cancel();
    this.prepared = null;
  }

  /** Silence with the speaker kept: the time counts like audio (resumed or restarted like a file). */
  private async pause(opts: PlayOptions): Promise<void> {
    opts.onStart?.();
    const ms = Math.max(0, opts.durationMs - (opts.offsetMs ?? 0));
    const { clock } = this.deps;
    await (clock.sleep ? clock.sleep(ms, opts.signal) : sleep(ms, opts.signal));
  }

  /** A file or a pause: from its offset to its end; an interruption keeps where it got to. */
  private async timed(it: ItemRun, durationMs: number, signal: AbortSignal, run: (opts: PlayOptions) => Promise<void>): Promise<void> {
    const mode = this.play.resume ?? 'restart';
    if (it.offsetMs >= durationMs) return this.finish(it, 'played', `ended while interrupted by ${this.resumedAfter ?? 'a higher-priority item'}`, it.airedMs);
    const again = it.started && this.resumedAfter !== null;
    this.start(it, again ? (mode === 'resume' ? `resumed at ${Math.round(it.offsetMs)} ms after ${this.resumedAfter}` : `restarted after ${this.resumedAfter}`) : undefined);
    let began = this.deps.elapsed();
    try {
      const playing = run({ durationMs, offsetMs: it.offsetMs, volume: this.deps.volume(), signal, onStart: () => (began = this.deps.elapsed()) });
      this.prepareNext();
      await playing;
    } catch (err) {
      const ran = Math.max(0, this.deps.elapsed() - began);
      it.airedMs += ran;
      if (signal.aborted) {
        it.offsetMs = mode === 'resume' ? it.offsetMs + ran : 0;
        throw err;
      }
      // The player failed on this file: the item fails, the programme goes on (issue 15).
      this.deps.logger.error({ index: it.ref.index, err: (err as Error).message }, 'programme item failed to play');
      return this.finish(it, 'failed', `${ErrorCode.PLAYBACK_FAILED}: ${(err as Error).message}`, it.airedMs);
    }
    it.airedMs += Math.max(0, this.deps.elapsed() - began);
    this.finish(it, 'played', undefined, it.airedMs);
  }

  /** A relay segment: live until its end, fixed the first time its turn came (issue 15). */
  private async relay(it: ItemRun, signal: AbortSignal): Promise<void> {
    const stream = it.ref.stream!;
    const now = this.deps.clock.now();
    it.endAt ??= stream.endsAt ?? now + stream.durationMs!;
    if (it.endAt <= now) {
      if (!it.started) return this.finish(it, 'skipped', `its end (${new Date(it.endAt).toISOString()}) had passed when its turn came`);
      this.relayEnded(it, `${Math.round(it.relay!.airedMs / 1000)} s of the stream aired`);
      return this.finish(it, 'played', `its end passed while interrupted by ${this.resumedAfter ?? 'a higher-priority item'}`, it.relay!.airedMs);
    }
    if (!this.deps.startRelay) return this.finish(it, 'failed', `${ErrorCode.PLAYBACK_FAILED}: this box has no stream player`);
    try {
      it.relay ??= this.deps.startRelay(
        { sourceId: stream.sourceId, urls: stream.urls, durationMs: Math.max(1, it.endAt - now), ...(stream.deviceAuth !== undefined ? { deviceAuth: stream.deviceAuth } : {}) },
        it.file,
        this.deps.relayChange,
      );
    } catch (err) {
      // A segment whose player cannot be made costs only itself (issue 15), like a file that cannot be had.
      return this.finish(it, 'failed', `${ErrorCode.PLAYBACK_FAILED}: ${(err as Error).message}`);
    }
    this.start(it, it.started && this.resumedAfter !== null ? `continued live after ${this.resumedAfter}` : undefined);
    try {
      const playing = it.relay.play(it.endAt, signal);
      this.prepareNext();
      await playing;
    } catch (err) {
      if (signal.aborted) throw err;
      this.deps.logger.error({ index: it.ref.index, err: (err as Error).message }, 'programme relay segment failed');
      this.relayEnded(it, `failed: ${(err as Error).message}`);
      return this.finish(it, 'failed', `${ErrorCode.PLAYBACK_FAILED}: ${(err as Error).message}`, it.relay.airedMs);
    }
    const aired = it.relay.airedMs;
    this.relayEnded(it, `${Math.round(aired / 1000)} s of the stream aired`);
    this.finish(it, 'played', aired === 0 ? 'nothing of the stream aired: no URL served during the segment' : undefined, aired);
  }

  private relayEnded(it: ItemRun, detail: string): void {
    if (it.relay) this.deps.relayChange({ cause: 'ended', url: null, at: this.deps.clock.now(), detail });
  }

  private start(it: ItemRun, reason?: string): void {
    it.started = true;
    it.state = 'playing';
    this.report(it, 'playing', reason);
  }

  private finish(it: ItemRun, state: Exclude<ProgrammeItemState, 'playing'>, reason?: string, airedMs?: number): void {
    it.state = state;
    this.report(it, state, reason, airedMs);
  }

  private report(it: ItemRun, state: ProgrammeItemState, reason?: string, airedMs?: number): void {
    this.deps.report({
      broadcastId: this.play.broadcastId,
      occurrenceAt: this.play.occurrenceAt,
      version: this.play.programme.version,
      index: it.ref.index,
      state,
      at: this.deps.clock.now(),
      ...(airedMs !== undefined ? { airedMs } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
  }

  /** Items not yet ended are skipped (the programme did not get the speaker back in time). */
  private skipRest(why: string): void {
    for (let i = this.cursor; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (it.state !== undefined && it.state !== 'playing') continue;
      if (it.relay && it.state === 'playing') this.relayEnded(it, `not continued; ${Math.round(it.relay.airedMs / 1000)} s of the stream aired`);
      this.finish(it, 'skipped', why, it.started ? (it.relay?.airedMs ?? it.airedMs) : undefined);
    }
  }

  /** Played when some item with sound aired; failed when none could (every file missing, the player broken). */
  private outcome(): ProgrammeOutcome {
    const failed = this.items.filter((i) => i.state === 'failed').length;
    const skipped = this.items.filter((i) => i.state === 'skipped').length;
    const sounded = this.items.some((i) => i.ref.kind !== 'pause' && i.state === 'played');
    const counts = [failed ? `${failed} failed` : '', skipped ? `${skipped} skipped` : ''].filter(Boolean).join(', ');
    if (!sounded && this.items.some((i) => i.ref.kind !== 'pause')) return { state: 'failed', reason: `${ErrorCode.PLAYBACK_FAILED}: no item of the programme aired (${counts || 'nothing to air'})` };
    return counts ? { state: 'played', reason: `${counts} of ${this.items.length} items` } : { state: 'played' };
  }
}

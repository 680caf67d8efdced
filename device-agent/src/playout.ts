/**
 * Plays `play` items (from commands or the agenda) one at a time and reports each delivery transition:
 * acknowledged → cached → playing → played, or failed / missed / cancelled. An item of higher priority
 * interrupts the one playing (speaker.ts); the interrupted item is not lost: once the interrupter has
 * finished it plays again, from where it stopped (`resume`) or from the start (`restart`, the default),
 * and its new `playing` report says after what (Circular 39/2020/TT-BTTTT; issue 4).
 * A relay (`play.stream`, issue 15) goes through the same queue and the same arbitration: its fallback file
 * is fetched like a file, it airs from `startAt` to `startAt + durationMs` however late it began, an
 * interruption stops it and afterwards it continues live (relay/stream-relay.ts), and its `played` says how
 * much of the stream actually aired (`airedMs`).
 * A live voice (`play.stream.live`, issue 16) is a relay that ends with its stream: `playing` once its audio
 * reaches the speaker (the operator counts the boxes playing), `played` with `airedMs` when the stream ended,
 * and `failed` when nothing of it aired; an emergency interrupts it and it continues live if it still runs.
 * A programme (`play.programme`, issue 15) is one delivery too: its files are all fetched before the start, and
 * what happens inside it (items in turn, per-item reports, continuing at the interrupted item) is programme.ts's,
 * at the speaker this machine lends it.
 * Over 300 lines because an item's whole life (taking it in, fetching, waiting for its start, airing with
 * interruptions, the one report of how it ended) is one state machine, kept in one place; a relay is the
 * same machine with another way of airing, sharing the speaker, the claims and the reports.
 */
import { ErrorCode, isTerminal, type DeliveryState, type Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import { DownloadError, HashMismatchError, type MediaCache } from './media-cache.js';
import type { Player } from './player.js';
import { FinishedDeliveries, deliveryKey, deliveryReport, type DeliveryReport, type FinishedDelivery } from './deliveries.js';
import { Speaker, type SpeakerClaim } from './speaker.js';
import { MissedError, obtainMedia } from './obtain-media.js';
import { ProgrammeAiring, type ProgrammeStage, type Stretch } from './programme.js';
import type { RelayChange, RelayRunner, StartRelay, StreamRef } from './relay/stream-relay.js';
import type { ProgrammeItemReport, RelayReport } from './protocol/deliveries.js';
import { sleepUntil, type Clock } from './timing.js';

export type PlayPayload = Payload<'play'>;
export { deliveryKey, type DeliveryReport, type FinishedDelivery };

export interface PlayoutDeps {
  cache: MediaCache;
  player: Player;
  clock: Clock;
  logger: Logger;
  /** Called for every transition, in order. */
  report: (r: DeliveryReport) => void;
  volume: () => number;
  downloadRetryMs: () => number;
  /** Called when a delivery reaches its final state (to persist the finished list). */
  onFinished?: () => void;
  /** Starts the stream player of a relay item; absent, relay items fail (a box without a stream player). */
  startRelay?: StartRelay;
  /** Called for every change of a relay (which URL serves, failures, fallback, interruptions, its end). */
  relayChange?: (r: RelayReport) => void;
  /** Called for every report of a programme's item (issue 15). */
  programmeItem?: (r: ProgrammeItemReport) => void;
  /** Keeps the output (the amplifier) powered around `fn`: a programme holds it from its first item to its last. */
  holdOutput?: <T>(signal: AbortSignal, fn: () => Promise<T>) => Promise<T>;
}

/** A relay's window ended while it waited for the speaker after an interruption: it aired, and is over. */
class WindowOverError extends Error {
  override name = 'WindowOverError';
}

/** Why an item was stopped from outside; decides what it reports. */
type AbortKind = 'interrupted' | 'cancelled' | 'withdrawn' | 'shutdown';

interface Item {
  key: string;
  seq: number;
  commandId: string;
  play: PlayPayload;
  state: DeliveryState;
  /** The item's whole life: cancel, withdraw, shutdown. */
  controller: AbortController;
  abortKind?: AbortKind;
  cancelReason?: string;
  /** The current attempt at the speaker; a higher priority aborts only this. */
  segment?: AbortController;
  /** Broadcast of the item that last interrupted this one. */
  interruptedBy?: string;
  /** Reached `playing` at least once. */
  started: boolean;
  /** Settles when the item has left the playout. */
  done?: Promise<void>;
  /** A sound of the box itself (the test tone): holds the speaker like an item, reports nothing. */
  local?: boolean;
  /** A relay's player once it has aired: its final report (played, cancelled, failed) says how much. */
  relay?: RelayRunner;
}

export class SpeakerBusyError extends Error {
  override name = 'SpeakerBusyError';
}

/** An interrupted item waits this long for the speaker to come back before it counts as missed. */
const RESUME_WAIT_MS = 60 * 60_000;

export class Playout {
  private readonly items = new Map<string, Item>();
  private readonly finished = new FinishedDeliveries();
  private readonly runs = new Set<Promise<void>>();
  private readonly speaker = new Speaker();
  private seq = 0;
  /**
   * Milliseconds for intervals (how far an interrupted item got, for `resume`), on the time base the clock's
   * waits run on: performance.now (monotonic, so an NTP step of the wall clock cannot bend the offset) for
   * the system clock or any clock waiting on real timers; the clock itself when it drives its own waits
   * (timing.ts Clock.sleep, a test's fake clock), so that the offset is what the test advanced it by.
   */
  private readonly elapsed: () => number;

  constructor(private readonly deps: PlayoutDeps) {
    const { clock } = deps;
    this.elapsed = clock.sleep ? () => clock.now() : () => performance.now();
  }

  /** The item on air, for telemetry. */
  get playing(): { broadcastId: string; occurrenceAt: number } | null {
    const item = this.items.get(this.speaker.holder?.key ?? '');
    return item && !item.local && item.state === 'playing' ? { broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt } : null;
  }

  /** Finished deliveries, oldest first (saved by the agent, given back to `restore` after a restart). */
  finishedDeliveries(): FinishedDelivery[] {
    return this.finished.list();
  }

  restore(finished: readonly FinishedDelivery[]): void {
    for (const f of finished) this.finished.add(f);
  }

  /** The state of a delivery in hand or finished; undefined when unknown. */
  stateOf(key: string): DeliveryState | undefined {
    return this.items.get(key)?.state ?? this.finished.get(key)?.state;
  }

  /** Whether a command id was taken by an item in hand or finished (at most once per command id). */
  knowsCommand(commandId: string): boolean {
    if (this.finished.hasCommand(commandId)) return true;
    for (const item of this.items.values()) if (item.commandId === commandId) return true;
    return false;
  }

  /**
   * Takes a play item in hand. The same delivery (broadcast + occurrence) already in hand or finished is
   * not started a second time, whichever command carried it (a command, the area topic or the agenda).
   */
  submit(commandId: string, play: PlayPayload): { accepted: boolean; state: DeliveryState } {
    const key = deliveryKey(play.broadcastId, play.occurrenceAt);
    const known = this.stateOf(key);
    if (known) return { accepted: true, state: known };
    const item: Item = { key, seq: this.seq++, commandId, play, state: 'acknowledged', controller: new AbortController(), started: false };
    this.items.set(key, item);
    this.transition(item, 'acknowledged');
    const run = this.run(item).catch((err: unknown) => this.deps.logger.error({ err, key }, 'playout crashed'));
    item.done = run;
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

  /** Cancels an item that has not started playing (reported `cancelled` with `reason`); false otherwise. */
  cancelIfNotStarted(key: string, reason: string): boolean {
    const item = this.items.get(key);
    if (!item || item.started || item.controller.signal.aborted) return false;
    item.cancelReason = reason;
    this.abort(item, 'cancelled');
    return true;
  }

  /** Drops an item that has not started without a report (it is about to be submitted again, changed). */
  withdraw(key: string): boolean {
    const item = this.items.get(key);
    if (!item || item.started || item.controller.signal.aborted) return false;
    this.abort(item, 'withdrawn');
    return true;
  }

  /** Waits until a withdrawn or cancelled item has left (its key is free again). */
  async settled(key: string): Promise<void> {
    await this.items.get(key)?.done;
  }

  /** Records a final state for a delivery never taken in hand (the agenda's missed or cancelled items). */
  settle(commandId: string, play: PlayPayload, state: DeliveryState, reason: string): void {
    const key = deliveryKey(play.broadcastId, play.occurrenceAt);
    if (this.stateOf(key)) return;
    const item: Item = { key, seq: this.seq++, commandId, play, state, controller: new AbortController(), started: false };
    this.transition(item, state, reason);
    this.finish(item);
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
    const now = this.deps.clock.now();
    const play: PlayPayload = {
      broadcastId: label,
      occurrenceAt: now,
      priority: 'normal',
      media: { sha256: '0'.repeat(64), url: 'http://localhost/', durationMs },
      startAt: now,
      windowMs: durationMs,
    };
    const item: Item = { key: `local:${label}@${now}`, seq: this.seq++, commandId: '', play, state: 'playing', controller: new AbortController(), started: true, local: true };
    const release = this.speaker.tryTake(this.claim(item));
    if (!release) throw new SpeakerBusyError(`the speaker is busy with ${this.speaker.holder?.key ?? 'another item'}`);
    this.items.set(item.key, item);
    try {
      await this.deps.player.play(file, { durationMs, volume, signal: item.controller.signal });
    } finally {
      release();
      this.items.delete(item.key);
    }
  }

  private claim(item: Item): SpeakerClaim {
    return {
      key: item.key,
      priority: item.play.priority,
      startAt: item.play.startAt,
      seq: item.seq,
      signal: item.controller.signal,
      preempt: (by) => {
        this.deps.logger.info({ interrupted: item.key, by: by.key }, 'interrupting for a higher priority item');
        // A sound of the box itself just stops; a broadcast item waits to play again.
        if (item.local) return this.abort(item, 'interrupted');
        item.interruptedBy = this.items.get(by.key)?.play.broadcastId ?? by.key;
        item.segment?.abort(new Error('interrupted'));
      },
    };
  }

  private transition(item: Item, state: DeliveryState, reason?: string): void {
    item.state = state;
    if (item.local) return;
    // The as-run's minutes relayed (issue 15): a relay's last report says how much of the stream aired.
    const airedMs = item.relay && isTerminal(state) ? item.relay.airedMs : undefined;
    this.deps.report(deliveryReport(item.commandId, item.play, state, reason, airedMs));
  }

  private finish(item: Item): void {
    this.finished.add({ key: item.key, commandId: item.commandId, state: item.state });
    this.deps.onFinished?.();
  }

  private async run(item: Item): Promise<void> {
    const { signal } = item.controller;
    const { media, stream, programme } = item.play;
    const unpin = media ? this.deps.cache.pin(media.sha256) : () => undefined;
    let airing: ProgrammeAiring | null = null;
    try {
      if (this.deps.clock.now() > this.deadline(item)) throw new MissedError('arrived after the end of its window');
      let file: string | null = null;
      let note: string | undefined;
      if (programme) {
        airing = this.programmeOf(item, programme);
        note = await airing.prefetch(item.play.startAt, this.deadline(item));
      } else if (stream) ({ file, note } = stream.live ? { file: null } : await this.fetchFallback(item));
      else if (media) file = await obtainMedia(media, this.deadline(item), signal, this.deps);
      this.transition(item, 'cached', note);
      await sleepUntil(this.deps.clock, item.play.startAt, signal);
      if (airing) await this.airProgramme(item, airing);
      else if (stream) await this.airRelay(item, stream, file);
      else if (file) await this.air(item, file);
    } catch (err) {
      if (item.abortKind === 'cancelled') airing?.cancelled(item.cancelReason ?? 'cancelled');
      this.settleFailure(item, err);
    } finally {
      airing?.close();
      unpin();
      this.items.delete(item.key);
      if (item.abortKind !== 'shutdown' && item.abortKind !== 'withdrawn') this.finish(item);
    }
  }

  /** Plays the item to its end, taking the speaker again after each interruption. */
  private async air(item: Item, file: string): Promise<void> {
    const { signal } = item.controller;
    const mode = item.play.resume ?? 'restart';
    const durationMs = item.play.media!.durationMs;
    let offsetMs = 0;
    let deadline = this.deadline(item);
    let reason: string | undefined;
    let timeout = (): Error => new MissedError('the speaker was busy until the end of its window');
    for (;;) {
      const segment = (item.segment = new AbortController());
      const release = await this.speaker.acquire(this.claim(item), deadline, () => this.deps.clock.now(), timeout);
      let began: number | null = null;
      try {
        signal.throwIfAborted();
        if (!segment.signal.aborted) {
          this.transition(item, 'playing', reason);
          item.started = true;
          began = this.elapsed();
          await this.deps.player.play(file, {
            durationMs,
            offsetMs,
            volume: this.deps.volume(),
            signal: AbortSignal.any([signal, segment.signal]),
            onStart: () => (began = this.elapsed()),
          });
          this.transition(item, 'played');
          return;
        }
      } catch (err) {
        if (signal.aborted || !segment.signal.aborted) throw err;
      } finally {
        release();
        item.segment = undefined;
      }
      // Interrupted by a higher priority: wait for the speaker again, then resume or restart.
      if (!item.started) continue;
      offsetMs = mode === 'resume' ? offsetMs + (began === null ? 0 : this.elapsed() - began) : 0;
      if (offsetMs >= durationMs) {
        this.transition(item, 'played', `ended while interrupted by ${item.interruptedBy ?? 'a higher-priority item'}`);
        return;
      }
      const by = item.interruptedBy ?? 'a higher-priority item';
      reason = mode === 'resume' ? `resumed after ${by} at ${Math.round(offsetMs)} ms` : `restarted after ${by}`;
      deadline = this.deps.clock.now() + RESUME_WAIT_MS;
      timeout = () => new MissedError(`interrupted by ${by} and not resumed within ${RESUME_WAIT_MS / 60_000} min`);
      this.deps.logger.info({ key: item.key, by, mode, offsetMs: Math.round(offsetMs) }, 'interrupted; waiting to play again');
    }
  }

  /**
   * A relay's fallback file, fetched like a file's audio but only until the relay starts: it is optional
   * (issue 15: "or stops cleanly"), so a fallback that cannot be had never costs the relay itself.
   */
  private async fetchFallback(item: Item): Promise<{ file: string | null; note?: string }> {
    const { media, startAt } = item.play;
    if (!media) return { file: null };
    const { signal } = item.controller;
    try {
      return { file: await obtainMedia(media, Math.max(startAt, this.deps.clock.now()), signal, this.deps) };
    } catch (err) {
      if (signal.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ key: item.key, err: message }, 'relay fallback not cached; the relay airs without it');
      return { file: null, note: `the fallback file could not be fetched (${message}); the relay airs without it` };
    }
  }

  /**
   * Airs a relay until the end of its window, taking the speaker again after each interruption; it then
   * continues live, on the URL that was serving (ARCHITECTURE.md § Streams: "a stream resumes live").
   */
  private async airRelay(item: Item, stream: StreamRef, fallback: string | null): Promise<void> {
    const { signal } = item.controller;
    if (!this.deps.startRelay) throw new Error('this box has no stream player');
    const endAt = item.play.startAt + stream.durationMs;
    const live = stream.live === true;
    // A live voice reports `playing` when its first audio reaches the speaker, not when it takes the speaker:
    // the operator's count of boxes playing (issue 16) must not include a box whose stream never opened.
    const announce = { due: false, reason: undefined as string | undefined };
    /** A live voice's stream that ended while an interruption had it off the air: by what. */
    let cutBy: string | null = null;
    const relay = (item.relay = this.deps.startRelay(stream, fallback, (c) => {
      if (announce.due && c.cause === 'started') {
        announce.due = false;
        this.transition(item, 'playing', announce.reason);
      }
      this.relayChange(item, c);
    }));
    let deadline = this.deadline(item);
    let reason: string | undefined;
    let timeout = (): Error => new MissedError('the speaker was busy until the end of its window');
    try {
      for (;;) {
        const segment = (item.segment = new AbortController());
        let release: () => void;
        try {
          release = await this.speaker.acquire(this.claim(item), deadline, () => this.deps.clock.now(), timeout);
        } catch (err) {
          if (!(err instanceof WindowOverError)) throw err;
          reason = `ended while interrupted by ${item.interruptedBy ?? 'a higher-priority item'}`;
          break;
        }
        try {
          signal.throwIfAborted();
          if (!segment.signal.aborted) {
            if (live) Object.assign(announce, { due: true, reason });
            else this.transition(item, 'playing', reason);
            item.started = true;
            await relay.play(endAt, AbortSignal.any([signal, segment.signal]));
            break;
          }
        } catch (err) {
          if (signal.aborted || !segment.signal.aborted) throw err;
        } finally {
          release();
          item.segment = undefined;
        }
        announce.due = false;
        if (!item.started) continue;
        // Interrupted (Circular 39): nothing of the stream is kept; it continues live once the speaker is back.
        const by = item.interruptedBy ?? 'a higher-priority item';
        this.relayChange(item, { cause: 'interrupted', url: null, at: this.deps.clock.now(), detail: `by ${by}` });
        if (relay.liveEnded) {
          // The live voice ended during the interruption (its last audio was cut): nothing is left to continue.
          cutBy = by;
          break;
        }
        reason = `continued live after ${by}`;
        deadline = endAt;
        timeout = () => new WindowOverError();
      }
    } finally {
      if (item.started && item.abortKind !== 'shutdown') {
        const aired = `${Math.round(relay.airedMs / 1000)} s of the stream aired`;
        const why = signal.aborted ? 'stopped; ' : relay.liveEnded ? `live stream over (${relay.liveEnded}); ` : '';
        this.relayChange(item, { cause: 'ended', url: null, at: this.deps.clock.now(), detail: `${why}${aired}` });
      }
    }
    // Back from an interruption, the stream was found over (410) before any more of it aired.
    if (announce.due && item.interruptedBy) cutBy = item.interruptedBy;
    if (live) return this.endLive(item, relay, cutBy, reason);
    if (relay.airedMs === 0) reason ??= 'nothing of the stream aired: no URL served during the window';
    this.transition(item, 'played', reason);
  }

  /** The delivery's end of a live voice (issue 16) that aired to its stream's end, its window's, or not at all. */
  private endLive(item: Item, relay: RelayRunner, cutBy: string | null, reason: string | undefined): void {
    const over = relay.liveEnded;
    if (relay.airedMs === 0) {
      // Not `played` with 0 ms, as a relay whose URLs all failed reports: a live voice is addressed to this box
      // now, and a box that aired none of it must count as not reached in the coverage the operator sees, with
      // why (HTTP 404/410: the airing was over or unknown; refused; no audio within liveStartMs).
      return this.transition(item, 'failed', `${ErrorCode.PLAYBACK_FAILED}: nothing of the live stream aired: ${over ?? 'no audio before the end of its window'}`);
    }
    if (over) reason = cutBy ? `the live stream ended while interrupted by ${cutBy} (${over})` : `live stream over: ${over}`;
    this.transition(item, 'played', reason);
  }

  private programmeOf(item: Item, programme: NonNullable<PlayPayload['programme']>): ProgrammeAiring {
    const deps = { ...this.deps, elapsed: this.elapsed, report: (r: ProgrammeItemReport) => this.deps.programmeItem?.(r), relayChange: (c: RelayChange) => this.relayChange(item, c) };
    return new ProgrammeAiring(deps, { ...item.play, programme }, item.controller.signal);
  }

  /** A programme at the speaker: the same claim, interruptions and delivery reports as a single item. */
  private async airProgramme(item: Item, airing: ProgrammeAiring): Promise<void> {
    const stage: ProgrammeStage = {
      take: (again) => this.stretch(item, again),
      playing: (reason) => {
        this.transition(item, 'playing', reason);
        item.started = true;
      },
      interruptedBy: () => item.interruptedBy ?? 'a higher-priority item',
    };
    const end = await airing.air(stage);
    this.transition(item, end.state, end.reason);
  }

  /** Takes the speaker for `item`: within its window the first time, for RESUME_WAIT_MS after an interruption. */
  private async stretch(item: Item, again: boolean): Promise<Stretch> {
    const segment = (item.segment = new AbortController());
    const by = item.interruptedBy ?? 'a higher-priority item';
    const now = (): number => this.deps.clock.now();
    const release = again
      ? await this.speaker.acquire(this.claim(item), now() + RESUME_WAIT_MS, now, () => new MissedError(`interrupted by ${by} and not continued within ${RESUME_WAIT_MS / 60_000} min`))
      : await this.speaker.acquire(this.claim(item), this.deadline(item), now, () => new MissedError('the speaker was busy until the end of its window'));
    return {
      signal: AbortSignal.any([item.controller.signal, segment.signal]),
      interrupted: segment.signal,
      release: () => {
        release();
        item.segment = undefined;
      },
    };
  }

  private relayChange(item: Item, c: RelayChange): void {
    this.deps.relayChange?.({ broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt, ...c });
  }

  private settleFailure(item: Item, err: unknown): void {
    const log = this.deps.logger.child({ broadcastId: item.play.broadcastId, occurrenceAt: item.play.occurrenceAt });
    if (item.abortKind === 'shutdown' || item.abortKind === 'withdrawn') return;
    if (item.abortKind === 'cancelled') return this.transition(item, 'cancelled', item.cancelReason);
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

  /** The last instant the item may start; a relay also never starts after its stream window. */
  private deadline(item: Item): number {
    const { startAt, windowMs, stream } = item.play;
    return startAt + (stream ? Math.min(windowMs, stream.durationMs) : windowMs);
  }
}

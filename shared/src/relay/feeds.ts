/**
 * The URL-switching half of a relay (issue 15), one copy for the box's player (device-agent/src/relay/
 * stream-relay.ts) and the server's restream (server/src/relay/restream.ts), which had each written it out
 * (issue 15 review: the same 100 lines in both). A relay has at most two URLs open: the one playing and a
 * probe of a failed, preferred one. Each open URL is a Feed — its decoder, jitter buffer and level meter —
 * and the rules are the same on both sides:
 * - the URL playing fails on a decoder error, after `silenceMs` of silence, or after `stallMs` with nothing
 *   decoded and its buffer dry; the next URL the FailoverPlan names starts at once;
 * - failed URLs preferred to the one playing are probed with back-off; a probe that decodes `probeOkMs` of
 *   audible audio takes over ("returned"); one that fails or stays quiet for `probeTimeoutMs` waits longer.
 * What differs stays with the caller, told through UrlSwitchEvents: the box goes to its fallback file when no
 * URL is left, the server ends its listeners' streams; the box reports relay events, the server logs. The
 * decoders themselves (ffmpeg processes) are the caller's too: this file does no I/O.
 * A live voice (issue 16, `liveVoice`: only the box's player uses it) has one URL and nothing to switch to: a
 * failure or a stall of its stream is its end, not a failover. The decoder stops, what its buffer holds still
 * plays (`Feed.endedWith` says why it ended; the buffer is `drained` once played out), there are no probes,
 * and silence is not a failure (a speaker pausing between sentences is not a dead source).
 */
import { FailoverPlan, type FailCause, type RetryPolicy } from './failover.js';
import { JitterBuffer } from './jitter.js';
import { LevelMeter, SILENCE_DBFS } from './pcm.js';

/** A decoder of one URL (the server's Upstream, the box's StreamDecoder): `pcm` as decoded, `failed` once. */
export interface PcmFeedSource {
  on(event: 'pcm', listener: (pcm: Buffer) => void): unknown;
  on(event: 'failed', listener: (err: Error) => void): unknown;
  start(): void;
  stop(): void;
}

/** The switching's timings, the same fields for the box (stream-relay.ts) and the restream (restream.ts). */
export interface FeedTuning {
  /** Nothing decoded for this long, with the buffer run dry: the URL is stalled. */
  stallMs: number;
  /** Silence in a row (below −50 dBFS) that fails a URL: 10 s on a box, shorter on the server so it moves first. */
  silenceMs: number;
  retry: RetryPolicy;
  /** A probe serves once it decoded this much audible audio, and has failed if not within `probeTimeoutMs`. */
  probeOkMs: number;
  probeTimeoutMs: number;
  /** Output starts (again) once this much is held. */
  prebufferMs: number;
  /** Most audio held for a plain HTTP stream (near live) and for HLS (whole segments). */
  httpBufferMs: number;
  hlsBufferMs: number;
  /** A live voice (issue 16): how long its first audio may take before it counts as stalled (else `stallMs`). */
  liveStartMs?: number;
  /** A live voice (issue 16): its buffer keeps no standing backlog (jitter.ts `skipToLive`). */
  skipToLive?: { windowMs: number; slackMs: number };
}

/** One open URL (or the box's fallback file, `index` null) with its buffer and meters. */
export interface Feed<S extends PcmFeedSource = PcmFeedSource> {
  index: number | null;
  source: S;
  buffer: JitterBuffer;
  meter: LevelMeter;
  /** performance.now() when opened, and when it last decoded anything. */
  startedAt: number;
  lastDataAt: number;
  /** Anything decoded yet: a live voice waits longer for its first words (not `lastDataAt === startedAt`, which two reads of a coarse clock can also make true after data came). */
  heard: boolean;
  silentRunMs: number;
  audibleMs: number;
  /** Its audio has gone out (the caller's to set: the box on the first write, the server on the first PCM). */
  served: boolean;
  /** A live voice's stream ended (issue 16): why; its buffer still plays out. Null while it runs. */
  endedWith: { cause: FailCause; detail: string } | null;
}

/** A feed for `source`, not yet started: its buffer sized for HLS or a plain stream. */
export function newFeed<S extends PcmFeedSource>(index: number | null, source: S, hls: boolean, tuning: Pick<FeedTuning, 'prebufferMs' | 'httpBufferMs' | 'hlsBufferMs' | 'skipToLive'>): Feed<S> {
  const at = performance.now();
  const { prebufferMs, skipToLive } = tuning;
  return {
    index,
    source,
    buffer: new JitterBuffer({ prebufferMs, maxMs: hls ? tuning.hlsBufferMs : tuning.httpBufferMs, ...(skipToLive ? { skipToLive } : {}) }),
    meter: new LevelMeter(SILENCE_DBFS),
    startedAt: at,
    lastDataAt: at,
    heard: false,
    silentRunMs: 0,
    audibleMs: 0,
    served: false,
    endedWith: null,
  };
}

/** What the caller hears of the switching. */
export interface UrlSwitchEvents {
  /** The URL playing decoded audio (before its silence is judged): the server counts it served from here. */
  audio?(feed: Feed): void;
  /** The URL playing failed; `next` plays from now (null: none is left — the fallback, or the end). */
  failedOver(cause: FailCause, failed: number, next: number | null, detail: string): void;
  /** A probed, preferred URL serves again and plays from now; `before` was playing (null: none was). */
  returned(index: number, before: number | null): void;
  probeFailed(index: number, detail: string): void;
}

export interface UrlSwitchOptions<S extends PcmFeedSource> {
  tuning: FeedTuning;
  /** Opens (does not start) a decoder of URL `index`. */
  open(index: number): S;
  isHls(index: number): boolean;
  /** The plan's clock (the box: its device clock, so tests drive it; the server: performance.now). */
  planNow(): number;
  /** Feed events are ignored once this says the relay is over. */
  live(): boolean;
  events: UrlSwitchEvents;
  /** A live voice (issue 16): the stream's failure or stall ends it (no failover, no probes, silence allowed). */
  liveVoice?: boolean;
}

export class UrlSwitch<S extends PcmFeedSource> {
  readonly plan: FailoverPlan;
  active: Feed<S> | null = null;
  probe: Feed<S> | null = null;

  constructor(
    readonly count: number,
    private readonly opts: UrlSwitchOptions<S>,
    /** A plan that outlives this switch: the box's relay keeps one across interruptions, to go on where it was. */
    plan?: FailoverPlan,
  ) {
    this.plan = plan ?? new FailoverPlan(count, opts.tuning.retry);
  }

  /** Opens and starts URL `index`, its audio metered and buffered here. */
  startFeed(index: number): Feed<S> {
    return this.attach(newFeed(index, this.opts.open(index), this.opts.isHls(index), this.opts.tuning));
  }

  /**
   * Starts a feed with the same metering and buffering: a URL's, or one the caller made (the box's fallback
   * file), whose failure goes to `onFailed` instead of the switching.
   */
  attach(feed: Feed<S>, onFailed?: (err: Error) => void): Feed<S> {
    feed.source.on('pcm', (pcm) => this.onPcm(feed, pcm));
    feed.source.on('failed', (err) => (onFailed ? onFailed(err) : this.onFailed(feed, err)));
    feed.source.start();
    return feed;
  }

  /** Plays URL `index` now (the relay's start, or the caller's fresh start on edited URLs). */
  play(index: number): void {
    this.active = this.startFeed(index);
  }

  stop(feed: Feed<S> | null): void {
    if (!feed) return;
    feed.source.stop();
    feed.buffer.clear();
  }

  stopAll(): void {
    this.stop(this.active);
    this.stop(this.probe);
    this.active = this.probe = null;
  }

  /** The URL playing: stalled when nothing came for `stallMs` and its buffer ran dry (call on every tick). */
  checkStall(t: number): void {
    const active = this.active;
    if (!active || active.endedWith) return;
    // A live voice's server holds the stream open before the operator's first words reach it (issue 16).
    const waitingFirst = this.opts.liveVoice && !active.heard;
    const limit = waitingFirst ? (this.opts.tuning.liveStartMs ?? this.opts.tuning.stallMs) : this.opts.tuning.stallMs;
    if (t - active.lastDataAt >= limit && !active.buffer.flowing) {
      this.failActive('stalled', `no audio for ${Math.round((t - active.lastDataAt) / 1000)} s`);
    }
  }

  /** Starts the next probe when one is due, and gives up on one that took too long (call on every tick). */
  probeStep(t: number): void {
    if (this.opts.liveVoice) return;
    if (this.probe) {
      if (t - this.probe.startedAt >= this.opts.tuning.probeTimeoutMs) this.probeFailed('no audible audio in time');
      return;
    }
    const now = this.opts.planNow();
    const next = this.plan.nextProbe(now);
    if (next && next.at <= now) this.probe = this.startFeed(next.index);
  }

  private onPcm(feed: Feed<S>, pcm: Buffer): void {
    if (!this.opts.live()) return;
    feed.lastDataAt = performance.now();
    feed.heard = true;
    for (const b of feed.meter.feed(pcm)) {
      if (b.silent) feed.silentRunMs += b.ms;
      else {
        feed.silentRunMs = 0;
        feed.audibleMs += b.ms;
      }
    }
    feed.buffer.push(pcm);
    if (feed === this.active) this.opts.events.audio?.(feed);
    if (feed === this.active && !this.opts.liveVoice && feed.silentRunMs >= this.opts.tuning.silenceMs) {
      this.failActive('silence', `silent (below ${SILENCE_DBFS} dBFS) for ${Math.round(feed.silentRunMs / 1000)} s`);
    } else if (feed === this.probe && feed.audibleMs >= this.opts.tuning.probeOkMs) {
      this.promote(feed);
    }
  }

  private onFailed(feed: Feed<S>, err: Error): void {
    if (!this.opts.live()) return;
    if (feed === this.active) this.failActive('error', err.message);
    else if (feed === this.probe) this.probeFailed(err.message);
  }

  private failActive(cause: FailCause, detail: string): void {
    const feed = this.active!;
    if (this.opts.liveVoice) {
      // The end of a live voice: its decoder has given all it will, and what it gave still plays out.
      feed.source.stop();
      feed.buffer.end();
      feed.endedWith = { cause, detail };
      return;
    }
    this.stop(feed);
    this.active = null;
    const next = this.plan.fail(feed.index!, this.opts.planNow());
    // A probe of a URL now behind the one playing is no longer wanted.
    if (this.probe && next !== null && this.probe.index! >= next) {
      this.stop(this.probe);
      this.probe = null;
    }
    if (next !== null) this.active = this.startFeed(next);
    this.opts.events.failedOver(cause, feed.index!, next, detail);
  }

  private probeFailed(detail: string): void {
    const feed = this.probe!;
    this.stop(feed);
    this.probe = null;
    this.plan.probeFailed(feed.index!, this.opts.planNow());
    this.opts.events.probeFailed(feed.index!, detail);
  }

  private promote(feed: Feed<S>): void {
    const before = this.active;
    this.probe = null;
    this.stop(before);
    this.plan.returned(feed.index!, this.opts.planNow());
    this.active = feed;
    this.opts.events.returned(feed.index!, before?.index ?? null);
  }
}

/**
 * Airs one relay item (issue 15): pulls its URLs in order of preference, decodes them (decoder.ts), measures
 * their level (pcm.ts) and writes the audio at real-time pace (jitter.ts) to the speaker's sink
 * (hardware/sink.ts). FailoverPlan (failover.ts) decides which URL plays — those pure parts and the switching
 * built on them live in shared/src/relay/, one copy with the server's restream (server/src/relay/restream.ts):
 * - the URL playing fails when its decoder stops (connection refused or cut, HTTP error, a playlist that is
 *   not one, a decoding error), when nothing has come for `stallMs` and the buffer ran dry (`stalled`), or
 *   after `silenceMs` of silence (`silence`); the next URL starts at once, so it plays within a second or two
 *   of the failure (the issue asks for 5 s);
 * - when none is left the fallback file plays in a loop (none: silence, cleanly) and a `fallback` event goes
 *   out; failed URLs are probed in the background (the most preferred first, with back-off) and the first
 *   that gives audible audio takes over (`returned`), the fallback stopping;
 * - `play` runs until the window's end (`ended` is the playout's to report) or until aborted — an
 *   interruption by a higher priority: the sink is closed so the other item can have the device, and the
 *   next `play` continues live, on the URL that was serving, not from where it stopped.
 * `airedMs` counts only stream audio that reached the sink: the as-run's "minutes actually relayed", gaps
 * and fallback excluded.
 * Switching between URLs (the URL playing, a probe, their meters and buffers) is shared/src/relay/feeds.ts,
 * the same code as the server's restream; what is the box's own is here: the fallback, the sink, the reports.
 * A live voice (issue 16, `live`) is the same player without the switching: one URL, decoded with a small
 * probe and played from a short buffer (`livePrebufferMs`, at most `liveBufferMs` held: mouth to speaker
 * within 2 s); when its stream ends or stalls what is held plays out and `play` resolves with `liveEnded`
 * saying why — no failover, no fallback, no retries. After an interruption it reconnects, unless it ended.
 * Over 300 lines because a relay and a live voice are one player (one run, one sink, one set of reports):
 * issue 16 asks for "one way for boxes to play live audio".
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_RETRY, FailoverPlan, UrlSwitch, applyVolume, newFeed, pcmMs, type Feed, type Payload, type RelayCause, type FeedTuning } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { PcmOutput, PcmSink } from '../hardware/sink.js';
import type { FetchLike } from '../media-cache.js';
import type { Clock } from '../timing.js';
import { StreamDecoder, isHlsUrl, type DecoderInput } from './decoder.js';

/** A change in what the relay plays, as reported on `event` (the playout adds the broadcast and occurrence). */
export interface RelayChange {
  cause: RelayCause;
  /** The URL now serving; null while none does. */
  url: string | null;
  /** Device clock. */
  at: number;
  detail?: string;
}

/** The switching's timings (shared with the restream: FeedTuning) and the box's own. */
export interface RelayTuning extends FeedTuning {
  /** How often audio is handed to the sink. */
  tickMs: number;
  /** A live voice (issue 16): output starts once this much is held… */
  livePrebufferMs: number;
  /** …at most this much is held (the oldest dropped: a burst on joining, a backlog after a hiccup)… */
  liveBufferMs: number;
  /** …and its first audio may take this long (the server opens the stream before the first words arrive)… */
  liveStartMs: number;
  /** …and it keeps no standing backlog (shared/src/relay/jitter.ts `skipToLive`). */
  liveSkip: { windowMs: number; slackMs: number };
}

export const DEFAULT_TUNING: RelayTuning = {
  stallMs: 4_000,
  silenceMs: 10_000,
  retry: DEFAULT_RETRY,
  probeOkMs: 1_000,
  probeTimeoutMs: 8_000,
  prebufferMs: 400,
  httpBufferMs: 2_000,
  hlsBufferMs: 45_000,
  tickMs: 20,
  // 200 ms absorbs the jitter of a 4G link's delivery; every millisecond held is a millisecond late.
  livePrebufferMs: 200,
  // Above what delivery in 128 ms MP3 packets ever holds (≤ 450 ms): a burst is cut to this at once…
  liveBufferMs: 600,
  // The server sends the `play` when the airing is made and waits up to 30 s for the voice to begin
  // (server/src/live/live-airing.ts `waitMs`); a stream it ends sooner ends the box's at once anyway.
  liveStartMs: 35_000,
  // …and any backlog left is trimmed within two seconds.
  liveSkip: { windowMs: 1_000, slackMs: 150 },
};

export interface StreamRelayDeps {
  urls: readonly string[];
  /** The source's fallback file in the cache, or null (the relay then falls silent when every URL fails). */
  fallbackFile: string | null;
  sink: PcmSink;
  ffmpegPath: string;
  fetch: FetchLike;
  /** `Basic …` for the server's restream (`deviceAuth`), else null. */
  authorization: string | null;
  /** The device's clock: the window's end and the events' times. */
  clock: Clock;
  logger: Logger;
  /** 0–100, read as the audio goes out (a volume change applies at once). */
  volume: () => number;
  onChange: (c: RelayChange) => void;
  tuning?: Partial<RelayTuning>;
  /** A live voice (issue 16, `play.stream.live`): the first URL only, ending with its stream. */
  live?: boolean;
}

/** What the playout needs of a relay's player (the agent wraps StreamRelay with the amplifier's power). */
export interface RelayRunner {
  play(endAt: number, signal: AbortSignal): Promise<void>;
  readonly airedMs: number;
  /** A live voice (issue 16): why its stream ended before the window did (null while it runs; a relay: absent). */
  readonly liveEnded?: string | null;
}

export type StreamRef = NonNullable<Payload<'play'>['stream']>;

/** Makes the player of one relay item: its stream, its fallback file in the cache (or null), where changes go. */
export type StartRelay = (stream: StreamRef, fallbackFile: string | null, onChange: (c: RelayChange) => void) => RelayRunner;

export interface StreamRelayEvents {
  /** The audio reaching the sink now comes from this URL (null: the fallback or nothing). */
  serving: [string | null];
}

export class StreamRelay extends EventEmitter<StreamRelayEvents> implements RelayRunner {
  /** Stream audio that reached the sink. */
  airedMs = 0;
  /** Fallback audio that reached the sink. */
  fallbackMs = 0;
  /** A live voice whose stream ended: why (set as its last audio begins to play out). */
  liveEnded: string | null = null;
  private readonly plan: FailoverPlan;
  private readonly tuning: RelayTuning;
  private plays = 0;

  constructor(private readonly deps: StreamRelayDeps) {
    super();
    this.plan = new FailoverPlan(deps.live ? 1 : deps.urls.length, deps.tuning?.retry ?? DEFAULT_RETRY);
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
  }

  /** Index of the URL playing (or being started); null during the fallback. */
  get activeIndex(): number | null {
    return this.plan.active;
  }

  /**
   * Airs until `endAt` on the device clock (resolves) or until `signal` aborts (rejects with its reason).
   * Rejects with the sink's error if the speaker's output fails.
   */
  play(endAt: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    // A live voice that ended while interrupted has nothing more to play: its URL is not asked again.
    if (this.liveEnded !== null) return Promise.resolve();
    return new RelayRun(this, this.deps, this.tuning, this.plan, endAt, signal, this.plays++ > 0).run();
  }
}

/** One stretch of airing: from `play` to the window's end or an interruption. */
class RelayRun {
  private readonly output: PcmOutput;
  /** The URL playing and a probe, switched by the same rules as the server's restream (shared/src/relay/feeds.ts). */
  private readonly feeds: UrlSwitch<StreamDecoder>;
  private fallback: Feed<StreamDecoder> | null = null;
  /** Whether this run has said which URL serves (`started` or `returned`). */
  private announced = false;
  private servingLabel: string | null | undefined = undefined;
  private timer: NodeJS.Timeout | null = null;
  private settle: ((err?: Error) => void) | null = null;
  private readonly log: Logger;

  constructor(
    private readonly relay: StreamRelay,
    private readonly deps: StreamRelayDeps,
    private readonly tuning: RelayTuning,
    plan: FailoverPlan,
    private readonly endAt: number,
    private readonly signal: AbortSignal,
    private readonly resumed: boolean,
  ) {
    this.log = deps.logger;
    this.output = deps.sink.open();
    const urls = deps.live ? deps.urls.slice(0, 1) : deps.urls;
    this.feeds = new UrlSwitch<StreamDecoder>(
      urls.length,
      {
        tuning: deps.live ? { ...tuning, prebufferMs: tuning.livePrebufferMs, httpBufferMs: tuning.liveBufferMs, skipToLive: tuning.liveSkip } : tuning,
        liveVoice: deps.live === true,
        open: (i) => this.decoder({ kind: 'url', url: urls[i]! }),
        isHls: (i) => isHlsUrl(urls[i]!),
        planNow: () => this.now(),
        live: () => this.settle !== null,
        events: {
          failedOver: (cause, failed, next, detail) => {
            this.log.warn({ url: urls[failed], cause, detail, next: next === null ? null : urls[next] }, 'relay source failed');
            if (next !== null) return this.change(cause, urls[next]!, `${urls[failed]}: ${detail}`);
            this.change(cause, null, `${urls[failed]}: ${detail}`);
            this.change('fallback', null, this.deps.fallbackFile ? 'every URL failed: the fallback file plays' : 'every URL failed and there is no fallback file: silence');
            this.startFallback();
          },
          returned: (index, before) => {
            // A probed URL serves: it takes over from a less preferred URL or from the fallback.
            this.feeds.stop(this.fallback);
            this.fallback = null;
            this.announced = true;
            this.change('returned', urls[index]!, before !== null ? `preferred to ${urls[before]}` : 'the relay continues after the fallback');
          },
          probeFailed: (index, detail) => this.log.debug({ url: urls[index], detail }, 'relay source still down'),
        },
      },
      plan,
    );
  }

  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => this.finish(this.signal.reason as Error);
      this.settle = (err) => {
        this.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      const index = this.feeds.plan.active;
      if (index === null) this.startFallback();
      else this.feeds.play(index);
      this.timer = setInterval(() => this.tick(), this.tuning.tickMs);
      this.tick();
    });
  }

  private now(): number {
    return this.deps.clock.now();
  }

  private change(cause: RelayCause, url: string | null, detail?: string): void {
    this.log.info({ cause, url, detail }, 'relay');
    this.deps.onChange({ cause, url, at: this.now(), ...(detail ? { detail: detail.slice(0, 500) } : {}) });
  }

  private decoder(input: DecoderInput): StreamDecoder {
    const { ffmpegPath, authorization, fetch, live } = this.deps;
    return new StreamDecoder({ ffmpegPath, input, authorization, fetch, logger: this.log, live: live === true });
  }

  private startFallback(): void {
    if (!this.deps.fallbackFile || this.fallback) return;
    const feed = newFeed<StreamDecoder>(null, this.decoder({ kind: 'file', path: this.deps.fallbackFile }), false, this.tuning);
    this.fallback = this.feeds.attach(feed, (err) => {
      if (!this.settle || this.fallback !== feed) return;
      // A fallback file that cannot be decoded: silence for the rest of the outage, the probes go on.
      this.log.error({ err: err.message }, 'the fallback file cannot be played');
      this.fallback = null;
    });
  }

  private tick(): void {
    if (!this.settle) return;
    if (this.output.error) return this.finish(this.output.error);
    if (this.now() >= this.endAt) return this.finish();
    const t = performance.now();
    const { fallback } = this;
    const active = this.feeds.active;
    if (active) {
      const pcm = active.buffer.take(t);
      if (pcm.length) {
        this.write(pcm);
        this.relay.airedMs += pcmMs(pcm.length);
        if (!active.served) this.firstAudio(active);
      }
      if (active.endedWith) return this.liveEnd(active.endedWith.detail, active.buffer.drained);
      this.feeds.checkStall(t);
    } else if (fallback) {
      const pcm = fallback.buffer.take(t);
      if (pcm.length) {
        this.write(pcm);
        this.relay.fallbackMs += pcmMs(pcm.length);
        this.serving(null);
      }
    }
    this.feeds.probeStep(t);
  }

  /** A live voice's stream ended (issue 16): what the buffer holds plays out, then the run ends. */
  private liveEnd(detail: string, drained: boolean): void {
    if (this.relay.liveEnded === null) {
      this.relay.liveEnded = detail;
      this.log.info({ detail, airedMs: Math.round(this.relay.airedMs) }, 'the live stream ended');
    }
    if (drained) this.finish();
  }

  private firstAudio(feed: Feed<StreamDecoder>): void {
    feed.served = true;
    const url = this.deps.urls[feed.index!]!;
    this.feeds.plan.serving(feed.index!, this.now());
    if (!this.announced) {
      this.announced = true;
      this.change('started', url, this.resumed ? 'continues live after the interruption' : undefined);
    }
    this.serving(url);
  }

  private serving(label: string | null): void {
    if (this.servingLabel === label) return;
    this.servingLabel = label;
    this.relay.emit('serving', label);
  }

  private write(pcm: Buffer): void {
    this.output.write(applyVolume(pcm, this.deps.volume()));
  }

  /** Stops every decoder, frees the device and settles `run`. */
  private finish(err?: Error): void {
    const settle = this.settle;
    if (!settle) return;
    this.settle = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.feeds.stopAll();
    this.feeds.stop(this.fallback);
    this.fallback = null;
    this.serving(null);
    void this.output.close().then(
      () => settle(err),
      () => settle(err),
    );
  }
}

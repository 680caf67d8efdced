/**
 * The server's own restream (issue 15: "a choice per source to go through the server's own restream when a
 * source allows few listeners or needs credentials"). For a source with `restream: true` the server pulls the
 * source ONCE, however many boxes listen, and serves it at `GET /streams/{sourceId}` (routes/streams.ts):
 * - the source's URLs are tried in order with the agent's rules, by the same code
 *   (shared/src/relay/: UrlSwitch over FailoverPlan, LevelMeter, JitterBuffer): a URL fails on an error, after `stallMs`
 *   without audio, or after `silenceMs` of silence; failed preferred URLs are probed with back-off and one
 *   that gives a second of sound takes over again;
 * - the decoded PCM goes, at real-time pace, into ONE encoder that runs for the puller's whole life: MP3, CBR
 *   64 kbit/s, mono, 48 kHz. MP3 because every box decodes it, and its frames stand alone, so a box may join
 *   at any frame (no header pages to keep, as Ogg/Opus would need) and a failover upstream is invisible
 *   downstream: the listeners' stream never restarts. Gaps (a failover, a stall) are filled with silence, so
 *   a box never sees its own 4 s stall while the server is still deciding;
 * - the server decides before its boxes would: its silence window (6 s) is shorter than the boxes' 10 s, so
 *   the next URL is heard before a box gives up on the restream and leaves for its fallback;
 * - when every URL is down the listeners' responses END (not silence): each box then counts an error at once
 *   and plays the source's fallback, instead of airing 10 s of dead air first; it keeps retrying the restream
 *   with its own back-off (5 s doubling to 60 s), and each retry is one fresh attempt here, shared by every
 *   box that asks at the same time — but not within `downMs` (4 s) of the failure, answered 503 without
 *   starting ffmpeg (issue 15 review);
 * - listeners are kept per box: at most `maxPerBoxPerSource` (2) per source, and a box's are cut when its
 *   credentials change or it is revoked, or when the source's area no longer holds it (issue 15 review);
 * - the puller starts with the first listener and stops `lingerMs` after the last leaves.
 * The switching between URLs is shared with the box (shared/src/relay/feeds.ts). Over 300 lines with
 * upstream.ts and fanout.ts split out: the restreamer (listeners per box and source, the negative cache) and
 * the puller (pacing tick, encoder, refresh) are one lifecycle — a puller lives and ends inside its restreamer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { StreamAddressGuard } from './address-guard.js';
import type { Logger } from 'pino';
import { DEFAULT_RETRY, PCM_BYTES_PER_MS, PCM_CHANNELS, PCM_RATE, UrlSwitch, type FeedTuning } from '@loaxa/shared';
import { Fanout, type Listener } from './fanout.js';
import { ChildSet, HLS_URL, Upstream, killAndWait } from './upstream.js';

/** The switching's timings (shared with the box: FeedTuning) and the restream's own. */
export interface RestreamTuning extends FeedTuning {
  tickMs: number;
  /**
   * Encoded output goes to the listeners this often: a quarter second per write costs the fan-out half what
   * 100 ms did (bench/relay/fanout-probe.ts), and is nothing to a box whose jitter buffer holds seconds.
   */
  flushMs: number;
  /** The puller stops this long after its last listener left (a box's retry or a quick reconnect reuses it). */
  lingerMs: number;
  /** Output a joiner gets at once. */
  burstMs: number;
  /** A listener with more than this queued in its socket is dropped. */
  maxBacklogBytes: number;
  /** How often a running puller reads its source again (edited URLs or area, deleted, restream turned off). */
  refreshMs: number;
  /**
   * Streams one box may hold open of one source (issue 15 review, finding 3: one credential opened any number).
   * 2, not 1: a box reconnecting may briefly hold its old, not yet closed connection next to the new one.
   */
  maxPerBoxPerSource: number;
  /**
   * After every URL of a source failed, new listeners are answered 503 for this long instead of starting ffmpeg
   * again (issue 15 review: boxes retrying must not respawn the decoders in a loop). Under the boxes' first
   * retry (5 s), so boxes cut together retry together into one fresh attempt.
   */
  downMs: number;
}

/** Output: CBR MP3 at 64 kbit/s, 48 kHz mono — 192-byte frames of 24 ms, 8,000 bytes a second. */
export const OUTPUT_KBPS = 64;
const FRAME_BYTES = (144 * OUTPUT_KBPS * 1000) / PCM_RATE;
const OUTPUT_BYTES_PER_MS = (OUTPUT_KBPS * 1000) / 8 / 1000;
export const OUTPUT_CONTENT_TYPE = 'audio/mpeg';

export const DEFAULT_RESTREAM_TUNING: RestreamTuning = {
  stallMs: 4_000,
  silenceMs: 6_000,
  retry: DEFAULT_RETRY,
  probeOkMs: 1_000,
  probeTimeoutMs: 8_000,
  prebufferMs: 400,
  httpBufferMs: 2_000,
  hlsBufferMs: 45_000,
  tickMs: 100,
  flushMs: 250,
  lingerMs: 5_000,
  burstMs: 2_000,
  // 48 KiB: 6 s of the output. A box that has not taken 6 s of audio has already failed the restream over
  // by its own 4 s stall rule; 2,000 stuck listeners would hold at most ~96 MB.
  maxBacklogBytes: 48 * 1024,
  refreshMs: 5_000,
  maxPerBoxPerSource: 2,
  downMs: 4_000,
};

const ENCODER_ARGS = [
  '-hide_banner', '-loglevel', 'error', '-nostdin',
  '-f', 's16le', '-ar', String(PCM_RATE), '-ac', String(PCM_CHANNELS), '-i', 'pipe:0',
  '-c:a', 'libmp3lame', '-b:a', `${OUTPUT_KBPS}k`, '-ar', String(PCM_RATE), '-ac', '1',
  // No ID3 tag nor Xing frame: every byte of the output is a 192-byte audio frame (fanout.ts aligns on them).
  '-id3v2_version', '0', '-write_xing', '0', '-flush_packets', '1', '-f', 'mp3', 'pipe:1',
];

/** What the restream needs of a source. */
export interface RestreamSource {
  id: string;
  urls: readonly string[];
  /** Where the source may be heard (null: everywhere): listeners of boxes outside it are cut on a refresh. */
  areaCode: string | null;
}

/** The box behind a listener, as its credentials named it. */
export interface RestreamBox {
  id: string;
  areaCode: string;
}

/** Why a box may not tune in now (routes/streams.ts answers 429 or 503). */
export type RestreamRefusal =
  | { reason: 'stopping' }
  | { reason: 'busy'; held: number }
  | { reason: 'down'; retryAfterMs: number };

export interface RestreamDeps {
  ffmpegPath: string;
  logger: Logger;
  /** The source as stored now; null when it is gone or no longer restreamed. */
  lookup(id: string): RestreamSource | null;
  /** Whether a box of `boxArea` may hear a source of `sourceArea` (the route's own check, repeated on refresh). */
  usableIn(boxArea: string, sourceArea: string | null): boolean;
  tuning?: Partial<RestreamTuning>;
  /** Which addresses the server's ffmpeg may open (address-guard.ts); absent: any. */
  addressGuard?: StreamAddressGuard;
}

export interface RestreamStatus {
  sourceId: string;
  listeners: number;
  /** The URL whose audio goes out now; null while none serves yet. */
  url: string | null;
  /** Listeners dropped for falling behind. */
  dropped: number;
}

/** One box's listener of one source, kept per box so it can be cut when the box may no longer listen. */
interface Tuned {
  sourceId: string;
  box: RestreamBox;
  listener: Listener;
  leave(): void;
}

export class Restreamer {
  private readonly pullers = new Map<string, Puller>();
  /**
   * Listeners per box (issue 15 review, finding 2: a revoked box kept listening, as the route checks only when
   * a request arrives): `cut` ends a box's listeners when its credentials change, and a refresh ends those whose
   * box the source's area no longer holds.
   */
  private readonly byBox = new Map<string, Set<Tuned>>();
  /** Sources whose every URL just failed: until when, and for which URLs (an edit lifts it). */
  private readonly down = new Map<string, { until: number; urls: string }>();
  private readonly children = new ChildSet();
  private readonly tuning: RestreamTuning;
  private readonly log: Logger;
  private stopping: Promise<void> | null = null;

  constructor(private readonly deps: RestreamDeps) {
    this.tuning = { ...DEFAULT_RESTREAM_TUNING, ...deps.tuning };
    this.log = deps.logger.child({ module: 'restream' });
  }

  /** False once the server is stopping. */
  get accepting(): boolean {
    return this.stopping === null;
  }

  /** Why `box` may not tune in to `source` now, or null when it may: asked before `listen`, in the same tick. */
  refusal(source: RestreamSource, box: RestreamBox): RestreamRefusal | null {
    if (this.stopping) return { reason: 'stopping' };
    let held = 0;
    for (const e of this.byBox.get(box.id) ?? []) if (e.sourceId === source.id) held += 1;
    if (held >= this.tuning.maxPerBoxPerSource) return { reason: 'busy', held };
    const down = this.down.get(source.id);
    if (down && !this.pullers.has(source.id)) {
      const left = down.until - performance.now();
      if (left > 0 && down.urls === source.urls.join('\n')) return { reason: 'down', retryAfterMs: left };
      this.down.delete(source.id);
    }
    return null;
  }

  /**
   * Adds `box`'s listener to the source's puller (started if none runs). Answers the function that takes it
   * off again, or null when the server is stopping. Limits are `refusal`'s, asked first.
   */
  listen(source: RestreamSource, box: RestreamBox, listener: Listener): (() => void) | null {
    if (this.stopping) return null;
    let puller = this.pullers.get(source.id);
    if (!puller) {
      this.down.delete(source.id);
      puller = new Puller(source, this.deps, this.tuning, this.children, this.log, {
        ended: (p, allDown) => {
          if (this.pullers.get(source.id) === p) this.pullers.delete(source.id);
          if (allDown) this.down.set(source.id, { until: performance.now() + this.tuning.downMs, urls: p.urlKey });
        },
        refreshed: (now) => this.checkArea(now),
      });
      this.pullers.set(source.id, puller);
      puller.start();
    }
    const off = puller.add(listener);
    let set = this.byBox.get(box.id);
    if (!set) this.byBox.set(box.id, (set = new Set()));
    const boxSet = set;
    const tuned: Tuned = {
      sourceId: source.id,
      box,
      listener,
      leave: () => {
        off();
        boxSet.delete(tuned);
        if (boxSet.size === 0 && this.byBox.get(box.id) === boxSet) this.byBox.delete(box.id);
      },
    };
    boxSet.add(tuned);
    return tuned.leave;
  }

  /**
   * Cuts every listener of a box at once (destroyed, not ended: up to 6 s of audio may wait in its socket).
   * Wired to the devices' credential notice (wiring/http.ts), which every revocation, secret rotation and
   * deletion sends: the box comes back with its credentials and meets the route's checks again.
   */
  cut(deviceId: string, why: string): number {
    const set = this.byBox.get(deviceId);
    if (!set) return 0;
    const all = [...set];
    for (const e of all) this.drop(e);
    this.log.info({ deviceId, listeners: all.length, why }, 'restream: cut a box’s listeners');
    return all.length;
  }

  /** Listeners per box (tests). */
  listenersOf(deviceId: string): number {
    return this.byBox.get(deviceId)?.size ?? 0;
  }

  /** On a puller's refresh: cuts the listeners of boxes the source's (possibly narrowed) area no longer holds. */
  private checkArea(source: RestreamSource): void {
    for (const set of [...this.byBox.values()]) {
      for (const e of [...set]) {
        if (e.sourceId !== source.id || this.deps.usableIn(e.box.areaCode, source.areaCode)) continue;
        this.log.info({ deviceId: e.box.id, sourceId: source.id }, 'restream: the source is no longer usable in the box’s area; cut');
        this.drop(e);
      }
    }
  }

  private drop(e: Tuned): void {
    e.leave();
    e.listener.destroy();
  }

  status(): RestreamStatus[] {
    return [...this.pullers.values()].map((p) => p.status());
  }

  /** Process ids of every ffmpeg the restream runs now (tests check none outlives `stop`). */
  pids(): number[] {
    return this.children.pids();
  }

  /** Ends every listener and puller; resolves once each ffmpeg has exited. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.pullers.values()]) p.end('the server is stopping');
      await this.children.killAll();
    })();
    return this.stopping;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The server's restream (wiring/http.ts decorates the app with it; tests read its pullers and processes). */
    restream: Restreamer;
  }
}

/** One source pulled once and encoded once, for all of its listeners. */
class Puller {
  private readonly fanout: Fanout;
  private readonly log: Logger;
  private urls: readonly string[];
  /** The URL playing and a probe, switched by the same rules as the box's (shared/src/relay/feeds.ts). */
  private feeds: UrlSwitch<Upstream>;
  private encoder: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private linger: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private owed = 0;
  private lastRefresh = 0;
  private serving: string | null = null;
  private ended = false;
  /**
   * Encoder output not yet sent: it goes out every `flushMs` (250 ms, ~2,000 bytes) rather than per 24 ms
   * frame, so 2,000 listeners cost 8,000 socket writes a second, not 84,000.
   */
  private encoded: Buffer[] = [];
  private lastFlush = 0;

  constructor(
    private readonly source: RestreamSource,
    private readonly deps: RestreamDeps,
    private readonly tuning: RestreamTuning,
    private readonly children: ChildSet,
    logger: Logger,
    private readonly on: { ended(p: Puller, allDown: boolean): void; refreshed(now: RestreamSource): void },
  ) {
    this.urls = [...source.urls];
    this.feeds = this.switchFor(this.urls);
    this.log = logger.child({ sourceId: source.id });
    this.fanout = new Fanout({ burstBytes: tuning.burstMs * OUTPUT_BYTES_PER_MS, maxBacklogBytes: tuning.maxBacklogBytes, frameBytes: FRAME_BYTES });
  }

  private switchFor(urls: readonly string[]): UrlSwitch<Upstream> {
    return new UrlSwitch<Upstream>(urls.length, {
      tuning: this.tuning,
      open: (i) => new Upstream(urls[i]!, this.deps.ffmpegPath, this.children, this.deps.addressGuard),
      isHls: (i) => HLS_URL.test(pathOf(urls[i]!)),
      planNow: () => performance.now(),
      live: () => !this.ended,
      events: {
        audio: (feed) => {
          if (!feed.served) this.served(feed.index!);
        },
        failedOver: (cause, failed, next, detail) => {
          this.serving = null;
          if (next === null) return this.end(`every URL failed; the last: ${redact(urls[failed]!)} (${cause}: ${detail})`, true);
          this.log.warn({ url: redact(urls[failed]!), cause, detail, next: redact(urls[next]!) }, 'restream: source failed, trying the next URL');
        },
        returned: (index) => {
          this.served(index);
          this.log.info({ url: redact(urls[index]!) }, 'restream: a preferred URL returned');
        },
        probeFailed: (index, detail) => this.log.debug({ url: redact(urls[index]!), detail }, 'restream: source still down'),
      },
    });
  }

  start(): void {
    const encoder = spawn(this.deps.ffmpegPath, ENCODER_ARGS, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.encoder = encoder;
    this.children.add(encoder);
    let stderr = '';
    encoder.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-1000)));
    encoder.stdout.on('data', (mp3: Buffer) => {
      if (!this.ended) this.encoded.push(mp3);
    });
    // A write after the encoder died: its `close` below says why.
    encoder.stdin.on('error', () => undefined);
    encoder.on('error', (err) => this.end(`cannot start the encoder: ${err.message}`));
    encoder.on('close', (code, signal) => this.end(`the encoder stopped (${code ?? signal}): ${stderr.trim().slice(-300)}`));
    this.lastTick = this.lastRefresh = performance.now();
    this.log.info({ urls: this.urls.length }, 'restream: pulling the source');
    this.feeds.play(this.feeds.plan.active ?? 0);
    this.timer = setInterval(() => this.tick(), this.tuning.tickMs);
  }

  add(listener: Listener): () => void {
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.fanout.add(listener);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.fanout.remove(listener);
      if (this.fanout.size === 0 && !this.ended && !this.linger) {
        this.linger = setTimeout(() => this.end('no listener left'), this.tuning.lingerMs);
      }
    };
  }

  /** The URLs pulled now, as one string (the restreamer's negative cache is for these). */
  get urlKey(): string {
    return this.urls.join('\n');
  }

  status(): RestreamStatus {
    return { sourceId: this.source.id, listeners: this.fanout.size, url: this.serving, dropped: this.fanout.dropped };
  }

  /** Ends every listener's response, stops the decoders and the encoder, and leaves the restreamer. */
  end(why: string, allDown = false): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    if (this.linger) clearTimeout(this.linger);
    this.timer = this.linger = null;
    this.fanout.endAll();
    this.feeds.stopAll();
    if (this.encoder) void killAndWait(this.encoder);
    this.log.info({ why }, 'restream: stopped pulling the source');
    this.on.ended(this, allDown);
  }

  private served(index: number): void {
    const feed = this.feeds.active;
    if (feed) feed.served = true;
    this.feeds.plan.serving(index, performance.now());
    this.serving = this.urls[index]!;
    this.log.info({ url: redact(this.serving) }, 'restream: serving');
  }

  private tick(): void {
    if (this.ended) return;
    const t = performance.now();
    // Real time owed to the encoder; an event loop stalled for seconds is not made up in one go.
    this.owed = Math.min(this.owed + (t - this.lastTick) * PCM_BYTES_PER_MS, 1_000 * PCM_BYTES_PER_MS);
    this.lastTick = t;
    const active = this.feeds.active;
    const pcm = active ? active.buffer.take(t) : Buffer.alloc(0);
    let out = pcm;
    if (active?.buffer.flowing) {
      // The source's audio at the jitter buffer's real-time pace; no silence slipped between its samples.
      this.owed = 0;
    } else {
      // Nothing flowing (starting, a failover, a stall being decided): silence for the time not covered.
      let want = Math.floor(this.owed);
      want -= want % 2;
      if (pcm.length < want) out = Buffer.concat([pcm, Buffer.alloc(want - pcm.length)]);
      this.owed -= out.length;
    }
    const stdin = this.encoder?.stdin;
    if (out.length && stdin?.writable) stdin.write(out);
    if (this.encoded.length && t - this.lastFlush >= this.tuning.flushMs) {
      this.lastFlush = t;
      this.fanout.push(this.encoded.length === 1 ? this.encoded[0]! : Buffer.concat(this.encoded));
      this.encoded = [];
    }
    this.feeds.checkStall(t);
    if (this.ended) return;
    this.feeds.probeStep(t);
    if (t - this.lastRefresh >= this.tuning.refreshMs) this.refresh(t);
  }

  /** The source as stored now: gone or no longer restreamed ends the puller; new URLs start over on them. */
  private refresh(t: number): void {
    this.lastRefresh = t;
    const now = this.deps.lookup(this.source.id);
    if (!now) return this.end('the source was deleted or is no longer restreamed');
    this.on.refreshed(now);
    if (now.urls.join('\n') === this.urls.join('\n')) return;
    this.log.info({ urls: now.urls.length }, 'restream: the source was edited; pulling its new URLs');
    this.feeds.stopAll();
    this.serving = null;
    this.urls = [...now.urls];
    this.feeds = this.switchFor(this.urls);
    this.feeds.play(0);
  }
}

/** The path of a URL (HLS is told by its `.m3u8`), or '' for one that does not parse. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/** A URL for the log, without credentials a source may carry in it. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password || u.username) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url.slice(0, 200);
  }
}

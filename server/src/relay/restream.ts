/**
 * The server's own restream (issue 15: "a choice per source to go through the server's own restream when a
 * source allows few listeners or needs credentials"). For a source with `restream: true` the server pulls the
 * source ONCE, however many boxes listen, and serves it at `GET /streams/{sourceId}` (routes/streams.ts):
 * - the source's URLs are tried in order with the agent's rules, from the same pure parts
 *   (shared/src/relay/: FailoverPlan, LevelMeter, JitterBuffer): a URL fails on an error, after `stallMs`
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
 *   box that asks at the same time;
 * - the puller starts with the first listener and stops `lingerMs` after the last leaves.
 * Over 300 lines with upstream.ts and fanout.ts split out: the puller's run (the URL playing, a probe, the
 * pacing tick, the encoder) shares its state, as the agent's StreamRelay does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { DEFAULT_RETRY, FailoverPlan, JitterBuffer, LevelMeter, PCM_BYTES_PER_MS, PCM_CHANNELS, PCM_RATE, SILENCE_DBFS, type FailCause, type RetryPolicy } from '@loaxa/shared';
import { Fanout, type Listener } from './fanout.js';
import { ChildSet, Upstream, killAndWait } from './upstream.js';

export interface RestreamTuning {
  /** Nothing decoded for this long, with the buffer run dry: the URL is stalled (the agent's 4 s). */
  stallMs: number;
  /** Silence in a row that fails a URL: shorter than the boxes' 10 s, so the server moves first. */
  silenceMs: number;
  retry: RetryPolicy;
  /** A probe serves once it decoded this much audible audio, and has failed if not within `probeTimeoutMs`. */
  probeOkMs: number;
  probeTimeoutMs: number;
  prebufferMs: number;
  /** Most decoded audio held for a plain HTTP stream (near live) and for HLS (whole segments). */
  httpBufferMs: number;
  hlsBufferMs: number;
  tickMs: number;
  /** The puller stops this long after its last listener left (a box's retry or a quick reconnect reuses it). */
  lingerMs: number;
  /** Output a joiner gets at once. */
  burstMs: number;
  /** A listener with more than this queued in its socket is dropped. */
  maxBacklogBytes: number;
  /** How often a running puller reads its source again (edited URLs, deleted, restream turned off). */
  refreshMs: number;
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
  lingerMs: 5_000,
  burstMs: 2_000,
  // 48 KiB: 6 s of the output. A box that has not taken 6 s of audio has already failed the restream over
  // by its own 4 s stall rule; 2,000 stuck listeners would hold at most ~96 MB.
  maxBacklogBytes: 48 * 1024,
  refreshMs: 5_000,
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
}

export interface RestreamDeps {
  ffmpegPath: string;
  logger: Logger;
  /** The source as stored now; null when it is gone or no longer restreamed. */
  lookup(id: string): RestreamSource | null;
  tuning?: Partial<RestreamTuning>;
}

export interface RestreamStatus {
  sourceId: string;
  listeners: number;
  /** The URL whose audio goes out now; null while none serves yet. */
  url: string | null;
  /** Listeners dropped for falling behind. */
  dropped: number;
}

export class Restreamer {
  private readonly pullers = new Map<string, Puller>();
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

  /**
   * Adds a listener to the source's puller (started if none runs). Answers the function that takes it off
   * again, or null when the server is stopping.
   */
  listen(source: RestreamSource, listener: Listener): (() => void) | null {
    if (this.stopping) return null;
    let puller = this.pullers.get(source.id);
    if (!puller) {
      puller = new Puller(source, this.deps, this.tuning, this.children, this.log, (p) => {
        if (this.pullers.get(source.id) === p) this.pullers.delete(source.id);
      });
      this.pullers.set(source.id, puller);
      puller.start();
    }
    return puller.add(listener);
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

/** A decoder of one URL with its buffer and meter: the URL playing, or a probe. */
interface Feed {
  index: number;
  upstream: Upstream;
  buffer: JitterBuffer;
  meter: LevelMeter;
  startedAt: number;
  lastDataAt: number;
  silentRunMs: number;
  audibleMs: number;
  served: boolean;
}

/** One source pulled once and encoded once, for all of its listeners. */
class Puller {
  private readonly fanout: Fanout;
  private readonly log: Logger;
  private urls: readonly string[];
  private plan: FailoverPlan;
  private encoder: ChildProcess | null = null;
  private active: Feed | null = null;
  private probe: Feed | null = null;
  private timer: NodeJS.Timeout | null = null;
  private linger: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private owed = 0;
  private lastRefresh = 0;
  private serving: string | null = null;
  private ended = false;
  /**
   * Encoder output not yet sent: it goes out once a tick (100 ms, ~800 bytes) rather than per 24 ms frame,
   * so 2,000 listeners cost 20,000 socket writes a second, not 84,000.
   */
  private encoded: Buffer[] = [];

  constructor(
    private readonly source: RestreamSource,
    private readonly deps: RestreamDeps,
    private readonly tuning: RestreamTuning,
    private readonly children: ChildSet,
    logger: Logger,
    private readonly onEnd: (p: Puller) => void,
  ) {
    this.urls = [...source.urls];
    this.plan = new FailoverPlan(this.urls.length, tuning.retry);
    this.log = logger.child({ sourceId: source.id });
    this.fanout = new Fanout({ burstBytes: tuning.burstMs * OUTPUT_BYTES_PER_MS, maxBacklogBytes: tuning.maxBacklogBytes, frameBytes: FRAME_BYTES });
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
    this.active = this.startFeed(this.plan.active ?? 0);
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

  status(): RestreamStatus {
    return { sourceId: this.source.id, listeners: this.fanout.size, url: this.serving, dropped: this.fanout.dropped };
  }

  /** Ends every listener's response, stops the decoders and the encoder, and leaves the restreamer. */
  end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    if (this.linger) clearTimeout(this.linger);
    this.timer = this.linger = null;
    this.fanout.endAll();
    this.stopFeed(this.active);
    this.stopFeed(this.probe);
    this.active = this.probe = null;
    if (this.encoder) void killAndWait(this.encoder);
    this.log.info({ why }, 'restream: stopped pulling the source');
    this.onEnd(this);
  }

  private startFeed(index: number): Feed {
    const upstream = new Upstream(this.urls[index]!, this.deps.ffmpegPath, this.children);
    const at = performance.now();
    const feed: Feed = {
      index,
      upstream,
      buffer: new JitterBuffer({ prebufferMs: this.tuning.prebufferMs, maxMs: upstream.hls ? this.tuning.hlsBufferMs : this.tuning.httpBufferMs }),
      meter: new LevelMeter(SILENCE_DBFS),
      startedAt: at,
      lastDataAt: at,
      silentRunMs: 0,
      audibleMs: 0,
      served: false,
    };
    upstream.on('pcm', (pcm) => this.onPcm(feed, pcm));
    upstream.on('failed', (err) => this.onFailed(feed, err));
    upstream.start();
    return feed;
  }

  private stopFeed(feed: Feed | null): void {
    if (!feed) return;
    feed.upstream.stop();
    feed.buffer.clear();
  }

  private onPcm(feed: Feed, pcm: Buffer): void {
    if (this.ended) return;
    feed.lastDataAt = performance.now();
    for (const b of feed.meter.feed(pcm)) {
      if (b.silent) feed.silentRunMs += b.ms;
      else {
        feed.silentRunMs = 0;
        feed.audibleMs += b.ms;
      }
    }
    feed.buffer.push(pcm);
    if (feed === this.active) {
      if (!feed.served) this.served(feed);
      if (feed.silentRunMs >= this.tuning.silenceMs) this.failActive('silence', `silent (below ${SILENCE_DBFS} dBFS) for ${Math.round(feed.silentRunMs / 1000)} s`);
    } else if (feed === this.probe && feed.audibleMs >= this.tuning.probeOkMs) this.promote(feed);
  }

  private onFailed(feed: Feed, err: Error): void {
    if (this.ended) return;
    if (feed === this.active) this.failActive('error', err.message);
    else if (feed === this.probe) this.probeFailed(err.message);
  }

  private served(feed: Feed): void {
    feed.served = true;
    this.plan.serving(feed.index, performance.now());
    this.serving = this.urls[feed.index]!;
    this.log.info({ url: redact(this.serving) }, 'restream: serving');
  }

  private failActive(cause: FailCause, detail: string): void {
    const feed = this.active!;
    const failed = redact(this.urls[feed.index]!);
    this.stopFeed(feed);
    this.active = null;
    this.serving = null;
    const next = this.plan.fail(feed.index, performance.now());
    if (this.probe && (next === null || this.probe.index >= next)) {
      this.stopFeed(this.probe);
      this.probe = null;
    }
    if (next === null) return this.end(`every URL failed; the last: ${failed} (${cause}: ${detail})`);
    this.log.warn({ url: failed, cause, detail, next: redact(this.urls[next]!) }, 'restream: source failed, trying the next URL');
    this.active = this.startFeed(next);
  }

  private probeFailed(detail: string): void {
    const feed = this.probe!;
    this.stopFeed(feed);
    this.probe = null;
    this.plan.probeFailed(feed.index, performance.now());
    this.log.debug({ url: redact(this.urls[feed.index]!), detail }, 'restream: source still down');
  }

  /** A probed, preferred URL serves again: it takes over (the listeners hear it from now on). */
  private promote(feed: Feed): void {
    const before = this.active;
    this.probe = null;
    this.stopFeed(before);
    this.plan.returned(feed.index, performance.now());
    this.active = feed;
    this.served(feed);
    this.log.info({ url: redact(this.urls[feed.index]!) }, 'restream: a preferred URL returned');
  }

  private tick(): void {
    if (this.ended) return;
    const t = performance.now();
    // Real time owed to the encoder; an event loop stalled for seconds is not made up in one go.
    this.owed = Math.min(this.owed + (t - this.lastTick) * PCM_BYTES_PER_MS, 1_000 * PCM_BYTES_PER_MS);
    this.lastTick = t;
    const active = this.active;
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
    if (this.encoded.length) {
      this.fanout.push(this.encoded.length === 1 ? this.encoded[0]! : Buffer.concat(this.encoded));
      this.encoded = [];
    }
    if (active && t - active.lastDataAt >= this.tuning.stallMs && !active.buffer.flowing) {
      this.failActive('stalled', `no audio for ${Math.round((t - active.lastDataAt) / 1000)} s`);
    }
    if (this.ended) return;
    this.probeStep(t);
    if (t - this.lastRefresh >= this.tuning.refreshMs) this.refresh(t);
  }

  private probeStep(t: number): void {
    if (this.probe) {
      if (t - this.probe.startedAt >= this.tuning.probeTimeoutMs) this.probeFailed('no audible audio in time');
      return;
    }
    const next = this.plan.nextProbe(t);
    if (next && next.at <= t) this.probe = this.startFeed(next.index);
  }

  /** The source as stored now: gone or no longer restreamed ends the puller; new URLs start over on them. */
  private refresh(t: number): void {
    this.lastRefresh = t;
    const now = this.deps.lookup(this.source.id);
    if (!now) return this.end('the source was deleted or is no longer restreamed');
    if (now.urls.join('\n') === this.urls.join('\n')) return;
    this.log.info({ urls: now.urls.length }, 'restream: the source was edited; pulling its new URLs');
    this.stopFeed(this.active);
    this.stopFeed(this.probe);
    this.probe = null;
    this.serving = null;
    this.urls = [...now.urls];
    this.plan = new FailoverPlan(this.urls.length, this.tuning.retry);
    this.active = this.startFeed(0);
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

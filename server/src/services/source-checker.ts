/**
 * Checks live sources (issue 15: "the server checks each source and shows whether it is up and not silent"):
 * each URL is opened with the real ffmpeg for a few seconds, decoded, and its level measured. A URL is `up`
 * when it plays audio, `silent` when it plays only silence (a station that went off air still serves a
 * stream), `down` with the reason otherwise. Every source is checked every LOAXA_SOURCE_CHECK_SECONDS, and one
 * on demand (`POST /api/v1/sources/:id/check`); at most two ffmpeg run at once (the server has two cores and
 * its real work to do), and a check never outlives its timeout.
 */
import type { Logger } from 'pino';
import { Limiter } from '../audio/concurrency.js';
import { FfmpegError, runFfmpeg } from '../audio/ffmpeg.js';
import type { SourceCheck, SourceCheckStatus, SourceRepository } from '../repos/sources.js';
import type { StreamAddressGuard } from '../relay/address-guard.js';

/**
 * Issue 15 review (1): a stream URL may carry its station's credentials (`http://user:pass@host/…`). They go
 * to the boxes and to those who manage the source, and nowhere else: not to logs, check reasons, the audit
 * log or other users. These hide them as `http://***@host/…`.
 */
export function hideUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i, '$1***@');
}

/** Every URL's credentials in a text (an ffmpeg message, a request body) hidden, as hideUrlCredentials does. */
export function hideCredentialsIn(text: string): string {
  return text.includes('@') ? text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"'<>]*@/gi, '$1***@') : text;
}

export interface UrlCheck {
  status: SourceCheckStatus;
  reason: string | null;
  /** Mean level of what was decoded (dBFS); null when nothing was. */
  levelDb: number | null;
}

/** Loudest sample below this (dBFS) over the whole sample: silence (a dead studio line hums far lower). */
export const SILENCE_MAX_DB = -50;
/** Decoded at this rate, mono, so that `n_samples` of volumedetect reads as seconds decoded. */
const MEASURE_RATE = 8000;

export interface StreamCheckOptions {
  /** Seconds of audio to decode (default 4). */
  sampleSeconds?: number;
  /** Connecting and each read wait at most this long (default 5 s). */
  ioTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens one stream URL (HTTP MP3/AAC/Ogg, or an HLS playlist), decodes a few seconds and says what it found. */
export async function checkStreamUrl(url: string, opts: StreamCheckOptions = {}): Promise<UrlCheck> {
  const sampleSeconds = opts.sampleSeconds ?? 4;
  const ioTimeoutMs = opts.ioTimeoutMs ?? 5000;
  // The HLS demuxer opens playlist and segments itself; protocol_whitelist keeps it (and a hostile playlist)
  // to http(s) — a playlist naming file:///etc/passwd must not be read by the server.
  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'info',
    '-protocol_whitelist', 'http,https,tcp,tls,crypto',
    '-rw_timeout', String(ioTimeoutMs * 1000),
    '-i', url,
    '-t', String(sampleSeconds), '-vn', '-sn', '-dn',
    '-af', `aresample=${MEASURE_RATE},aformat=channel_layouts=mono,volumedetect`,
    '-f', 'null', '-',
  ];
  // Connecting, the sample itself (a live stream arrives in real time), and a stall on either side.
  const timeoutMs = sampleSeconds * 1000 + 2 * ioTimeoutMs + 2000;
  let stderr: string;
  try {
    stderr = (await runFfmpeg(args, { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) })).stderr;
  } catch (err) {
    if (err instanceof FfmpegError) {
      const why = failureReason(err.stderrTail, url);
      // ffmpeg's own words for a read that waited -rw_timeout: say what it means for a station.
      const reason = /timed out/i.test(why) ? `the stream sent nothing for ${Math.round(ioTimeoutMs / 1000)} s (stalled: ${why})` : why;
      return { status: 'down', reason, levelDb: null };
    }
    if (opts.signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/timed out/.test(message)) return { status: 'down', reason: `no audio within ${Math.round(timeoutMs / 1000)} s: the stream stalled or never answered`, levelDb: null };
    throw err;
  }
  return measured(stderr, sampleSeconds);
}

/** What volumedetect reported: seconds decoded, mean and max level. */
function measured(stderr: string, sampleSeconds: number): UrlCheck {
  const samples = Number(/n_samples:\s*(\d+)/.exec(stderr)?.[1] ?? 0);
  const mean = dbOf(/mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr)?.[1]);
  const max = dbOf(/max_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr)?.[1]);
  const seconds = samples / MEASURE_RATE;
  if (samples === 0) return { status: 'down', reason: 'the stream answered but no audio could be decoded from it', levelDb: null };
  // Less than half the sample before the stream ended: it serves, but not continuously.
  if (seconds < sampleSeconds / 2) return { status: 'down', reason: `the stream stopped after ${seconds.toFixed(1)} s of audio`, levelDb: mean };
  if (max === null || max < SILENCE_MAX_DB) return { status: 'silent', reason: `only silence for ${seconds.toFixed(1)} s (loudest ${max === null ? '-inf' : max.toFixed(1)} dBFS)`, levelDb: mean };
  return { status: 'up', reason: null, levelDb: mean };
}

function dbOf(text: string | undefined): number | null {
  if (text === undefined || text === '-inf') return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** The line of ffmpeg's error that says why (connection refused, 404, not a stream), without ffmpeg's noise. */
function failureReason(tail: string, url: string): string {
  const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Exiting|Conversion failed|Output file|Press \[q\])/.test(l));
  const why = lines.findLast((l) => l.includes(url) || /error|refused|timed out|not found|invalid|failed|unable|denied|forbidden|\d{3}/i.test(l)) ?? lines.at(-1) ?? 'ffmpeg could not open the stream';
  // Issue 15 review (1): ffmpeg quotes the URL it opened, credentials and all; the reason is shown to users.
  return hideCredentialsIn(why.replace(`${url}: `, '')).slice(0, 300);
}

export interface SourceCheckerDeps {
  sources: SourceRepository;
  logger: Logger;
  /** Every source is checked this often; 0: only on demand. */
  intervalMs: number;
  /** ffmpeg at once (default 2: the server's two cores). */
  concurrency?: number;
  /** Seconds decoded per URL (default 4). */
  sampleSeconds?: number;
  ioTimeoutMs?: number;
  now?: () => number;
  /** Which addresses the server's ffmpeg may open (relay/address-guard.ts); absent: any. */
  addressGuard?: StreamAddressGuard;
}

export class SourceChecker {
  private readonly limiter: Limiter;
  private readonly running = new Map<string, Promise<SourceCheck[]>>();
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  private sweep: Promise<void> | null = null;
  /** The URL the server's restream serves now for a source, if it pulls it (set once the restream exists). */
  private restreaming: (sourceId: string) => string | null = () => null;

  constructor(private readonly deps: SourceCheckerDeps) {
    this.limiter = new Limiter(deps.concurrency ?? 2);
    this.log = deps.logger.child({ module: 'source-checker' });
    this.now = deps.now ?? Date.now;
  }

  /**
   * Issue 15 review: a restreamed source is one that allows few listeners; while the restream pulls it, a
   * check must not take a second slot. The URL the restream serves is then recorded `up` from the restream's
   * own hearing of it (it fails a URL over on errors, stalls and silence within seconds), without opening it.
   */
  watchRestream(serving: (sourceId: string) => string | null): void {
    this.restreaming = serving;
  }

  start(): void {
    this.abort = new AbortController();
    if (this.deps.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      // One sweep at a time: a slow one (many sources, dead hosts) is not stacked on.
      if (this.sweep) return;
      this.sweep = this.checkAll().finally(() => {
        this.sweep = null;
      });
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and kills the ffmpeg still running; resolves when they are gone. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort(new Error('the server is stopping'));
    await Promise.allSettled([...this.running.values(), this.sweep]);
  }

  /** Checks every URL of a source now (or joins the check already running); answers the stored results. */
  check(sourceId: string): Promise<SourceCheck[]> {
    const running = this.running.get(sourceId);
    if (running) return running;
    const job = this.run(sourceId).finally(() => this.running.delete(sourceId));
    this.running.set(sourceId, job);
    return job;
  }

  /** A check in the background (a new or edited source), when periodic checks are on; failures are logged. */
  checkSoon(sourceId: string): void {
    if (this.deps.intervalMs <= 0 || this.abort.signal.aborted) return;
    this.check(sourceId).catch((err: unknown) => this.log.error({ err, sourceId }, 'source check failed'));
  }

  private async checkAll(): Promise<void> {
    for (const s of this.deps.sources.all()) {
      if (this.abort.signal.aborted) return;
      await this.check(s.id).catch((err: unknown) => this.log.error({ err, sourceId: s.id }, 'source check failed'));
    }
  }

  private async run(sourceId: string): Promise<SourceCheck[]> {
    const source = this.deps.sources.get(sourceId);
    if (!source || source.deletedAt !== null) return [];
    const signal = this.abort.signal;
    const results = await Promise.all(
      source.urls.map((url) =>
        this.limiter.run(async () => {
          if (signal.aborted) return null;
          if (this.restreaming(sourceId) === url) {
            const check: SourceCheck = { sourceId, url, status: 'up', reason: null, levelDb: null, checkedAt: this.now() };
            this.deps.sources.putCheck(check);
            return check;
          }
          // Issue 15 review: the check must not make the server open its own host or LAN (SSRF).
          const refused = await this.deps.addressGuard?.refusal(url);
          const r = refused ? { status: 'down' as const, reason: refused, levelDb: null } : await checkStreamUrl(url, { sampleSeconds: this.deps.sampleSeconds, ioTimeoutMs: this.deps.ioTimeoutMs, signal }).catch((err: unknown) => {
            if (signal.aborted) return null;
            throw err;
          });
          if (!r) return null;
          const check: SourceCheck = { sourceId, url, ...r, checkedAt: this.now() };
          this.deps.sources.putCheck(check);
          return check;
        }),
      ),
    );
    const done = results.filter((r): r is SourceCheck => r !== null);
    // Issue 15 review (1): the log shows URLs without their credentials.
    const summary = Object.fromEntries(done.map((c) => [hideUrlCredentials(c.url), c.status]));
    if (done.some((c) => c.status !== 'up')) this.log.warn({ sourceId, name: source.name, checks: summary }, 'source not fully up');
    else this.log.debug({ sourceId, checks: summary }, 'source checked');
    return done;
  }
}

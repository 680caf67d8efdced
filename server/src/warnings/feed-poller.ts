/**
 * Pulls the configured warning feeds (issue 18: "CAP 1.2 alerts pushed or pulled from feeds"): each source's
 * URL answers a CAP 1.2 alert, or an Atom 1.0 / RSS 2.0 feed listing alerts inline or by link (feed-read.ts).
 * What is new goes to `ingest`, which owns everything after the bytes (reading, policy, deduplication by CAP
 * identifier/sender/sent, CAP 1.2 §3.2.1; the warning service).
 *
 * Politeness and cost, since a national feed is polled by every province's server:
 * - conditional GET (RFC 9110 §13.1.1/§13.1.3: If-None-Match with the last ETag, If-Modified-Since with the
 *   last Last-Modified); a 304 costs the publisher nothing;
 * - a failing feed is polled less and less often: pollSeconds·2^failures, at most 30 minutes, with bounded
 *   jitter so that many servers that lost the publisher at once do not come back in step;
 * - every fetch (the feed and each linked alert) goes through guardedGet (SSRF: a feed cannot send us to
 *   loopback, link-local or private addresses, whatever its DNS answers), is bounded in size (1 MiB, the XML
 *   reader's own limit) and time (10 s), and a poll fetches at most `maxLinkedPerPoll` linked alerts: the rest
 *   wait for the next poll, so a feed of ten thousand links cannot make one poll last hours.
 *
 * Entries already handed over are remembered in the state's `seen` (entry id + updated: a publisher that
 * updates an alert in place changes `updated`, RFC 4287 §4.2.15), capped at SEEN_CAP, oldest dropped.
 * A bare CAP document is remembered by its SHA-256, so a server without validators is not re-ingested at
 * every poll. One source is never polled twice at once: pollNow joins a poll in flight.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { GuardedFetchError, guardedGet, type GuardedGetOptions } from '../relay/guarded-fetch.js';
import { readWarningDocument, type FeedEntry } from './feed-read.js';
import { serializeXml } from './xml-write.js';

export interface FeedState {
  etag: string | null;
  lastModified: string | null;
  lastPolledAt: number | null;
  /** When the feed last answered with new content (a 200, not a 304). */
  lastChangedAt: number | null;
  /** "ok: …", "not modified" or "error: …", for the sources page. */
  lastResult: string | null;
  /** Failed polls in a row; 0 after a success. */
  failures: number;
  nextPollAt: number | null;
  /** Keys of entries (and CAP documents) already handed to ingest, oldest first. */
  seen: string[];
}

export interface FeedSourceStore {
  feeds(): { id: string; feedUrl: string; pollSeconds: number }[];
  state(id: string): FeedState | null;
  saveState(id: string, s: FeedState): void;
}

export interface PollerClock {
  now(): number;
  /** Runs `fn` after `ms`; answers a cancel function. Default: an unref'd setTimeout. */
  schedule?(fn: () => void, ms: number): () => void;
}

export interface WarningFeedPollerDeps {
  sources: FeedSourceStore;
  /**
   * Hands over one CAP document's bytes; `origin` is the URL it came from (with #entry-id when inline). A
   * rejection means "refused" (unreadable, not allowed by the source's policy…): it is recorded in lastResult
   * and the document is not offered again (the feed's entry stays seen).
   */
  ingest: (sourceId: string, xml: Uint8Array, origin: string) => Promise<unknown>;
  guard: GuardedGetOptions['guard'];
  clock?: PollerClock;
  logger: Logger;
  /** Largest feed or alert, bytes. Default 1 MiB. */
  maxBytes?: number;
  /** One fetch, connect to last byte. Default 10 s. */
  timeoutMs?: number;
  /** Linked alerts fetched in one poll of one feed. Default 20. */
  maxLinkedPerPoll?: number;
  /** 0 ≤ x < 1, for the backoff's jitter; Math.random by default (a test fixes it). */
  random?: () => number;
  /** How often the list of feeds is read again to start and stop timers. Default 60 s. */
  resyncMs?: number;
  /** How long stop() waits for polls in flight before aborting them. Default timeoutMs + 2 s. */
  stopTimeoutMs?: number;
}

export const DEFAULT_FEED_MAX_BYTES = 1024 * 1024;
export const DEFAULT_FEED_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_LINKED_PER_POLL = 20;
export const SEEN_CAP = 1000;
export const MAX_BACKOFF_MS = 30 * 60_000;
/** The jitter is ±JITTER of the backoff: enough to spread servers out, never more than a fifth. */
const JITTER = 0.2;

const ACCEPT = 'application/cap+xml, application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1';

export const emptyFeedState = (): FeedState => ({ etag: null, lastModified: null, lastPolledAt: null, lastChangedAt: null, lastResult: null, failures: 0, nextPollAt: null, seen: [] });

/** A fetch that did not give a usable document: the feed's failure (backoff), or one linked alert's. */
class FetchFailed extends Error {
  constructor(message: string, readonly permanent = false) {
    super(message);
  }
}

interface Fetched {
  status: number;
  etag: string | null;
  lastModified: string | null;
  bytes: Uint8Array;
  url: string;
}

const header = (v: string | string[] | undefined): string | null => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));

/** The delay before the next poll after `failures` failures in a row (≥ 1), jittered and capped. */
export function backoffMs(pollSeconds: number, failures: number, random: () => number = Math.random): number {
  const base = Math.min(pollSeconds * 1000 * 2 ** Math.min(failures, 30), MAX_BACKOFF_MS);
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  // Never sooner than the feed's own period, never later than the cap.
  return Math.round(Math.max(pollSeconds * 1000, Math.min(jittered, MAX_BACKOFF_MS)));
}

export class WarningFeedPoller {
  private readonly timers = new Map<string, () => void>();
  private readonly inFlight = new Map<string, Promise<FeedState>>();
  private readonly controllers = new Set<AbortController>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly maxLinked: number;
  private readonly random: () => number;
  private resync: (() => void) | null = null;
  private running = false;
  private stopped = false;
  private aborting = false;

  constructor(private readonly deps: WarningFeedPollerDeps) {
    this.log = deps.logger.child({ module: 'warning-feeds' });
    this.now = deps.clock ? () => deps.clock!.now() : Date.now;
    this.maxBytes = deps.maxBytes ?? DEFAULT_FEED_MAX_BYTES;
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_FEED_TIMEOUT_MS;
    this.maxLinked = deps.maxLinkedPerPoll ?? DEFAULT_MAX_LINKED_PER_POLL;
    this.random = deps.random ?? Math.random;
  }

  private schedule(fn: () => void, ms: number): () => void {
    if (this.deps.clock?.schedule) return this.deps.clock.schedule(fn, ms);
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  }

  /** Starts a timer for every feed (at its recorded nextPollAt, or now), and re-reads the list periodically. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.sync();
  }

  /** Timers for feeds added since, none for feeds removed. */
  private sync(): void {
    if (!this.running) return;
    const feeds = this.deps.sources.feeds();
    const ids = new Set(feeds.map((f) => f.id));
    for (const [id, cancel] of this.timers) {
      if (!ids.has(id)) {
        cancel();
        this.timers.delete(id);
      }
    }
    for (const f of feeds) {
      if (this.timers.has(f.id) || this.inFlight.has(f.id)) continue;
      const next = this.deps.sources.state(f.id)?.nextPollAt ?? null;
      this.arm(f.id, next === null ? 0 : next - this.now());
    }
    this.resync?.();
    this.resync = this.schedule(() => this.sync(), this.deps.resyncMs ?? 60_000);
  }

  private arm(id: string, ms: number): void {
    this.timers.get(id)?.();
    this.timers.set(id, this.schedule(() => {
      this.timers.delete(id);
      if (!this.running) return;
      // pollNow re-arms the timer when the poll ends.
      this.pollNow(id).catch((err: unknown) => this.log.error({ err, sourceId: id }, 'warning feed poll crashed'));
    }, Math.max(0, ms)));
  }

  /** Stops the timers and waits (bounded) for polls in flight; what is still running then is aborted. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.resync?.();
    this.resync = null;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    const all = Promise.allSettled([...this.inFlight.values()]);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([all.then(() => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), this.deps.stopTimeoutMs ?? this.timeoutMs + 2000); })]);
    clearTimeout(timer);
    if (!waited) {
      // Past the bound: abort the fetches running, and refuse the ones a poll would start next.
      this.aborting = true;
      for (const c of this.controllers) c.abort();
      await all;
    }
  }

  /** Polls one feed now (joining a poll of it already running) and answers its new state. */
  pollNow(sourceId: string): Promise<FeedState> {
    const running = this.inFlight.get(sourceId);
    if (running) return running;
    if (this.stopped) return Promise.reject(new Error('the warning feed poller is stopped'));
    const feed = this.deps.sources.feeds().find((f) => f.id === sourceId);
    if (!feed) return Promise.reject(new Error(`no warning feed ${sourceId}`));
    const p = this.poll(feed).finally(() => this.inFlight.delete(sourceId));
    this.inFlight.set(sourceId, p);
    // Whoever asked (the timer, or an admin's "poll now"), the next poll is at the state's nextPollAt.
    p.then(
      (s) => {
        if (this.running && this.deps.sources.feeds().some((f) => f.id === sourceId)) this.arm(sourceId, (s.nextPollAt ?? this.now()) - this.now());
      },
      () => {},
    );
    return p;
  }

  private async poll(feed: { id: string; feedUrl: string; pollSeconds: number }): Promise<FeedState> {
    const prev = this.deps.sources.state(feed.id) ?? emptyFeedState();
    const started = this.now();
    const log = this.log.child({ sourceId: feed.id });
    let next: FeedState;
    try {
      const headers: Record<string, string> = { accept: ACCEPT, 'user-agent': 'LoaXa-warnings/1' };
      if (prev.etag) headers['if-none-match'] = prev.etag;
      if (prev.lastModified) headers['if-modified-since'] = prev.lastModified;
      const res = await this.fetch(feed.feedUrl, headers);
      const base = { ...prev, lastPolledAt: started, failures: 0, nextPollAt: this.now() + feed.pollSeconds * 1000 };
      if (res.status === 304) {
        next = { ...base, lastResult: 'not modified' };
      } else {
        const outcome = await this.handle(feed.id, res, prev.seen);
        next = {
          ...base,
          // A server that stops sending validators must not keep us sending stale ones.
          etag: res.etag,
          lastModified: res.lastModified,
          lastChangedAt: started,
          lastResult: outcome.summary,
          seen: outcome.seen,
        };
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const failures = prev.failures + 1;
      next = { ...prev, lastPolledAt: started, failures, lastResult: `error: ${message.slice(0, 300)}`, nextPollAt: this.now() + backoffMs(feed.pollSeconds, failures, this.random) };
      log.warn({ failures, err: message }, 'warning feed poll failed');
    }
    this.deps.sources.saveState(feed.id, next);
    return next;
  }

  /** A 200's document: ingest a CAP alert, or a feed's new entries. Throws (a feed failure) when unreadable. */
  private async handle(sourceId: string, res: Fetched, seenBefore: string[]): Promise<{ summary: string; seen: string[] }> {
    const doc = readWarningDocument(res.bytes, res.url, { maxBytes: this.maxBytes });
    if (!doc.ok) throw new FetchFailed(`unreadable (${doc.reason}): ${doc.message}`);
    const seen = new Set(seenBefore);
    const added: string[] = [];
    const counts = { ingested: 0, refused: 0, failedLinks: 0, deferred: 0 };
    const problems: string[] = [];
    const give = async (bytes: Uint8Array, origin: string): Promise<void> => {
      try {
        await this.deps.ingest(sourceId, bytes, origin);
        counts.ingested++;
      } catch (err) {
        // One bad alert must not keep the others of the feed from the speakers.
        counts.refused++;
        problems.push(`${origin}: ${err instanceof Error ? err.message : String(err)}`);
        this.log.warn({ sourceId, origin, err }, 'a pulled warning was not ingested');
      }
    };

    if (doc.kind === 'cap') {
      const key = `sha256:${createHash('sha256').update(res.bytes).digest('hex')}`;
      if (!seen.has(key)) {
        await give(res.bytes, res.url);
        added.push(key);
      }
    } else {
      let linksLeft = this.maxLinked;
      // Oldest first, so that an alert is ingested before the Update or Cancel that references it (CAP §3.2.1 references).
      const entries = [...doc.entries].sort((a, b) => (a.updated ?? 0) - (b.updated ?? 0));
      for (const entry of entries) {
        const key = entryKey(entry);
        if (seen.has(key)) continue;
        if (entry.alert) {
          await give(new TextEncoder().encode(serializeXml(entry.alert)), `${res.url}#${entry.id}`);
        } else if (entry.capUrls.length > 0) {
          if (linksLeft <= 0) {
            counts.deferred++;
            continue; // not seen: the next poll takes it
          }
          const got = await this.fetchLinked(entry, () => linksLeft--, linksLeft);
          if ('error' in got) {
            counts.failedLinks++;
            problems.push(`${entry.id}: ${got.error}`);
            if (!got.permanent) continue; // a network error is tried again at the next poll
          } else {
            await give(got.bytes, got.url);
          }
        }
        // Entries with neither an inline alert nor a link are remembered too: nothing will come of them.
        seen.add(key);
        added.push(key);
      }
    }
    const kept = [...seenBefore, ...added];
    const summary =
      `ok: ${doc.kind}, ${counts.ingested} ingested` +
      (counts.refused ? `, ${counts.refused} refused` : '') +
      (counts.failedLinks ? `, ${counts.failedLinks} links failed` : '') +
      (counts.deferred ? `, ${counts.deferred} deferred to the next poll` : '') +
      (problems.length ? ` (${problems.slice(0, 3).join('; ').slice(0, 400)})` : '');
    return { summary, seen: kept.slice(Math.max(0, kept.length - SEEN_CAP)) };
  }

  /** The first of the entry's links that answers a CAP alert; each fetch spends one of the poll's budget. */
  private async fetchLinked(entry: FeedEntry, spend: () => void, budget: number): Promise<{ bytes: Uint8Array; url: string } | { error: string; permanent: boolean }> {
    let last: { error: string; permanent: boolean } = { error: 'no link answered a CAP alert', permanent: true };
    for (const url of entry.capUrls.slice(0, budget)) {
      spend();
      try {
        const res = await this.fetch(url, { accept: 'application/cap+xml, application/xml;q=0.9, */*;q=0.1', 'user-agent': 'LoaXa-warnings/1' });
        if (res.status !== 200) throw new FetchFailed(`HTTP ${res.status}`, res.status >= 400 && res.status < 500);
        const doc = readWarningDocument(res.bytes, res.url, { maxBytes: this.maxBytes });
        // A link to a web page (rel=alternate text/html) is not an error: the next link may be the CAP one.
        if (!doc.ok || doc.kind !== 'cap') {
          last = { error: `${url} is not a CAP alert`, permanent: true };
          continue;
        }
        return { bytes: res.bytes, url: res.url };
      } catch (err) {
        last = { error: `${url}: ${(err as Error).message}`, permanent: err instanceof FetchFailed ? err.permanent : isPermanentFetchError(err) };
      }
    }
    return last;
  }

  /** One guarded, size- and time-bounded GET. Throws FetchFailed on anything but 2xx/304. */
  private async fetch(url: string, headers: Record<string, string>): Promise<Fetched> {
    if (this.aborting) throw new FetchFailed('the poller is stopping');
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      let res;
      try {
        res = await guardedGet(url, { guard: this.deps.guard, signal: controller.signal, headers });
      } catch (err) {
        if (err instanceof GuardedFetchError) throw new FetchFailed(err.message, isPermanentFetchError(err));
        throw err;
      }
      const { body } = res;
      const base = { status: res.status, etag: header(res.headers.etag), lastModified: header(res.headers['last-modified']), url: res.url };
      if (res.status === 304 || res.status < 200 || res.status >= 300) {
        body.destroy();
        if (res.status === 304) return { ...base, bytes: new Uint8Array(0) };
        throw new FetchFailed(`HTTP ${res.status}`, res.status >= 400 && res.status < 500);
      }
      const declared = Number(header(res.headers['content-length']));
      if (Number.isFinite(declared) && declared > this.maxBytes) {
        body.destroy();
        throw new FetchFailed(`too large: ${declared} bytes, more than ${this.maxBytes}`, true);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          total += chunk.length;
          // Counted as it arrives: a server that lies about (or omits) its length is cut off at the limit.
          if (total > this.maxBytes) {
            body.destroy();
            throw new FetchFailed(`too large: more than ${this.maxBytes} bytes`, true);
          }
          chunks.push(chunk);
        }
      } catch (err) {
        if (err instanceof FetchFailed) throw err;
        throw new FetchFailed(controller.signal.aborted ? `timed out after ${this.timeoutMs} ms` : (err as Error).message);
      }
      return { ...base, bytes: new Uint8Array(Buffer.concat(chunks)) };
    } catch (err) {
      if (controller.signal.aborted && !(err instanceof FetchFailed && err.message.startsWith('too large'))) {
        throw new FetchFailed(`timed out after ${this.timeoutMs} ms`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }
}

/** The key of a feed entry in `seen`: its id and its updated time (an alert updated in place is new again). */
export const entryKey = (e: FeedEntry): string => `${e.id}|${e.updated ?? ''}`;

/** A link the guard or the URL rules refuse will be refused at every poll: it is not worth retrying. */
function isPermanentFetchError(err: unknown): boolean {
  return err instanceof GuardedFetchError && (err.kind === 'refused' || err.kind === 'scheme' || err.kind === 'url');
}

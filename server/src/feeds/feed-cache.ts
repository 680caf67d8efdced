/**
 * The commune pages' answers, kept in memory (issue 22: "cached and cheap to serve"): a portal that embeds the
 * player and podcast apps polling the feed ask for the same few documents over and over, and each one is a
 * query over the as-run log. An answer is built once, with a strong ETag (a hash of its bytes) and a
 * Last-Modified that moves only when the bytes change; everything is dropped when a bulletin starts playing on
 * any box or a bulletin's public flag changes, and in any case after `ttlMs` (a renamed commune, a box that
 * reported its airing late, a live voice whose recording is mastered after it aired).
 */
import { createHash } from 'node:crypto';

export interface CachedAnswer {
  body: Buffer;
  etag: string;
  lastModified: number;
  /** The content type to answer with. */
  type: string;
}

interface Entry {
  answer: CachedAnswer | null;
  builtAt: number;
}

export class FeedCache {
  readonly #entries = new Map<string, Entry>();
  /** Values that are not answers (a bulletin as the audio route checks it), under the same rules. */
  readonly #values = new Map<string, { value: unknown; builtAt: number }>();
  /** The last bytes' ETag and Last-Modified per key, kept across invalidations so Last-Modified only moves on change. */
  readonly #history = new Map<string, { etag: string; lastModified: number }>();
  #generation = 0;
  readonly #building = new Map<string, Promise<CachedAnswer | null>>();
  hits = 0;
  builds = 0;

  constructor(
    private readonly opts: { ttlMs: number; maxEntries: number; now?: () => number },
  ) {}

  #now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Everything goes: a bulletin aired or changed. */
  invalidate(): void {
    this.#entries.clear();
    this.#values.clear();
    this.#building.clear();
    this.#generation++;
  }

  /**
   * The answer for `key`, built by `build` when absent or stale; null (a 404) is kept too when `keepMissing`
   * (communes: probing unknown ones costs no more than asking for a known one), not for per-bulletin keys, whose
   * misses would otherwise push the feeds out.
   */
  get(key: string, keepMissing: boolean, build: () => Promise<{ body: string | Buffer; type: string } | null>): Promise<CachedAnswer | null> {
    const hit = this.#entries.get(key);
    if (hit && this.#now() - hit.builtAt < this.opts.ttlMs) {
      this.hits++;
      return Promise.resolve(hit.answer);
    }
    // One build per key at a time: a portal's 50 visitors arriving together after an airing cost one query, not 50.
    // A build under way when a bulletin aired is not joined (invalidate() forgets it): it may have read too early.
    let building = this.#building.get(key);
    if (!building) {
      const mine = this.#build(key, keepMissing, build).finally(() => {
        if (this.#building.get(key) === mine) this.#building.delete(key);
      });
      this.#building.set(key, (building = mine));
    }
    return building;
  }

  async #build(key: string, keepMissing: boolean, build: () => Promise<{ body: string | Buffer; type: string } | null>): Promise<CachedAnswer | null> {
    const now = this.#now();
    const generation = this.#generation;
    const built = await build();
    this.builds++;
    let answer: CachedAnswer | null = null;
    if (built) {
      const body = typeof built.body === 'string' ? Buffer.from(built.body, 'utf8') : built.body;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const before = this.#history.get(key);
      // HTTP dates have whole seconds: a change within the same second as the last one still moves it.
      const lastModified = before?.etag === etag ? before.lastModified : Math.max(Math.floor(now / 1000) * 1000, (before?.lastModified ?? 0) + 1000);
      this.#history.set(key, { etag, lastModified });
      answer = { body, etag, lastModified, type: built.type };
    }
    // Built from what was read before an invalidation that came meanwhile (the file sizes are read after the
    // rows): answer it, but do not keep it.
    if (generation === this.#generation && (answer || keepMissing)) {
      this.#entries.delete(key);
      this.#entries.set(key, { answer, builtAt: now });
      for (const k of this.#entries.keys()) {
        if (this.#entries.size <= this.opts.maxEntries) break;
        this.#entries.delete(k);
      }
    }
    if (this.#history.size > this.opts.maxEntries * 2) this.#history.delete(this.#history.keys().next().value!);
    return answer;
  }

  /** A value for `key`, read by `read` when absent or stale (same invalidation and lifetime as answers). */
  async value<T>(key: string, keepMissing: boolean, read: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const hit = this.#values.get(key);
    if (hit && now - hit.builtAt < this.opts.ttlMs) {
      this.hits++;
      return hit.value as T;
    }
    const generation = this.#generation;
    const value = await read();
    this.builds++;
    if (generation === this.#generation && (value !== null || keepMissing)) {
      this.#values.delete(key);
      this.#values.set(key, { value, builtAt: now });
      if (this.#values.size > this.opts.maxEntries) this.#values.delete(this.#values.keys().next().value!);
    }
    return value;
  }
}

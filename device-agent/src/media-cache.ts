/**
 * Content-addressed audio cache: `cacheDir/<sha256>.ogg`. A download goes to `.part-<sha256>`, is hashed
 * while streaming, flushed to storage and only then renamed to its real name (and the folder flushed),
 * so a power cut never leaves a half-written or empty file under a real name. A broken-off download keeps
 * its part file and resumes with an HTTP Range request (the server's `/media` supports Range) — a 4G
 * link that drops every few minutes still finishes a long recording.
 *
 * Files are evicted least-recently-used beyond a size cap, never the audio of an item still to play
 * (pinned by the playout, or named by `protect`, the agenda's upcoming hashes).
 * Over 300 lines because a cached file's whole life (download with resume, hash check, durable rename,
 * eviction that spares what the agenda still needs) is one class: each step relies on the others' rule
 * that no half-written file ever stands under a real name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, SHA256_PATTERN } from '@loaxa/shared';
import type { Logger } from 'pino';
import { ATOMIC_TEMP_SUFFIX, fsyncDir } from './atomic-file.js';

export class HashMismatchError extends Error {
  override name = 'HashMismatchError';
  readonly code = ErrorCode.HASH_MISMATCH;
}

export class DownloadError extends Error {
  override name = 'DownloadError';
  readonly code = ErrorCode.DOWNLOAD_FAILED;
  /** Retrying cannot help (401, 403, 404…). */
  constructor(message: string, readonly permanent: boolean) {
    super(message);
  }
}

export type FetchLike = typeof fetch;

interface Entry {
  bytes: number;
  lastUsed: number;
}

const FILE_RE = /^([0-9a-f]{64})\.ogg$/;
const PART_RE = /^\.part-([0-9a-f]{64})$/;
/** Temp files of the first agent version. */
const LEGACY_TEMP_PREFIX = '.tmp-';
/** A part file untouched this long is abandoned (its item is long gone). */
const PART_MAX_AGE_MS = 7 * 24 * 3600_000;

export interface MediaCacheDeps {
  dir: string;
  maxBytes: number;
  authorization: string;
  fetch: FetchLike;
  logger: Logger;
  downloadTimeoutMs: number | (() => number);
  /** Free bytes on the cache's file system (null: unknown); a download that cannot fit is refused early. */
  freeBytes?: () => Promise<number | null>;
  /** Space always left free on the file system for logs and the system (default 32 MiB). */
  reserveBytes?: number;
  /** Hashes of upcoming items beyond those in hand (the agenda); never evicted. */
  protect?: () => Iterable<string>;
}

export class MediaCache {
  private readonly entries = new Map<string, Entry>();
  /** One download per hash at a time, shared by every item that needs it. */
  private readonly inflight = new Map<string, Promise<string>>();
  /** Hashes an active item still needs; never evicted. */
  private readonly pinned = new Map<string, number>();

  constructor(private readonly deps: MediaCacheDeps) {}

  /** Creates the folder, removes leftovers of interrupted writes and indexes what is there. */
  async open(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(this.deps.dir)) {
      const path = join(this.deps.dir, name);
      if (name.startsWith(LEGACY_TEMP_PREFIX) || name.endsWith(ATOMIC_TEMP_SUFFIX)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      if (PART_RE.test(name)) {
        // Kept for resuming, unless abandoned.
        if (now - st.mtimeMs > PART_MAX_AGE_MS) await unlink(path).catch(() => undefined);
        continue;
      }
      const m = FILE_RE.exec(name);
      if (!m) continue;
      if (st.size === 0) {
        // Only a cut between rename and data reaching the disk makes one; it can never be valid audio.
        await unlink(path).catch(() => undefined);
        continue;
      }
      this.entries.set(m[1]!, { bytes: st.size, lastUsed: st.mtimeMs });
    }
    await this.evict(0);
  }

  get bytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.bytes;
    return sum;
  }

  get items(): number {
    return this.entries.size;
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  pathOf(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.deps.dir, `${sha256}.ogg`);
  }

  private partOf(sha256: string): string {
    return join(this.deps.dir, `.part-${sha256}`);
  }

  pin(sha256: string): () => void {
    this.pinned.set(sha256, (this.pinned.get(sha256) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.pinned.get(sha256) ?? 1) - 1;
      if (n <= 0) this.pinned.delete(sha256);
      else this.pinned.set(sha256, n);
    };
  }

  /** The cached file if present with the right hash; a corrupt file is removed. */
  async lookup(sha256: string): Promise<string | null> {
    const file = this.pathOf(sha256);
    let actual: string;
    try {
      actual = await hashFile(file);
    } catch {
      this.entries.delete(sha256);
      return null;
    }
    if (actual !== sha256) {
      this.deps.logger.warn({ sha256, actual }, 'cached file is corrupt; removing it');
      await unlink(file).catch(() => undefined);
      this.entries.delete(sha256);
      return null;
    }
    const now = Date.now();
    const entry = this.entries.get(sha256);
    if (entry) entry.lastUsed = now;
    else this.entries.set(sha256, { bytes: (await stat(file)).size, lastUsed: now });
    // mtime carries the LRU order across restarts.
    await utimes(file, now / 1000, now / 1000).catch(() => undefined);
    return file;
  }

  /** Downloads once (shared with concurrent callers for the same hash), verifies, stores. One attempt. */
  fetchOnce(sha256: string, url: string, expectedBytes?: number): Promise<string> {
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.download(sha256, url, expectedBytes).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, p);
    }
    return p;
  }

  private timeoutMs(): number {
    const t = this.deps.downloadTimeoutMs;
    return typeof t === 'function' ? t() : t;
  }

  private async download(sha256: string, url: string, expectedBytes: number | undefined): Promise<string> {
    const file = this.pathOf(sha256);
    const part = this.partOf(sha256);
    let offset = (await stat(part).catch(() => null))?.size ?? 0;
    if (expectedBytes !== undefined) await this.makeRoom(Math.max(0, expectedBytes - offset));

    const headers: Record<string, string> = { authorization: this.deps.authorization };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await this.deps.fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs()) });
    } catch (err) {
      throw new DownloadError(`cannot fetch ${url}: ${(err as Error).message}`, false);
    }
    if (res.status === 416 && offset > 0) {
      // The part file is already whole (the cut came after the last byte) or longer than the file.
      await res.body?.cancel().catch(() => undefined);
      if ((await hashFile(part).catch(() => null)) === sha256) return this.commit(sha256, part, file, offset);
      await unlink(part).catch(() => undefined);
      throw new DownloadError(`the partial download of ${url} does not match the file; starting over`, false);
    }
    if ((res.status !== 200 && res.status !== 206) || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      // 408 and 429 are worth retrying; other 4xx answers will not change.
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw new DownloadError(`HTTP ${res.status} from ${url}`, permanent);
    }
    if (res.status === 206) {
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
      if (Number(start) !== offset) {
        await res.body.cancel().catch(() => undefined);
        await unlink(part).catch(() => undefined);
        throw new DownloadError(`unexpected Content-Range ${res.headers.get('content-range')} from ${url} for offset ${offset}`, false);
      }
    } else if (offset > 0) {
      this.deps.logger.info({ sha256, offset }, 'server ignored the range; downloading the whole file again');
      offset = 0;
    }
    const length = Number(res.headers.get('content-length'));
    if (expectedBytes === undefined && Number.isFinite(length) && length > 0) await this.makeRoom(length);

    const hash = createHash('sha256');
    if (offset > 0) for await (const chunk of createReadStream(part, { end: offset - 1 })) hash.update(chunk as Buffer);
    let bytes = offset;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), tap, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w', mode: 0o644 }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') {
        // Make room for the rest (the part stays, so the next attempt resumes after the eviction).
        const needed = Number.isFinite(length) && length > 0 ? length : bytes;
        await this.evict(0, this.bytes - needed);
        throw new DownloadError(`disk full while downloading ${url} (${bytes} bytes so far)`, false);
      }
      // The part stays: the next attempt resumes from its end.
      throw new DownloadError(`download of ${url} broke off after ${bytes} bytes: ${(err as Error).message}`, false);
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await unlink(part).catch(() => undefined);
      throw new HashMismatchError(`hash mismatch: expected ${sha256}, got ${actual} (${bytes} bytes from ${url})`);
    }
    return this.commit(sha256, part, file, bytes);
  }

  /** Flushes the verified part to storage, renames it to its real name, flushes the folder. */
  private async commit(sha256: string, part: string, file: string, bytes: number): Promise<string> {
    const fh = await open(part, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(part, file);
    await fsyncDir(this.deps.dir);
    this.entries.set(sha256, { bytes, lastUsed: Date.now() });
    await this.evict(0);
    return file;
  }

  /** Frees space for `incoming` more bytes: within the cap, and on the disk. Refuses when it cannot. */
  private async makeRoom(incoming: number): Promise<void> {
    await this.evict(incoming);
    const free = await this.deps.freeBytes?.().catch(() => null);
    if (free === null || free === undefined) return;
    const reserve = this.deps.reserveBytes ?? 32 * 1024 ** 2;
    if (free - incoming >= reserve) return;
    await this.evict(0, this.bytes - (incoming + reserve - free));
    const after = await this.deps.freeBytes!().catch(() => null);
    if (after !== null && after - incoming < reserve) {
      throw new DownloadError(`disk full: ${incoming} bytes needed, ${after} free (${reserve} kept in reserve)`, false);
    }
  }

  private protectedHashes(): Set<string> {
    const set = new Set(this.pinned.keys());
    for (const sha of this.deps.protect?.() ?? []) set.add(sha);
    return set;
  }

  /**
   * Removes least recently used files that no upcoming item needs until the cache plus `incoming` fits
   * its cap (or `target` bytes, when lower).
   */
  private async evict(incoming: number, target = this.deps.maxBytes): Promise<void> {
    const limit = Math.min(this.deps.maxBytes, target) - incoming;
    let total = this.bytes;
    if (total <= limit) return;
    const keep = this.protectedHashes();
    const candidates = [...this.entries].filter(([sha]) => !keep.has(sha) && !this.inflight.has(sha)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sha, entry] of candidates) {
      if (total <= limit) break;
      await unlink(this.pathOf(sha)).catch(() => undefined);
      this.entries.delete(sha);
      total -= entry.bytes;
      this.deps.logger.info({ sha256: sha, bytes: entry.bytes }, 'evicted from the audio cache');
    }
    if (total > limit && Number.isFinite(limit)) this.deps.logger.warn({ bytes: total, limit }, 'audio cache over its cap: the rest is needed by upcoming items');
  }
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

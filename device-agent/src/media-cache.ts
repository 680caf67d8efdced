/**
 * Content-addressed audio cache: `cacheDir/<sha256>.ogg`. A file enters the cache only after its SHA-256
 * matched (written to a temp file, hashed while streaming, then renamed: a crash never leaves a
 * half-written file under a real name). Files are evicted least-recently-used beyond a size cap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, SHA256_PATTERN } from '@loaxa/shared';
import type { Logger } from 'pino';

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
const TEMP_PREFIX = '.tmp-';

export class MediaCache {
  private readonly entries = new Map<string, Entry>();
  /** One download per hash at a time, shared by every item that needs it. */
  private readonly inflight = new Map<string, Promise<string>>();
  /** Hashes an active item still needs; never evicted. */
  private readonly pinned = new Map<string, number>();

  constructor(
    private readonly deps: {
      dir: string;
      maxBytes: number;
      authorization: string;
      fetch: FetchLike;
      logger: Logger;
      downloadTimeoutMs: number;
    },
  ) {}

  /** Creates the folder, forgets leftover temp files and indexes what is there. */
  async open(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true });
    for (const name of await readdir(this.deps.dir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await unlink(join(this.deps.dir, name)).catch(() => undefined);
        continue;
      }
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const st = await stat(join(this.deps.dir, name)).catch(() => null);
      if (st?.isFile()) this.entries.set(m[1]!, { bytes: st.size, lastUsed: st.mtimeMs });
    }
  }

  get bytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.bytes;
    return sum;
  }

  get items(): number {
    return this.entries.size;
  }

  pathOf(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.deps.dir, `${sha256}.ogg`);
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
  fetchOnce(sha256: string, url: string): Promise<string> {
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.download(sha256, url).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, p);
    }
    return p;
  }

  private async download(sha256: string, url: string): Promise<string> {
    const file = this.pathOf(sha256);
    const temp = join(this.deps.dir, `${TEMP_PREFIX}${sha256}-${randomBytes(4).toString('hex')}`);
    let res: Response;
    try {
      res = await this.deps.fetch(url, {
        headers: { authorization: this.deps.authorization },
        signal: AbortSignal.timeout(this.deps.downloadTimeoutMs),
      });
    } catch (err) {
      throw new DownloadError(`cannot fetch ${url}: ${(err as Error).message}`, false);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      // 408 and 429 are worth retrying; other 4xx answers will not change.
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw new DownloadError(`HTTP ${res.status} from ${url}`, permanent);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), tap, createWriteStream(temp, { mode: 0o644 }));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new DownloadError(`download of ${url} broke off: ${(err as Error).message}`, false);
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await unlink(temp).catch(() => undefined);
      throw new HashMismatchError(`hash mismatch: expected ${sha256}, got ${actual} (${bytes} bytes from ${url})`);
    }
    await rename(temp, file);
    this.entries.set(sha256, { bytes, lastUsed: Date.now() });
    await this.evict();
    return file;
  }

  /** Removes least recently used, unpinned files until the cache fits its cap. */
  private async evict(): Promise<void> {
    let total = this.bytes;
    if (total <= this.deps.maxBytes) return;
    const candidates = [...this.entries].filter(([sha]) => !this.pinned.has(sha)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sha, entry] of candidates) {
      if (total <= this.deps.maxBytes) break;
      await unlink(this.pathOf(sha)).catch(() => undefined);
      this.entries.delete(sha);
      total -= entry.bytes;
      this.deps.logger.info({ sha256: sha, bytes: entry.bytes }, 'evicted from the audio cache');
    }
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

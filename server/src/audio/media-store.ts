// Content-addressed store for rendered audio. A file's name is the SHA-256 of its bytes, which is what
// devices verify after fetching `/media/{sha256}`; so a name, once written, must never point at other or
// partial bytes. Writes go to a temp file in the same directory, are fsynced, then renamed into place
// (rename is atomic within one filesystem), so a crash leaves either no file or the whole file.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const MEDIA_EXTENSIONS = ['ogg', 'mp3'] as const;
export type MediaExt = (typeof MEDIA_EXTENSIONS)[number];

export interface StoredMedia {
  sha256: string;
  bytes: number;
  path: string;
}

export interface MediaStat extends StoredMedia {
  ext: MediaExt;
  mtimeMs: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_SUFFIX = '.tmp';
// Temp files left by a crash are removed at init once they are this old (a live write never takes this long).
const STALE_TEMP_MS = 60 * 60_000;

export function isSha256(value: string): boolean {
  return SHA256_HEX.test(value);
}

export class MediaStore {
  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.#removeStaleTemps();
  }

  async put(data: Buffer, ext: MediaExt): Promise<StoredMedia> {
    if (!(MEDIA_EXTENSIONS as readonly string[]).includes(ext)) throw new Error(`unsupported media extension "${ext}"`);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const shard = join(this.dir, sha256.slice(0, 2));
    const path = join(shard, `${sha256}.${ext}`);
    const result = { sha256, bytes: data.length, path };

    // Same bytes already stored: nothing to do. A size mismatch can only be damage; rewrite it.
    const existing = await stat(path).catch(() => null);
    if (existing?.isFile() && existing.size === data.length) return result;

    await mkdir(shard, { recursive: true });
    // Hidden and uniquely named: concurrent puts of the same bytes never share a temp file, and both
    // renames leave identical content under the final name.
    const temp = join(shard, `.${sha256}.${randomUUID()}${TEMP_SUFFIX}`);
    try {
      const fh = await open(temp, 'wx', 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    await fsyncDir(shard); // make the rename itself durable
    return result;
  }

  /** Where the file for this hash lives, or null if absent. Only a validated hash ever reaches the path. */
  path(sha256: string): string | null {
    if (!isSha256(sha256)) return null;
    for (const ext of MEDIA_EXTENSIONS) {
      const p = this.#pathFor(sha256, ext);
      if (existsSync(p)) return p;
    }
    return null;
  }

  async stat(sha256: string): Promise<MediaStat | null> {
    if (!isSha256(sha256)) return null;
    for (const ext of MEDIA_EXTENSIONS) {
      const p = this.#pathFor(sha256, ext);
      const s = await stat(p).catch(() => null);
      if (s?.isFile()) return { sha256, ext, bytes: s.size, path: p, mtimeMs: s.mtimeMs };
    }
    return null;
  }

  #pathFor(sha256: string, ext: MediaExt): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}.${ext}`);
  }

  async #removeStaleTemps(): Promise<void> {
    const now = Date.now();
    const shards = await readdir(this.dir, { withFileTypes: true });
    for (const shard of shards) {
      if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
      const shardDir = join(this.dir, shard.name);
      for (const name of await readdir(shardDir)) {
        if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) continue;
        const p = join(shardDir, name);
        const s = await stat(p).catch(() => null);
        if (s && now - s.mtimeMs > STALE_TEMP_MS) await unlink(p).catch(() => {});
      }
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Not every platform/filesystem allows fsync on a directory; the data itself is already synced.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

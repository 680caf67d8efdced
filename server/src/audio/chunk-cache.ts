// On-disk cache of synthesized sentence chunks, so re-rendering an edited bulletin only synthesizes the
// sentences that changed (a cloud voice costs money and seconds per sentence; eSpeak costs CPU).
//
// Key: SHA-256 over (engine cacheKey, voice, speed, normalized chunk text); the file under that name holds
// the engine's PCM plus the name of the engine that made it (a header, then raw s16le). It is a cache:
// every read or write failure counts as a miss and is never an error for the render. A torn or foreign
// file is detected by its header and sample count, and removed. Least recently used entries (by file
// mtime, refreshed on every hit) are removed once the total passes maxBytes.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pcm } from './tts-engine.js';

export interface ChunkCacheOptions {
  /** Directory of its own (the cache deletes files in it). */
  dir: string;
  /** Size cap in bytes. Default 256 MiB: ~100 minutes of 22 kHz speech. */
  maxBytes?: number;
  /** Told about I/O failures, which otherwise only show up as misses. */
  onError?: (err: Error) => void;
  /** The clock use times are taken from (epoch ms, also written as the file's mtime); default Date.now. */
  now?: () => number;
}

export interface ChunkKey {
  /** The engine's cacheKey (or name when it has none). */
  engine: string;
  voice: string;
  speed: number;
  text: string;
}

const MAGIC = 'LXPC';
const VERSION = 1;
const FIXED_HEADER = 16; // magic(4) version(1) pad(1) nameLength(2) sampleRate(4) sampleCount(4)
const SUFFIX = '.pcm';

interface Entry {
  bytes: number;
  usedAt: number;
}

/** Whitespace squeezed and Unicode in NFC, so a retyped "Thông báo" with other code points still hits. */
export function normalizeChunkText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

export function chunkCacheKey(k: ChunkKey): string {
  const fields = [`v${VERSION}`, k.engine, k.voice, String(k.speed), normalizeChunkText(k.text)];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

export class PcmChunkCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #onError: ((err: Error) => void) | undefined;
  readonly #now: () => number;
  #index: Promise<Map<string, Entry>> | null = null;
  #total = 0;

  constructor(opts: ChunkCacheOptions) {
    this.#dir = opts.dir;
    this.#maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.#onError = opts.onError;
    this.#now = opts.now ?? Date.now;
  }

  /** Bytes currently held (after the directory has been scanned once). */
  get totalBytes(): number {
    return this.#total;
  }

  async get(key: ChunkKey): Promise<Pcm | null> {
    const id = chunkCacheKey(key);
    const index = await this.#loadIndex();
    if (!index.has(id)) return null;
    const path = this.#path(id);
    try {
      const pcm = decode(await readFile(path));
      if (!pcm) {
        await this.#remove(index, id);
        return null;
      }
      const now = this.#now();
      const entry = index.get(id);
      if (entry) entry.usedAt = now;
      utimes(path, new Date(now), new Date(now)).catch(() => {}); // LRU order survives a restart
      return pcm;
    } catch (err) {
      this.#report(err);
      index.delete(id);
      return null;
    }
  }

  async put(key: ChunkKey, pcm: Pcm): Promise<void> {
    const id = chunkCacheKey(key);
    try {
      const index = await this.#loadIndex();
      const data = encode(pcm);
      const path = this.#path(id);
      await mkdir(join(this.#dir, id.slice(0, 2)), { recursive: true });
      const temp = `${path}.${randomUUID()}.tmp`;
      await writeFile(temp, data);
      await rename(temp, path); // readers never see a half-written entry
      this.#total += data.length - (index.get(id)?.bytes ?? 0);
      index.set(id, { bytes: data.length, usedAt: this.#now() });
      await this.#evict(index, id);
    } catch (err) {
      this.#report(err);
    }
  }

  #path(id: string): string {
    return join(this.#dir, id.slice(0, 2), `${id}${SUFFIX}`);
  }

  #loadIndex(): Promise<Map<string, Entry>> {
    this.#index ??= this.#scan();
    return this.#index;
  }

  async #scan(): Promise<Map<string, Entry>> {
    const index = new Map<string, Entry>();
    await mkdir(this.#dir, { recursive: true }).catch((err: unknown) => this.#report(err));
    const entries = await readdir(this.#dir, { recursive: true }).catch(() => [] as string[]);
    for (const rel of entries) {
      const m = /([0-9a-f]{64})\.pcm$/.exec(rel);
      const full = join(this.#dir, rel);
      if (rel.endsWith('.tmp')) {
        await unlink(full).catch(() => {}); // left by a crash mid-write
        continue;
      }
      if (!m) continue;
      const s = await stat(full).catch(() => null);
      if (!s?.isFile()) continue;
      index.set(m[1]!, { bytes: s.size, usedAt: s.mtimeMs });
      this.#total += s.size;
    }
    return index;
  }

  async #evict(index: Map<string, Entry>, keep: string): Promise<void> {
    if (this.#total <= this.#maxBytes) return;
    // Down to 90 % of the cap, so a full cache does not delete one file on every put.
    const target = this.#maxBytes * 0.9;
    const oldest = [...index.entries()].filter(([id]) => id !== keep).sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [id] of oldest) {
      if (this.#total <= target) break;
      await this.#remove(index, id);
    }
  }

  async #remove(index: Map<string, Entry>, id: string): Promise<void> {
    const entry = index.get(id);
    index.delete(id);
    if (entry) this.#total -= entry.bytes;
    await unlink(this.#path(id)).catch(() => {});
  }

  #report(err: unknown): void {
    this.#onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}

function encode(pcm: Pcm): Buffer {
  const name = Buffer.from(pcm.engine ?? '', 'utf8');
  const header = Buffer.alloc(FIXED_HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt8(VERSION, 4);
  header.writeUInt16LE(name.length, 6);
  header.writeUInt32LE(pcm.sampleRate, 8);
  header.writeUInt32LE(pcm.samples.length, 12);
  const s = pcm.samples;
  return Buffer.concat([header, name, Buffer.from(s.buffer, s.byteOffset, s.byteLength)]);
}

function decode(buf: Buffer): Pcm | null {
  if (buf.length < FIXED_HEADER || buf.toString('latin1', 0, 4) !== MAGIC || buf.readUInt8(4) !== VERSION) return null;
  const nameLength = buf.readUInt16LE(6);
  const sampleRate = buf.readUInt32LE(8);
  const count = buf.readUInt32LE(12);
  const start = FIXED_HEADER + nameLength;
  if (sampleRate === 0 || buf.length !== start + 2 * count) return null;
  // Copy into a fresh, aligned buffer: Int16Array needs an even byte offset.
  const samples = new Int16Array(count);
  Buffer.from(samples.buffer).set(buf.subarray(start));
  const engine = buf.toString('utf8', FIXED_HEADER, start);
  return engine ? { samples, sampleRate, engine } : { samples, sampleRate };
}

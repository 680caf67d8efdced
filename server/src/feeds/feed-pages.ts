/**
 * Everything the commune's public routes answer (issue 22), built from the repository and kept in FeedCache:
 * a second request for the same feed or page reads neither SQLite nor the disk.
 */
import { createHash } from 'node:crypto';
import type { MediaStore } from '../audio/index.js';
import { CommuneUrls, noticesAtom, podcastXml, type FeedItem } from './documents.js';
import type { CachedAnswer } from './feed-cache.js';
import { FeedCache } from './feed-cache.js';
import type { FeedRepository, PublicBulletin } from './feed-repository.js';
import { EMBED_ITEMS, embedHtml, shareHtml } from './pages.js';
import { coverPng } from './cover-image.js';

/** How many bulletins a feed carries (the newest by first air time). */
export const FEED_ITEMS = 50;
/** The most a cached answer lives without an airing or a change (a late report, a renamed commune). */
export const FEED_CACHE_TTL_MS = 5 * 60_000;

export interface CoverImage {
  ext: 'png' | 'jpg';
  type: string;
  /** The preview picture and the podcast's square one (the same file when the province set one). */
  cover: Buffer;
  artwork: Buffer;
  /** Of the cover, when known (og:image:width/height). */
  width: number | null;
  height: number | null;
}

/** The province's picture, if it is a PNG or a JPEG; else the generated ones. */
export function coverImage(file: Buffer | null): CoverImage {
  if (file && file.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) {
    return { ext: 'png', type: 'image/png', cover: file, artwork: file, width: file.readUInt32BE(16), height: file.readUInt32BE(20) };
  }
  if (file && file[0] === 0xff && file[1] === 0xd8) return { ext: 'jpg', type: 'image/jpeg', cover: file, artwork: file, width: null, height: null };
  return { ext: 'png', type: 'image/png', cover: coverPng(1200, 630), artwork: coverPng(1400, 1400), width: 1200, height: 630 };
}

const staticAnswer = (type: string, body: Buffer, at: number): CachedAnswer => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  lastModified: Math.floor(at / 1000) * 1000,
});

/**
 * What a commune code and a bulletin id look like (server/src/ids.ts `newId`): anything else is a 404 at once,
 * with no lookup and nothing cached (review of issue 22: random paths were a cheap way to make the server work
 * and to push the real feeds out of the cache).
 */
const COMMUNE_CODE = /^\d{1,12}$/;
const BULLETIN_ID = /^[a-z]{1,8}-[0-9a-f]{16}$/;

export class FeedPages {
  readonly cache: FeedCache;
  readonly #startedAt: number;
  readonly #images: Map<string, CachedAnswer>;
  readonly #assets = new Map<Buffer, CachedAnswer>();

  constructor(
    private readonly deps: { repository: FeedRepository; media: Pick<MediaStore, 'stat'>; image: CoverImage; now?: () => number },
  ) {
    this.cache = new FeedCache({ ttlMs: FEED_CACHE_TTL_MS, maxEntries: 2000, ...(deps.now ? { now: deps.now } : {}) });
    this.#startedAt = deps.now?.() ?? Date.now();
    const { image } = deps;
    this.#images = new Map([
      [`anh-bia.${image.ext}`, staticAnswer(image.type, image.cover, this.#startedAt)],
      [`anh-podcast.${image.ext}`, staticAnswer(image.type, image.artwork, this.#startedAt)],
    ]);
  }

  /** A bulletin aired or changed: every page is built again on its next request. */
  invalidate(): void {
    this.cache.invalidate();
  }

  image(name: string): CachedAnswer | null {
    return this.#images.get(name.toLowerCase()) ?? null;
  }

  asset(type: string, body: Buffer): CachedAnswer {
    let a = this.#assets.get(body);
    if (!a) this.#assets.set(body, (a = staticAnswer(type, body, this.#startedAt)));
    return a;
  }

  #urls(base: string, code: string) {
    return new CommuneUrls(base, code, this.deps.image.ext);
  }

  /** The items with the size of their file; a bulletin whose file is gone is left out (it cannot be played). */
  async #withBytes(items: readonly PublicBulletin[]): Promise<FeedItem[]> {
    const out: FeedItem[] = [];
    for (const i of items) {
      const s = await this.deps.media.stat(i.audioSha256);
      if (s) out.push({ ...i, bytes: s.bytes });
    }
    return out;
  }

  /** The commune and its newest aired public bulletins; null for an unknown commune. */
  async #latest(code: string, limit: number) {
    const commune = this.deps.repository.commune(code);
    if (!commune) return null;
    return { commune, items: await this.#withBytes(this.deps.repository.aired(commune.code, limit)) };
  }

  podcast(base: string, code: string) {
    if (!COMMUNE_CODE.test(code)) return Promise.resolve(null);
    return this.cache.get(`rss ${base} ${code}`, true, async () => {
      const l = await this.#latest(code, FEED_ITEMS);
      return l && { type: 'application/rss+xml; charset=utf-8', body: podcastXml(l.commune, l.items, this.#urls(base, l.commune.code), this.#startedAt) };
    });
  }

  notices(base: string, code: string) {
    if (!COMMUNE_CODE.test(code)) return Promise.resolve(null);
    return this.cache.get(`atom ${base} ${code}`, true, async () => {
      const l = await this.#latest(code, FEED_ITEMS);
      return l && { type: 'application/atom+xml; charset=utf-8', body: noticesAtom(l.commune, l.items, this.#urls(base, l.commune.code), this.#startedAt) };
    });
  }

  embed(base: string, code: string) {
    if (!COMMUNE_CODE.test(code)) return Promise.resolve(null);
    return this.cache.get(`embed ${base} ${code}`, true, async () => {
      const l = await this.#latest(code, EMBED_ITEMS);
      return l && { type: 'text/html; charset=utf-8', body: embedHtml(l.commune, l.items, this.#urls(base, l.commune.code)) };
    });
  }

  /** One public bulletin aired in the commune, with its file's size; null otherwise (404, whatever the reason). */
  item(code: string, id: string): Promise<FeedItem | null> {
    if (!COMMUNE_CODE.test(code) || !BULLETIN_ID.test(id)) return Promise.resolve(null);
    // A miss is not kept: ids are many, and a bulletin looked up by id costs one indexed read (feed-repository.ts).
    return this.cache.value(`item ${code} ${id}`, false, async () => {
      const commune = this.deps.repository.commune(code);
      const one = commune ? this.deps.repository.airedOne(commune.code, id) : null;
      return one ? ((await this.#withBytes([one]))[0] ?? null) : null;
    });
  }

  share(base: string, code: string, id: string) {
    if (!COMMUNE_CODE.test(code) || !BULLETIN_ID.test(id)) return Promise.resolve(null);
    return this.cache.get(`share ${base} ${code} ${id}`, false, async () => {
      const commune = this.deps.repository.commune(code);
      const item = commune ? await this.item(commune.code, id) : null;
      if (!commune || !item) return null;
      const { image } = this.deps;
      return { type: 'text/html; charset=utf-8', body: shareHtml(commune, item, this.#urls(base, commune.code), { type: image.type, width: image.width, height: image.height }) };
    });
  }

  transcript(code: string, id: string) {
    if (!COMMUNE_CODE.test(code) || !BULLETIN_ID.test(id)) return Promise.resolve(null);
    return this.cache.get(`text ${code} ${id}`, false, async () => {
      const item = await this.item(code, id);
      return item?.text ? { type: 'text/plain; charset=utf-8', body: `${item.title}\n\n${item.text}\n` } : null;
    });
  }
}

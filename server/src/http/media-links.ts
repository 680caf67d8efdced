/**
 * Signed, expiring links to `/media/{sha256}` for browsers (issue 7, ARCHITECTURE.md § Audio path): boxes
 * fetch audio with their own credentials; a person's browser gets `/media/{sha256}?exp=…&u=…&sig=…` from the
 * API wherever it shows audio, and that link opens that one file, for that user, until `exp`. The session
 * cookie does not open media, so audio cannot be scraped with a logged-in browser and a copied link dies.
 *
 * sig = base64url(HMAC-SHA256(key, "loaxa-media-v1\n{sha256}\n{exp}\n{userId}")), compared in constant time.
 * The key is LOAXA_MEDIA_LINK_SECRET, or else 32 random bytes kept in `{dataDir}/media-link.key` (mode 0600)
 * so links survive restarts; deleting that file (or changing the secret) invalidates every link at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MEDIA_LINK_KEY_FILE = 'media-link.key';
const DOMAIN = 'loaxa-media-v1';
const SIG = /^[A-Za-z0-9_-]{43}$/;
const EXP = /^\d{1,12}$/;
const USER = /^[A-Za-z0-9_-]{1,64}$/;

export interface MediaLinkQuery {
  exp?: string | undefined;
  u?: string | undefined;
  sig?: string | undefined;
}

export type LinkCheck = { ok: true; userId: string } | { ok: false; reason: 'expired' | 'invalid' };

export interface SignedLink {
  url: string;
  /** Epoch ms. */
  expiresAt: number;
}

export class MediaLinks {
  /** Links are issued on a grid of this many seconds, so the same user gets the same URL for a while (browser cache). */
  readonly stepSeconds: number;

  constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {
    if (key.length < 32) throw new Error('the media link key must have at least 32 bytes');
    this.stepSeconds = Math.max(1, Math.floor(ttlSeconds / 10));
  }

  /**
   * A link valid for at least the TTL and at most TTL + a tenth of it: the expiry is rounded up to a grid,
   * so repeated API answers within a few minutes carry the same URL and the browser's cached copy serves.
   */
  sign(sha256: string, userId: string, now = Date.now()): SignedLink {
    const exp = Math.ceil((Math.floor(now / 1000) + this.ttlSeconds) / this.stepSeconds) * this.stepSeconds;
    const sig = this.#mac(sha256, exp, userId).toString('base64url');
    return { url: `/media/${sha256}?exp=${exp}&u=${encodeURIComponent(userId)}&sig=${sig}`, expiresAt: exp * 1000 };
  }

  /** Whether the query opens this file now. Malformed, tampered and foreign links are all just `invalid`. */
  verify(sha256: string, q: MediaLinkQuery, now = Date.now()): LinkCheck {
    const { exp, u, sig } = q;
    if (!exp || !u || !sig || !EXP.test(exp) || !USER.test(u) || !SIG.test(sig)) return { ok: false, reason: 'invalid' };
    const expected = this.#mac(sha256, Number(exp), u);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    // Checked after the signature, so an expiry is only reported for a link we did issue.
    if (Number(exp) * 1000 <= now) return { ok: false, reason: 'expired' };
    return { ok: true, userId: u };
  }

  #mac(sha256: string, exp: number, userId: string): Buffer {
    return createHmac('sha256', this.key).update(`${DOMAIN}\n${sha256}\n${exp}\n${userId}`).digest();
  }
}

/**
 * The key: the configured secret, or the one kept in the data dir (created on first start with mode 0600;
 * a file found readable by others is narrowed back to 0600).
 */
export async function loadMediaLinkKey(secret: string | undefined, dataDir: string): Promise<Buffer> {
  if (secret) return Buffer.from(secret, 'utf8');
  const file = join(dataDir, MEDIA_LINK_KEY_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      try {
        const key = randomBytes(32);
        await fh.writeFile(`${key.toString('base64url')}\n`);
        await fh.sync();
        return key;
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = (await readFile(file, 'utf8')).trim();
    // Another process may be between creating and writing it: read again once.
    if (!text && attempt === 0) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const key = Buffer.from(text, 'base64url');
    if (key.length < 32) throw new Error(`${file} does not hold a media link key (32 bytes, base64url); delete it to make a new one`);
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return key;
  }
  throw new Error(`${file} is empty; delete it to make a new media link key`);
}

export async function openMediaLinks(opts: { secret: string | undefined; dataDir: string; ttlSeconds: number }): Promise<MediaLinks> {
  return new MediaLinks(await loadMediaLinkKey(opts.secret, opts.dataDir), opts.ttlSeconds);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Signs browser links to `/media/{sha256}` (set by wiring/http.ts). */
    mediaLinks: MediaLinks;
  }
}

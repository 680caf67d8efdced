/**
 * `/media/{sha256}`: immutable audio by content hash, with Range requests so a box on a weak 4G link can
 * resume a download.
 *
 * Who may fetch (SECURITY.md § Audio scraping):
 * - a box, with its own MQTT credentials as HTTP Basic — checked on every request against its stored secret
 *   and revocation (remembered per box and forgotten by the `DeviceRepository` method that changes them:
 *   `DeviceCredentialCache` in auth/device-credentials.ts, shared with the broker's authentication), so a
 *   revoked box is refused from its next request on;
 * - a browser, with a signed expiring link the API handed out (`?exp=…&u=…&sig=…`, `http/media-links.ts`):
 *   it opens that one file, until it expires, while its user may still sign in; expired or forged → 403;
 * - an API client, with its bearer token in the Authorization header.
 * The session cookie alone opens nothing here: a logged-in browser cannot be used to walk the media store, and
 * a link copied out of the page stops working within the hour.
 *
 * Fast path (issue 8, benchmark 4: 2,000 boxes fetching a new 5-minute bulletin at once): the files boxes
 * fetch are few and immutable, so the hottest ones (up to HOT_BYTES in all, each up to HOT_FILE_BYTES) are
 * read once, checked against their hash, and answered from that one shared Buffer — a single socket write
 * per response, no per-request stat, open or read. Concurrent first requests share one load. Larger files
 * stream from disk in 1 MiB reads. ETag is the hash; If-None-Match answers 304, If-Range is honoured.
 * Past one process, nginx serves the bytes from its cache and asks this route only who may have them
 * (`X-Loaxa-Auth-Only` → 204): deploy/nginx/loaxa-media.conf.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '@loaxa/shared';
import { secretMatches } from '../auth/passwords.js';
import { resolvePrincipal } from '../http/auth.js';
import { ApiError, errorBodySchema, notFound, sendError } from '../http/errors.js';
import type { MediaExt, MediaStore } from '../audio/index.js';
import type { AppContext } from '../services/context.js';
import type { DeviceCredentialCache } from '../auth/device-credentials.js';
import { access } from '../http/access.js';

const CONTENT_TYPES: Record<MediaExt, string> = { ogg: 'audio/ogg', mp3: 'audio/mpeg' };
/** Memory for hot files: a few current bulletins (a 5-minute bulletin is 1.2 MB of Opus, 1.8 MB of MP3). */
export const HOT_BYTES = 64 * 1024 * 1024;
/** Larger files (long recordings) stream from disk instead. */
export const HOT_FILE_BYTES = 16 * 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

interface MediaEntry {
  sha256: string;
  ext: MediaExt;
  bytes: number;
  path: string;
  /** The whole file when it is hot; null for files streamed from disk. */
  body: Buffer | null;
  /** Its bytes do not match its name: streamed as stored (boxes check the hash and report it), never kept. */
  damaged?: true;
}

/**
 * What `/media` knows about stored files, kept in memory: content by hash never changes, so neither does an
 * entry. Least recently used entries leave first; absent files are not remembered (they may be stored later).
 */
export class MediaCache {
  readonly #entries = new Map<string, MediaEntry>();
  readonly #loading = new Map<string, Promise<MediaEntry | null>>();
  #held = 0;

  constructor(
    private readonly store: MediaStore,
    private readonly maxBytes = HOT_BYTES,
    private readonly maxFileBytes = HOT_FILE_BYTES,
    private readonly maxEntries = 10_000,
  ) {}

  get heldBytes(): number {
    return this.#held;
  }

  get(sha256: string): MediaEntry | Promise<MediaEntry | null> {
    const hit = this.#entries.get(sha256);
    if (hit) {
      this.#entries.delete(sha256);
      this.#entries.set(sha256, hit);
      return hit;
    }
    let loading = this.#loading.get(sha256);
    if (!loading) {
      loading = this.#load(sha256).finally(() => this.#loading.delete(sha256));
      this.#loading.set(sha256, loading);
    }
    return loading;
  }

  async #load(sha256: string): Promise<MediaEntry | null> {
    const stat = await this.store.stat(sha256);
    if (!stat) return null;
    let body: Buffer | null = null;
    if (stat.bytes <= this.maxFileBytes && stat.bytes <= this.maxBytes) {
      body = await readFile(stat.path);
      // Kept in memory for thousands of boxes: make sure it is what its name says, once. A damaged file is not
      // kept (a repaired one is picked up at once) and goes out as stored: the boxes' own check refuses it and
      // their reports say so, where operators see it.
      if (createHash('sha256').update(body).digest('hex') !== sha256) return { sha256, ext: stat.ext, bytes: stat.bytes, path: stat.path, body: null, damaged: true };
    }
    const entry: MediaEntry = { sha256, ext: stat.ext, bytes: body ? body.length : stat.bytes, path: stat.path, body };
    this.#entries.set(sha256, entry);
    this.#held += body?.length ?? 0;
    for (const [key, e] of this.#entries) {
      if (this.#held <= this.maxBytes && this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(key);
      this.#held -= e.body?.length ?? 0;
    }
    return entry;
  }
}

/** Parses a single `bytes=` range [RFC 9110 §14.1.2]; null means "serve whole", 'invalid' means 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

/** The user part of HTTP Basic credentials (a device id), for the log. */
const basicUser = (header: string) => Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0]!.slice(0, 64);

/** The box named by HTTP Basic credentials, if they are its current ones and it is not revoked. */
function deviceFromBasic(header: string, credentials: DeviceCredentialCache): string | null {
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  const id = decoded.slice(0, colon);
  const creds = credentials.get(id);
  return creds && !creds.revoked && secretMatches(decoded.slice(colon + 1), creds.secretHash) ? id : null;
}

/** Device Basic credentials or a bearer token, from the Authorization header only (never the cookie). */
function authorizedByHeader(request: FastifyRequest, deps: Pick<AppContext, 'sessions' | 'users'>, credentials: DeviceCredentialCache): boolean {
  const h = request.headers.authorization;
  if (!h) return false;
  if (h.startsWith('Basic ')) return deviceFromBasic(h, credentials) !== null;
  if (h.startsWith('Bearer ')) return resolvePrincipal(request, deps.sessions, deps.users) !== null;
  return false;
}

/** `If-None-Match` / `If-Range` against our one strong ETag. */
const etagMatches = (header: string, etag: string) => header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);

const linkParam = z.string().optional();

/** What these routes use, and all they are given (wiring/http.ts). */
export type MediaRouteDeps = Pick<AppContext, 'media' | 'deviceCredentials' | 'sessions' | 'users'>;

export const mediaRoutes: FastifyPluginAsyncZod<MediaRouteDeps> = async (app, deps) => {
  const cache = new MediaCache(deps.media);
  const credentials = deps.deviceCredentials;

  app.get(
    '/media/:sha256',
    {
      config: { access: access.self('a box’s own credentials, a bearer token or a signed link (checked in the handler)') },
      // No "incoming request" / "request completed" lines per download: a bulletin going out to 2,000 boxes
      // would write 4,000 of them, synchronously (10–15 % of the server's CPU in bench/media.ts), saying
      // nothing the boxes' delivery reports do not. Refusals and failures are still logged, at warn.
      logLevel: 'warn',
      schema: {
        tags: ['media'],
        summary: 'Audio by SHA-256 (immutable; Range, ETag): boxes with HTTP Basic (their MQTT credentials), browsers with a signed expiring link, API clients with their bearer token',
        description:
          'Boxes send their MQTT username and password as HTTP Basic. Browsers use the `signedUrl` / `mp3SignedUrl` the API returns with audio (`?exp=&u=&sig=`): it opens that one file until `exp` (Unix seconds) — 403 when expired or altered. The session cookie alone is not accepted.',
        params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256') }),
        querystring: z.object({
          exp: linkParam.describe('signed link: expiry, Unix seconds'),
          u: linkParam.describe('signed link: the user it was issued to'),
          sig: linkParam.describe('signed link: HMAC-SHA256, base64url'),
        }),
        security: [{ deviceBasic: [] }, { mediaLink: [] }, { bearer: [] }],
        response: {
          200: z.any().describe('the whole file (`audio/ogg` or `audio/mpeg`)'),
          204: z.any().describe('with `X-Loaxa-Auth-Only`: the caller may fetch this file (for nginx `auth_request`, deploy/nginx/loaxa-media.conf)'),
          206: z.any().describe('the requested byte range'),
          304: z.any().describe('not modified (If-None-Match)'),
          401: errorBodySchema,
          403: errorBodySchema,
          404: errorBodySchema,
          416: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const q = request.query;
      if (q.sig !== undefined || q.exp !== undefined || q.u !== undefined) {
        const check = app.mediaLinks.verify(sha256, q);
        if (!check.ok) {
          request.log.warn({ sha256, userId: q.u?.slice(0, 64), reason: check.reason }, 'media link refused');
          throw new ApiError(403, ErrorCode.FORBIDDEN, check.reason === 'expired' ? 'this media link has expired; open the bulletin again for a fresh one' : 'this media link is not valid for this file');
        }
        const user = deps.users.byId(check.userId);
        if (!user || user.disabled) {
          request.log.warn({ sha256, userId: check.userId }, 'media link of a user who can no longer sign in');
          throw new ApiError(403, ErrorCode.FORBIDDEN, 'this media link was issued to a user who can no longer sign in');
        }
      } else if (!authorizedByHeader(request, deps, credentials)) {
        const h = request.headers.authorization;
        if (h) request.log.warn({ sha256, scheme: h.split(' ')[0]!.slice(0, 16), ...(h.startsWith('Basic ') ? { deviceId: basicUser(h) } : {}) }, 'media credentials refused');
        reply.header('www-authenticate', 'Basic realm="loaxa-media"');
        throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'media needs device credentials (HTTP Basic), a signed link from the API, or a login token (Bearer); the session cookie alone does not open media');
      }
      // nginx in front of /media asks only this (auth_request) and serves the bytes from its own cache.
      if (request.headers['x-loaxa-auth-only'] !== undefined) return reply.status(204).send();

      const entry = await cache.get(sha256);
      if (!entry) throw notFound(`media ${sha256}`);
      if (entry.damaged) request.log.error({ sha256, path: entry.path }, 'stored media does not match its hash; render or upload the bulletin again');

      const etag = `"${sha256}"`;
      reply.header('content-type', CONTENT_TYPES[entry.ext]).header('accept-ranges', 'bytes').header('etag', etag).header('cache-control', CACHE_CONTROL);
      const inm = request.headers['if-none-match'];
      if (inm && etagMatches(inm, etag)) return reply.status(304).send();
      const ifRange = request.headers['if-range'] as string | undefined;
      const range = ifRange && !etagMatches(ifRange, etag) ? null : parseRange(request.headers.range, entry.bytes);
      if (range === 'invalid') {
        reply.header('content-range', `bytes */${entry.bytes}`);
        return sendError(reply, 416, ErrorCode.BAD_REQUEST, `range not satisfiable; the file has ${entry.bytes} bytes`);
      }
      if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${entry.bytes}`);
      const start = range?.start ?? 0;
      const end = range?.end ?? entry.bytes - 1;
      reply.header('content-length', end - start + 1);
      if (entry.body) return reply.send(range ? entry.body.subarray(start, end + 1) : entry.body);
      return reply.send(createReadStream(entry.path, { start, end, highWaterMark: STREAM_CHUNK }));
    },
  );
};

/**
 * The web app under `/`: the files Vite built into `web/dist`. Hashed files under `/assets/` never change,
 * so browsers keep them for a year (`immutable`); `index.html` names the current hashes, so it is revalidated
 * on every load (`no-cache` + ETag). Any other path that is not the API, media, health or OpenAPI is a page of
 * the app (client-side routing), answered with `index.html`. Pre-compressed `.br` / `.gz` twins written by the
 * build are sent to browsers that accept them. Without a build, `/` explains how to make one.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@loaxa/shared';
import { sendError } from '../http/errors.js';
import type { Config } from '../config.js';
import { access } from '../http/access.js';

export const WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths that belong to the server, never to the app: unknown ones answer the API's JSON 404. */
const SERVER_PREFIXES = ['/api', '/media', '/healthz', '/openapi.json'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Files at fixed names that must not be kept stale (issue 20, the installed app): the service worker (a browser
 * checks it for updates, but an hour-old copy in the HTTP cache would be what it finds), the manifest, and the
 * offline page the worker caches at install. Revalidated on every load with their ETag, like index.html.
 */
const REVALIDATE = new Set(['sw.js', 'manifest.webmanifest', 'offline.html']);

const NO_BUILD_PAGE = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Loa Xã — chưa có giao diện web</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>Loa Xã</h1>
<p>Giao diện web chưa được dựng. Chạy <code>npm run build -w web</code> (hoặc <code>npm ci</code>, vốn dựng nó) rồi tải lại trang.</p>
<p lang="en">The web app has not been built. Run <code>npm run build -w web</code> in the repository, then reload.
The API is at <a href="/openapi.json">/openapi.json</a>; health at <a href="/healthz">/healthz</a>.</p>
</body></html>
`;

export function isServerPath(path: string): boolean {
  return SERVER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`));
}

/** A path as the router reads it: percent-decoded, slashes collapsed, lower case. */
function canonicalPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // malformed escapes: judge the path as sent
  }
  return decoded.replace(/\/{2,}/g, '/').toLowerCase();
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The optional map tile template (`{z}/{x}/{y}`), when the configuration carries one. */
function tileUrlOf(config: Config): string | null {
  const v = config.mapTileUrl;
  return typeof v === 'string' && /^https?:\/\//.test(v) ? v : null;
}

function contentSecurityPolicy(tileUrl: string | null): string {
  const tiles = tileUrl ? ` ${new URL(tileUrl.replace(/[{}]/g, '')).origin}` : '';
  return [
    "default-src 'self'",
    `img-src 'self' data: blob:${tiles}`,
    "media-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

/** What these routes use (the map tile setting), and where the built web app is. */
export interface WebRouteOptions {
  config: Config;
  distDir?: string;
}

export const webRoutes: FastifyPluginAsyncZod<WebRouteOptions> = async (app, { config, distDir = WEB_DIST_DIR }) => {
  const root = normalize(distDir.endsWith(sep) ? distDir : distDir + sep);
  const tileUrl = tileUrlOf(config);
  const csp = contentSecurityPolicy(tileUrl);

  /** index.html with the tile URL filled in; re-read when the build changes it (mtime). */
  let indexCache: { mtimeMs: number; size: number; body: string; etag: string } | null = null;
  async function indexHtml(): Promise<typeof indexCache> {
    const file = join(root, 'index.html');
    const s = await stat(file).catch(() => null);
    if (!s?.isFile()) return null;
    if (indexCache && indexCache.mtimeMs === s.mtimeMs && indexCache.size === s.size) return indexCache;
    const raw = await readFile(file, 'utf8');
    const body = raw.replace(/<meta name="loaxa-map-tiles" content="[^"]*"\s*\/?>/, `<meta name="loaxa-map-tiles" content="${escapeAttr(tileUrl ?? '')}" />`);
    indexCache = { mtimeMs: s.mtimeMs, size: s.size, body, etag: `"i-${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"` };
    return indexCache;
  }

  async function sendIndex(request: FastifyRequest, reply: FastifyReply) {
    const index = await indexHtml();
    if (!index) return reply.status(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NO_BUILD_PAGE);
    reply
      .header('cache-control', 'no-cache')
      .header('etag', index.etag)
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .type('text/html; charset=utf-8');
    if (request.headers['if-none-match'] === index.etag) return reply.status(304).send();
    return reply.send(index.body);
  }

  /**
   * Sends the built file at this path and answers true, or answers false when there is none. A boolean, not
   * the reply: a FastifyReply is thenable, so an async function returning it resolves to what its `then`
   * gives (undefined), and the caller fell through to a second send — "Reply was already sent" on every file.
   */
  async function sendFile(request: FastifyRequest, reply: FastifyReply, path: string): Promise<boolean> {
    let rel: string;
    try {
      rel = decodeURIComponent(path).replace(/^\/+/, '');
    } catch {
      return false;
    }
    if (!rel || rel.includes('\0')) return false;
    const file = normalize(join(root, rel));
    if (!file.startsWith(root)) return false;
    const s = await stat(file).catch(() => null);
    if (!s?.isFile()) return false;
    if (rel === 'index.html') {
      await sendIndex(request, reply);
      return true;
    }

    const immutable = rel.startsWith('assets/');
    const etag = `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
    reply
      .header('content-type', CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('cache-control', immutable ? IMMUTABLE : REVALIDATE.has(rel) ? 'no-cache' : 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .header('etag', etag)
      .header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === etag) {
      void reply.status(304).send();
      return true;
    }

    const accepts = String(request.headers['accept-encoding'] ?? '');
    for (const [enc, suffix] of [['br', '.br'], ['gzip', '.gz']] as const) {
      if (!new RegExp(`\\b${enc}\\b`).test(accepts)) continue;
      const z = await stat(file + suffix).catch(() => null);
      if (z?.isFile()) {
        reply.header('content-encoding', enc).header('content-length', z.size);
        void reply.send(createReadStream(file + suffix));
        return true;
      }
    }
    reply.header('content-length', s.size);
    void reply.send(createReadStream(file));
    return true;
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    // The router matches API paths in any case, with doubled slashes and percent-encoding (app.ts): an
    // unknown API path spelled that way is still the API's 404, not the web app's page.
    if (isServerPath(canonicalPath(path))) return sendError(reply, 404, ErrorCode.NOT_FOUND, `no route ${request.method} ${path}`);
    if (await sendFile(request, reply, path)) return reply;
    // A missing hashed file is a stale page asking for an old build: 404, not the app's HTML under a JS name.
    if (path.startsWith('/assets/') || /\.(js|css|map|png|svg|ico|woff2?)$/i.test(path)) return sendError(reply, 404, ErrorCode.NOT_FOUND, `no file ${path}`);
    return sendIndex(request, reply);
  };

  const opts = { config: { access: access.public('the web app’s files; it logs in through the API') }, schema: { hide: true } };
  app.get('/', opts, handler);
  app.get('/*', opts, handler);
};

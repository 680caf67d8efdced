/**
 * Authentication for `/api/v1`: one hook resolves the caller from a bearer token (or the session cookie
 * the web app may use) before any handler runs, so no route can forget it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '@loaxa/shared';
import { ApiError } from './errors.js';
import { secretMatches, sha256Hex } from '../auth/passwords.js';
import type { Principal } from '../auth/scope.js';
import type { SessionRepository } from '../repos/sessions.js';
import type { UserRepository } from '../repos/users.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The caller sent the scrape token (LOAXA_METRICS_TOKEN) to a route that takes it (http/access.ts). */
    scraper: boolean;
  }
}

export const SESSION_COOKIE = 'loaxa_session';

export function issueToken(sessions: SessionRepository, userId: string, ttlSeconds: number, now = Date.now()): { token: string; expiresAt: number } {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + ttlSeconds * 1000;
  sessions.insert({ tokenHash: sha256Hex(token), userId, createdAt: now, expiresAt });
  return { token, expiresAt };
}

export function tokenFrom(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (h) {
    const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(h);
    return m ? m[1]! : null;
  }
  const cookie = request.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === SESSION_COOKIE && v && /^[A-Za-z0-9_-]{20,200}$/.test(v)) return v;
    }
  }
  return null;
}

export function resolvePrincipal(request: FastifyRequest, sessions: SessionRepository, users: UserRepository, now = Date.now()): Principal | null {
  const token = tokenFrom(request);
  if (!token) return null;
  const session = sessions.get(sha256Hex(token));
  if (!session || session.revokedAt !== null || session.expiresAt <= now) return null;
  const user = users.byId(session.userId);
  if (!user || user.disabled || user.system) return null;
  return { id: user.id, username: user.username, role: user.role, areaCode: user.areaCode, authenticatedAt: session.createdAt, via: request.headers.authorization ? 'bearer' : 'cookie' };
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF: a browser sends the session cookie with any cross-site form post, so a write authenticated by the
 * cookie must come from this site: its Origin (or, failing that, Referer) must name the host it was sent to.
 * SameSite=Strict already stops most of this; the check covers older browsers and same-site subdomains.
 */
export function crossSiteWrite(request: FastifyRequest): boolean {
  if (!UNSAFE.has(request.method)) return false;
  const source = request.headers.origin ?? request.headers.referer;
  if (!source) return true;
  try {
    return new URL(source).host !== request.host;
  } catch {
    return true;
  }
}

/** A bearer token of the scrape token's alphabet and length (config.ts LOAXA_METRICS_TOKEN). */
const SCRAPE_BEARER = /^Bearer ([A-Za-z0-9_-]{32,200})$/;

export function installApiAuth(app: FastifyInstance, sessions: SessionRepository, users: UserRepository, opts: { metricsToken?: string | undefined } = {}): void {
  // Only its hash is kept: compared as hashes, the comparison takes the same time whatever the length sent.
  const scrapeHash = opts.metricsToken ? sha256Hex(opts.metricsToken) : null;
  app.decorateRequest('principal', null);
  app.decorateRequest('scraper', false);
  app.addHook('onRequest', async (request) => {
    // Only routes declared for roles need a login (http/access.ts); public routes and routes that check
    // their own kind of credentials (media, broker) do not. The 404 handler has no declaration.
    // An undeclared route (none can be registered: http/access.ts) would still need a login.
    const kind = request.routeOptions.config?.access?.kind;
    if (request.is404 || kind === 'public' || kind === 'self') return;
    const a = request.routeOptions.config?.access;
    if (scrapeHash && a?.kind === 'roles' && a.scrapeToken) {
      const m = SCRAPE_BEARER.exec(request.headers.authorization ?? '');
      if (m && secretMatches(m[1]!, scrapeHash)) {
        request.scraper = true;
        return;
      }
    }
    const principal = resolvePrincipal(request, sessions, users);
    if (!principal) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'log in first: POST /api/v1/auth/login, then send Authorization: Bearer <token>');
    if (principal.via === 'cookie' && crossSiteWrite(request)) {
      throw new ApiError(403, ErrorCode.FORBIDDEN, 'cross-site request refused: writes with the session cookie must come from this site');
    }
    request.principal = principal;
  });
}

/** The caller of an authenticated route (the hook above guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'log in first');
  return request.principal;
}

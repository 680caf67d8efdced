import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorCode, loginBodySchema, loginResponseSchema, meSchema } from '@loaxa/shared';
import { sha256Hex, verifyPassword, type CheckSlots } from '../auth/passwords.js';
import { issueToken, principalOf, SESSION_COOKIE, tokenFrom } from '../http/auth.js';
import { canApprove, canWrite } from '../auth/scope.js';
import { ApiError, errorBodySchema } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import type { Attempt, LoginGuard } from '../auth/login-guard.js';
import { access, ANY_ROLE } from '../http/access.js';

// A fixed scrypt hash to verify against when the user does not exist, so response time does not reveal
// which usernames exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** What these routes use, and all they are given (wiring/http.ts). */
export interface AuthRouteDeps extends Pick<AppContext, 'config' | 'users' | 'sessions' | 'areas' | 'events'> {
  /** Wrong logins counted per account and address, before the password is checked (issue 13, finding 5). */
  loginGuard: LoginGuard;
  /** The slots every password check waits for: process-wide, since they share its cores (finding 5). */
  passwordChecks: CheckSlots;
}

export const authRoutes: FastifyPluginAsyncZod<AuthRouteDeps> = async (app, deps) => {
  const guard = deps.loginGuard;
  app.post(
    '/api/v1/auth/login',
    {
      config: { access: access.public('logging in') },
      schema: {
        tags: ['auth'],
        summary: 'Log in; answers a bearer token and sets an HttpOnly session cookie for the web app',
        body: loginBodySchema,
        response: { 200: loginResponseSchema, 401: errorBodySchema, 429: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const keys = [`user:${username.toLowerCase()}`, `ip:${request.ip}`];
      const locked = (wait: number) => {
        reply.header('retry-after', Math.ceil(wait / 1000));
        return new ApiError(429, ErrorCode.RATE_LIMITED, `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`);
      };
      // A locked key waits without queueing for a password check.
      const wait = guard.retryAfter(keys);
      if (wait > 0) throw locked(wait);
      // Password checks are bounded server-wide (issue 13, finding 5): a burst of logins is answered 503
      // rather than holding every core.
      const release = await deps.passwordChecks.acquire();
      if (!release) {
        reply.header('retry-after', 1);
        throw new ApiError(503, ErrorCode.UNAVAILABLE, 'too many logins at once; try again in 1 s');
      }
      let ok: boolean;
      let user: ReturnType<typeof deps.users.byUsername>;
      let attempt: Attempt;
      try {
        user = deps.users.byUsername(username);
        // Counted before the hash, in the same synchronous step as the lock check (finding 5): logins
        // sent at once cannot all pass a lock that none of them has counted yet.
        attempt = guard.attempt(keys);
        if (attempt.wait > 0) throw locked(attempt.wait);
        ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      } finally {
        release();
      }
      // A system actor (a parent peer's national:<name>) never logs in, whatever its password (issue 17 review).
      if (!user || !ok || user.disabled || user.system) {
        request.log.warn({ username, ip: request.ip }, 'login failed');
        throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'wrong username or password');
      }
      // The account is forgiven; the address gets only this attempt back (LoginGuard.succeeded).
      guard.succeeded(keys, attempt);
      const { token, expiresAt } = issueToken(deps.sessions, user.id, deps.config.tokenTtlSeconds);
      // Expired sessions are useless; dropping them here keeps the table as small as the logins in use.
      deps.sessions.purgeExpired();
      request.log.info({ userId: user.id }, 'login');
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${deps.config.tokenTtlSeconds}${request.protocol === 'https' ? '; Secure' : ''}`,
      );
      return { token, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: access.roles(ANY_ROLE, { scope: 'the caller’s own session' }) }, schema: { tags: ['auth'], summary: 'End this session (the token or cookie stops working at once)', response: { 204: z.null() } } },
    async (request, reply) => {
      const token = tokenFrom(request);
      if (token) deps.sessions.revoke(sha256Hex(token));
      deps.events.emit('sessions', { userId: principalOf(request).id }); // its live event streams on this token end
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/me',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the caller' }) },
      schema: {
        tags: ['auth'],
        summary: 'Who is logged in, and what the UI may offer them',
        response: { 200: meSchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const area = user.areaCode ? deps.areas.get(user.areaCode) : null;
      return {
        id: user.id,
        username: user.username,
        role: user.role,
        areaCode: user.areaCode,
        area: area ? { code: area.code, name: area.name, type: area.type } : null,
        can: { write: canWrite(user), approve: canApprove(user), manageUsers: user.role === 'province-admin', importAreas: user.role === 'province-admin' && user.areaCode === null },
      };
    },
  );
};

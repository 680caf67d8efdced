import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorCode } from '@loaxa/shared';
import { verifyPassword } from '../auth/passwords.js';
import { issueToken, SESSION_COOKIE } from '../http/auth.js';
import { ApiError, errorBodySchema } from '../http/errors.js';
import type { AppContext } from '../services/context.js';

// A fixed scrypt hash to verify against when the user does not exist, so response time does not reveal
// which usernames exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export const authRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in; answers a bearer token and sets an HttpOnly session cookie for the web app',
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.string() }), 401: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = ctx.users.byUsername(username);
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok || user.disabled) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'wrong username or password');
      const { token, expiresAt } = issueToken(ctx.sessions, user.id, ctx.config.tokenTtlSeconds);
      request.log.info({ userId: user.id }, 'login');
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${ctx.config.tokenTtlSeconds}${request.protocol === 'https' ? '; Secure' : ''}`,
      );
      return { token, expiresAt: new Date(expiresAt).toISOString() };
    },
  );
};

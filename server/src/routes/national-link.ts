/**
 * The upstream national link as the province admin sees it (issue 17): `GET /api/v1/national/link` — is it
 * configured, logged in, when the province last answered, the last failure (network, timeout, a garbage or
 * oversized answer, a refused login), how much waits and since when — and `GET /api/v1/national/outbox` — what
 * went up, what waits and what the province refused, with its answer. Installation-wide province admins only:
 * the link speaks for the whole installation.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { nationalLinkStatusSchema, nationalOutboxListSchema, nationalOutboxQuerySchema, type NationalLinkStatus } from '@loaxa/shared';
import { errorBodySchema } from '../http/errors.js';
import { access, ADMINS } from '../http/access.js';
import type { NationalLink } from '../national/link/link-service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface NationalLinkRouteDeps {
  /** Null when LOAXA_NATIONAL_URL is unset. */
  link: NationalLink | null;
  now: () => number;
}

export const nationalLinkRoutes: FastifyPluginAsyncZod<NationalLinkRouteDeps> = async (app, deps) => {
  const admin = access.roles(ADMINS, { scope: 'the installation’s one upstream link' }, { installationWide: true, why: 'see the link to the province' });

  app.get(
    '/api/v1/national/link',
    { config: { access: admin }, schema: { tags: ['national'], summary: 'The upstream link to the province: configured, logged in, last success and error, what waits', response: { 200: nationalLinkStatusSchema, 403: errorBodySchema } } },
    async (): Promise<NationalLinkStatus> => {
      if (!deps.link) {
        return { configured: false, upstreamUrl: null, mapping: null, sourceId: null, loggedIn: false, lastSuccessAt: null, lastError: null, lastErrorAt: null, nextAttemptAt: null, pending: 0, oldestPendingAt: null, oldestPendingAgeS: null, sent: 0, refused: 0 };
      }
      const s = deps.link.state();
      return {
        ...s,
        lastSuccessAt: iso(s.lastSuccessAt),
        lastErrorAt: iso(s.lastErrorAt),
        nextAttemptAt: iso(s.nextAttemptAt),
        oldestPendingAt: iso(s.oldestPendingAt),
        oldestPendingAgeS: s.oldestPendingAt === null ? null : Math.max(0, Math.round((deps.now() - s.oldestPendingAt) / 1000)),
      };
    },
  );

  app.get(
    '/api/v1/national/outbox',
    {
      config: { access: admin },
      schema: {
        tags: ['national'],
        summary: 'What goes up to the province, newest first: pending, sent, or refused with the province’s answer',
        querystring: nationalOutboxQuerySchema,
        response: { 200: nationalOutboxListSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      if (!deps.link) return { items: [] };
      const items = deps.link.list({ state: request.query.state, limit: request.query.limit, before: request.query.before });
      return {
        items: items.map((i) => ({
          seq: i.seq,
          kind: i.kind,
          state: i.state,
          event: i.event,
          createdAt: new Date(i.createdAt).toISOString(),
          attempts: i.attempts,
          nextAttemptAt: i.state === 'pending' ? iso(i.nextAttemptAt) : null,
          lastError: i.lastError,
          answer: i.answer,
          sentAt: iso(i.sentAt),
        })),
      };
    },
  );
};

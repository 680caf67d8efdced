import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { coverageQuerySchema, coverageSchema, coverageTrendQuerySchema, coverageTrendSchema } from '@loaxa/shared';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, errorBodySchema, notFound } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { access, ANY_ROLE } from '../http/access.js';

/** What these routes use, and all they are given (wiring/http.ts). */
export type CoverageRouteDeps = Pick<AppContext, 'areas' | 'coverage'>;

export const coverageRoutes: FastifyPluginAsyncZod<CoverageRouteDeps> = async (app, deps) => {
  /** The caller's area, or the only province of an installation-wide user's installation. */
  const defaultArea = (user: ReturnType<typeof principalOf>): string => {
    if (user.areaCode) return user.areaCode;
    const roots = deps.areas.tree();
    if (roots.length === 1) return roots[0]!.code;
    throw badRequest('name the area: ?area=<code>', [{ path: 'area', message: 'required when the installation has several provinces' }]);
  };
  const scoped = (user: ReturnType<typeof principalOf>, code: string) => {
    if (!deps.areas.get(code) || !coversArea(user, deps.areas.ancestry(code))) throw notFound(`area ${code}`);
    return code;
  };

  app.get(
    '/api/v1/coverage',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the asked area must lie inside the caller’s (404 otherwise)' }) },
      schema: {
        tags: ['coverage'],
        summary: 'Installed and working coverage of an area and each of its child areas, with the communes not covered and why',
        querystring: coverageQuerySchema,
        response: { 200: coverageSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const code = scoped(user, request.query.area ?? defaultArea(user));
      return deps.coverage.forArea(code)!;
    },
  );

  app.get(
    '/api/v1/coverage/trend',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the asked area must lie inside the caller’s (404 otherwise)' }) },
      schema: {
        tags: ['coverage'],
        summary: 'Measured coverage of a province over the last days, from the snapshots the server takes every few minutes',
        querystring: coverageTrendQuerySchema,
        response: { 200: coverageTrendSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      let code = scoped(user, request.query.area ?? defaultArea(user));
      // Snapshots are kept per province: a commune's trend is its province's.
      const province = deps.areas.ancestry(code).at(-1)!;
      code = province;
      const now = Date.now();
      return { area: code, items: deps.coverage.trend(code, now - request.query.days * 86_400_000, now + 1) };
    },
  );
};

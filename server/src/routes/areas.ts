import type { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { areaImportResponseSchema, areaImportSchema, areaTreeSchema, type AreaTreeNode } from '@loaxa/shared';
import type { Area } from '../repos/areas.js';
import { badRequest, errorBodySchema } from '../http/errors.js';
import { principalOf } from '../http/auth.js';
import type { AppContext } from '../services/context.js';
import { access, ADMINS, ANY_ROLE } from '../http/access.js';

/** The shape of the statistics office catalogue as packaged: the HTTP contract's (`@loaxa/shared`). */
export { areaImportSchema };

export function flattenImport(body: z.infer<typeof areaImportSchema>): Area[] {
  const out: Area[] = [];
  const seen = new Set<string>();
  const add = (a: Area, path: string) => {
    if (seen.has(a.code)) throw badRequest(`duplicate area code ${a.code}`, [{ path, message: `duplicate code ${a.code}` }]);
    seen.add(a.code);
    out.push(a);
  };
  const dates = (u: { validFrom?: string | undefined; validUntil?: string | undefined }) => ({ validFrom: u.validFrom ?? null, validUntil: u.validUntil ?? null });
  body.provinces.forEach((p, i) => {
    add({ code: p.code, parentCode: null, name: p.name, type: p.type, level: 'province', ...dates(p) }, `provinces.${i}.code`);
    p.communes.forEach((c, j) => {
      add({ code: c.code, parentCode: p.code, name: c.name, type: c.type, level: 'commune', ...dates(c) }, `provinces.${i}.communes.${j}.code`);
      c.villages?.forEach((v, k) =>
        add({ code: v.code, parentCode: c.code, name: v.name, type: v.type, level: 'village', ...dates(v) }, `provinces.${i}.communes.${j}.villages.${k}.code`),
      );
    });
  });
  return out;
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type AreaRouteDeps = Pick<AppContext, 'areas'>;

export const areaRoutes: FastifyPluginAsyncZod<AreaRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/areas/import',
    {
      config: { access: access.roles(ADMINS, { scope: 'the whole area list' }, { installationWide: true, why: 'import areas' }) },
      schema: {
        tags: ['areas'],
        summary: 'Import or update provinces, communes (and villages) with their official codes; all or nothing',
        body: areaImportSchema,
        response: { 200: areaImportResponseSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const areas = flattenImport(request.body);
      deps.areas.upsertMany(areas);
      const count = (level: string) => areas.filter((a) => a.level === level).length;
      request.log.info({ provinces: count('province'), communes: count('commune') }, 'areas imported');
      return { imported: { provinces: count('province'), communes: count('commune'), villages: count('village') } };
    },
  );

  app.get(
    '/api/v1/areas',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the caller’s subtree of the area tree' }) },
      schema: {
        tags: ['areas'],
        summary: 'The area tree visible to the caller (not paginated)',
        response: { 200: areaTreeSchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const tree = deps.areas.tree();
      if (user.areaCode === null) return { items: tree };
      const find = (nodes: AreaTreeNode[]): AreaTreeNode | null => {
        for (const n of nodes) {
          if (n.code === user.areaCode) return n;
          const hit = find(n.children);
          if (hit) return hit;
        }
        return null;
      };
      const mine = find(tree);
      return { items: mine ? [mine] : [] };
    },
  );
};

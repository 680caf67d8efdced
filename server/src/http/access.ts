/**
 * Who may call a route, declared in the route's own options and enforced by one hook from the route that
 * actually matched (`request.routeOptions`), never from `request.url` (issue 13: `POST /api/v1/%75sers`
 * passed a check that tested the raw URL, because the router decodes `%75` before matching).
 *
 * Every route declares `config.access`; `installAccess` makes registering a route without one an error,
 * so the server refuses to start rather than serve a route nobody decided about. The declaration says:
 * - `public`: anyone, with the reason (login, liveness, the web app's files);
 * - `self`: the route checks credentials of its own kind (a box's media credentials, the broker's token);
 * - `roles`: a logged-in user with one of these roles, plus how the route's target area is found:
 *   `object` (an object named by a path parameter, checked by `ObjectScope` — 404 when outside the
 *   caller's area, so ids of other communes cannot be probed), `area` (an area code in the body or query,
 *   403 when outside), `installationWide` (only users bound to no area), or `scope` naming where the
 *   handler scopes what it reads or writes to the caller's area (lists, broadcast targets).
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ErrorCode, type Role } from '@loaxa/shared';
import { coversArea, type Principal } from '../auth/scope.js';
import type { ObjectKind, ObjectScope } from '../auth/objects.js';
import type { AreaRepository } from '../repos/areas.js';
import { ApiError, forbidden, notFound } from './errors.js';

const tables = new WeakMap<object, RouteAccess[]>();

/** Every route registered on `app`, with who may call it (tests walk it). */
export function routeTableOf(app: FastifyInstance): readonly RouteAccess[] {
  return tables.get(app) ?? [];
}

/** How a role-guarded route finds the area it acts on. */
export type AreaRule =
  /** An object named by path parameter `param` must be visible to the caller (`ObjectScope`), else 404. */
  | { object: ObjectKind; param: string }
  /** An area code at `key` of the body or query, when given, must lie inside the caller's area, else 403. */
  | { area: { in: 'body' | 'query'; key: string } }
  /** The handler scopes by the caller's area itself; `how` names where (kept for the route table). */
  | { scope: string };

export type Access =
  | { kind: 'public'; why: string }
  | { kind: 'self'; why: string }
  | ({
      kind: 'roles';
      roles: readonly Role[];
      installationWide?: boolean;
      why?: string;
      /**
       * A monitoring system's scrape token (LOAXA_METRICS_TOKEN, checked by http/auth.ts) is accepted in place of a
       * login. Prometheus cannot log in and renew a session; the token reads counters and nothing else.
       */
      scrapeToken?: boolean;
    } & AreaRule);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (`http/access.ts`). Required on every route. */
    access?: Access;
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

/** The role lists of CONTRACTS.md § roles (writers: all but viewers; approvers; admins), shared with the web app. */
export { ANY_ROLE, WRITERS, APPROVERS, ADMINS } from '@loaxa/shared';

const ROLE_NAMES: Record<Role, string> = { 'province-admin': 'province admins', approver: 'approvers', operator: 'operators', viewer: 'viewers' };

export const access = {
  public: (why: string): Access => ({ kind: 'public', why }),
  self: (why: string): Access => ({ kind: 'self', why }),
  roles: (roles: readonly Role[], rule: AreaRule, extra: { installationWide?: boolean; why?: string; scrapeToken?: boolean } = {}): Access => ({ kind: 'roles', roles, ...rule, ...extra }),
};

/** The access declaration of a matched route (the 404 handler has none and needs none). */
function accessOf(request: FastifyRequest): Access | undefined {
  return request.routeOptions.config?.access;
}

/** Whether `user` passes the role part of a declaration. */
function roleAllows(a: Access, user: Principal): boolean {
  if (a.kind !== 'roles') return true;
  if (!a.roles.includes(user.role)) return false;
  return !a.installationWide || user.areaCode === null;
}

function refusal(a: Extract<Access, { kind: 'roles' }>): string {
  const who = a.roles.map((r) => ROLE_NAMES[r]).join(', ');
  return `only ${who}${a.installationWide ? ' bound to the whole installation' : ''} may ${a.why ?? 'do this'}`;
}

/**
 * Installs the declaration check on every route registered after it, and the hooks that enforce them.
 * Call before registering any route. The role check runs at `onRequest`, before the body is even read
 * (a viewer's upload is refused without storing a byte); the area check at `preHandler`, on the validated
 * body and parameters, and before the audit hook reads the object's state.
 */
export function installAccess(app: FastifyInstance, deps: { objects: ObjectScope; areas: AreaRepository }): void {
  const table: RouteAccess[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (route: RouteOptions) => {
    const a = (route.config)?.access;
    if (!a) throw new Error(`route ${String(route.method)} ${route.url} declares no config.access: say who may call it (server/src/http/access.ts)`);
    if (a.kind === 'roles' && a.roles.length === 0) throw new Error(`route ${String(route.method)} ${route.url} allows no role`);
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access: a });
    // The OpenAPI description says who may call each route (the declaration is the source of truth).
    if (route.schema && !route.schema.hide) route.schema = { ...route.schema, description: [route.schema.description, `Access: ${describeAccess(a)}`].filter(Boolean).join('\n\n') };
  });

  app.addHook('onRequest', async (request) => {
    const a = accessOf(request);
    if (!a) {
      if (request.is404) return;
      // Deny by default: a matched route without a declaration cannot be registered (onRoute above), but if
      // one were, nobody may call it.
      throw forbidden('this route declares no access; nobody may call it');
    }
    if (a.kind !== 'roles') return;
    // A scraper's token, already checked in constant time by the authentication hook, on a route that takes it.
    if (a.scrapeToken && request.scraper) return;
    // The authentication hook (http/auth.ts) ran first and set the principal for every non-public route.
    const user = request.principal;
    if (!user) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'log in first');
    if (!roleAllows(a, user)) throw forbidden(refusal(a));
  });

  app.addHook('preHandler', async (request) => {
    const a = accessOf(request);
    if (!a || a.kind !== 'roles') return;
    // A scrape token names no user and no area; the routes that take it read installation-wide counters only.
    if (a.scrapeToken && request.scraper) return;
    const user = request.principal!;
    if ('object' in a) {
      const id = (request.params as Record<string, unknown> | undefined)?.[a.param];
      if (typeof id !== 'string' || !deps.objects.visible(a.object, user, id)) throw notFound(`${a.object} ${String(id)}`);
    } else if ('area' in a) {
      const source = (a.area.in === 'body' ? request.body : request.query) as Record<string, unknown> | undefined;
      const code = source?.[a.area.key];
      // Absent: the handler uses the caller's own area. Unknown codes are the handler's 400 to give.
      if (typeof code === 'string' && deps.areas.get(code) && !coversArea(user, deps.areas.ancestry(code))) throw forbidden(`area ${code} is outside your area`);
    }
  });
}

/** How a declaration reads in the OpenAPI description of its route. */
function describeAccess(a: Access): string {
  if (a.kind !== 'roles') return `${a.kind}: ${a.why}`;
  const rule = 'object' in a ? `${a.object} :${a.param}` : 'area' in a ? `area in ${a.area.in}.${a.area.key}` : `scoped: ${a.scope}`;
  return `${a.roles.join('|')}${a.installationWide ? ' (installation-wide)' : ''}; ${rule}${a.scrapeToken ? '; or the scrape token (LOAXA_METRICS_TOKEN) as a bearer' : ''}`;
}

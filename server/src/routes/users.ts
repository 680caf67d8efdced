import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { idParamsSchema, userCreateBodySchema, userPatchBodySchema, userSchema } from '@loaxa/shared';
import { hashPassword } from '../auth/passwords.js';
import { principalOf } from '../http/auth.js';
import { access, ADMINS } from '../http/access.js';
import type { Principal } from '../auth/scope.js';
import { badRequest, conflict, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema, pageQuerySchema } from '../http/pagination.js';
import { newId } from '../ids.js';
import type { User } from '../repos/users.js';
import type { AppContext } from '../services/context.js';

const toApi = (u: User) => ({ id: u.id, username: u.username, role: u.role, areaCode: u.areaCode, disabled: u.disabled, createdAt: new Date(u.createdAt).toISOString() });

/**
 * CONTRACTS.md § users: province admins only (declared on each route; http/access.ts), and each only
 * inside its own area (issue 13, finding 2): it lists, creates and edits users bound to its area or below,
 * and only an installation-wide admin creates or edits installation-wide users (`areaCode: null`).
 */
/** What these routes use, and all they are given (wiring/http.ts). */
export type UserRouteDeps = Pick<AppContext, 'users' | 'sessions' | 'areas' | 'events' | 'objects'>;

export const userRoutes: FastifyPluginAsyncZod<UserRouteDeps> = async (app, deps) => {
  const checkArea = (me: Principal, code: string | null | undefined) => {
    if (code === undefined) return;
    if (code && !deps.areas.get(code)) throw badRequest(`unknown area ${code}`, [{ path: 'areaCode', message: 'unknown area' }]);
    if (!deps.objects.holdsArea(me, code)) {
      throw forbidden(code === null ? 'only an installation-wide admin may give a user the whole installation' : `area ${code} is outside your area`);
    }
  };

  app.post(
    '/api/v1/users',
    {
      config: { access: access.roles(ADMINS, { scope: 'the new user’s areaCode must lie inside the caller’s area' }, { why: 'manage users' }) },
      schema: {
        tags: ['users'],
        summary: 'Create a user bound to an area subtree (province admins only, inside their own area)',
        body: userCreateBodySchema,
        response: { 201: userSchema, 400: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { username, role, areaCode } = request.body;
      checkArea(principalOf(request), areaCode);
      if (deps.users.byUsername(username)) throw conflict(`user ${username} exists`);
      const user: User = { id: newId('u'), username, passwordHash: await hashPassword(request.body.password), role, areaCode, disabled: false, createdAt: Date.now() };
      deps.users.insert(user);
      request.log.info({ userId: user.id, role, areaCode }, 'user created');
      return reply.status(201).send(toApi(user));
    },
  );

  app.get(
    '/api/v1/users',
    {
      config: { access: access.roles(ADMINS, { scope: 'lists only users bound to the caller’s area or below' }, { why: 'manage users' }) },
      schema: { tags: ['users'], summary: 'Users in your area (province admins only)', querystring: pageQuerySchema, response: { 200: listSchema(userSchema) } },
    },
    async (request) => {
      const me = principalOf(request);
      const { limit, cursor } = request.query;
      const areas = me.areaCode === null ? undefined : deps.areas.subtree(me.areaCode);
      const rows = deps.users.list(limit + 1, decodeCursor(cursor), areas);
      const page = rows.slice(0, limit);
      return { items: page.map(toApi), total: deps.users.countIn(areas), next: encodeCursor(page.at(-1)?.id, rows.length > limit) };
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { access: access.roles(ADMINS, { object: 'user', param: 'id' }, { why: 'manage users' }) },
      schema: {
        tags: ['users'],
        summary: 'Change a user’s password, role or area, or disable it at once (its sessions end)',
        params: idParamsSchema,
        body: userPatchBodySchema,
        response: { 200: userSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const me = principalOf(request);
      const target = deps.users.byId(request.params.id);
      if (!target) throw notFound(`user ${request.params.id}`);
      // A parent peer's system actor is not a person: giving it a password would let someone act in the
      // province's name (issue 17 review). Its peer is managed under /api/v1/national/peers.
      if (target.system) throw conflict(`${target.username} is the system actor of a national peer, not a login; it cannot be edited`);
      const { password: pw, role, areaCode, disabled } = request.body;
      if (target.id === me.id && (disabled || (role && role !== 'province-admin'))) throw badRequest('you cannot disable or demote yourself');
      // The target is inside the caller's area (the route's declaration); so must be the area it is moved to.
      checkArea(me, areaCode);
      deps.users.update(target.id, { ...(pw ? { passwordHash: await hashPassword(pw) } : {}), ...(role ? { role } : {}), ...(areaCode !== undefined ? { areaCode } : {}), ...(disabled !== undefined ? { disabled } : {}) });
      const all = Boolean(disabled || pw || role || areaCode !== undefined);
      if (all) deps.sessions.revokeAll(target.id);
      deps.events.emit('sessions', { userId: target.id, all }); // its open live event streams check their login at once; with `all` its browsers stop getting pushes
      request.log.info({ userId: target.id, changed: Object.keys(request.body) }, 'user changed');
      return toApi(deps.users.byId(target.id)!);
    },
  );
};

/**
 * `/api/v1/sources`: the live sources boxes relay (issue 15 § Relays). Province admins manage the sources of
 * their area (an installation-wide one only installation-wide admins); everyone may list and read the
 * sources usable in their area (its own, its ancestors', the installation's), and writers may have one
 * checked now. A source a broadcast still relays cannot be deleted.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { idParamsSchema, sourceCreateBodySchema, sourceListQuerySchema, sourceSchema, sourceUpdateBodySchema, type Source } from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import { access, ADMINS, ANY_ROLE, WRITERS } from '../http/access.js';
import type { Principal } from '../auth/scope.js';
import { newId } from '../ids.js';
import type { SourceCheck, StreamSource } from '../repos/sources.js';
import { expandOccurrences } from '../scheduling/recurrence.js';
import { scheduleOf } from '../services/scheduler.js';
import { hideCredentialsIn, hideUrlCredentials } from '../services/source-checker.js';
import type { AppContext } from '../services/context.js';

const YEAR_MS = 366 * 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A source as answered: its URLs' latest checks in their order, and the best of them as its status. Only
 * those who may manage the source (`reveal`) see credentials in its URLs; everyone else sees
 * `http://***@host/…` (issue 15 review (1): every viewer was given the station's password).
 */
export function sourceToApi(s: StreamSource, checks: readonly SourceCheck[], reveal = false): Source {
  const shown = reveal ? (u: string) => u : hideUrlCredentials;
  const byUrl = new Map(checks.map((c) => [c.url, c]));
  const ordered = s.urls.flatMap((u) => {
    const c = byUrl.get(u);
    return c ? [{ url: shown(u), status: c.status, reason: c.reason === null ? null : hideCredentialsIn(c.reason), levelDb: c.levelDb, checkedAt: iso(c.checkedAt) }] : [];
  });
  const status = ordered.some((c) => c.status === 'up') ? 'up' : ordered.some((c) => c.status === 'silent') ? 'silent' : ordered.length ? 'down' : 'unchecked';
  const last = Math.max(0, ...checks.filter((c) => s.urls.includes(c.url)).map((c) => c.checkedAt));
  return {
    id: s.id,
    name: s.name,
    urls: s.urls.map(shown),
    areaCode: s.areaCode,
    fallbackBulletinId: s.fallbackBulletinId,
    restream: s.restream,
    status,
    checkedAt: last ? iso(last) : null,
    checks: ordered,
    createdBy: s.createdBy,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type SourceRouteDeps = Pick<AppContext, 'areas' | 'bulletins' | 'broadcasts' | 'sources' | 'sourceChecker' | 'objects' | 'agenda' | 'streamAddressGuard' | 'programmes'>;

export const sourceRoutes: FastifyPluginAsyncZod<SourceRouteDeps> = async (app, deps) => {
  const toApi = (s: StreamSource, user: Principal) => sourceToApi(s, deps.sources.checks(s.id), deps.objects.sourceManageable(user, s));
  const load = (id: string): StreamSource => {
    const s = deps.sources.get(id);
    if (!s || s.deletedAt !== null) throw notFound(`source ${id}`);
    return s;
  };

  /** The area a source is for: an existing, current area inside the caller's, or null for installation-wide admins. */
  const checkArea = (user: Principal, areaCode: string | null): void => {
    if (areaCode === null) {
      if (user.areaCode !== null) throw forbidden('only installation-wide admins make a source for the whole installation; give your area’s code');
      return;
    }
    const area = deps.areas.get(areaCode);
    if (!area) throw badRequest(`unknown area ${areaCode}`, [{ path: 'areaCode', message: 'unknown area' }]);
    if (area.validUntil) throw badRequest(`area ${areaCode} is a legacy unit`, [{ path: 'areaCode', message: 'legacy area' }]);
    if (!deps.objects.holdsArea(user, areaCode)) throw forbidden(`area ${areaCode} is outside your area`);
  };

  /**
   * The fallback airs on every box that may relay the source, so it must be a ready bulletin with audio that
   * all of them may air: one of the source's own area or above it (or installation-wide), visible to the caller.
   */
  const checkFallback = (user: Principal, bulletinId: string | null, areaCode: string | null): void => {
    if (bulletinId === null) return;
    const field = [{ path: 'fallbackBulletinId', message: 'not a usable fallback' }];
    const b = deps.bulletins.get(bulletinId);
    if (!b || !deps.objects.bulletinVisible(user, b)) throw badRequest(`unknown bulletin ${bulletinId}`, [{ path: 'fallbackBulletinId', message: 'unknown bulletin' }]);
    if (b.source === 'relay') throw badRequest('the fallback must be a bulletin with audio, not another relay', field);
    if (b.status !== 'ready' || !b.audioSha256) throw badRequest(`bulletin ${bulletinId} is ${b.status}; the fallback must be ready, with audio`, field);
    const servesEveryUser = b.areaCode === null || (areaCode !== null && deps.areas.ancestry(areaCode).includes(b.areaCode));
    if (!servesEveryUser) throw badRequest(`bulletin ${bulletinId} belongs to area ${b.areaCode}, narrower than the source’s; every box that relays the source must be able to play its fallback`, field);
  };

  /**
   * Issue 15 review (SSRF): the server's checker and restream open these URLs, so none may be on the server's
   * own host or a private network the installation has not named (relay/address-guard.ts). Said when saving,
   * where the admin can act on it, rather than as a check that is always down.
   */
  const checkUrls = async (urls: readonly string[]): Promise<void> => {
    const refusals = await Promise.all(urls.map((u) => deps.streamAddressGuard.refusal(u)));
    const fields = refusals.flatMap((why, i) => (why ? [{ path: `urls.${i}`, message: why }] : []));
    if (fields.length) throw badRequest(`the server does not open ${hideUrlCredentials(urls[Number(fields[0]!.path.slice(5))]!)}: ${fields[0]!.message}`, fields);
  };

  const assertManageable = (user: Principal, s: StreamSource): void => {
    if (!deps.objects.sourceManageable(user, s)) throw forbidden(s.areaCode === null ? 'only installation-wide admins change an installation-wide source' : `only admins of area ${s.areaCode} or above change this source`);
  };

  /** Boxes whose agendas carry this source's URLs and fallback get them again (URLs or fallback changed). */
  const resyncRelays = async (sourceId: string): Promise<void> => {
    // Relay broadcasts of it, and programmes with a relay segment of it (issue 15 review (4)).
    deps.agenda.markDirty([...deps.sources.devicesRelaying(sourceId, Date.now()), ...deps.programmes.devicesRelaying(sourceId, Date.now())]);
    await deps.agenda.flush();
  };

  /** Broadcasts of the source's relays that are submitted or approved and have an occurrence not yet over. */
  const unfinishedBroadcasts = (sourceId: string): string[] => {
    const now = Date.now();
    return [...deps.sources.broadcastIds(sourceId), ...deps.programmes.broadcastsRelaying(sourceId)].filter((id) => {
      const b = deps.broadcasts.get(id);
      if (!b) return false;
      const durationMs = deps.bulletins.get(b.bulletinId)?.durationMs ?? 0;
      try {
        return expandOccurrences(scheduleOf(b), { from: now - b.windowMs - durationMs, to: now + YEAR_MS }, { exceptions: deps.broadcasts.exceptions(b.id) }).length > 0;
      } catch {
        return true; // too many occurrences to list: certainly not over
      }
    });
  };

  app.get(
    '/api/v1/sources',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'sources usable in the caller’s area: its own, its ancestors’, the installation’s, and those inside it (ObjectScope.sourceUsable)' }) },
      schema: { tags: ['sources'], summary: 'Live sources usable in your area, with their latest check', querystring: sourceListQuerySchema, response: { 200: listSchema(sourceSchema), 400: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      const { limit, cursor } = request.query;
      const items: StreamSource[] = [];
      let after = decodeCursor(cursor) ?? '';
      for (let more = true; items.length <= limit && more; ) {
        const batch = deps.sources.page(500, after);
        more = batch.length === 500;
        after = batch.at(-1)?.id ?? after;
        items.push(...batch.filter((s) => deps.objects.sourceUsable(user, s)));
      }
      const page = items.slice(0, limit);
      return { items: page.map((s) => toApi(s, user)), total: page.length, next: encodeCursor(page.at(-1)?.id, items.length > limit) };
    },
  );

  app.get(
    '/api/v1/sources/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'source', param: 'id' }) },
      schema: { tags: ['sources'], summary: 'A live source with the latest check of each URL', params: idParamsSchema, response: { 200: sourceSchema, 404: errorBodySchema } },
    },
    async (request) => toApi(load(request.params.id), principalOf(request)),
  );

  app.post(
    '/api/v1/sources',
    {
      config: { access: access.roles(ADMINS, { area: { in: 'body', key: 'areaCode' } }, { why: 'manage live sources' }) },
      schema: {
        tags: ['sources'],
        summary: 'Register a live source: stream URLs in order of preference, its area, its fallback bulletin',
        description: 'With `restream: true` boxes hear the source through the server (`/streams/{id}`, pulled once by the server, which fails over between the URLs); otherwise each box pulls the URLs itself.',
        body: sourceCreateBodySchema,
        response: { 201: sourceSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const body = request.body;
      const areaCode = body.areaCode === undefined ? user.areaCode : body.areaCode;
      checkArea(user, areaCode);
      checkFallback(user, body.fallbackBulletinId ?? null, areaCode);
      await checkUrls(body.urls);
      const id = newId('src');
      deps.sources.insert({ id, name: body.name, urls: body.urls, areaCode, fallbackBulletinId: body.fallbackBulletinId ?? null, restream: body.restream ?? false, createdBy: user.id });
      deps.sourceChecker.checkSoon(id);
      request.log.info({ sourceId: id, areaCode, urls: body.urls.length, userId: user.id }, 'source created');
      return reply.status(201).send(toApi(load(id), user));
    },
  );

  app.patch(
    '/api/v1/sources/:id',
    {
      config: { access: access.roles(ADMINS, { object: 'source', param: 'id' }, { why: 'manage live sources' }) },
      schema: {
        tags: ['sources'],
        summary: 'Change a source; boxes holding a relay of it get its new URLs and fallback with their agenda',
        params: idParamsSchema,
        body: sourceUpdateBodySchema,
        response: { 200: sourceSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const s = load(request.params.id);
      assertManageable(user, s);
      const body = request.body;
      const areaCode = body.areaCode === undefined ? s.areaCode : body.areaCode;
      if (body.areaCode !== undefined) checkArea(user, areaCode);
      const fallback = body.fallbackBulletinId === undefined ? s.fallbackBulletinId : body.fallbackBulletinId;
      // An unchanged fallback is checked again when the area changes: it must still serve every user.
      if (body.fallbackBulletinId !== undefined || body.areaCode !== undefined) checkFallback(user, fallback, areaCode);
      if (body.urls !== undefined) await checkUrls(body.urls);
      const updated = deps.sources.update(s.id, body)!;
      // What boxes receive changes with the URLs, the fallback, and `restream` (the server's URL instead of the source's).
      const airs = body.urls !== undefined || body.fallbackBulletinId !== undefined || (body.restream !== undefined && body.restream !== s.restream);
      if (airs) await resyncRelays(s.id);
      if (body.urls !== undefined) deps.sourceChecker.checkSoon(s.id);
      return toApi(updated, user);
    },
  );

  app.delete(
    '/api/v1/sources/:id',
    {
      config: { access: access.roles(ADMINS, { object: 'source', param: 'id' }, { why: 'manage live sources' }) },
      schema: {
        tags: ['sources'],
        summary: 'Delete a source no broadcast still relays (its past relays keep naming it in the as-run)',
        params: idParamsSchema,
        response: { 204: z.null(), 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const s = load(request.params.id);
      assertManageable(user, s);
      const busy = unfinishedBroadcasts(s.id);
      if (busy.length) throw conflict(`source ${s.id} (${s.name}) is relayed by ${busy.length} broadcast(s) not finished yet: ${busy.slice(0, 10).join(', ')}; cancel them or wait until they end, then delete it`);
      deps.sources.delete(s.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/sources/:id/check',
    {
      config: { access: access.roles(WRITERS, { object: 'source', param: 'id' }, { why: 'check live sources' }) },
      schema: {
        tags: ['sources'],
        summary: 'Check every URL of a source now (a few seconds each, two at a time) and answer the source with the results',
        params: idParamsSchema,
        response: { 200: sourceSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const s = load(request.params.id);
      await deps.sourceChecker.check(s.id);
      return toApi(load(s.id), principalOf(request));
    },
  );
};

/**
 * The province's second way down (Circular 39/2020/TT-BTTTT): a bulletin *offered* to communes' inboxes.
 * `normal` waits for the commune to accept and schedule it; `priority` airs unless it collides with the
 * commune's own priority items (then the commune sets the order); `emergency` airs at once.
 */
import { publicBase } from '../http/public-base.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import {
  idParamsSchema,
  inboxQuerySchema,
  offerAcceptBodySchema,
  offerCreateBodySchema,
  offerDeclineBodySchema,
  offersCreatedSchema,
  offerSchema,
  type Schedule,
} from '@loaxa/shared';
import { coversArea, type Principal } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import { newId } from '../ids.js';
import type { OfferRecord } from '../repos/offers.js';
import type { Broadcast } from '../repos/broadcasts.js';
import { decideOffer, transitionOffer, type OfferEvent, type OfferState } from '../scheduling/inbox.js';
import type { AppContext } from '../services/context.js';
import { access, ANY_ROLE, APPROVERS, WRITERS } from '../http/access.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const toApi = (o: OfferRecord) => ({
  id: o.id,
  bulletinId: o.bulletinId,
  areaCode: o.areaCode,
  priority: o.priority,
  status: o.status,
  action: o.action,
  reason: o.reason,
  collidesWith: o.collidesWith,
  broadcastId: o.broadcastId,
  startAt: iso(o.startAt),
  expiresAt: iso(o.expiresAt),
  createdAt: iso(o.createdAt)!,
});

const stateOf = (o: OfferRecord): OfferState => ({
  offerId: o.id,
  priority: o.priority,
  status: o.status,
  since: o.since,
  ...(o.expiresAt !== null ? { expiresAt: o.expiresAt } : {}),
});

/** What these routes use, and all they are given (wiring/http.ts). */
export type OfferRouteDeps = Pick<AppContext, 'config' | 'areas' | 'devices' | 'bulletins' | 'broadcasts' | 'broadcastService' | 'offers' | 'objects'>;

export const offerRoutes: FastifyPluginAsyncZod<OfferRouteDeps> = async (app, deps) => {
  const offers = deps.offers;
  const mediaBase = (request: FastifyRequest) => publicBase(deps.config, request);

  /** Applies one state-machine step or answers 409 with the machine's reason. */
  const step = (o: OfferRecord, event: OfferEvent): OfferState => {
    const t = transitionOffer(stateOf(o), event);
    if (!t.ok) throw conflict(`offer ${o.id}: ${t.error}`);
    return t.state;
  };

  /**
   * Puts an offer on air in its commune as a broadcast by `user`: inside `offers.transaction`, on the offer
   * as it is in the store now. The state steps are checked and the broadcast prepared before anything is
   * written, then the broadcast and the offer's new state are written together, so a refused step creates
   * nothing (issue 13, finding 6: a declined offer's accept answered 409 after saving an approved
   * broadcast). Answers the broadcast, for `broadcastService.launch` once committed.
   */
  const airWithin = (user: Principal, o: OfferRecord, accept: boolean, draft: { startAt?: string; schedule?: Schedule; deviceIds?: string[] }, request: FastifyRequest): Broadcast => {
    const now = Date.now();
    const accepted = accept && o.status === 'pending' && o.priority === 'normal' ? step(o, { type: 'accept', at: now }) : stateOf(o);
    const { deviceIds, ...when } = draft;
    // The commune may air an offer on some of its boxes only (issue 20, broken 5): each must be one of the
    // offer's commune; prepare() then checks them against the caller as for any broadcast.
    deviceIds?.forEach((id, i) => {
      const d = deps.devices.get(id);
      if (!d || !deps.areas.ancestry(d.areaCode).includes(o.areaCode)) throw badRequest(`device ${id} is not a box of ${o.areaCode}`, [{ path: `deviceIds.${i}`, message: 'not a box of the offer’s commune' }]);
    });
    const target = deviceIds?.length ? { deviceIds } : { areaCodes: [o.areaCode] };
    const { broadcast } = deps.broadcastService.prepare(user, { bulletinId: o.bulletinId, priority: o.priority, target, ...when }, mediaBase(request), now);
    const s = step({ ...o, status: accepted.status }, { type: 'schedule', at: now, broadcastId: broadcast.id });
    deps.broadcastService.store(broadcast);
    offers.update(o.id, { status: s.status, since: s.since, broadcastId: broadcast.id });
    return broadcast;
  };

  app.post(
    '/api/v1/bulletins/:id/offers',
    {
      config: { access: access.roles(APPROVERS, { object: 'bulletin', param: 'id' }, { why: 'offer bulletins' }) },
      schema: {
        tags: ['offers'],
        summary: 'Offer a bulletin to communes’ inboxes (a province or district area stands for all its communes)',
        params: idParamsSchema,
        body: offerCreateBodySchema,
        response: { 201: offersCreatedSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const bulletin = deps.bulletins.get(request.params.id);
      if (!bulletin || !deps.objects.bulletinVisible(user, bulletin)) throw notFound(`bulletin ${request.params.id}`);
      if (bulletin.status !== 'ready') throw conflict(`bulletin ${bulletin.id} is ${bulletin.status}; wait until its status is ready`);
      const now = Date.now();
      const startAt = request.body.startAt ? Date.parse(request.body.startAt) : undefined;
      const expiresAt = request.body.expiresAt ? Date.parse(request.body.expiresAt) : undefined;
      if (expiresAt !== undefined && expiresAt <= now) throw badRequest('expiresAt is in the past', [{ path: 'expiresAt', message: 'in the past' }]);
      // Issue 19: an offer airs in communes that never saw its text (a priority offer airs by itself), so the
      // province checks its reading when it offers it; refused before any offer is made.
      const reading = deps.broadcastService.checkReading({ bulletinId: bulletin.id, priority: request.body.priority }, request.body.checked, 'checked');
      if (reading) request.auditNote = { reading: { checked: reading.checked, spans: reading.spans } };
      const communes = new Set<string>();
      request.body.areaCodes.forEach((code, i) => {
        const area = deps.areas.get(code);
        if (!area || area.validUntil) throw badRequest(`unknown or legacy area ${code}`, [{ path: `areaCodes.${i}`, message: 'unknown area' }]);
        if (!coversArea(user, deps.areas.ancestry(code))) throw forbidden(`area ${code} is outside your area`);
        for (const c of deps.areas.subtree(code)) if (deps.areas.get(c)?.level === 'commune') communes.add(c);
      });
      const created: OfferRecord[] = [];
      for (const code of communes) {
        const airAt = Math.max(startAt ?? now, now);
        const devices = deps.devices.idsInAreas(deps.areas.subtree(code));
        const own = deps.broadcasts
          .plannedOn(devices, airAt - 3600_000, airAt + (bulletin.durationMs ?? 0))
          .filter((d) => d.priority === 'priority')
          .map((d) => ({ broadcastId: d.broadcastId, priority: d.priority, startAt: d.occurrenceAt, durationMs: d.durationMs }));
        const id = newId('of');
        const decision = decideOffer({ id, bulletinId: bulletin.id, areaCode: code, priority: request.body.priority, offeredAt: now, durationMs: bulletin.durationMs ?? 0, ...(startAt ? { startAt } : {}), ...(expiresAt ? { expiresAt } : {}) }, own, now);
        const offer: OfferRecord = {
          id, bulletinId: bulletin.id, areaCode: code, priority: request.body.priority, startAt: startAt ?? null, expiresAt: expiresAt ?? null,
          status: 'pending', since: now, action: decision.action, reason: decision.reason, collidesWith: decision.collidesWith ?? [], broadcastId: null, createdBy: user.id, createdAt: now,
        };
        const airing = offers.transaction(() => {
          offers.insert(offer);
          return decision.action === 'air' ? airWithin(user, offer, false, { startAt: new Date(decision.airAt).toISOString() }, request) : null;
        });
        if (airing) await deps.broadcastService.launch(airing);
        created.push(offers.get(id)!);
      }
      request.log.info({ bulletinId: bulletin.id, offers: created.length, priority: request.body.priority }, 'bulletin offered');
      return reply.status(201).send({ items: created.map(toApi) });
    },
  );

  app.get(
    '/api/v1/inbox',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'offers to the caller’s area and below' }) },
      schema: {
        tags: ['offers'],
        summary: 'Offers from the province in the caller’s communes',
        querystring: inboxQuerySchema,
        response: { 200: listSchema(offerSchema), 400: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { status, limit, cursor } = request.query;
      const areas = user.areaCode === null ? deps.areas.all().map((a) => a.code) : deps.areas.subtree(user.areaCode);
      const rows = offers.inAreas(areas, status, limit + 1, decodeCursor(cursor));
      const page = rows.slice(0, limit);
      return { items: page.map(toApi), total: page.length, next: encodeCursor(page.at(-1)?.id, rows.length > limit) };
    },
  );

  const load = (user: Principal, id: string): OfferRecord => {
    const o = offers.get(id);
    if (!o || !deps.objects.offerVisible(user, o)) throw notFound(`offer ${id}`);
    return o;
  };

  app.post(
    '/api/v1/offers/:id/accept',
    {
      config: { access: access.roles(WRITERS, { object: 'offer', param: 'id' }, { why: 'act on offers' }) },
      schema: {
        tags: ['offers'],
        summary: 'Accept an offer and schedule it in the commune (startAt or schedule; default now)',
        params: idParamsSchema,
        body: offerAcceptBodySchema,
        response: { 200: offerSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { id } = load(user, request.params.id);
      const draft = { ...(request.body.startAt ? { startAt: request.body.startAt } : {}), ...(request.body.schedule ? { schedule: request.body.schedule } : {}), ...(request.body.deviceIds ? { deviceIds: request.body.deviceIds } : {}) };
      const { offer, airing } = offers.transaction(() => {
        const o = offers.get(id)!;
        // Accept is idempotent (finding 6): an offer already on air answers the broadcast it has, so a
        // double click or a retried request airs once.
        if (o.status === 'scheduled' && o.broadcastId !== null) return { offer: o, airing: null };
        const airing = airWithin(user, o, true, draft, request);
        return { offer: offers.get(id)!, airing };
      });
      // Sent once committed, as POST /broadcasts does; a retry after a failed send answers the saved broadcast.
      if (airing) await deps.broadcastService.launch(airing);
      return toApi(offer);
    },
  );

  app.post(
    '/api/v1/offers/:id/decline',
    {
      config: { access: access.roles(WRITERS, { object: 'offer', param: 'id' }, { why: 'act on offers' }) },
      schema: {
        tags: ['offers'],
        summary: 'Decline a normal offer, with a reason (priority and emergency offers cannot be declined)',
        params: idParamsSchema,
        body: offerDeclineBodySchema,
        response: { 200: offerSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const o = load(user, request.params.id);
      const s = step(o, { type: 'decline', at: Date.now(), reason: request.body.reason });
      offers.update(o.id, { status: s.status, since: s.since, reason: request.body.reason });
      return toApi(offers.get(o.id)!);
    },
  );
};

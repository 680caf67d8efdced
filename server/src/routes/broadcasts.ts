import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { publicBase } from '../http/public-base.js';
import {
  approveBodySchema,
  broadcastCancelBodySchema,
  broadcastCancelledSchema,
  broadcastCheckSchema,
  broadcastCreatedSchema,
  broadcastDetailQuerySchema,
  broadcastDetailSchema,
  broadcastDraftSchema as draftSchema,
  broadcastListQuerySchema,
  broadcastSummarySchema as summarySchema,
  idParamsSchema,
  occurrenceMoveBodySchema,
  occurrenceMovedSchema,
  occurrenceParamsSchema,
  occurrencesQuerySchema,
  occurrencesSchema,
  rejectBodySchema,
  DELIVERY_STATES,
  dayRangeMs,
  playsAtOnce,
  searchWords,
  type DeliveryState,
} from '@loaxa/shared';
import { canApprove } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, errorBodySchema, notFound } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import type { Broadcast } from '../repos/broadcasts.js';
import type { AppContext } from '../services/context.js';
import { scheduleOf } from '../services/scheduler.js';
import { airsWhenApproved } from '../services/broadcast-service.js';
import { expandOccurrences, MAX_OCCURRENCES_PER_CALL, OccurrenceCapError } from '../scheduling/recurrence.js';
import { access, ANY_ROLE, APPROVERS, WRITERS } from '../http/access.js';

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A broadcast as the caller sees it: target boxes outside its area left out (`ObjectScope.deviceIdFilter`). */
const toSummary = (b: Broadcast, seen: (deviceId: string) => boolean) => ({
  id: b.id,
  bulletinId: b.bulletinId,
  priority: b.priority,
  status: b.status,
  startAt: iso(b.startAt),
  schedule: b.schedule,
  target: b.target.deviceIds ? { ...b.target, deviceIds: b.target.deviceIds.filter(seen) } : b.target,
  createdAt: iso(b.createdAt),
  decisionReason: b.decisionReason,
  airsWhenApproved: b.status === 'submitted' && airsWhenApproved(b),
  lastStartAt: b.schedule ? null : iso(b.startAt + b.windowMs),
});

/** What these routes use, and all they are given (wiring/http.ts). */
export type BroadcastRouteDeps = Pick<AppContext, 'config' | 'broadcasts' | 'broadcastService' | 'scheduler' | 'objects' | 'bulletins' | 'devices'>;

export const broadcastRoutes: FastifyPluginAsyncZod<BroadcastRouteDeps> = async (app, deps) => {
  const svc = deps.broadcastService;
  const load = (user: ReturnType<typeof principalOf>, id: string): Broadcast => {
    const b = deps.broadcasts.get(id);
    if (!b || !deps.objects.broadcastVisible(user, b)) throw notFound(`broadcast ${id}`);
    return b;
  };
  /**
   * Conflicts with the names people know (issue 20, broken 6): the box's name and the other airing's title,
   * looked up once per box and per broadcast. A broadcast the caller may not see keeps its title to itself.
   */
  const conflictsOut = (list: ReturnType<typeof svc.prepare>['conflicts'], user: ReturnType<typeof principalOf>) => {
    const names = new Map<string, string | undefined>();
    const titles = new Map<string, string | null>();
    const nameOf = (id: string) => {
      if (!names.has(id)) names.set(id, deps.devices.get(id)?.name);
      return names.get(id);
    };
    const titleOf = (id: string) => {
      if (!titles.has(id)) {
        const other = deps.broadcasts.get(id);
        titles.set(id, other && deps.objects.broadcastVisible(user, other) ? (deps.bulletins.get(other.bulletinId)?.title ?? null) : null);
      }
      return titles.get(id)!;
    };
    return list.map((c) => {
      const deviceName = nameOf(c.deviceId);
      return { ...c, occurrenceAt: iso(c.occurrenceAt), otherOccurrenceAt: iso(c.otherOccurrenceAt), ...(deviceName ? { deviceName } : {}), otherTitle: titleOf(c.otherBroadcastId) };
    });
  };

  app.post(
    '/api/v1/broadcasts',
    {
      config: { access: access.roles(WRITERS, { scope: 'every target area and box inside the caller’s area (BroadcastService.checkTargets), the bulletin visible (ObjectScope)' }, { why: 'broadcast' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Broadcast a ready bulletin to areas and/or devices: now, at startAt, or on a schedule',
        description:
          'Approved at once when the caller may approve and covers every target (or is an operator of an installation that ' +
          'needs no approval, or sends an emergency with a role in LOAXA_EMERGENCY_ROLES); otherwise `submitted`. ' +
          'The answer lists the overlaps the broadcast causes on each device in the coming week.',
        body: draftSchema,
        response: {
          201: broadcastCreatedSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          409: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const prepared = svc.prepare(user, request.body, publicBase(deps.config, request));
      const { broadcast } = prepared;
      // Approved at once, it has no approver to check its reading: the caller does (issue 19). A submitted one
      // is checked by its approver. An emergency is never held (Circular 39: it plays at once), so its reading is
      // looked at once it is on its way: reading a long text costs it no time before the fan-out (issue 8).
      const atOnce = broadcast.status === 'approved' && playsAtOnce(broadcast.priority);
      const checked = request.body.readingChecked === true;
      let reading = broadcast.status === 'approved' && !atOnce ? svc.checkReading(broadcast, checked, 'readingChecked') : null;
      await svc.save(broadcast);
      if (atOnce) reading = svc.checkReading(broadcast, checked, 'readingChecked');
      if (reading) request.auditNote = { reading: { checked: reading.checked, spans: reading.spans } };
      const devices = deps.scheduler.targetDevices(broadcast).length;
      const log = { broadcastId: broadcast.id, devices, status: broadcast.status, priority: broadcast.priority, userId: user.id, role: user.role };
      if (playsAtOnce(broadcast.priority) && broadcast.status === 'approved' && !canApprove(user)) request.log.warn(log, 'emergency broadcast skipped approval');
      else request.log.info(log, 'broadcast created');
      if (reading?.warning) request.log.warn({ ...log, spans: reading.spans.length }, 'emergency aired with an unchecked reading');
      return reply.status(201).send({
        id: broadcast.id,
        status: broadcast.status as 'submitted' | 'approved',
        startAt: iso(broadcast.startAt),
        devices,
        conflicts: conflictsOut(prepared.conflicts, user),
        ...(reading?.warning ? { readingWarning: { message: reading.warning, spans: reading.spans } } : {}),
      });
    },
  );

  app.post(
    '/api/v1/broadcasts/check',
    {
      config: { access: access.roles(WRITERS, { scope: 'as POST /api/v1/broadcasts' }, { why: 'broadcast' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Dry run: the conflicts a broadcast would cause, per device, without saving it',
        body: draftSchema,
        response: { 200: broadcastCheckSchema, 400: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { broadcast, conflicts, firstOccurrences } = svc.prepare(user, request.body, '');
      const readingSpans = broadcast.status === 'approved' ? svc.readingSpans(broadcast) : [];
      return {
        status: broadcast.status as 'submitted' | 'approved',
        devices: deps.scheduler.targetDevices(broadcast).length,
        occurrences: firstOccurrences.map(iso),
        conflicts: conflictsOut(conflicts, user),
        ...(readingSpans.length ? { readingSpans } : {}),
      };
    },
  );

  app.get(
    '/api/v1/broadcasts',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'only broadcasts visible to the caller (ObjectScope.broadcastVisible)' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Broadcasts by status visible to the caller; `status=submitted` is the approval queue; `priority`, `q` (title words) and `from`/`to` (days of the first airing) narrow it',
        querystring: broadcastListQuerySchema,
        response: { 200: listSchema(summarySchema), 400: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { status, limit, cursor, priority, q, from, to } = request.query;
      // Issue 20 (search and filters): status, priority, title words and the first airing's days are SQL;
      // visibility is decided per broadcast; read pages until one is full or the list ends.
      const filter = { priority, words: searchWords(q), ...dayRangeMs({ from, to }) };
      const items: Broadcast[] = [];
      let after = decodeCursor(cursor);
      let more = true;
      // At most 20 batches (10,000 rows) per request (review of issue 20: `status=all` with words nothing matches
      // read the whole table, synchronously, for any viewer); past that the answer's cursor continues the scan.
      for (let batches = 0; items.length <= limit && more && batches < 20; batches++) {
        const batch = deps.broadcasts.byStatus(status === 'all' ? null : status, 500, after, filter);
        more = batch.length === 500;
        after = batch.at(-1)?.id;
        items.push(...batch.filter((b) => deps.objects.broadcastVisible(user, b)));
      }
      const page = items.slice(0, limit);
      const next = items.length > limit ? encodeCursor(page.at(-1)?.id, true) : encodeCursor(after, more);
      const seen = deps.objects.deviceIdFilter(user);
      // The approval queue shows what the approver must listen to (issue 19), read with today's dictionary.
      const withReading = (b: Broadcast) => (status === 'submitted' ? { ...toSummary(b, seen), readingSpans: svc.readingSpans(b) } : toSummary(b, seen));
      return { items: page.map(withReading), total: page.length, next };
    },
  );

  app.get(
    '/api/v1/broadcasts/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'broadcast', param: 'id' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'A broadcast with the delivery state of each device for its next or current occurrence',
        params: idParamsSchema,
        querystring: broadcastDetailQuerySchema,
        response: {
          200: broadcastDetailSchema,
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = load(user, request.params.id);
      const occ = request.query.occurrence ? Date.parse(request.query.occurrence) : deps.broadcasts.currentOccurrence(b.id, Date.now() - b.windowMs);
      const seen = deps.objects.deviceIdFilter(user);
      // Only the caller's boxes: a broadcast to the province and its neighbour shows each its own.
      const deliveries = occ === null ? [] : deps.broadcasts.deliveries(b.id, occ).filter((d) => seen(d.deviceId));
      const summary = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
      for (const d of deliveries) summary[d.state]++;
      return {
        ...toSummary(b, seen),
        occurrenceAt: occ === null ? null : iso(occ),
        summary,
        deliveries: deliveries.map((d) => ({ deviceId: d.deviceId, occurrenceAt: iso(d.occurrenceAt), state: d.state, at: iso(d.at), ...(d.reason ? { reason: d.reason } : {}) })),
      };
    },
  );

  app.get(
    '/api/v1/broadcasts/:id/occurrences',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'broadcast', param: 'id' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Occurrences in [from, to) (default: the next 7 days), with cancelled and moved ones marked',
        params: idParamsSchema,
        querystring: occurrencesQuerySchema,
        response: {
          200: occurrencesSchema,
          400: errorBodySchema,
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = load(user, request.params.id);
      const from = request.query.from ? Date.parse(request.query.from) : Date.now();
      const to = request.query.to ? Date.parse(request.query.to) : from + 7 * DAY_MS;
      if (to <= from) throw badRequest('`to` must be after `from`', [{ path: 'to', message: 'before from' }]);
      if (to - from > 400 * DAY_MS) throw badRequest('ask for at most 400 days at a time', [{ path: 'to', message: 'range too long' }]);
      const exceptions = deps.broadcasts.exceptions(b.id);
      let actual: Set<number>;
      let plain: number[];
      try {
        actual = new Set(expandOccurrences(scheduleOf(b), { from, to }, { exceptions }));
        plain = expandOccurrences(scheduleOf(b), { from, to });
      } catch (err) {
        // A schedule accepted for its coming year may be denser later: too many to list is the window's
        // fault, a 400, not a 500 (issue 13, finding 10).
        if (!(err instanceof OccurrenceCapError)) throw err;
        throw badRequest(`more than ${MAX_OCCURRENCES_PER_CALL} occurrences between from and to, the most listed at once; ask for a shorter range`, [{ path: 'to', message: `more than ${MAX_OCCURRENCES_PER_CALL} occurrences` }]);
      }
      // Issue 20, broken 2: a broadcast cancelled (or rejected) as a whole airs none of its occurrences; they
      // were still listed as scheduled.
      const stopped = b.status === 'cancelled' || b.status === 'rejected';
      const items = [...new Set([...plain, ...actual])].sort((x, y) => x - y).map((t) => {
        if (stopped) return { occurrenceAt: iso(t), status: 'cancelled' as const };
        const e = exceptions.find((x) => x.occurrenceAt === t);
        if (e?.action === 'cancel') return { occurrenceAt: iso(t), status: 'cancelled' as const };
        if (e?.action === 'move') return { occurrenceAt: iso(t), status: 'moved' as const, movedTo: iso(e.to) };
        return { occurrenceAt: iso(t), status: 'scheduled' as const };
      });
      return { items };
    },
  );

  app.post(
    '/api/v1/broadcasts/:id/cancel',
    {
      config: { access: access.roles(WRITERS, { object: 'broadcast', param: 'id' }, { why: 'change broadcasts' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Stop now / cancel: the whole broadcast, or one occurrence; boxes that are offline drop it when they reconnect',
        params: idParamsSchema,
        body: broadcastCancelBodySchema,
        response: { 200: broadcastCancelledSchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = load(user, request.params.id);
      const occ = request.body.occurrenceAt ? Date.parse(request.body.occurrenceAt) : undefined;
      const n = await svc.cancel(user, b, occ);
      request.log.info({ broadcastId: b.id, occurrenceAt: occ, cancelled: n, userId: user.id }, 'broadcast cancelled');
      return { id: b.id, cancelledDeliveries: n };
    },
  );

  app.patch(
    '/api/v1/broadcasts/:id/occurrences/:occurrenceAt',
    {
      config: { access: access.roles(WRITERS, { object: 'broadcast', param: 'id' }, { why: 'change broadcasts' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Move one occurrence of a broadcast to another instant, without touching the others',
        params: occurrenceParamsSchema,
        body: occurrenceMoveBodySchema,
        response: { 200: occurrenceMovedSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = load(user, request.params.id);
      const occ = Date.parse(request.params.occurrenceAt);
      const to = Date.parse(request.body.startAt);
      await svc.move(user, b, occ, to);
      return { id: b.id, occurrenceAt: iso(occ), movedTo: iso(to) };
    },
  );

  for (const verdict of ['approve', 'reject'] as const) {
    app.post(
      `/api/v1/broadcasts/:id/${verdict}`,
      {
        config: { access: access.roles(APPROVERS, { object: 'broadcast', param: 'id' }, { why: `${verdict} broadcasts` }) },
        schema: {
          tags: ['approval'],
          summary: verdict === 'approve' ? 'Approve a submitted broadcast; it airs as scheduled' : 'Reject a submitted broadcast, with a reason',
          ...(verdict === 'approve'
            ? { description: 'A text bulletin with spans the reader guessed or could not read (the queue’s `readingSpans`) needs `checked: true` (đã kiểm tra cách đọc); without it 409 lists them. An emergency is not held.' }
            : {}),
          params: idParamsSchema,
          body: verdict === 'approve' ? approveBodySchema : rejectBodySchema,
          response: { 200: summarySchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
        },
      },
      async (request) => {
        const user = principalOf(request);
        const b = load(user, request.params.id);
        const checked = verdict === 'approve' && (request.body as { checked?: boolean }).checked === true;
        const reading = await svc.decide(user, b, verdict === 'approve', request.body.reason ?? null, checked);
        // What the approver said they checked (or, for an emergency, what aired unchecked) stays in the audit log.
        if (reading) request.auditNote = { reading: { checked: reading.checked, spans: reading.spans } };
        request.log.info({ broadcastId: b.id, verdict, userId: user.id, ...(reading ? { readingSpans: reading.spans.length, readingChecked: reading.checked } : {}) }, 'broadcast decided');
        return toSummary(deps.broadcasts.get(b.id)!, deps.objects.deviceIdFilter(user));
      },
    );
  }
};

import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { areaCodeSchema, deliveryStateSchema, idSchema, prioritySchema, DELIVERY_STATES, type DeliveryState } from '@loaxa/shared';
import { canApprove, canWrite, coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, forbidden, notFound, ApiError } from '../http/errors.js';
import { newId } from '../ids.js';
import type { Broadcast } from '../repos/broadcasts.js';
import type { AppContext } from '../services/context.js';
import { instantSchema, scheduleSchema } from './schedule-schema.js';

const targetSchema = z
  .object({ areaCodes: z.array(areaCodeSchema).max(5000).optional(), deviceIds: z.array(idSchema).max(20_000).optional() })
  .refine((t) => (t.areaCodes?.length ?? 0) + (t.deviceIds?.length ?? 0) > 0, { message: 'name at least one area code or device id' });

const deliverySchema = z.object({
  deviceId: z.string(),
  occurrenceAt: z.string(),
  state: deliveryStateSchema,
  at: z.string(),
  reason: z.string().optional(),
});

export const broadcastRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/broadcasts',
    {
      schema: {
        tags: ['broadcasts'],
        summary: 'Broadcast a ready bulletin to areas and/or devices, now or at startAt',
        description:
          'Approved at once when the caller holds approval rights and covers every target; otherwise `submitted`. ' +
          'Recurring schedules arrive with the scheduling work: only `{kind:"once"}` is accepted for now.',
        body: z.object({
          bulletinId: idSchema,
          priority: prioritySchema.default('normal'),
          target: targetSchema,
          startAt: instantSchema.optional(),
          schedule: scheduleSchema.optional(),
        }),
        response: {
          201: z.object({ id: z.string(), status: z.enum(['submitted', 'approved']), startAt: z.string(), devices: z.number() }),
          400: errorBodySchema,
          403: errorBodySchema,
          409: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      if (!canWrite(user)) throw forbidden('viewers cannot broadcast');
      const { bulletinId, priority, target, startAt, schedule } = request.body;
      const bulletin = ctx.bulletins.get(bulletinId);
      if (!bulletin) throw badRequest(`unknown bulletin ${bulletinId}`, [{ path: 'bulletinId', message: 'unknown bulletin' }]);
      if (bulletin.status !== 'ready') throw conflict(`bulletin ${bulletinId} is ${bulletin.status}; wait until its status is ready`);
      if (startAt && schedule) throw badRequest('give either startAt or schedule, not both', [{ path: 'schedule', message: 'conflicts with startAt' }]);
      if (schedule && schedule.kind !== 'once') {
        throw badRequest(`recurring schedules (kind "${schedule.kind}") are not supported yet; use startAt or {kind:"once"}`, [{ path: 'schedule.kind', message: 'not supported yet' }]);
      }
      if (schedule?.repeat) throw badRequest('schedule.repeat is not supported yet', [{ path: 'schedule.repeat', message: 'not supported yet' }]);
      const now = Date.now();
      const windowMs = ctx.config.playWindowSeconds * 1000;
      const requested = schedule?.kind === 'once' ? Date.parse(schedule.at) : startAt ? Date.parse(startAt) : now;
      if (requested + windowMs < now) throw badRequest('startAt is in the past', [{ path: startAt ? 'startAt' : 'schedule.at', message: 'in the past' }]);
      const start = Math.max(requested, now);

      // Every target must exist, be current, and lie inside the caller's area (CONTRACTS.md: 403 outside).
      const deviceIds = new Set<string>();
      target.areaCodes?.forEach((code, i) => {
        const area = ctx.areas.get(code);
        if (!area) throw badRequest(`unknown area ${code}`, [{ path: `target.areaCodes.${i}`, message: 'unknown area' }]);
        if (area.validUntil) throw badRequest(`area ${code} is a legacy unit and cannot be targeted`, [{ path: `target.areaCodes.${i}`, message: 'legacy area' }]);
        if (!coversArea(user, ctx.areas.ancestry(code))) throw forbidden(`area ${code} is outside your area`);
        for (const id of ctx.devices.idsInAreas(ctx.areas.subtree(code))) deviceIds.add(id);
      });
      target.deviceIds?.forEach((id, i) => {
        const d = ctx.devices.get(id);
        if (!d || d.revokedAt !== null) throw badRequest(`unknown device ${id}`, [{ path: `target.deviceIds.${i}`, message: 'unknown device' }]);
        if (!coversArea(user, ctx.areas.ancestry(d.areaCode))) throw forbidden(`device ${id} is outside your area`);
        deviceIds.add(id);
      });

      const status = canApprove(user) ? 'approved' : 'submitted';
      const broadcast: Broadcast = {
        id: newId('bc'),
        bulletinId,
        priority,
        target,
        schedule: schedule ?? null,
        startAt: start,
        windowMs,
        status,
        mediaBaseUrl: ctx.config.publicUrl ?? `${request.protocol}://${request.host}`,
        createdBy: user.id,
        createdAt: now,
      };
      ctx.broadcasts.insertWithDeliveries(
        broadcast,
        [...deviceIds].map((deviceId) => ({ deviceId, occurrenceAt: start, commandId: randomUUID() })),
      );
      request.log.info({ broadcastId: broadcast.id, devices: deviceIds.size, status, priority }, 'broadcast created');
      if (status === 'approved') await ctx.deliveryService.dispatch(broadcast);
      return reply.status(201).send({ id: broadcast.id, status, startAt: new Date(start).toISOString(), devices: deviceIds.size });
    },
  );

  app.get(
    '/api/v1/broadcasts/:id',
    {
      schema: {
        tags: ['broadcasts'],
        summary: 'A broadcast with the delivery state of each device for its next or current occurrence',
        params: z.object({ id: z.string().max(64) }),
        querystring: z.object({ occurrence: instantSchema.optional() }),
        response: {
          200: z.object({
            id: z.string(),
            bulletinId: z.string(),
            priority: prioritySchema,
            status: z.string(),
            startAt: z.string(),
            occurrenceAt: z.string().nullable(),
            summary: z.record(z.string(), z.number()),
            deliveries: z.array(deliverySchema),
          }),
          404: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = ctx.broadcasts.get(request.params.id);
      if (!b) throw notFound(`broadcast ${request.params.id}`);
      const visible = user.areaCode === null || b.createdBy === user.id || (b.target.areaCodes ?? []).some((c) => coversArea(user, ctx.areas.ancestry(c)));
      if (!visible) throw notFound(`broadcast ${request.params.id}`);
      const occ = request.query.occurrence ? Date.parse(request.query.occurrence) : ctx.broadcasts.currentOccurrence(b.id, Date.now() - b.windowMs);
      if (request.query.occurrence && ctx.broadcasts.deliveries(b.id, occ!).length === 0 && occ !== b.startAt) {
        throw new ApiError(404, 'LOAXA_NOT_FOUND', `broadcast ${b.id} has no occurrence at ${request.query.occurrence}`);
      }
      const deliveries = occ === null ? [] : ctx.broadcasts.deliveries(b.id, occ);
      const summary = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
      for (const d of deliveries) summary[d.state]++;
      return {
        id: b.id,
        bulletinId: b.bulletinId,
        priority: b.priority,
        status: b.status,
        startAt: new Date(b.startAt).toISOString(),
        occurrenceAt: occ === null ? null : new Date(occ).toISOString(),
        summary,
        deliveries: deliveries.map((d) => ({
          deviceId: d.deviceId,
          occurrenceAt: new Date(d.occurrenceAt).toISOString(),
          state: d.state,
          at: new Date(d.at).toISOString(),
          ...(d.reason ? { reason: d.reason } : {}),
        })),
      };
    },
  );
};

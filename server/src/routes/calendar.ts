/**
 * The week calendar's routes (issue 20): the airings of an area or a box in a range, and the series move.
 * Cancelling or moving one airing stays with the broadcasts' routes (POST /cancel with `occurrenceAt`,
 * PATCH /occurrences/:occurrenceAt), which the calendar page calls.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { calendarQuerySchema, calendarSchema, idParamsSchema, seriesTimeBodySchema, seriesTimeMovedSchema } from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, notFound } from '../http/errors.js';
import { access, ANY_ROLE, WRITERS } from '../http/access.js';
import type { BroadcastRepository } from '../repos/broadcasts.js';
import type { ObjectScope } from '../auth/objects.js';
import type { CalendarService } from '../scheduling/calendar-service.js';

export interface CalendarRouteDeps {
  calendar: CalendarService;
  broadcasts: BroadcastRepository;
  objects: ObjectScope;
}

export const calendarRoutes: FastifyPluginAsyncZod<CalendarRouteDeps> = async (app, deps) => {
  app.get(
    '/api/v1/calendar',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the area (areaCode, else the caller’s) must lie inside the caller’s (403); a box (deviceId) must be visible (404); deliveries counted only on that area’s boxes (CalendarService.week)' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'The calendar of an area or one box: every airing in [from, to) (at most 14 days) with its priority, title, length and what became of it',
        querystring: calendarQuerySchema,
        response: { 200: calendarSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const q = request.query;
      return deps.calendar.week(user, { areaCode: q.areaCode, deviceId: q.deviceId, from: Date.parse(q.from), to: Date.parse(q.to) });
    },
  );

  app.post(
    '/api/v1/broadcasts/:id/series/time',
    {
      config: { access: access.roles(WRITERS, { object: 'broadcast', param: 'id' }, { why: 'change broadcasts' }) },
      schema: {
        tags: ['broadcasts'],
        summary: 'Move a whole series: every coming airing at `time` (HH:mm, Vietnam time) of a daily, weekly or monthly broadcast airs at `to`',
        description: 'From today (today’s airing at `time` already begun: not aired again at `to`); airings cancelled or moved one by one stay so. The boxes’ agendas change at once.',
        params: idParamsSchema,
        body: seriesTimeBodySchema,
        response: { 200: seriesTimeMovedSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = deps.broadcasts.get(request.params.id);
      if (!b || !deps.objects.broadcastVisible(user, b)) throw notFound(`broadcast ${request.params.id}`);
      const { schedule, cancelled } = await deps.calendar.shiftSeries(user, b, request.body.time, request.body.to);
      const times = 'times' in schedule ? schedule.times : [];
      // The audit row keeps the schedule before and after (the broadcast's stored row is not re-read for this route).
      request.auditNote = { series: { before: b.schedule, after: schedule } };
      request.log.info({ broadcastId: b.id, time: request.body.time, to: request.body.to, cancelledDeliveries: cancelled, userId: user.id }, 'series time moved');
      return { id: b.id, times, from: 'from' in schedule && schedule.from ? schedule.from : '', cancelledDeliveries: cancelled };
    },
  );
};

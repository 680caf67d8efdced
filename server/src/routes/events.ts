/**
 * `GET /api/v1/events`: live delivery states and device presence as Server-Sent Events, for the operator's
 * "live status" view and the dashboard. Each user receives only events of devices inside their area.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import type { AppContext } from '../services/context.js';
import type { ServerEventMap } from '../services/events.js';

const KEEPALIVE_MS = 15_000;

export const eventRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: `delivery` (broadcastId, deviceId, occurrenceAt, state, at, reason) and `device` (presence, faults)',
        querystring: z.object({ broadcast: z.string().max(64).optional() }),
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const only = request.query.broadcast;
      const visible = new Map<string, boolean>();
      const sees = (deviceId: string) => {
        let v = visible.get(deviceId);
        if (v === undefined) {
          const d = ctx.devices.get(deviceId);
          v = !!d && coversArea(user, ctx.areas.ancestry(d.areaCode));
          visible.set(deviceId, v);
        }
        return v;
      };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const onDelivery = (e: ServerEventMap['delivery'][0]) => {
        if ((only && e.broadcastId !== only) || !sees(e.deviceId)) return;
        send('delivery', { ...e, occurrenceAt: new Date(e.occurrenceAt).toISOString(), at: new Date(e.at).toISOString() });
      };
      const onDevice = (e: ServerEventMap['device'][0]) => {
        if (!only && sees(e.deviceId)) send('device', e);
      };
      ctx.events.on('delivery', onDelivery);
      ctx.events.on('device', onDevice);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      const close = () => {
        clearInterval(keepalive);
        ctx.events.off('delivery', onDelivery);
        ctx.events.off('device', onDevice);
      };
      request.raw.on('close', close);
      ctx.onShutdown(() => {
        close();
        res.end();
      });
    },
  );
};

/**
 * `GET /api/v1/events`: live delivery states and device presence as Server-Sent Events, for the operator's
 * "live status" view and the dashboard. Each user receives only events of devices inside their area.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import type { AppContext } from '../services/context.js';
import { Coalescer, type ServerEventMap } from '../services/events.js';

const KEEPALIVE_MS = 15_000;
/** Events reach a browser together at most this often, the latest per delivery and per device (issue 8). */
const COALESCE_MS = 100;

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
      // By device, from its area (one lean read each), and by area: 10,000 boxes sit in a few hundred areas.
      const visible = new Map<string, boolean>();
      const visibleArea = new Map<string, boolean>();
      const sees = (deviceId: string) => {
        let v = visible.get(deviceId);
        if (v === undefined) {
          const area = ctx.devices.areaOf(deviceId);
          v = area === null ? false : (visibleArea.get(area) ?? coversArea(user, ctx.areas.ancestry(area)));
          if (area !== null) visibleArea.set(area, v);
          visible.set(deviceId, v);
        }
        return v;
      };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      type Out = { event: 'delivery' | 'device'; key: string; data: unknown };
      const out = new Coalescer<Out>(
        (o) => o.key,
        (items) => res.write(items.map((o) => `event: ${o.event}\ndata: ${JSON.stringify(o.data)}\n\n`).join('')),
        COALESCE_MS,
      );
      const onDelivery = (e: ServerEventMap['delivery'][0]) => {
        if ((only && e.broadcastId !== only) || !sees(e.deviceId)) return;
        out.push({ event: 'delivery', key: `d ${e.broadcastId} ${e.deviceId} ${e.occurrenceAt}`, data: { ...e, occurrenceAt: new Date(e.occurrenceAt).toISOString(), at: new Date(e.at).toISOString() } });
      };
      const onDevice = (e: ServerEventMap['device'][0]) => {
        if (!only && sees(e.deviceId)) out.push({ event: 'device', key: e.fault ? `f ${e.deviceId} ${e.fault.kind}` : `p ${e.deviceId}`, data: e });
      };
      ctx.events.on('delivery', onDelivery);
      ctx.events.on('device', onDevice);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      const close = () => {
        clearInterval(keepalive);
        out.close();
        ctx.events.off('delivery', onDelivery);
        ctx.events.off('device', onDevice);
      };
      request.raw.on('close', close);
      ctx.onShutdown(() => {
        out.flush();
        close();
        res.end();
      });
    },
  );
};

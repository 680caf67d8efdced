/**
 * `GET /api/v1/events`: live delivery states and device presence as Server-Sent Events, for the operator's
 * "live status" view and the dashboard. Each user receives only events of devices inside their area, and only
 * while the login the stream was opened with still holds (checked at each keepalive, before each send and when the
 * user's sessions change).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { coversArea } from '../auth/scope.js';
import { principalOf, resolvePrincipal } from '../http/auth.js';
import type { AppContext } from '../services/context.js';
import { Coalescer, type ServerEventMap } from '../services/events.js';
import { access, ANY_ROLE } from '../http/access.js';
import { ApiError } from '../http/errors.js';
import { ErrorCode, eventsQuerySchema } from '@loaxa/shared';

/** Events reach a browser together at most this often, the latest per delivery and per device (issue 8). */
const COALESCE_MS = 100;
/**
 * A browser that stops reading (a frozen tab, a client holding the stream open on purpose) would make the
 * server keep everything it sends in memory. One coalesced emergency to 10,000 boxes is ~2.5 MB; a stream
 * this far behind is closed, and a browser's EventSource reconnects on its own.
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

/** What these routes use, and all they are given (wiring/http.ts). */
export type EventRouteDeps = Pick<AppContext, 'config' | 'areas' | 'users' | 'sessions' | 'devices' | 'events' | 'onShutdown'>;

export const eventRoutes: FastifyPluginAsyncZod<EventRouteDeps> = async (app, deps) => {
  // Streams per user (LOAXA_EVENT_STREAMS_PER_USER): each holds a socket, listeners on the bus and a buffer.
  const perUser = new Map<string, number>();
  // Open streams, ended together at shutdown by one hook (one hook per stream would pile up for ever).
  const open = new Set<() => void>();
  deps.onShutdown(() => {
    for (const end of [...open]) end();
  });

  app.get(
    '/api/v1/events',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'only events of areas inside the caller’s' }) },
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: `delivery` (broadcastId, deviceId, occurrenceAt, state, at, reason), `device` (presence, faults) and `relay` (a box’s relay: url now serving, cause, at)',
        querystring: eventsQuerySchema,
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      // Whether the login this stream was opened with still holds, as the same user with the same role and area:
      // a stream must not outlive a logout, a revoked or expired session, or its user disabled, demoted or moved
      // (the visibility cache below holds the areas of the user it was opened for). Resolved again from the
      // request's token, as the auth hook does.
      const stillValid = () => {
        try {
          const now = resolvePrincipal(request, deps.sessions, deps.users);
          return now !== null && now.id === user.id && now.role === user.role && now.areaCode === user.areaCode;
        } catch {
          return false; // the database already closed (shutdown): end rather than send unchecked
        }
      };
      const only = request.query.broadcast;
      const held = perUser.get(user.id) ?? 0;
      if (held >= deps.config.eventStreamsPerUser) {
        throw new ApiError(429, ErrorCode.RATE_LIMITED, `${held} live event streams are already open for this user, the most allowed (LOAXA_EVENT_STREAMS_PER_USER): close another tab or window`);
      }
      perUser.set(user.id, held + 1);
      // By device, from its area (one lean read each), and by area: 10,000 boxes sit in a few hundred areas.
      const visible = new Map<string, boolean>();
      const visibleArea = new Map<string, boolean>();
      const sees = (deviceId: string) => {
        let v = visible.get(deviceId);
        if (v === undefined) {
          const area = deps.devices.areaOf(deviceId);
          v = area === null ? false : (visibleArea.get(area) ?? coversArea(user, deps.areas.ancestry(area)));
          if (area !== null) visibleArea.set(area, v);
          visible.set(deviceId, v);
        }
        return v;
      };
      reply.hijack();
      const res = reply.raw;
      let closed = false;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      type Out = { event: 'delivery' | 'device' | 'relay' | 'programme-item'; key: string; data: unknown };
      const send = (text: string) => {
        if (closed) return;
        if (!stillValid()) return revoked();
        if (res.writableLength > MAX_UNSENT_BYTES) {
          request.log.warn({ userId: user.id, unsent: res.writableLength }, 'live event stream not read: closed');
          close();
          res.destroy();
        } else res.write(text);
      };
      const out = new Coalescer<Out>(
        (o) => o.key,
        (items) => send(items.map((o) => `event: ${o.event}\ndata: ${JSON.stringify(o.data)}\n\n`).join('')),
        COALESCE_MS,
      );
      const onDelivery = (e: ServerEventMap['delivery'][0]) => {
        if ((only && e.broadcastId !== only) || !sees(e.deviceId)) return;
        out.push({ event: 'delivery', key: `d ${e.broadcastId} ${e.deviceId} ${e.occurrenceAt}`, data: { ...e, occurrenceAt: new Date(e.occurrenceAt).toISOString(), at: new Date(e.at).toISOString() } });
      };
      const onDevice = (e: ServerEventMap['device'][0]) => {
        if (!only && sees(e.deviceId)) out.push({ event: 'device', key: e.fault ? `f ${e.deviceId} ${e.fault.kind}` : `p ${e.deviceId}`, data: e });
      };
      // Issue 15: the live status page shows which URL each box relays now, or why it does not.
      const onRelay = (e: ServerEventMap['relay'][0]) => {
        if ((only && e.broadcastId !== only) || !sees(e.deviceId)) return;
        out.push({ event: 'relay', key: `r ${e.broadcastId} ${e.deviceId} ${e.occurrenceAt}`, data: { ...e, occurrenceAt: new Date(e.occurrenceAt).toISOString(), at: new Date(e.at).toISOString() } });
      };
      // Issue 15: the live status page shows which item of a programme each box is at.
      const onProgrammeItem = (e: ServerEventMap['programme-item'][0]) => {
        if ((only && e.broadcastId !== only) || !sees(e.deviceId)) return;
        out.push({ event: 'programme-item', key: `i ${e.broadcastId} ${e.deviceId} ${e.occurrenceAt} ${e.index}`, data: { ...e, occurrenceAt: new Date(e.occurrenceAt).toISOString(), at: new Date(e.at).toISOString() } });
      };
      // Logout, or the user changed by an admin: checked at once rather than at the next keepalive.
      const onSessions = (e: ServerEventMap['sessions'][0]) => {
        if (e.userId === user.id && !closed && !stillValid()) revoked();
      };
      deps.events.on('delivery', onDelivery);
      deps.events.on('device', onDevice);
      deps.events.on('relay', onRelay);
      deps.events.on('programme-item', onProgrammeItem);
      deps.events.on('sessions', onSessions);
      const keepalive = setInterval(() => send(': keepalive\n\n'), deps.config.eventKeepaliveMs);
      // Once, whichever comes first: the client leaves (or is cut off above), or the server shuts down.
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        out.close();
        deps.events.off('delivery', onDelivery);
        deps.events.off('device', onDevice);
        deps.events.off('relay', onRelay);
        deps.events.off('programme-item', onProgrammeItem);
        deps.events.off('sessions', onSessions);
        open.delete(end);
        const left = (perUser.get(user.id) ?? 1) - 1;
        if (left > 0) perUser.set(user.id, left);
        else perUser.delete(user.id);
      };
      const end = () => {
        out.flush();
        close();
        res.end();
      };
      // Nothing waiting is sent: the browser's EventSource reconnects and gets 401.
      const revoked = () => {
        request.log.info({ userId: user.id }, 'live event stream ended: its login no longer holds');
        close();
        res.end();
      };
      open.add(end);
      res.on('close', close);
      // A client gone before the listener above was added would otherwise hold its slot for good.
      if (res.destroyed || !res.socket || res.socket.destroyed) close();
    },
  );
};

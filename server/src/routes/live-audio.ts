/**
 * Live voice (issue 16), the audio's two ends:
 *
 * `GET /api/v1/live/{id}/audio` — the operator's WebSocket. Only the airing's creator, logged in as for the
 * rest of the API (the web app's HttpOnly session cookie; a bearer token from other clients), and only from
 * this server's own pages: a browser sends the cookie with a WebSocket opened by any site, and the same-origin
 * policy does not apply to WebSockets, so a page elsewhere could otherwise speak on the commune's speakers
 * with the operator's session (cross-site WebSocket hijacking). Its Origin must be this server (the Host it
 * reached, or LOAXA_PUBLIC_URL); a cookie without an Origin is refused, a bearer token (not sent by browsers on
 * their own) needs none. Refusals happen before the upgrade, as HTTP answers. One socket per airing.
 *
 * `GET /live/{id}` — a box's stream of the airing: its own credentials (HTTP Basic, as /streams and /media),
 * and only a box the airing was sent to. Answered as the restream answers (routes/streams.ts): headers once,
 * then the bare MP3 bytes on the socket as the encoder gives them, until the airing ends; 410 after.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest, LogLevel } from 'fastify';
import type { WebSocket } from 'ws';
import type {} from '@fastify/websocket';
import { z } from 'zod';
import { ErrorCode, idSchema } from '@loaxa/shared';
import { principalOf, resolvePrincipal } from '../http/auth.js';
import { ApiError, conflict, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { access, WRITERS } from '../http/access.js';
import type { AppContext } from '../services/context.js';
import { OUTPUT_CONTENT_TYPE } from '../relay/restream.js';
import { deviceFromBasic } from './streams.js';

/** What these routes use, and all they are given (wiring/http.ts). */
export type LiveAudioRouteDeps = Pick<AppContext, 'config' | 'live' | 'deviceCredentials' | 'sessions' | 'users' | 'events'>;

/** The largest frame the operator may send (ws closes the socket with 1009 beyond): a second of AAC is 32 KB. */
export const LIVE_MAX_FRAME_BYTES = 64 * 1024;
/** A phone whose 4G link died sends no FIN: no pong for this long counts as the link dropped. */
const PING_MS = 2_000;
const PONG_TIMEOUT_MS = 6_000;
/** The operator's socket is behind by this much: level readings are skipped rather than queued. */
const MAX_OPERATOR_BACKLOG = 64 * 1024;

const params = z.object({ id: idSchema });

/** Whether a WebSocket request comes from this server's own pages (see above). */
function sameOrigin(request: FastifyRequest, publicUrl: string | undefined): boolean {
  const origin = request.headers.origin;
  if (!origin) return request.principal?.via === 'bearer';
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (o.host === request.host && o.protocol === `${request.protocol}:`) return true;
  if (!publicUrl) return false;
  try {
    return new URL(publicUrl).origin === o.origin;
  } catch {
    return false;
  }
}

export const liveAudioRoutes: FastifyPluginAsyncZod<LiveAudioRouteDeps> = async (app, deps) => {
  app.get(
    '/api/v1/live/:id/audio',
    {
      websocket: true,
      config: { access: access.roles(WRITERS, { object: 'bulletin', param: 'id' }, { why: 'go live' }) },
      schema: { params },
      // Before the upgrade: refusals are plain HTTP answers the browser reports.
      preHandler: async (request) => {
        const user = principalOf(request);
        if (!sameOrigin(request, deps.config.publicUrl)) throw forbidden('this WebSocket accepts only this server’s own pages (Origin)');
        const { id } = request.params;
        const rec = deps.live.record(id);
        if (!rec) throw notFound(`live airing ${id}`);
        if (rec.createdBy !== user.id) throw forbidden('only the one who went live may send its voice');
        const running = deps.live.airing(id);
        if (!running || rec.state === 'ended' || running.airing.state === 'ending' || running.airing.state === 'ended') {
          throw new ApiError(410, ErrorCode.EXPIRED, `live airing ${id} has ended (${rec.endReason ?? 'ended'}): go live again`);
        }
        if (!running.airing.canAttach) throw conflict(`live airing ${id} already has its voice on another connection`);
      },
    },
    (socket: WebSocket, request) => {
      const user = principalOf(request);
      const running = deps.live.airing(request.params.id);
      const airing = running?.airing;
      const attached = airing?.attach({
        send: (text) => {
          if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_OPERATOR_BACKLOG) socket.send(text);
        },
        close: (code, reason) => socket.close(code, reason),
      });
      if (!airing || !attached) return void socket.close(1008, 'the airing has ended or has another connection');
      // Issue 16 review: a voice must not outlive its speaker's login (a logout, a revoked session, the user
      // disabled, demoted or moved), as live-event streams do not (routes/events.ts): checked at every ping and
      // at once on a sessions notice; the socket then closes and the airing ends like a dropped link.
      const stillValid = (): boolean => {
        try {
          const now = resolvePrincipal(request, deps.sessions, deps.users);
          return now !== null && now.id === user.id && now.role === user.role && now.areaCode === user.areaCode;
        } catch {
          return false;
        }
      };
      const loggedOut = (): void => void socket.close(4001, 'your login ended: log in again to go live');
      const onSessions = (e: { userId: string }): void => {
        if (e.userId === user.id && !stillValid()) loggedOut();
      };
      deps.events.on('sessions', onSessions);
      let lastPong = performance.now();
      const ping = setInterval(() => {
        if (performance.now() - lastPong > PONG_TIMEOUT_MS) return void socket.terminate();
        if (!stillValid()) return loggedOut();
        socket.ping();
      }, PING_MS);
      socket.on('pong', () => (lastPong = performance.now()));
      socket.on('message', (data, isBinary) => {
        const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        if (isBinary) airing.onBinary(buf);
        else airing.onText(buf.toString('utf8'), user.id);
      });
      socket.on('close', () => {
        clearInterval(ping);
        deps.events.off('sessions', onSessions);
        airing.onLinkClosed(user.id);
      });
    },
  );

  // One line per box tuning in is noise at 2,000 boxes (as routes/streams.ts): refusals are logged at warn.
  const logLevel: LogLevel = ['trace', 'debug', 'info'].includes(app.log.level) ? 'warn' : (app.log.level as LogLevel);
  app.get(
    '/live/:id',
    {
      config: { access: access.self('a box’s own credentials (HTTP Basic), and only a box the airing was sent to (checked in the handler)') },
      logLevel,
      schema: {
        tags: ['live'],
        summary: 'A live airing’s stream for the boxes it was sent to (issue 16): MP3, 64 kbit/s mono, with their HTTP Basic credentials',
        description:
          'Boxes receive this URL in `play.stream.urls` with `deviceAuth: true` and `live: true`. The body is CBR MP3 as the voice is encoded (a joiner first ' +
          'gets ~0.3 s of recent audio); it ends when the airing ends. A box the airing was not sent to is refused (403); after the end, 410.',
        params,
        security: [{ deviceBasic: [] }],
        response: { 200: z.any().describe('the live stream, `audio/mpeg`, without length'), 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 410: errorBodySchema, 429: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const h = request.headers.authorization;
      const device = h?.startsWith('Basic ') ? deviceFromBasic(h, deps.deviceCredentials) : null;
      if (!device) {
        if (h) request.log.warn({ liveId: id, scheme: h.split(' ')[0]!.slice(0, 16) }, 'live stream credentials refused');
        reply.header('www-authenticate', 'Basic realm="loaxa-live"');
        throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'a live stream needs a box’s own credentials (HTTP Basic: its MQTT username and password)');
      }
      const refused = deps.live.refusal(id, device.id);
      if (refused === 'unknown') throw notFound(`live airing ${id}`);
      if (refused === 'refused') {
        request.log.warn({ liveId: id, deviceId: device.id }, 'a box asked for a live airing it was not sent');
        throw forbidden('this airing was not sent to this box');
      }
      if (refused === 'gone') throw new ApiError(410, ErrorCode.EXPIRED, `live airing ${id} has ended`);
      if (refused === 'busy') throw new ApiError(429, ErrorCode.RATE_LIMITED, 'this box already holds two streams of this airing: close one first');
      if (request.method === 'HEAD') return reply.header('content-type', OUTPUT_CONTENT_TYPE).header('cache-control', 'no-store').send();

      // The socket is the airing's from here, as the restream's (routes/streams.ts): headers once, bare bytes after.
      reply.hijack();
      const socket = reply.raw.socket;
      if (!socket || socket.destroyed) return;
      socket.on('error', () => undefined);
      // Every chunk out at once: Nagle's algorithm would hold a 192-byte frame for the previous one's ACK.
      socket.setNoDelay(true);
      socket.write(`HTTP/1.0 200 OK\r\ncontent-type: ${OUTPUT_CONTENT_TYPE}\r\ncache-control: no-store\r\nx-accel-buffering: no\r\nconnection: close\r\n\r\n`);
      const leave = deps.live.listen(id, device.id, socket);
      if (!leave) return void socket.end();
      socket.on('close', leave);
    },
  );
};

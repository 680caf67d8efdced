/**
 * `GET /streams/{sourceId}`: the server's own restream of a live source (issue 15: "a choice per source to go
 * through the server's own restream when a source allows few listeners or needs credentials";
 * relay/restream.ts pulls it once and encodes it once for every listener).
 *
 * Who may listen: a box, with its own MQTT credentials as HTTP Basic — checked on every request against its
 * stored secret and revocation through the DeviceCredentialCache, as `/media` does (routes/media.ts), so a
 * revoked box is refused from its next request — and only to a source usable in its area (the source's area
 * holds the box's, or the source is installation-wide). The play payload names this URL with
 * `deviceAuth: true` for a source with `restream: true` (services/play-book.ts). Browsers and API tokens are
 * not served here: nothing in the web app plays a live source yet, and an open listening URL would hand out
 * exactly what a source with few listener slots or its own credentials must not give away.
 *
 * The answer is `200 audio/mpeg` and never ends while the source serves; it ends when every URL of the source
 * is down (the box then plays its fallback and retries with its own back-off) or the server stops, and is cut
 * when the box is revoked or its secret changes, or the source's area no longer holds it (issue 15 review,
 * finding 2: checks made only on arrival let a revoked box keep listening). A box may hold 2 streams of one
 * source (429 beyond, finding 3); for a few seconds after every URL failed the answer is 503 with Retry-After.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LogLevel } from 'fastify';
import { ErrorCode } from '@loaxa/shared';
import { secretMatches } from '../auth/passwords.js';
import { ApiError, errorBodySchema, forbidden, notFound, unavailable } from '../http/errors.js';
import { access } from '../http/access.js';
import type { AppContext } from '../services/context.js';
import type { DeviceCredentialCache } from '../auth/device-credentials.js';
import { OUTPUT_CONTENT_TYPE, type Restreamer } from '../relay/restream.js';

/** What this route uses, and all it is given (wiring/http.ts). */
export type StreamRouteDeps = Pick<AppContext, 'sources' | 'areas' | 'deviceCredentials'> & { restream: Restreamer };

/** The box named by HTTP Basic credentials, with its area, if they are its current ones and it is not revoked (also live voice: routes/live-audio.ts). */
export function deviceFromBasic(header: string, credentials: DeviceCredentialCache): { id: string; areaCode: string } | null {
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  const id = decoded.slice(0, colon);
  const creds = credentials.get(id);
  return creds && !creds.revoked && secretMatches(decoded.slice(colon + 1), creds.secretHash) ? { id, areaCode: creds.areaCode } : null;
}

export const streamRoutes: FastifyPluginAsyncZod<StreamRouteDeps> = async (app, deps) => {
  // One line per box tuning in is noise at 2,000 boxes: nothing below warn (refusals are logged at warn),
  // without ever making this route chattier than the server's own level (as routes/broker-auth.ts does).
  const logLevel: LogLevel = ['trace', 'debug', 'info'].includes(app.log.level) ? 'warn' : (app.log.level as LogLevel);
  app.get(
    '/streams/:sourceId',
    {
      config: { access: access.self('a box’s own credentials (HTTP Basic), and a source usable in its area (checked in the handler)') },
      logLevel,
      schema: {
        tags: ['sources'],
        summary: 'The server’s restream of a live source (issue 15): MP3, 64 kbit/s mono, for boxes with their HTTP Basic credentials',
        description:
          'Only for sources with `restream: true`; boxes receive this URL in `play.stream.urls` with `deviceAuth: true` and send their MQTT username and password as HTTP Basic. A box hears only sources usable in its area. The body is an endless CBR MP3 stream (a joiner first gets ~2 s of recent audio); it ends when every URL of the source is down.',
        params: z.object({ sourceId: z.string().min(1).max(64) }),
        security: [{ deviceBasic: [] }],
        response: {
          200: z.any().describe('the live stream, `audio/mpeg`, without length'),
          401: errorBodySchema,
          403: errorBodySchema,
          404: errorBodySchema,
          429: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const { sourceId } = request.params;
      const h = request.headers.authorization;
      const device = h?.startsWith('Basic ') ? deviceFromBasic(h, deps.deviceCredentials) : null;
      if (!device) {
        if (h) request.log.warn({ sourceId, scheme: h.split(' ')[0]!.slice(0, 16) }, 'stream credentials refused');
        reply.header('www-authenticate', 'Basic realm="loaxa-streams"');
        throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'the restream needs a box’s own credentials (HTTP Basic: its MQTT username and password)');
      }
      const source = deps.sources.get(sourceId);
      if (!source || source.deletedAt !== null) throw notFound(`source ${sourceId}`);
      if (!source.restream) throw notFound(`a restream of source ${sourceId} (the boxes pull its URLs themselves)`);
      if (source.areaCode !== null && !deps.areas.ancestry(device.areaCode).includes(source.areaCode)) {
        request.log.warn({ sourceId, deviceId: device.id, areaCode: device.areaCode }, 'a box asked for a source outside its area');
        throw forbidden('this source is not usable in the box’s area');
      }
      if (request.method === 'HEAD') return reply.header('content-type', OUTPUT_CONTENT_TYPE).header('cache-control', 'no-store').send();

      const refused = deps.restream.refusal(source, device);
      if (refused?.reason === 'stopping') throw unavailable('the server is stopping');
      if (refused?.reason === 'busy') {
        request.log.warn({ sourceId, deviceId: device.id, held: refused.held }, 'a box asked for one restream too many');
        throw new ApiError(429, ErrorCode.RATE_LIMITED, `this box already has ${refused.held} streams of source ${sourceId} open, the most allowed: close one first`);
      }
      if (refused?.reason === 'down') {
        const s = Math.max(1, Math.ceil(refused.retryAfterMs / 1000));
        reply.header('retry-after', s);
        throw unavailable(`every URL of source ${sourceId} is down; try again in ${s} s`);
      }

      // From here the socket is the restream's: headers once, then the bare bytes as they are encoded, until the
      // connection closes — the way Icecast answers. Not a chunked ServerResponse: its framing and stream
      // machinery were most of the restream's CPU with 2,000 boxes (bench/README.md § Relays, "What limits it").
      reply.hijack();
      const socket = reply.raw.socket;
      if (!socket || socket.destroyed) return;
      socket.on('error', () => undefined);
      socket.write(`HTTP/1.0 200 OK\r\ncontent-type: ${OUTPUT_CONTENT_TYPE}\r\ncache-control: no-store\r\nx-accel-buffering: no\r\nconnection: close\r\n\r\n`);
      const leave = deps.restream.listen(source, device, socket);
      if (!leave) return void socket.end();
      socket.on('close', leave);
      request.log.debug({ sourceId, deviceId: device.id }, 'a box tuned in to the restream');
    },
  );
};

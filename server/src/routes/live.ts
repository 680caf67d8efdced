/**
 * Live voice (issue 16), the API: go live, see an airing, end it. The audio itself travels on the WebSocket
 * `GET /api/v1/live/{id}/audio` and the boxes' stream `GET /live/{id}` (routes/live-audio.ts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIVE_INPUT_TYPES, LIVE_MAX_MS, idSchema, liveSessionSchema, liveStartBodySchema } from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, notFound } from '../http/errors.js';
import { access, ANY_ROLE, WRITERS } from '../http/access.js';
import { publicBase } from '../http/public-base.js';
import type { AppContext } from '../services/context.js';

/** What these routes use, and all they are given (wiring/http.ts). */
export type LiveRouteDeps = Pick<AppContext, 'config' | 'live'>;

const params = z.object({ id: idSchema });

export const liveRoutes: FastifyPluginAsyncZod<LiveRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/live',
    {
      config: { access: access.roles(WRITERS, { scope: 'every target inside the caller’s area (BroadcastService.checkTargets); the priority allowed to the caller’s role by LOAXA_LIVE_ROLES' }, { why: 'go live' }) },
      schema: {
        tags: ['live'],
        summary: 'Go live (issue 16): a bulletin of kind `live` and an approved broadcast of it, sent to the boxes at once',
        description:
          'Checks the caller, the target and the priority once: the roles LOAXA_LIVE_ROLES allows at that priority go live without approval, ' +
          'others get 403 with the reason; an emergency also needs a recent login (401, as for broadcasts). The boxes get a `play` whose `stream` ' +
          '(`live: true`) names the airing’s stream and start listening; the voice follows on the WebSocket `audioPath` (same origin, the session ' +
          `cookie or a bearer token; Origin must be this server): first a text frame {"type":"start","mimeType":…} (${LIVE_INPUT_TYPES.join(', ')}, ` +
          'parameters allowed), then the recorder’s chunks as binary frames (64 KiB at most each); {"type":"stop"} or closing the socket ends it ' +
          '(`stopped`, `link-dropped`). The server sends {"type":"level"} every 100 ms, {"type":"boxes"} every second and {"type":"ended"} at the end. ' +
          `An airing ends after 10 s without audio (30 s before the first), and after ${LIVE_MAX_MS / 3_600_000} hours. Its recording becomes the ` +
          'bulletin’s audio (GET /api/v1/bulletins/{id}), airable again with POST /api/v1/broadcasts.',
        body: liveStartBodySchema,
        response: { 201: liveSessionSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const session = await deps.live.create(principalOf(request), request.body, publicBase(deps.config, request));
      return reply.status(201).send(session);
    },
  );

  app.get(
    '/api/v1/live/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'bulletin', param: 'id' }) },
      schema: {
        tags: ['live'],
        summary: 'A live airing: its state, why it ended, the ms of voice aired, the boxes it was sent to',
        params,
        response: { 200: liveSessionSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const session = deps.live.view(request.params.id);
      if (!session) throw notFound(`live airing ${request.params.id}`);
      return session;
    },
  );

  app.post(
    '/api/v1/live/:id/stop',
    {
      config: { access: access.roles(WRITERS, { object: 'bulletin', param: 'id' }, { why: 'end a live airing' }) },
      schema: {
        tags: ['live'],
        summary: 'End a live airing: the one who went live, or an approver. Answers once the boxes’ streams have ended',
        params,
        response: { 200: liveSessionSchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => deps.live.stop(principalOf(request), request.params.id),
  );
};

/**
 * Remote maintenance of a box without driving there (issue 5): `POST /api/v1/devices/{id}/commands` sends a
 * command on the box's `cmd` topic and answers with what the box answered on `res` (or 504 at the deadline).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { deviceCommandBodySchema, deviceCommandResultSchema, idParamsSchema, encodeMessage, messageCatalog, topics, ErrorCode, type MessageType } from '@loaxa/shared';
import { randomUUID } from 'node:crypto';
import { principalOf } from '../http/auth.js';
import { ApiError, badRequest, conflict, errorBodySchema, forbidden, notFound, unavailable } from '../http/errors.js';
import { RequestSendError, RequestTimeoutError } from '../services/requests.js';
import type { AppContext } from '../services/context.js';
import { access, WRITERS } from '../http/access.js';

/** Maintenance commands and who may send them; playback commands go through broadcasts. */
const ALLOWED: Record<string, 'writer' | 'admin'> = {
  'set-volume': 'writer',
  'test-tone': 'writer',
  'fetch-logs': 'writer',
  reboot: 'admin',
  'update-config': 'admin',
  'self-update': 'admin',
};

/** What these routes use, and all they are given (wiring/http.ts). */
export type DeviceCommandRouteDeps = Pick<AppContext, 'devices' | 'objects' | 'bus' | 'requests'>;

export const deviceCommandRoutes: FastifyPluginAsyncZod<DeviceCommandRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/devices/:id/commands',
    {
      config: { access: access.roles(WRITERS, { object: 'device', param: 'id' }, { why: 'send maintenance commands' }) },
      schema: {
        tags: ['devices'],
        summary: 'Send a maintenance command (set-volume, test-tone, fetch-logs; reboot, update-config and self-update for province admins) and get the box’s answer',
        params: idParamsSchema,
        body: deviceCommandBodySchema,
        response: {
          200: deviceCommandResultSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          404: errorBodySchema,
          409: errorBodySchema,
          503: errorBodySchema,
          504: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const device = deps.devices.get(request.params.id);
      if (!device || !deps.objects.deviceVisible(user, device)) throw notFound(`device ${request.params.id}`);
      const { type, payload, timeoutMs } = request.body;
      const need = ALLOWED[type];
      if (!need || !Object.hasOwn(messageCatalog, type)) {
        throw badRequest(`unknown command ${JSON.stringify(type)}; use one of ${Object.keys(ALLOWED).filter((k) => Object.hasOwn(messageCatalog, k)).join(', ')}`, [{ path: 'type', message: 'unknown command' }]);
      }
      // Writers may send every command (the route's declaration); reboot, update-config and self-update are the province's.
      if (need === 'admin' && user.role !== 'province-admin') throw forbidden(`your role cannot send ${type}`);
      if (!device.online) throw conflict(`device ${device.id} is offline; try again when it is back`);
      const id = randomUUID();
      let message: string;
      try {
        message = encodeMessage(type as MessageType, payload as never, { id, expiresAt: Date.now() + timeoutMs });
      } catch (err) {
        throw badRequest((err as Error).message.replace('refusing to send an invalid', 'invalid'), [{ path: 'payload', message: 'does not match the command' }]);
      }
      // Publish and answer in one promise, awaited here at once: a failed or slow publish can no longer
      // leave a rejected promise without a handler, which ended the server (issue 13, finding 11).
      const send = async () => {
        await deps.bus.publish(topics.deviceCmd(device.id), message, { qos: 1, retain: false });
        request.log.info({ deviceId: device.id, type, userId: user.id }, 'device command sent');
      };
      try {
        const res = await deps.requests.request(id, device.id, timeoutMs, send);
        return res.ok ? { ok: true, data: res.data } : { ok: false, error: res.error };
      } catch (err) {
        if (err instanceof RequestTimeoutError) throw new ApiError(504, ErrorCode.UNAVAILABLE, err.message);
        if (err instanceof RequestSendError) {
          request.log.error({ err, deviceId: device.id, type }, 'device command not sent');
          throw unavailable(`the command could not be sent to ${device.id}: the MQTT broker did not take it (${(err.cause as Error | undefined)?.message ?? err.message}); try again when the broker is back`);
        }
        throw err;
      }
    },
  );
};

/**
 * Auth and ACL answers for external brokers with HTTP auth plugins (EMQX's HTTP authenticator and
 * authorizer, and others of the same shape): the broker posts each CONNECT and each publish/subscribe and
 * gets `{result: "allow" | "deny"}`. The decisions are acl.ts's `decide()` and the devices' SHA-256
 * secrets, the same as the embedded broker's hooks (issue 7 § Devices).
 *
 * Called by the broker, not by people: no user session; a shared secret in `Authorization: Bearer`
 * (LOAXA_BROKER_AUTH_TOKEN) instead. Anything but a clear allow is a 200 `deny`: EMQX treats other status
 * codes as "ignore", which with a permissive `no_match` would let the client through.
 */
import { z } from 'zod';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { LogLevel } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorCode } from '@loaxa/shared';
import { secretMatches } from '../auth/passwords.js';
import { decide, type DeviceIdentity } from '../broker/acl.js';
import { ApiError, errorBodySchema, sendError } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { access } from '../http/access.js';

/** What these routes use (the boxes' credentials, areas, the flood penalty), and their own settings. */
export interface BrokerAuthOptions extends Pick<AppContext, 'deviceCredentials' | 'areas' | 'misbehaviour'> {
  /** LOAXA_BROKER_AUTH_TOKEN; unset, every call is refused with 401. */
  token: string | undefined;
  /** The server's own broker login (LOAXA_MQTT_USERNAME/PASSWORD): allowed as a superuser. */
  serverLogin?: { username: string; password: string } | undefined;
}

const field = z.string().max(1024).optional();
const authBody = z.object({ clientid: field, username: field, password: field });
const aclBody = z.object({ clientid: field, username: field, topic: field, action: field });
/** Each field is at most 1 KiB and there are four: anything larger is not a broker asking. */
const BODY_LIMIT_BYTES = 16 * 1024;
const answer = z.object({ result: z.enum(['allow', 'deny']), is_superuser: z.boolean().optional() });

const digest = (s: string) => createHash('sha256').update(s).digest();
const equalSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export const brokerAuthRoutes: FastifyPluginAsyncZod<BrokerAuthOptions> = async (app, deps) => {
  const { token, serverLogin } = deps;
  // The broker calls on every login and (uncached) publish/subscribe: no per-request log lines below warn,
  // without ever making these routes chattier than the server's own level.
  const logLevel: LogLevel = ['trace', 'debug', 'info'].includes(app.log.level) ? 'warn' : (app.log.level as LogLevel);
  app.addHook('onRequest', async (request) => {
    if (!token) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'broker auth is disabled: set LOAXA_BROKER_AUTH_TOKEN');
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ') || !equalSecret(header.slice(7), token)) {
      request.log.warn({ ip: request.ip }, 'broker auth call with a wrong or missing token');
      throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'send Authorization: Bearer <LOAXA_BROKER_AUTH_TOKEN>');
    }
  });
  // A body that is not JSON, too large, or of the wrong shape is a refusal like any other, answered 200
  // `deny`: a 400 or 413 is "ignore" to EMQX, and with a permissive `no_match` that would let the client in.
  // Only a call without the right token gets its 401 (it is not the broker asking).
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof ApiError && err.statusCode === 401) return sendError(reply, 401, err.code, err.message);
    request.log.warn({ reason: String((err as Error).message ?? err).slice(0, 200) }, 'malformed broker auth call: denied');
    return reply.status(200).send({ result: 'deny' as const });
  });

  /** The identity of an active device, when the client id is its id (one box never opens another's session). */
  function deviceIdentity(clientid: string | undefined, username: string | undefined): DeviceIdentity | null {
    if (!username || clientid !== username) return null;
    const creds = deps.deviceCredentials.get(username);
    return creds && !creds.revoked ? { kind: 'device', deviceId: username, areaAncestry: deps.areas.ancestry(creds.areaCode) } : null;
  }

  const isServer = (username: string | undefined) => !!serverLogin && username === serverLogin.username;

  app.post(
    '/api/v1/broker/auth',
    {
      config: { access: access.self('the external broker’s shared token (checked in the handler)') },
      logLevel,
      bodyLimit: BODY_LIMIT_BYTES,
      schema: {
        tags: ['broker'],
        summary: 'For an external broker’s HTTP authenticator: may this CONNECT log in? (Bearer LOAXA_BROKER_AUTH_TOKEN)',
        body: authBody,
        response: { 200: answer, 401: errorBodySchema },
      },
    },
    async (request) => {
      const { clientid, username, password } = request.body;
      try {
        if (isServer(username)) {
          if (password !== undefined && equalSecret(password, serverLogin!.password)) return { result: 'allow' as const, is_superuser: true };
        } else {
          const creds = username ? deps.deviceCredentials.get(username) : null;
          // A box cut off for flooding stays out for its whole penalty behind an external broker too (issue 13, finding 7).
          const penalized = !!username && deps.misbehaviour.over(username);
          if (creds && !creds.revoked && !penalized && password !== undefined && clientid === username && secretMatches(password, creds.secretHash)) {
            return { result: 'allow' as const, is_superuser: false };
          }
        }
      } catch (err) {
        request.log.error({ err }, 'broker auth check failed');
      }
      request.log.warn({ clientid, username }, 'broker login refused');
      return { result: 'deny' as const, is_superuser: false };
    },
  );

  app.post(
    '/api/v1/broker/acl',
    {
      config: { access: access.self('the external broker’s shared token (checked in the handler)') },
      logLevel,
      bodyLimit: BODY_LIMIT_BYTES,
      schema: {
        tags: ['broker'],
        summary: 'For an external broker’s HTTP authorizer: may this client publish or subscribe here? (Bearer LOAXA_BROKER_AUTH_TOKEN)',
        body: aclBody,
        response: { 200: answer, 401: errorBodySchema },
      },
    },
    async (request) => {
      const { clientid, username, topic, action } = request.body;
      try {
        if (isServer(username)) return { result: 'allow' as const };
        const identity = deviceIdentity(clientid, username);
        if (identity && topic && (action === 'publish' || action === 'subscribe')) {
          const decision = decide(identity, action, topic);
          if (decision.allow) return { result: 'allow' as const };
          request.log.warn({ deviceId: identity.deviceId, topic, action, reason: decision.reason }, 'broker acl refused');
          return { result: 'deny' as const };
        }
      } catch (err) {
        request.log.error({ err }, 'broker acl check failed');
      }
      request.log.warn({ clientid, username, topic, action }, 'broker acl refused');
      return { result: 'deny' as const };
    },
  );
};

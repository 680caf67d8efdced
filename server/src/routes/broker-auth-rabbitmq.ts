/**
 * Auth and ACL answers for RabbitMQ's HTTP auth backend (rabbitmq_auth_backend_http, issue 21): the nodes
 * POST a form (`application/x-www-form-urlencoded`) to four URLs set in rabbitmq.conf (deploy/rabbitmq/)
 * and read a plain-text `allow` or `deny` (https://github.com/rabbitmq/rabbitmq-server/tree/main/deps/rabbitmq_auth_backend_http).
 * The decisions are those of the embedded broker and of the EMQX routes (broker-auth.ts): acl.ts's
 * `decide()` and the devices' SHA-256 secrets.
 *
 * What RabbitMQ 3.10's MQTT plugin sends (measured against Debian's 3.10.8, test/e2e/rabbitmq-cluster.test.ts):
 * - user:     username, password, vhost, client_id
 * - vhost:    username, vhost, ip, tags, client_id
 * - resource: username, vhost, resource (queue|exchange), name, permission (configure|write|read), tags, client_id
 * - topic:    username, vhost, resource=topic, name=amq.topic, permission (write = publish, read = subscribe),
 *             routing_key, variable_map.client_id, variable_map.username, variable_map.vhost
 * The routing key is the AMQP form of the MQTT topic: the plugin swaps `/` and `.` and turns `+` into `*`
 * (`#` stays), so `loaxa/v1/d/x/status` arrives as `loaxa.v1.d.x.status` and is turned back before `decide()`.
 *
 * The backend cannot send a bearer header. Erlang's httpc turns the URL's user info into
 * `Authorization: Basic`, so rabbitmq.conf's URLs carry `rabbitmq:<LOAXA_BROKER_AUTH_TOKEN>@`; the token
 * is compared in constant time (SHA-256 digests, as broker-auth.ts does), never logged, and never in a
 * path or query that an access log would keep. A wrong token is a 401, which RabbitMQ takes as a refusal.
 */
import { z } from 'zod';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, LogLevel } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorCode } from '@loaxa/shared';
import { secretMatches } from '../auth/passwords.js';
import { decide, type DeviceIdentity } from '../broker/acl.js';
import { ApiError, sendError } from '../http/errors.js';
import { access } from '../http/access.js';
import type { BrokerAuthOptions } from './broker-auth.js';

/** The one user name RabbitMQ's URLs carry before the token. */
export const RABBITMQ_AUTH_USER = 'rabbitmq';

const field = z.string().max(1024).optional();
const form = z.object({
  username: field,
  password: field,
  vhost: field,
  client_id: field,
  resource: field,
  name: field,
  permission: field,
  routing_key: field,
  'variable_map.client_id': field,
});
type Form = z.infer<typeof form>;
/** A dozen fields of at most 1 KiB: anything larger is not RabbitMQ asking. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** The vhost the MQTT plugin uses (`mqtt.vhost` in deploy/rabbitmq/rabbitmq.conf). */
const MQTT_VHOST = '/';
/** The exchange the MQTT plugin publishes to and binds from (`mqtt.exchange`). */
const MQTT_EXCHANGE = 'amq.topic';

const digest = (s: string) => createHash('sha256').update(s).digest();
const equalSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * The MQTT topic behind a routing key or binding key of the MQTT plugin: it swaps `.` and `/` and writes
 * `+` as `*` (rabbit_mqtt_util:mqtt_to_amqp/1); `#` means the same in both.
 */
export function mqttTopicOf(routingKey: string): string {
  return routingKey.replace(/[./*]/g, (c) => (c === '.' ? '/' : c === '/' ? '.' : '+'));
}

/** The queues the MQTT plugin declares for a client's subscriptions (one per QoS). */
const ownQueue = (clientId: string, name: string | undefined) => name === `mqtt-subscription-${clientId}qos0` || name === `mqtt-subscription-${clientId}qos1`;

export const rabbitmqBrokerAuthRoutes: FastifyPluginAsyncZod<BrokerAuthOptions> = async (app, deps) => {
  const { token, serverLogin } = deps;
  const logLevel: LogLevel = ['trace', 'debug', 'info'].includes(app.log.level) ? 'warn' : (app.log.level as LogLevel);
  // Only the form RabbitMQ sends, here only (this plugin is encapsulated): the rest of the API stays JSON-only,
  // and a JSON body here is refused like any other shape RabbitMQ never sends.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    const out: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body as string)) out[k] = v;
    done(null, out);
  });
  app.addHook('onRequest', async (request) => {
    if (!token) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'broker auth is disabled: set LOAXA_BROKER_AUTH_TOKEN');
    const header = request.headers.authorization ?? '';
    const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    if (!equalSecret(decoded, `${RABBITMQ_AUTH_USER}:${token}`)) {
      request.log.warn({ ip: request.ip }, 'rabbitmq auth call with a wrong or missing token');
      throw new ApiError(401, ErrorCode.UNAUTHORIZED, `put rabbitmq:<LOAXA_BROKER_AUTH_TOKEN>@ in the auth_http URLs`);
    }
  });
  // Anything malformed is a refusal, answered like one (RabbitMQ reads the body, not the status).
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof ApiError && err.statusCode === 401) return sendError(reply, 401, err.code, err.message);
    request.log.warn({ reason: String((err as Error).message ?? err).slice(0, 200) }, 'malformed rabbitmq auth call: denied');
    return reply.status(200).type('text/plain; charset=utf-8').send('deny');
  });

  const isServer = (username: string | undefined) => !!serverLogin && username === serverLogin.username;

  /** An active device whose MQTT client id is its own id (one box never opens another's session). */
  function device(username: string | undefined, clientId: string | undefined): DeviceIdentity | null {
    if (!username || clientId !== username) return null;
    const creds = deps.deviceCredentials.get(username);
    return creds && !creds.revoked ? { kind: 'device', deviceId: username, areaAncestry: deps.areas.ancestry(creds.areaCode) } : null;
  }

  function say(reply: FastifyReply, allow: boolean): string {
    void reply.type('text/plain; charset=utf-8');
    return allow ? 'allow' : 'deny';
  }

  const route = (path: string, summary: string, decideFor: (body: Form, log: (msg: string, extra?: object) => void) => boolean) =>
    app.post(
      `/api/v1/broker/rabbitmq/${path}`,
      {
        config: { access: access.self('RabbitMQ’s shared token in Basic auth (checked in the handler)') },
        logLevel,
        bodyLimit: BODY_LIMIT_BYTES,
        schema: { tags: ['broker'], summary, body: form },
      },
      async (request, reply) => {
        let allow = false;
        try {
          allow = decideFor(request.body, (msg, extra) => request.log.warn({ username: request.body.username, ...extra }, msg));
        } catch (err) {
          request.log.error({ err }, 'rabbitmq auth check failed');
        }
        return say(reply, allow);
      },
    );

  route('user', 'For RabbitMQ’s HTTP auth backend: may this login connect?', (b, log) => {
    const { username, password, client_id: clientId } = b;
    if (isServer(username)) return password !== undefined && equalSecret(password, serverLogin!.password);
    const creds = username ? deps.deviceCredentials.get(username) : null;
    // A box cut off for flooding stays out for its whole penalty (issue 13, finding 7), as with EMQX.
    const penalized = !!username && deps.misbehaviour.over(username);
    const ok = !!creds && !creds.revoked && !penalized && password !== undefined && clientId === username && secretMatches(password, creds.secretHash);
    if (!ok) log('rabbitmq login refused', { clientId });
    return ok;
  });

  route('vhost', 'For RabbitMQ’s HTTP auth backend: may this login use the vhost?', (b) => {
    if (b.vhost !== MQTT_VHOST) return false;
    return isServer(b.username) || device(b.username, b.client_id) !== null;
  });

  route('resource', 'For RabbitMQ’s HTTP auth backend: may this login use this queue or exchange?', (b, log) => {
    if (b.vhost !== MQTT_VHOST) return false;
    if (isServer(b.username)) return true;
    const id = device(b.username, b.client_id);
    // A box's own subscription queues, and the MQTT exchange (topic checks below decide the keys).
    const ok = !!id && ((b.resource === 'queue' && ownQueue(id.deviceId, b.name)) || (b.resource === 'exchange' && b.name === MQTT_EXCHANGE && (b.permission === 'read' || b.permission === 'write')));
    if (!ok) log('rabbitmq resource refused', { resource: b.resource, name: b.name, permission: b.permission });
    return ok;
  });

  route('topic', 'For RabbitMQ’s HTTP auth backend: may this login publish or subscribe on this topic?', (b, log) => {
    if (b.vhost !== MQTT_VHOST || b.resource !== 'topic' || b.name !== MQTT_EXCHANGE || b.routing_key === undefined) return false;
    if (isServer(b.username)) return true;
    const id = device(b.username, b['variable_map.client_id'] ?? b.client_id);
    const action = b.permission === 'write' ? 'publish' : b.permission === 'read' ? 'subscribe' : null;
    if (!id || !action) return false;
    const topic = mqttTopicOf(b.routing_key);
    const decision = decide(id, action, topic);
    if (!decision.allow) log('rabbitmq acl refused', { topic, action, reason: decision.reason });
    return decision.allow;
  });
};

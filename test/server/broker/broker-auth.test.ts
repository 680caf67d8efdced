/**
 * The HTTP auth/ACL endpoints for external brokers, called over real HTTP the way EMQX's HTTP
 * authenticator and authorizer call them (POST, JSON body from their templates, a bearer header).
 */
import t, { type Test } from 'tap';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { topics } from '@loaxa/shared';
import { brokerAuthRoutes } from '../../../server/src/routes/broker-auth.js';
import { installErrorHandlers } from '../../../server/src/http/errors.js';
import { startTestServer, importSampleAreas } from '../../helpers/server.js';

const TOKEN = 'broker-shared-secret-0123456789abcdef';
const SERVER_LOGIN = { username: 'loaxa-server', password: 'server-broker-password' };

async function setup(t: Test, token: string | undefined = TOKEN) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const a = (await s.api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, s.token)).body;
  const b = (await s.api('POST', '/api/v1/devices', { name: 'b', areaCode: '99004' }, s.token)).body;
  // The real server is already listening; the plugin goes into a Fastify of our own, on the same repositories.
  // tsc -b needs the cast (pino's Logger is not Fastify's base logger to it); the linter's project sees it as a no-op.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const app = Fastify({ loggerInstance: pino({ level: 'silent' }) as FastifyBaseLogger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  const { deviceCredentials, areas, misbehaviour } = s.server.ctx;
  await app.register(brokerAuthRoutes, { deviceCredentials, areas, misbehaviour, token, serverLogin: SERVER_LOGIN });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  /** What EMQX sends: its body template filled in, `content-type: application/json`, our bearer header. */
  async function emqx(path: 'auth' | 'acl', body: Record<string, string>, bearer: string | null = TOKEN) {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const res = await fetch(`${base}/api/v1/broker/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { result?: string; is_superuser?: boolean; error?: { code: string; message: string } } };
  }
  const auth = (clientid: string, username: string, password: string, bearer?: string | null) =>
    emqx('auth', { clientid, username, password, peerhost: '127.0.0.1', proto_name: 'MQTT' }, bearer);
  const acl = (clientid: string, username: string, action: string, topic: string) =>
    emqx('acl', { clientid, username, action, topic, qos: '1', retain: 'false', peerhost: '127.0.0.1', mountpoint: '' });
  return { ...s, a, b, auth, acl, emqx };
}

t.test('login: a device with its own secret and its id as client id; nothing else', async (t) => {
  const { a, b, auth } = await setup(t);
  t.same((await auth(a.id, a.id, a.mqtt.password)).body, { result: 'allow', is_superuser: false });
  t.same((await auth(a.id, a.id, 'wrong')).body, { result: 'deny', is_superuser: false });
  t.same((await auth(a.id, a.id, b.mqtt.password)).body.result, 'deny', 'another box’s secret');
  t.same((await auth('someone-else', a.id, a.mqtt.password)).body.result, 'deny', 'client id must equal the device id');
  t.same((await auth('spk-ghost', 'spk-ghost', 'x')).body.result, 'deny', 'unknown device');
  t.same((await auth('', '', '')).body.result, 'deny', 'empty login');
  t.same((await auth('loaxa-server-1a2b', SERVER_LOGIN.username, SERVER_LOGIN.password)).body, { result: 'allow', is_superuser: true }, 'the server’s own login');
  t.same((await auth('loaxa-server-1a2b', SERVER_LOGIN.username, 'nope')).body.result, 'deny');
});

t.test('a revoked device is refused at login and for every topic', async (t) => {
  const { a, auth, acl, api, token } = await setup(t);
  t.equal((await auth(a.id, a.id, a.mqtt.password)).body.result, 'allow');
  t.equal((await api('POST', `/api/v1/devices/${a.id}/revoke`, undefined, token)).status, 200);
  t.equal((await auth(a.id, a.id, a.mqtt.password)).body.result, 'deny');
  t.equal((await acl(a.id, a.id, 'publish', topics.deviceStatus(a.id))).body.result, 'deny');
});

t.test('acl: the same decisions as the embedded broker', async (t) => {
  const { a, b, acl } = await setup(t);
  const cases: Array<[string, string, 'allow' | 'deny']> = [
    ['publish', topics.deviceStatus(a.id), 'allow'],
    ['publish', topics.deviceTelemetry(a.id), 'allow'],
    ['publish', topics.deviceEvent(a.id), 'allow'],
    ['publish', topics.deviceRes(a.id), 'allow'],
    ['publish', topics.deviceCmd(a.id), 'deny'],
    ['publish', topics.deviceEvent(b.id), 'deny'],
    ['publish', topics.areaCmd('99003'), 'deny'],
    ['publish', topics.serverStatus(), 'deny'],
    ['subscribe', topics.deviceCmd(a.id), 'allow'],
    ['subscribe', topics.areaCmd('99003'), 'allow'],
    ['subscribe', topics.areaCmd('99'), 'allow'],
    ['subscribe', topics.serverStatus(), 'allow'],
    ['subscribe', topics.deviceCmd(b.id), 'deny'],
    ['subscribe', topics.areaCmd('99004'), 'deny'],
    ['subscribe', 'loaxa/#', 'deny'],
    ['subscribe', 'loaxa/v1/d/+/cmd', 'deny'],
    ['subscribe', '$SYS/#', 'deny'],
    ['subscribe', topics.deviceStatus(a.id), 'deny'],
    ['all', topics.deviceStatus(a.id), 'deny'],
  ];
  for (const [action, topic, want] of cases) {
    const res = await acl(a.id, a.id, action, topic);
    t.equal(res.status, 200);
    t.equal(res.body.result, want, `${action} ${topic}`);
  }
  t.equal((await acl('someone-else', a.id, 'publish', topics.deviceStatus(a.id))).body.result, 'deny', 'client id must equal the device id');
  t.equal((await acl('spk-ghost', 'spk-ghost', 'subscribe', topics.serverStatus())).body.result, 'deny', 'unknown device');
  t.equal((await acl('loaxa-server-1a2b', SERVER_LOGIN.username, 'publish', topics.areaCmd('99'))).body.result, 'allow', 'the server may command');
});

t.test('only the broker may call: the shared secret is required', async (t) => {
  const { a, auth, emqx } = await setup(t);
  for (const bearer of [null, 'wrong-secret', `${TOKEN}x`, '']) {
    const res = await auth(a.id, a.id, a.mqtt.password, bearer);
    t.equal(res.status, 401, `bearer ${JSON.stringify(bearer)}`);
    t.equal(res.body.error?.code, 'LOAXA_UNAUTHORIZED');
    t.notOk(res.body.result, 'no decision without the secret');
  }
  const malformed = await emqx('acl', { clientid: a.id, username: a.id });
  t.same(malformed.body, { result: 'deny' }, 'missing fields are a deny, not an error the broker would ignore');
});

t.test('without LOAXA_BROKER_AUTH_TOKEN every call is refused', async (t) => {
  const { a, auth } = await setup(t, undefined);
  const res = await auth(a.id, a.id, a.mqtt.password, 'anything');
  t.equal(res.status, 401);
  t.match(res.body.error?.message, /LOAXA_BROKER_AUTH_TOKEN/);
});

/**
 * The auth/ACL endpoints for RabbitMQ's HTTP auth backend (issue 21), called over real HTTP the way
 * RabbitMQ 3.10.8 calls them: POST, a form body with the fields it was measured to send
 * (test/e2e/rabbitmq-cluster.test.ts runs the real thing), Basic auth from the URLs' user info, and a
 * plain-text `allow`/`deny` back.
 */
import t, { type Test } from 'tap';
import { topics } from '@loaxa/shared';
import { mqttTopicOf, RABBITMQ_AUTH_USER } from '../../../server/src/routes/broker-auth-rabbitmq.js';
import { startTestServer, importSampleAreas } from '../../helpers/server.js';

const TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef';
const SERVER_LOGIN = { username: 'loaxa-server', password: 'server-broker-password' };

/** What RabbitMQ's MQTT plugin puts in a routing key: `/` and `.` swapped, `+` written `*`. */
const amqp = (topic: string) => topic.replace(/[./+]/g, (c) => (c === '/' ? '.' : c === '.' ? '/' : '*'));

async function setup(t: Test, token: string | undefined = TOKEN) {
  const s = await startTestServer(t, { brokerAuthToken: token, mqttUsername: SERVER_LOGIN.username, mqttPassword: SERVER_LOGIN.password });
  await importSampleAreas(s.api, s.token);
  const a = (await s.api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, s.token)).body;
  const b = (await s.api('POST', '/api/v1/devices', { name: 'b', areaCode: '99004' }, s.token)).body;
  const basic = (secret: string) => `Basic ${Buffer.from(`${RABBITMQ_AUTH_USER}:${secret}`).toString('base64')}`;

  async function rabbit(path: 'user' | 'vhost' | 'resource' | 'topic', form: Record<string, string>, authorization: string | null = basic(TOKEN)) {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (authorization !== null) headers.authorization = authorization;
    const res = await fetch(`${s.base}/api/v1/broker/rabbitmq/${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  }
  const user = (username: string, password: string, clientId = username) => rabbit('user', { username, password, vhost: '/', client_id: clientId });
  const topic = (username: string, permission: 'read' | 'write', mqttTopic: string, clientId = username) =>
    rabbit('topic', { username, vhost: '/', resource: 'topic', name: 'amq.topic', permission, tags: '', routing_key: amqp(mqttTopic), 'variable_map.client_id': clientId, 'variable_map.username': username, 'variable_map.vhost': '/' });
  const resource = (username: string, kind: string, name: string, permission: string, clientId = username) => rabbit('resource', { username, vhost: '/', resource: kind, name, permission, tags: '', client_id: clientId });
  return { ...s, a, b, rabbit, user, topic, resource, basic };
}

t.test('routing keys are turned back into MQTT topics', async (t) => {
  t.equal(mqttTopicOf('loaxa.v1.d.spk-1.status'), 'loaxa/v1/d/spk-1/status');
  t.equal(mqttTopicOf('loaxa.v1.d.*.cmd'), 'loaxa/v1/d/+/cmd');
  t.equal(mqttTopicOf('loaxa.#'), 'loaxa/#');
  t.equal(mqttTopicOf('a/b.c'), 'a.b/c', 'a dot in an MQTT topic travels as a slash');
});

t.test('login: a device with its own secret and its id as client id; the server; nothing else', async (t) => {
  const { a, b, user } = await setup(t);
  const ok = await user(a.id, a.mqtt.password);
  t.same([ok.status, ok.text], [200, 'allow']);
  t.match(ok.type, /^text\/plain/, 'plain text, as the backend reads it');
  t.equal((await user(a.id, 'wrong')).text, 'deny');
  t.equal((await user(a.id, b.mqtt.password)).text, 'deny', 'another box’s secret');
  t.equal((await user(a.id, a.mqtt.password, b.id)).text, 'deny', 'the client id must be the device id (no taking over another box’s session)');
  t.equal((await user('spk-ghost', 'x')).text, 'deny', 'unknown device');
  t.equal((await user(SERVER_LOGIN.username, SERVER_LOGIN.password, 'loaxa-server-1a2b')).text, 'allow', 'the server’s own login');
  t.equal((await user(SERVER_LOGIN.username, 'nope', 'loaxa-server-1a2b')).text, 'deny');
});

t.test('vhost and resources: the MQTT vhost, a box’s own session queues and the MQTT exchange', async (t) => {
  const { a, b, rabbit, resource } = await setup(t);
  t.equal((await rabbit('vhost', { username: a.id, vhost: '/', ip: '127.0.0.1', tags: '', client_id: a.id })).text, 'allow');
  t.equal((await rabbit('vhost', { username: a.id, vhost: 'other', ip: '127.0.0.1', tags: '', client_id: a.id })).text, 'deny');
  for (const permission of ['configure', 'read', 'write']) {
    t.equal((await resource(a.id, 'queue', `mqtt-subscription-${a.id}qos1`, permission)).text, 'allow', `own qos1 queue, ${permission}`);
    t.equal((await resource(a.id, 'queue', `mqtt-subscription-${b.id}qos1`, permission)).text, 'deny', `another box’s queue, ${permission}`);
  }
  t.equal((await resource(a.id, 'queue', `mqtt-subscription-${a.id}qos0`, 'read')).text, 'allow', 'own qos0 queue');
  t.equal((await resource(a.id, 'exchange', 'amq.topic', 'write')).text, 'allow');
  t.equal((await resource(a.id, 'exchange', 'amq.topic', 'configure')).text, 'deny');
  t.equal((await resource(a.id, 'exchange', 'amq.direct', 'write')).text, 'deny');
  t.equal((await resource(SERVER_LOGIN.username, 'exchange', 'amq.topic', 'configure', 'loaxa-server-1')).text, 'allow', 'the server');
});

t.test('topics: the same decisions as the embedded broker', async (t) => {
  const { a, b, topic, api, token } = await setup(t);
  const cases: Array<['write' | 'read', string, 'allow' | 'deny']> = [
    ['write', topics.deviceStatus(a.id), 'allow'],
    ['write', topics.deviceTelemetry(a.id), 'allow'],
    ['write', topics.deviceEvent(a.id), 'allow'],
    ['write', topics.deviceRes(a.id), 'allow'],
    ['write', topics.deviceCmd(a.id), 'deny'],
    ['write', topics.deviceEvent(b.id), 'deny'],
    ['write', topics.areaCmd('99003'), 'deny'],
    ['write', topics.serverStatus(), 'deny'],
    ['read', topics.deviceCmd(a.id), 'allow'],
    ['read', topics.areaCmd('99003'), 'allow'],
    ['read', topics.areaCmd('99'), 'allow'],
    ['read', topics.serverStatus(), 'allow'],
    ['read', topics.deviceCmd(b.id), 'deny'],
    ['read', topics.areaCmd('99004'), 'deny'],
    ['read', 'loaxa/#', 'deny'],
    ['read', 'loaxa/v1/d/+/cmd', 'deny'],
    ['read', topics.deviceStatus(a.id), 'deny'],
  ];
  for (const [permission, mqttTopic, want] of cases) t.equal((await topic(a.id, permission, mqttTopic)).text, want, `${permission} ${mqttTopic}`);
  t.equal((await topic(a.id, 'write', topics.deviceStatus(a.id), b.id)).text, 'deny', 'client id must equal the device id');
  t.equal((await topic(SERVER_LOGIN.username, 'write', topics.areaCmd('99'), 'loaxa-server-1')).text, 'allow', 'the server may command');
  t.equal((await api('POST', `/api/v1/devices/${a.id}/revoke`, undefined, token)).status, 200);
  t.equal((await topic(a.id, 'write', topics.deviceStatus(a.id))).text, 'deny', 'a revoked box, for every topic');
});

t.test('only RabbitMQ may call: Basic auth with the shared token', async (t) => {
  const s = await setup(t);
  const { a, rabbit, basic } = s;
  const form = { username: a.id, password: a.mqtt.password, vhost: '/', client_id: a.id };
  for (const authorization of [null, basic('wrong'), basic(`${TOKEN}x`), `Bearer ${TOKEN}`, `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`]) {
    const res = await rabbit('user', form, authorization);
    t.equal(res.status, 401, `authorization ${JSON.stringify(authorization)}`);
    t.notMatch(res.text, /^allow/, 'no decision without the secret');
  }
  const malformed = await rabbit('topic', { username: a.id, routing_key: 'x'.repeat(2000) });
  t.same([malformed.status, malformed.text], [200, 'deny'], 'a malformed call is a deny');
  const huge = await rabbit('user', { ...form, padding: 'x'.repeat(20_000) });
  t.same([huge.status, huge.text], [200, 'deny'], 'a body over 16 KiB is a deny');
  const json = await fetch(`${s.base}/api/v1/broker/rabbitmq/user`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(TOKEN) }, body: JSON.stringify(form) });
  t.same([json.status, await json.text()], [200, 'deny'], 'anything but a form is a deny');
});

t.test('without LOAXA_BROKER_AUTH_TOKEN every call is refused', async (t) => {
  const { a, rabbit, basic } = await setup(t, undefined);
  const res = await rabbit('user', { username: a.id, password: a.mqtt.password, vhost: '/', client_id: a.id }, basic('anything'));
  t.equal(res.status, 401);
  t.match(res.text, /LOAXA_BROKER_AUTH_TOKEN/);
});

/**
 * Issue 13, hostile input: the HTTP auth and ACL routes an external broker (EMQX and the like) calls for every
 * CONNECT, publish and subscribe. Only the broker's shared token gets an answer; every hostile body, however
 * malformed, is answered 200 `deny` — EMQX treats a 400 or 413 as "ignore", and with a permissive `no_match`
 * an ignored client is let through — and no answer carries more than the decision.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { topics } from '@loaxa/shared';
import { securityServer } from './helpers.js';
import { startTestServer } from '../helpers/server.js';

const TOKEN = 'broker-token-0123456789abcdef-0123456789';
const SERVER_LOGIN = { username: 'loaxa-server', password: 'server-broker-password' };

/** One raw POST: any bytes, any headers (fetch would refuse or fix some of what a hostile caller sends). */
function post(base: string, path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string; body: any }> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-length': String(bytes.length), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, text, body: parsed });
      });
    });
    // A server that refuses before reading the whole body may close the socket while we still write.
    req.on('error', (err) => (err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? resolve({ status: 0, text: '', body: null }) : reject(err)));
    req.end(bytes);
  });
}

const json = { 'content-type': 'application/json' };
const bearer = { ...json, authorization: `Bearer ${TOKEN}` };

t.test('without the right token nothing is answered but 401, and the answer names no secret', async (t) => {
  const { api, token: adminToken, base, login } = await securityServer(t, { brokerAuthToken: TOKEN, mqttUsername: SERVER_LOGIN.username, mqttPassword: SERVER_LOGIN.password });
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa-1', areaCode: '99003' }, adminToken)).body;
  const good = JSON.stringify({ clientid: dev.id, username: dev.id, password: dev.mqtt.password });
  t.equal((await post(base, '/api/v1/broker/auth', good, bearer)).body.result, 'allow', 'the broker with the token: a real box logs in');

  const operator = await login('operator', '99003');
  const wrong: Array<[string, Record<string, string>]> = [
    ['no Authorization', json],
    ['empty bearer', { ...json, authorization: 'Bearer ' }],
    ['lower-case scheme', { ...json, authorization: `bearer ${TOKEN}` }],
    ['Basic scheme', { ...json, authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
    ['one character off', { ...json, authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ['the token and more', { ...json, authorization: `Bearer ${TOKEN}0` }],
    ['a prefix of it', { ...json, authorization: `Bearer ${TOKEN.slice(0, 8)}` }],
    ['an 8 KB token', { ...json, authorization: `Bearer ${'A'.repeat(8192)}` }],
    ['a user’s session token', { ...json, authorization: `Bearer ${operator.token}` }],
    ['the admin’s session token', { ...json, authorization: `Bearer ${adminToken}` }],
  ];
  for (const path of ['/api/v1/broker/auth', '/api/v1/broker/acl']) {
    for (const [what, headers] of wrong) {
      const res = await post(base, path, good, headers);
      t.equal(res.status, 401, `${path}, ${what}: 401`);
      t.notMatch(res.text, TOKEN.slice(0, 12), `${path}, ${what}: the token is not in the answer`);
      t.notMatch(res.text, dev.mqtt.password, `${path}, ${what}: nor the box's secret`);
      t.notMatch(res.text, /allow/, `${path}, ${what}: no decision`);
    }
  }

  // A server without LOAXA_BROKER_AUTH_TOKEN answers nobody, whatever token is sent.
  const bare = await startTestServer(t);
  for (const headers of [json, bearer, { ...json, authorization: 'Bearer ' }]) {
    t.equal((await post(bare.base, '/api/v1/broker/auth', good, headers)).status, 401, 'broker auth off: 401');
  }
});

t.test('hostile bodies with the right token: each one a 200 deny, never a 4xx the broker would ignore', async (t) => {
  const { api, token: adminToken, base } = await securityServer(t, { brokerAuthToken: TOKEN, mqttUsername: SERVER_LOGIN.username, mqttPassword: SERVER_LOGIN.password });
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa-1', areaCode: '99003' }, adminToken)).body;
  const id: string = dev.id;
  const secret: string = dev.mqtt.password;
  const bodies: Array<[string, Buffer | string, Record<string, string>]> = [
    ['not JSON', '{"username": "' + id, bearer],
    ['empty body', '', bearer],
    ['a JSON string', JSON.stringify(id), bearer],
    ['a JSON array', JSON.stringify([id, id, secret]), bearer],
    ['null', 'null', bearer],
    ['password as a number', JSON.stringify({ clientid: id, username: id, password: 12345 }), bearer],
    ['password as an array', JSON.stringify({ clientid: id, username: id, password: [secret] }), bearer],
    ['password as an object', JSON.stringify({ clientid: id, username: id, password: { toString: secret } }), bearer],
    ['username as an object', JSON.stringify({ clientid: id, username: { $ne: null }, password: secret }), bearer],
    ['a __proto__ key', `{"clientid":"${id}","username":"${id}","password":"${secret}","__proto__":{"is_superuser":true}}`, bearer],
    ['a 2 KB field', JSON.stringify({ clientid: id, username: id, password: secret + 'x'.repeat(2048) }), bearer],
    ['a 1 MB body', JSON.stringify({ clientid: id, username: id, password: secret, pad: 'x'.repeat(1024 * 1024) }), bearer],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`{"clientid":"${id}","username":"${id}","password":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), bearer],
    ['form-encoded', `clientid=${id}&username=${id}&password=${secret}`, { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }],
    ['XML', `<auth><username>${id}</username></auth>`, { ...bearer, 'content-type': 'application/xml' }],
  ];
  for (const path of ['/api/v1/broker/auth', '/api/v1/broker/acl']) {
    for (const [what, body, headers] of bodies) {
      const res = await post(base, path, body, headers);
      t.equal(res.status, 200, `${path}, ${what}: answered 200 (a 4xx is "ignore" to EMQX) — got ${res.status} ${res.text.slice(0, 120)}`);
      t.equal(res.body?.result, 'deny', `${path}, ${what}: deny`);
      t.notOk(res.body?.is_superuser, `${path}, ${what}: never a superuser`);
      t.notMatch(res.text, secret, `${path}, ${what}: the secret is not echoed`);
    }
  }
  t.equal((await post(base, '/api/v1/broker/auth', JSON.stringify({ clientid: id, username: id, password: secret }), bearer)).body.result, 'allow', 'the box itself still logs in');
  t.equal((await api('GET', '/healthz')).status, 200);
});

t.test('logins: only a live box with its own secret and client id, or the server with its password', async (t) => {
  const { api, token: adminToken, base, server } = await securityServer(t, { brokerAuthToken: TOKEN, mqttUsername: SERVER_LOGIN.username, mqttPassword: SERVER_LOGIN.password });
  const a = (await api('POST', '/api/v1/devices', { name: 'loa-a', areaCode: '99003' }, adminToken)).body;
  const b = (await api('POST', '/api/v1/devices', { name: 'loa-b', areaCode: '99004' }, adminToken)).body;
  const auth = async (body: Record<string, unknown>) => (await post(base, '/api/v1/broker/auth', JSON.stringify(body), bearer)).body;
  t.same(await auth({ clientid: a.id, username: a.id, password: a.mqtt.password }), { result: 'allow', is_superuser: false }, 'a box with its own secret');
  t.same(await auth({ clientid: SERVER_LOGIN.username, username: SERVER_LOGIN.username, password: SERVER_LOGIN.password }), { result: 'allow', is_superuser: true }, 'the server');
  const refused: Array<[string, Record<string, unknown>]> = [
    ["another box's secret", { clientid: a.id, username: a.id, password: b.mqtt.password }],
    ['its own secret under another client id', { clientid: b.id, username: a.id, password: a.mqtt.password }],
    ['no client id', { username: a.id, password: a.mqtt.password }],
    ['no password', { clientid: a.id, username: a.id }],
    ['an empty password', { clientid: a.id, username: a.id, password: '' }],
    ['a prefix of the secret', { clientid: a.id, username: a.id, password: a.mqtt.password.slice(0, 10) }],
    ['an unknown box', { clientid: 'dev-ffffffffffffffff', username: 'dev-ffffffffffffffff', password: a.mqtt.password }],
    ['the server name with a wrong password', { clientid: SERVER_LOGIN.username, username: SERVER_LOGIN.username, password: 'guess' }],
    ['the server name without a password', { clientid: SERVER_LOGIN.username, username: SERVER_LOGIN.username }],
    ['the server name with a box secret', { clientid: SERVER_LOGIN.username, username: SERVER_LOGIN.username, password: a.mqtt.password }],
    ['the admin login', { clientid: 'admin', username: 'admin', password: 'test-admin-password' }],
  ];
  for (const [what, body] of refused) t.same(await auth(body), { result: 'deny', is_superuser: false }, what);

  // A box over its malformed-message budget is kept out for its whole penalty behind an external broker too.
  for (let i = 0; i <= server.ctx.config.malformedPerMinute; i++) server.ctx.misbehaviour.record(a.id);
  t.same(await auth({ clientid: a.id, username: a.id, password: a.mqtt.password }), { result: 'deny', is_superuser: false }, 'a box over its misbehaviour budget, with its right secret');
  t.same(await auth({ clientid: b.id, username: b.id, password: b.mqtt.password }), { result: 'allow', is_superuser: false }, 'while the others log in');
  t.equal((await api('POST', `/api/v1/devices/${a.id}/revoke`, {}, adminToken)).status, 200);
  t.same(await auth({ clientid: a.id, username: a.id, password: a.mqtt.password }), { result: 'deny', is_superuser: false }, 'a revoked box, with its once-right secret');
});

t.test('ACL: a box reaches only its own topics; other boxes, wildcards, $SYS and foreign areas are refused', async (t) => {
  const { api, token: adminToken, base } = await securityServer(t, { brokerAuthToken: TOKEN, mqttUsername: SERVER_LOGIN.username, mqttPassword: SERVER_LOGIN.password });
  const a = (await api('POST', '/api/v1/devices', { name: 'loa-a', areaCode: '99003' }, adminToken)).body;
  const b = (await api('POST', '/api/v1/devices', { name: 'loa-b', areaCode: '98001' }, adminToken)).body;
  const acl = async (body: Record<string, unknown>) => (await post(base, '/api/v1/broker/acl', JSON.stringify(body), bearer)).body.result;
  const as = (action: string, topic: string) => acl({ clientid: a.id, username: a.id, action, topic });

  for (const topic of [topics.deviceStatus(a.id), topics.deviceTelemetry(a.id), topics.deviceEvent(a.id), topics.deviceRes(a.id)]) t.equal(await as('publish', topic), 'allow', `publish ${topic}`);
  for (const topic of [topics.deviceCmd(a.id), topics.areaCmd('99003'), topics.areaCmd('99'), topics.serverStatus()]) t.equal(await as('subscribe', topic), 'allow', `subscribe ${topic}`);

  const refused: Array<[string, string, string]> = [
    ['publish', topics.deviceStatus(b.id), "another box's status"],
    ['publish', topics.deviceRes(b.id), "another box's answers"],
    ['publish', topics.deviceCmd(a.id), 'commands to itself'],
    ['publish', topics.deviceCmd(b.id), 'commands to another box'],
    ['publish', topics.areaCmd('99003'), 'commands to its own commune'],
    ['publish', topics.serverStatus(), 'the server status'],
    ['subscribe', topics.deviceCmd(b.id), "another box's commands"],
    ['subscribe', topics.deviceStatus(b.id), "another box's status"],
    ['subscribe', topics.areaCmd('98001'), "another province's commune"],
    ['subscribe', topics.areaCmd('99004'), 'a sibling commune'],
    ['subscribe', '#', 'everything'],
    ['subscribe', 'loaxa/v1/d/+/cmd', "every box's commands"],
    ['subscribe', `loaxa/v1/d/${a.id}/#`, 'a wildcard under its own id'],
    ['subscribe', '$SYS/#', 'the broker internals'],
    ['subscribe', '$SYS/broker/clients/connected', 'one broker internal'],
    ['publish', '$SYS/broker/version', 'writing broker internals'],
    ['subscribe', '$share/g/loaxa/v1/d/+/status', 'a shared subscription'],
    ['subscribe', `loaxa/v1/d/${a.id}/cmd/../../${b.id}/cmd`, 'a path trick'],
    ['subscribe', 'x'.repeat(1000), 'a long foreign topic'],
    ['subscribe', '', 'an empty topic'],
    ['all', topics.deviceCmd(a.id), 'an action other than publish or subscribe'],
    ['PUBLISH', topics.deviceStatus(a.id), 'an action in the wrong case'],
  ];
  for (const [action, topic, what] of refused) t.equal(await as(action, topic), 'deny', `${action} ${topic.slice(0, 60)}: ${what}`);

  t.equal(await acl({ clientid: b.id, username: a.id, action: 'subscribe', topic: topics.deviceCmd(a.id) }), 'deny', 'a box id under another client id');
  t.equal(await acl({ username: a.id, action: 'subscribe', topic: topics.deviceCmd(a.id) }), 'deny', 'no client id');
  t.equal(await acl({ clientid: a.id, username: a.id, action: 'subscribe' }), 'deny', 'no topic');
  t.equal(await acl({ clientid: 'intruder', username: 'intruder', action: 'subscribe', topic: topics.serverStatus() }), 'deny', 'an unknown client');
  t.equal(await acl({ clientid: SERVER_LOGIN.username, username: SERVER_LOGIN.username, action: 'subscribe', topic: '#' }), 'allow', 'the server is the superuser');
  t.equal((await api('POST', `/api/v1/devices/${a.id}/revoke`, {}, adminToken)).status, 200);
  t.equal(await as('publish', topics.deviceStatus(a.id)), 'deny', 'a revoked box, on its own topic');
});

/** Hostile input (issue 7): each bad request gets a clear 4xx JSON error and changes nothing. */
import t from 'tap';
import mqtt from 'mqtt';
import { request as httpRequest } from 'node:http';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** Sends raw bytes (for invalid UTF-8 and oversized bodies that fetch would not produce). */
function raw(base: string, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('bodies: too large, wrong type, invalid UTF-8, SQL and script text', async (t) => {
  const { api, token, base, server } = await startTestServer(t, { bodyLimitBytes: 64 * 1024 });
  await importSampleAreas(api, token);
  const count = () => (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM bulletins').get() as { n: number }).n;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const big = await raw(base, '/api/v1/bulletins', Buffer.from(JSON.stringify({ title: 't', text: 'a'.repeat(70 * 1024) })), auth);
  t.equal(big.status, 413);
  t.equal(big.body.error.code, 'LOAXA_TOO_LARGE');
  const xml = await raw(base, '/api/v1/bulletins', Buffer.from('<bulletin/>'), { ...auth, 'content-type': 'application/xml' });
  t.equal(xml.status, 415);
  const badUtf8 = await raw(base, '/api/v1/bulletins', Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","text":"Xin chào bà con."}')]), auth);
  t.equal(badUtf8.status, 400, `invalid UTF-8 is refused (${JSON.stringify(badUtf8.body)})`);
  t.equal(count(), 0, 'nothing was stored');

  const sql = `Robert'); DROP TABLE bulletins;-- <script>alert(1)</script>`;
  const made = await api('POST', '/api/v1/bulletins', { title: sql, text: 'Xin chào.' }, token);
  t.equal(made.status, 201);
  const got = await api('GET', `/api/v1/bulletins/${made.body.id}`, undefined, token);
  t.equal(got.body.title, sql, 'stored and returned verbatim, as data');
  t.equal(count(), 1, 'the table is still there');
  t.match(got.headers.get('content-type'), /application\/json/, 'served as JSON, never as HTML');
  t.equal((await api('GET', `/api/v1/devices?area=99' OR '1'='1`, undefined, token)).status, 400);
});

t.test('file names and paths: no traversal anywhere', async (t) => {
  const { token, base } = await startTestServer(t);
  for (const p of ['/media/..%2F..%2Fetc%2Fpasswd', `/media/${'a'.repeat(63)}%00`, '/media/%2e%2e%2floaxa.sqlite', '/media/..%5c..%5cloaxa.sqlite']) {
    const res = await fetch(base + p, { headers: { authorization: `Bearer ${token}` } });
    t.ok([400, 404].includes(res.status), `${p} → ${res.status}`);
    t.notMatch(await res.text(), /root:|SQLite format/);
  }
  // Sent as-is (no client-side normalisation): the router never resolves `..` into a file.
  const literal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    httpRequest(`${base}/media/../../etc/passwd`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject).end();
  });
  t.notMatch(literal.body, /root:|SQLite format/, `literal ../ → ${literal.status}, no file outside the store`);
});

t.test('10,000 malformed MQTT messages from one box: it is cut off, everyone else is served', async (t) => {
  const { api, token, urls, server } = await startTestServer(t, { malformedPerMinute: 50 });
  await importSampleAreas(api, token);
  const bad = (await api('POST', '/api/v1/devices', { name: 'bad', areaCode: '99003' }, token)).body;
  const good = (await api('POST', '/api/v1/devices', { name: 'good', areaCode: '99004' }, token)).body;
  const g = await mqtt.connectAsync(urls.mqttUrl, { clientId: good.id, username: good.id, password: good.mqtt.password, reconnectPeriod: 0 });
  const b = await mqtt.connectAsync(urls.mqttUrl, { clientId: bad.id, username: bad.id, password: bad.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => Promise.all([g.endAsync(true), b.endAsync(true)]));
  const closed = new Promise<void>((r) => b.once('close', () => r()));
  for (let i = 0; i < 10_000 && b.connected; i++) b.publish(topics.deviceTelemetry(bad.id), i % 2 ? '{"v":1,"broken":' : 'garbage', { qos: 0 });
  await closed;
  t.pass('the flooding box was disconnected');
  await t.rejects(mqtt.connectAsync(urls.mqttUrl, { clientId: bad.id, username: bad.id, password: bad.mqtt.password, reconnectPeriod: 0 }), /Bad username or password|Not authorized/, 'and cannot come straight back');
  await g.publishAsync(topics.deviceTelemetry(good.id), encodeMessage('telemetry', { uptimeS: 5, volume: 44, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await waitFor('the good box’s heartbeat', () => (server.ctx.devices.get(good.id)!.volume === 44 ? true : null), 5000);
  t.equal((await api('GET', '/healthz')).status, 200, 'the server kept serving');
});

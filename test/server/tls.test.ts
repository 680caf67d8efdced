/** TLS when certificate files are configured (issue 7), with a certificate made by openssl in the test. */
import t from 'tap';
import mqtt from 'mqtt';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startServer } from '../../server/src/app.js';
import { importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';

const run = promisify(execFile);
const hasOpenssl = await run('openssl', ['version']).then(() => true, () => false);

t.test('with a certificate, the API is HTTPS and the broker MQTT over TLS only', { skip: !hasOpenssl && 'needs openssl' }, async (t) => {
  const dir = await tempDir(t, 'loaxa-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  const ca = await readFile(cert);
  // Not startTestServer: its helpers use fetch, which trusts only the system's CAs.
  const server = await startServer(
    { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: await tempDir(t, 'loaxa-tls-data-'), adminPassword: ADMIN_PASSWORD, tls: { certFile: cert, keyFile: key } },
    { logger: pino({ level: 'silent' }) },
  );
  t.teardown(() => server.stop());
  const urls = server.urls;
  t.match(urls.httpUrl, /^https:\/\//);
  t.match(urls.mqttUrl, /^mqtts:\/\//);

  const call = (method: string, path: string, body?: unknown, token?: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest(`${urls.httpUrl}${path}`, { method, ca, headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(data);
    });
  t.same((await call('GET', '/healthz')).body, { status: 'ok' });
  await t.rejects(fetch(urls.httpUrl.replace('https:', 'http:') + '/healthz'), 'plain HTTP is not answered');

  const token = (await call('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  await importSampleAreas(async (m, p, b, tk) => ({ ...(await call(m, p, b, tk)), headers: new Headers() }), token);
  const dev = (await call('POST', '/api/v1/devices', { name: 'tls', areaCode: '99003' }, token)).body;
  t.match(dev.mqtt.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/, 'credentials name the TLS broker');
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, ca, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  t.ok(c.connected, 'a box connects over TLS with its credentials');
  const plain = await new Promise<string>((resolve) => {
    const p = mqtt.connect(urls.mqttUrl.replace('mqtts:', 'mqtt:'), { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0, connectTimeout: 1500 });
    const done = (how: string) => {
      p.end(true);
      resolve(how);
    };
    p.once('connect', () => done('connected'));
    p.once('error', () => done('refused'));
    p.once('close', () => done('refused'));
    setTimeout(() => done('refused'), 3000).unref();
  });
  t.equal(plain, 'refused', 'no MQTT in clear');
  t.ok(server.ctx.config.tls);
});

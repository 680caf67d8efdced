/**
 * Issue 15 review: without LOAXA_PUBLIC_URL the request's Host header became the base of every link a box
 * fetches with its own credentials (media, the restream), of the broker URL in new credentials and of claim
 * links. An operator who sent `Host: attacker.example` with a broadcast had every target box send its HTTP
 * Basic credentials — its broker password — to that host. A Host is now believed only when it names the
 * address the request reached; otherwise links use that address.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

/** A JSON request with a Host header of our choosing (fetch does not let one set it). */
function forged(base: string, method: string, path: string, host: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const url = new URL(path, base);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname, method, headers: { host, authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

t.test('a forged Host header does not send boxes (or their credentials) elsewhere', async (t) => {
  const { api, token, base, server, login } = await securityServer(t);
  const approver = await login('approver', '99003');
  const port = new URL(base).port;

  const device = await forged(base, 'POST', '/api/v1/devices', 'attacker.example', token, { name: 'Cụm loa 1', areaCode: '99003' });
  t.equal(device.status, 201);
  t.match(device.body.mqtt.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/, 'new credentials name this server, not the forged host');

  const claim = await forged(base, 'POST', `/api/v1/devices/${device.body.id}/claim-code`, 'attacker.example:8080', token);
  t.equal(claim.status, 201);
  t.match(claim.body.claimUrl, new RegExp(`^http://127\\.0\\.0\\.1:${port}/claim\\?code=`), 'the claim link too');

  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Họp', text: 'Mời bà con họp lúc bảy giờ tối.' }, approver.token);
  await waitFor('synthesized', async () => ((await api('GET', `/api/v1/bulletins/${bulletin.body.id}`, undefined, approver.token)).body.status === 'ready' ? true : null), 30_000);
  const made = await forged(base, 'POST', '/api/v1/broadcasts', 'attacker.example', approver.token, { bulletinId: bulletin.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() });
  t.equal(made.status, 201);
  const stored = server.ctx.broadcasts.get(made.body.id);
  t.equal(stored?.mediaBaseUrl, `http://127.0.0.1:${port}`, 'boxes fetch the audio from this server');

  // The honest spellings of this server's own address still work as before.
  const honest = await forged(base, 'POST', '/api/v1/broadcasts', `localhost:${port}`, approver.token, { bulletinId: bulletin.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 7200_000).toISOString() });
  t.equal(server.ctx.broadcasts.get(honest.body.id)?.mediaBaseUrl, `http://localhost:${port}`, 'localhost on a loopback connection is believed');
});

t.test('LOAXA_PUBLIC_URL wins over any Host', async (t) => {
  const { token, base } = await securityServer(t, { publicUrl: 'https://loa.example-province.gov.vn/' });
  const device = await forged(base, 'POST', '/api/v1/devices', 'attacker.example', token, { name: 'Cụm loa 1', areaCode: '99003' });
  t.match(device.body.mqtt.url, /^mqtt:\/\/loa\.example-province\.gov\.vn:\d+$/);
});

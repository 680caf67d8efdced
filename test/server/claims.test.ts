import t from 'tap';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { buildApp } from '../../server/src/app.js';
import { configWith } from '../../server/src/config.js';
import { normalizeClaimCode, CLAIM_ALPHABET } from '../../server/src/routes/claims.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';

/** A test server with the claim routes (registered here until app.ts does it). */
async function startClaimServer(t: { teardown(fn: () => unknown): void }) {
  const dataDir = await tempDir(t, 'loaxa-server-');
  const server = await buildApp(
    configWith({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD }),
    { logger: pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' }) },
  );
  const urls = await server.start();
  t.teardown(() => server.stop());
  const base = urls.httpUrl;
  async function api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
  const token = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  await importSampleAreas(api as never, token);
  return { server, urls, api, token };
}

const connect = (url: string, username: string, password: string) => mqtt.connectAsync(url, { clientId: username, username, password, reconnectPeriod: 0, connectTimeout: 5000 });

t.test('codes are short, unambiguous and forgiving to type', async (t) => {
  t.notOk(/[ILOU]/.test(CLAIM_ALPHABET));
  t.equal(normalizeClaimCode('abcd-efgh-jkmn'), 'ABCDEFGHJKMN');
  t.equal(normalizeClaimCode('0O1I L0OO 1111'), '001110001111');
  t.equal(normalizeClaimCode('ABCD'), null);
  t.equal(normalizeClaimCode('ABCD-EFGH-JKMU'), null);
});

t.test('a code is issued, claimed once, and rotates the secret', async (t) => {
  const { api, token, urls } = await startClaimServer(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa 1', areaCode: '99003' }, token)).body;
  const old = await connect(urls.mqttUrl, dev.id, dev.mqtt.password);
  const closed = new Promise<void>((r) => old.once('close', () => r()));

  const issued = await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token);
  t.equal(issued.status, 201);
  t.match(issued.body.code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  t.ok(Date.parse(issued.body.expiresAt) > Date.now() + 23 * 3600_000, 'valid for a day');
  t.match(issued.body.claimUrl, new RegExp(`/claim\\?code=${issued.body.code}$`));
  t.equal((await api('POST', '/api/v1/devices/spk-nope/claim-code', {}, token)).status, 404);
  t.equal((await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {})).status, 401, 'issuing needs a login');

  const claimed = await api('POST', '/api/v1/claim', { code: issued.body.code.toLowerCase().replace(/-/g, ' ') });
  t.equal(claimed.status, 200, JSON.stringify(claimed.body));
  t.same(claimed.body, { deviceId: dev.id, areaCode: '99003', areaAncestors: ['99'], mqtt: { url: urls.mqttUrl, username: dev.id, password: claimed.body.mqtt.password } });
  t.not(claimed.body.mqtt.password, dev.mqtt.password, 'a new secret');

  await closed;
  t.pass('the session opened with the old secret is cut');
  await t.rejects(connect(urls.mqttUrl, dev.id, dev.mqtt.password), /Bad username or password/, 'the old secret stops working');
  const fresh = await connect(urls.mqttUrl, dev.id, claimed.body.mqtt.password);
  t.ok(fresh.connected, 'the new secret works');
  await fresh.endAsync(true);

  const again = await api('POST', '/api/v1/claim', { code: issued.body.code });
  t.equal(again.status, 410);
  t.match(again.body.error.message, /already been used/);
});

t.test('expired, unknown and superseded codes are refused', async (t) => {
  const { api, token, server } = await startClaimServer(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa 2', areaCode: '99003' }, token)).body;
  const first = (await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token)).body;
  const second = (await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token)).body;
  t.equal((await api('POST', '/api/v1/claim', { code: first.code })).status, 404, 'a new code replaces an unused one');
  server.ctx.db.prepare('UPDATE device_claim_codes SET expires_at = ? WHERE device_id = ?').run(Date.now() - 1, dev.id);
  const expired = await api('POST', '/api/v1/claim', { code: second.code });
  t.equal(expired.status, 410);
  t.match(expired.body.error.message, /expired/);
  const unknown = await api('POST', '/api/v1/claim', { code: 'ZZZZ-ZZZZ-ZZZZ' });
  t.equal(unknown.status, 404);
  t.match(unknown.body.error.message, /claim code not found/);
  t.equal((await api('POST', '/api/v1/claim', { code: 'short' })).status, 404);

  const revoked = (await api('POST', '/api/v1/devices', { name: 'loa 3', areaCode: '99003' }, token)).body;
  const code = (await api('POST', `/api/v1/devices/${revoked.id}/claim-code`, {}, token)).body.code;
  await api('POST', `/api/v1/devices/${revoked.id}/revoke`, {}, token);
  t.equal((await api('POST', '/api/v1/claim', { code })).status, 410, 'a revoked box cannot be claimed');
});

t.test('viewers cannot issue codes', async (t) => {
  const { api, token } = await startClaimServer(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa 4', areaCode: '99003' }, token)).body;
  const u = await api('POST', '/api/v1/users', { username: 'viewer1', password: 'viewer-password-1', role: 'viewer', areaCode: '99003' }, token);
  t.equal(u.status, 201, JSON.stringify(u.body));
  const vt = (await api('POST', '/api/v1/auth/login', { username: 'viewer1', password: 'viewer-password-1' })).body.token;
  t.equal((await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, vt)).status, 403);
});

t.test('failed claims are rate-limited per address', async (t) => {
  const { api, token } = await startClaimServer(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa 5', areaCode: '99003' }, token)).body;
  const code = (await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token)).body.code;
  for (let i = 0; i < 10; i++) t.equal((await api('POST', '/api/v1/claim', { code: `AAAA-AAAA-AA${CLAIM_ALPHABET[i]}0` })).status, 404);
  const limited = await api('POST', '/api/v1/claim', { code });
  t.equal(limited.status, 429, 'even a good code waits once the limit is hit');
  t.equal(limited.body.error.code, 'LOAXA_RATE_LIMITED');
});

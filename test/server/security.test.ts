import t from 'tap';
import mqtt from 'mqtt';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { fakeClock } from '../helpers/clock.js';

t.test('repeated failed logins are locked out for a while, then the right password works again', async (t) => {
  // The lock's time is a hand-moved clock: the test moves it past the lock instead of sleeping through it.
  const clock = fakeClock();
  const { api } = await startTestServer(t, { loginMaxFailures: 3, loginLockSeconds: 1 }, { loginNow: clock.now });
  for (let i = 0; i < 3; i++) t.equal((await api('POST', '/api/v1/auth/login', { username: 'admin', password: `guess-${i}` })).status, 401);
  const locked = await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
  t.equal(locked.status, 429, 'even the right password waits out the lock');
  t.equal(locked.body.error.code, 'LOAXA_RATE_LIMITED');
  t.ok(Number(locked.headers.get('retry-after')) >= 1);
  clock.advance(1100);
  t.equal((await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).status, 200);
});

t.test('cookie sessions: writes from another site are refused (CSRF); the same site works', async (t) => {
  const { base } = await startTestServer(t);
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  t.match(login.headers.get('set-cookie'), /HttpOnly; SameSite=Strict/);
  const post = (origin?: string) =>
    fetch(`${base}/api/v1/tts/dictionary/ABC`, { method: 'PUT', headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: JSON.stringify({ reading: 'a bê xê' }) });
  t.equal((await post('http://evil.example')).status, 403);
  t.equal((await post()).status, 403, 'no origin at all is refused too');
  t.equal((await post(base)).status, 200);
  t.equal((await fetch(`${base}/api/v1/tts/dictionary`, { headers: { cookie } })).status, 200, 'reads need no origin');
});

t.test('an emergency needs a recent login', async (t) => {
  const { api, token, server } = await startTestServer(t, { emergencyReauthSeconds: 30 });
  await importSampleAreas(api, token);
  const b = (await api('POST', '/api/v1/bulletins', { title: 'Bão', text: 'Bão số ba sắp đổ bộ.' }, token)).body;
  // Age the session as if it were created an hour ago.
  server.ctx.db.prepare('UPDATE sessions SET created_at = created_at - 3600000').run();
  const old = await api('POST', '/api/v1/broadcasts', { bulletinId: b.id, priority: 'emergency', target: { areaCodes: ['99003'] } }, token);
  t.equal(old.status, 401);
  t.match(old.body.error.message, /log in again/);
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: b.id, priority: 'normal', target: { areaCodes: ['99003'] } }, token)).status, 201, 'normal broadcasts do not need it');
  const fresh = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: b.id, priority: 'emergency', target: { areaCodes: ['99003'] } }, fresh)).status, 201, 'a fresh login satisfies it');
});

t.test('a revoked box is disconnected at once and can never connect again', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'stolen', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  t.same((await api('POST', `/api/v1/devices/${dev.id}/revoke`, {}, token)).body, { id: dev.id, revoked: true });
  await closed;
  t.pass('disconnected');
  await t.rejects(mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 }), /Bad username or password/);
  t.equal((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).status, 404);
  const media = await fetch(`${urls.httpUrl}/media/${'0'.repeat(64)}`, { headers: { authorization: `Basic ${Buffer.from(`${dev.id}:${dev.mqtt.password}`).toString('base64')}` } });
  t.equal(media.status, 401, 'its credentials no longer fetch media either');
  await waitFor('offline', () => (server.ctx.devices.get(dev.id)!.online ? null : true), 2000);
});

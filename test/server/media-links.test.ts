/**
 * `/media/{sha256}` (issue 7): boxes with their credentials, browsers with signed expiring links, API clients
 * with their bearer token; the session cookie alone opens nothing. And the fast path of issue 8 keeps the
 * HTTP semantics (Range, If-Range, ETag/304, HEAD).
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { MediaLinks, loadMediaLinkKey, MEDIA_LINK_KEY_FILE } from '../../server/src/http/media-links.js';
import { loadConfig } from '../../server/src/config.js';

const basic = (id: string, password: string) => `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;

async function withFiles(t: { teardown(fn: () => unknown): void }) {
  const s = await startTestServer(t);
  const a = randomBytes(40_000);
  const b = randomBytes(30_000);
  const fa = await s.server.ctx.media.put(a, 'ogg');
  const fb = await s.server.ctx.media.put(b, 'mp3');
  const admin = s.server.ctx.users.byId((s.server.ctx.db.prepare("SELECT id FROM users WHERE username = 'admin'").get() as { id: string }).id)!;
  return { ...s, a, b, fa, fb, admin };
}

t.test('a signed link plays its file, whole and in ranges; expired, altered or foreign links are refused with 403', async (t) => {
  const { base, server, a, fa, fb, admin } = await withFiles(t);
  const links = server.app.mediaLinks;
  const link = links.sign(fa.sha256, admin.id);
  t.match(link.url, /^\/media\/[0-9a-f]{64}\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/);
  t.ok(link.expiresAt >= Date.now() + 3600_000 - 1000, 'lives at least the configured hour');

  const whole = await fetch(base + link.url);
  t.equal(whole.status, 200);
  t.equal(whole.headers.get('content-type'), 'audio/ogg');
  t.equal(whole.headers.get('etag'), `"${fa.sha256}"`);
  t.ok(Buffer.from(await whole.arrayBuffer()).equals(a), 'the bytes of the file');

  const part = await fetch(base + link.url, { headers: { range: 'bytes=100-199' } });
  t.equal(part.status, 206, 'Range works with a signed link');
  t.equal(part.headers.get('content-range'), `bytes 100-199/${a.length}`);
  t.ok(Buffer.from(await part.arrayBuffer()).equals(a.subarray(100, 200)));
  const tail = await fetch(base + link.url, { headers: { range: 'bytes=-10' } });
  t.ok(Buffer.from(await tail.arrayBuffer()).equals(a.subarray(a.length - 10)), 'a suffix range');
  t.equal((await fetch(base + link.url, { headers: { range: `bytes=${a.length}-` } })).status, 416);

  const expect403 = async (url: string, what: string, message: RegExp) => {
    const res = await fetch(base + url);
    t.equal(res.status, 403, what);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.equal(body.error.code, 'LOAXA_FORBIDDEN', `${what}: the error shape`);
    t.match(body.error.message, message, what);
  };
  const old = links.sign(fa.sha256, admin.id, Date.now() - 2 * 3600_000 - 600_000);
  t.ok(old.expiresAt < Date.now());
  await expect403(old.url, 'an expired link', /expired/);

  const u = new URL(link.url, base);
  const sig = u.searchParams.get('sig')!;
  const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  await expect403(link.url.replace(sig, flipped), 'an altered signature', /not valid/);
  await expect403(link.url.replace(`exp=${u.searchParams.get('exp')}`, `exp=${Number(u.searchParams.get('exp')) + 86_400}`), 'a pushed-back expiry', /not valid/);
  await expect403(link.url.replace(`u=${admin.id}`, 'u=u-0000000000000000'), 'another user', /not valid/);
  await expect403(link.url.replace(fa.sha256, fb.sha256), 'the link of one file on another', /not valid/);
  await expect403(link.url.replace(/&sig=.*$/, ''), 'no signature', /not valid/);
  await expect403(`/media/${fa.sha256}?exp=abc&u=${admin.id}&sig=${sig}`, 'a malformed expiry', /not valid/);
  await expect403(`/media/${fa.sha256}?sig=${'A'.repeat(300)}`, 'an oversized signature', /not valid|invalid/);
  // A link from another server's key is as good as forged.
  const foreign = new MediaLinks(randomBytes(32), 3600).sign(fa.sha256, admin.id);
  await expect403(foreign.url, 'a link signed with another key', /not valid/);
  t.equal((await fetch(base + links.sign(fb.sha256, admin.id).url)).headers.get('content-type'), 'audio/mpeg', 'the other file opens with its own link');
});

t.test('the session cookie alone opens no media; bearer and device Basic do; revoked boxes and disabled users are refused at once', async (t) => {
  const { base, api, token, server, a, fa, admin } = await withFiles(t);
  await importSampleAreas(api, token);
  const url = `${base}/media/${fa.sha256}`;

  const none = await fetch(url);
  t.equal(none.status, 401, 'no credentials');
  t.match(none.headers.get('www-authenticate'), /^Basic /);
  t.equal(((await none.json()) as { error: { code: string } }).error.code, 'LOAXA_UNAUTHORIZED');

  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  t.equal((await fetch(url, { headers: { cookie } })).status, 401, 'a logged-in browser cannot walk the media store');
  t.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200, 'an API client with its token');
  t.equal((await fetch(url, { headers: { authorization: 'Bearer not-a-real-token-aaaaaaaaaaaa' } })).status, 401);

  const dev = (await api('POST', '/api/v1/devices', { name: 'loa 1', areaCode: '99003' }, token)).body;
  const ok = await fetch(url, { headers: { authorization: basic(dev.id, dev.mqtt.password) } });
  t.equal(ok.status, 200, 'a box with its credentials');
  t.ok(Buffer.from(await ok.arrayBuffer()).equals(a));
  const resumed = await fetch(url, { headers: { authorization: basic(dev.id, dev.mqtt.password), range: 'bytes=39000-' } });
  t.equal(resumed.status, 206, 'a box resumes a download');
  t.equal(Number(resumed.headers.get('content-length')), a.length - 39000);
  t.equal((await fetch(url, { headers: { authorization: basic(dev.id, 'wrong-password') } })).status, 401, 'a wrong secret');
  t.equal((await fetch(url, { headers: { authorization: basic('spk-nobody', dev.mqtt.password) } })).status, 401, 'an unknown box');
  t.equal((await fetch(url, { headers: { authorization: 'Basic !!!' } })).status, 401, 'garbage');

  // Credentials are remembered per box, and forgotten by the repository method that changes them.
  const other = (await api('POST', '/api/v1/devices', { name: 'loa 2', areaCode: '99003' }, token)).body;
  t.equal((await fetch(url, { headers: { authorization: basic(other.id, other.mqtt.password) } })).status, 200);
  t.ok(server.ctx.devices.rotateSecret(other.id, createHash('sha256').update('a-new-secret').digest('hex')));
  t.equal((await fetch(url, { headers: { authorization: basic(other.id, other.mqtt.password) } })).status, 401, 'a replaced secret no longer works, at once');
  t.equal((await fetch(url, { headers: { authorization: basic(other.id, 'a-new-secret') } })).status, 200, 'the new one does');
  server.ctx.devices.setStatus(other.id, true, Date.now(), null);
  server.ctx.devices.flushPending(true);
  t.equal((await fetch(url, { headers: { authorization: basic(other.id, 'a-new-secret') } })).status, 200, 'other changes to the row do not matter');

  t.equal((await api('POST', `/api/v1/devices/${dev.id}/revoke`, {}, token)).status, 200);
  t.equal((await fetch(url, { headers: { authorization: basic(dev.id, dev.mqtt.password) } })).status, 401, 'revoked: refused on the very next request');

  // A disabled user's links stop at once, like its sessions.
  const op = (await api('POST', '/api/v1/users', { username: 'op1', password: 'op1-password', role: 'operator', areaCode: '99003' }, token)).body;
  const opLink = server.app.mediaLinks.sign(fa.sha256, op.id);
  t.equal((await fetch(base + opLink.url)).status, 200);
  t.equal((await api('PATCH', `/api/v1/users/${op.id}`, { disabled: true }, token)).status, 200);
  const refused = await fetch(base + opLink.url);
  t.equal(refused.status, 403, "a disabled user's link");
  t.match(((await refused.json()) as { error: { message: string } }).error.message, /can no longer sign in/);
  t.equal((await fetch(base + server.app.mediaLinks.sign(fa.sha256, admin.id).url)).status, 200, 'others are unaffected');
});

t.test('caching semantics: ETag and 304, If-Range, HEAD, unknown and malformed hashes', async (t) => {
  const { base, token, a, fa } = await withFiles(t);
  const auth = { authorization: `Bearer ${token}` };
  const url = `${base}/media/${fa.sha256}`;
  const first = await fetch(url, { headers: auth });
  t.equal(first.headers.get('cache-control'), 'private, max-age=31536000, immutable');
  t.equal(first.headers.get('accept-ranges'), 'bytes');
  await first.arrayBuffer();
  const notModified = await fetch(url, { headers: { ...auth, 'if-none-match': `"${fa.sha256}"` } });
  t.equal(notModified.status, 304);
  t.equal((await fetch(url, { headers: { ...auth, 'if-none-match': '"something-else"' } })).status, 200);
  const stale = await fetch(url, { headers: { ...auth, range: 'bytes=0-9', 'if-range': '"an-older-file"' } });
  t.equal(stale.status, 200, 'If-Range with another validator: the whole file');
  t.equal((await stale.arrayBuffer()).byteLength, a.length);
  t.equal((await fetch(url, { headers: { ...auth, range: 'bytes=0-9', 'if-range': `"${fa.sha256}"` } })).status, 206);
  const head = await fetch(url, { method: 'HEAD', headers: auth });
  t.equal(head.status, 200);
  t.equal(Number(head.headers.get('content-length')), a.length);
  t.equal((await fetch(`${base}/media/${'0'.repeat(64)}`, { headers: auth })).status, 404);
  t.equal((await fetch(`${base}/media/${'A'.repeat(64)}`, { headers: auth })).status, 400, 'only lowercase hex names');
});

t.test('a stored file that no longer matches its name goes out as stored (boxes check it) and is never kept in memory', async (t) => {
  const { base, token, server } = await startTestServer(t);
  const good = randomBytes(5000);
  const f = await server.ctx.media.put(good, 'ogg');
  const bad = randomBytes(5000);
  await writeFile(f.path, bad);
  const get = async () => Buffer.from(await (await fetch(`${base}/media/${f.sha256}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
  t.ok((await get()).equals(bad), 'the damaged bytes, for the box to refuse and report');
  await writeFile(f.path, good);
  t.ok((await get()).equals(good), 'a repaired file is served at once');
  await writeFile(f.path, bad);
  t.ok((await get()).equals(good), 'and, now verified, kept');
});

t.test('the API hands out signed links wherever it shows audio, and the links play', async (t) => {
  const { base, api, token } = await startTestServer(t);
  const created = await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Xin chào bà con.' }, token);
  t.equal(created.status, 201);
  t.match(created.body.audio.signedUrl, new RegExp(`^/media/${created.body.audio.sha256}\\?exp=\\d+&u=[\\w-]+&sig=[\\w-]{43}$`), 'POST /bulletins');
  t.ok(Date.parse(created.body.audio.signedUrlExpiresAt) > Date.now());

  const got = (await api('GET', `/api/v1/bulletins/${created.body.id}`, undefined, token)).body;
  t.equal(got.audio.url, `/media/${got.audio.sha256}`, 'the unsigned url is still there (API clients with a bearer token)');
  t.match(got.audio.signedUrl, /\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/, 'GET /bulletins/{id}');
  t.match(got.audio.mp3SignedUrl, /^\/media\/[0-9a-f]{64}\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/, 'the MP3 download');
  t.equal(got.audio.signedUrl, created.body.audio.signedUrl, 'the same link within a few minutes (browser cache)');
  const ogg = await fetch(base + got.audio.signedUrl);
  t.equal(ogg.status, 200);
  t.equal(ogg.headers.get('content-type'), 'audio/ogg');
  const bytes = Buffer.from(await ogg.arrayBuffer());
  t.equal(createHash('sha256').update(bytes).digest('hex'), got.audio.sha256);
  const mp3 = await fetch(base + got.audio.mp3SignedUrl);
  t.equal(mp3.status, 200);
  t.equal(mp3.headers.get('content-type'), 'audio/mpeg');

  const preview = await api('POST', '/api/v1/tts/preview', { text: 'Một hai ba.' }, token);
  t.equal(preview.status, 200);
  t.match(preview.body.audio.signedUrl, /\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/, 'POST /tts/preview');
  t.equal((await fetch(base + preview.body.audio.signedUrl, { headers: { range: 'bytes=0-99' } })).status, 206);

  const doc = (await api('GET', '/openapi.json')).body;
  t.ok(doc.paths['/api/v1/bulletins/{id}'].get.responses['200'].content['application/json'].schema.properties.audio.properties.signedUrl, 'documented in OpenAPI');
  t.ok(doc.components.securitySchemes.mediaLink, 'the media link scheme is documented');
  t.ok(doc.paths['/media/{sha256}'].get.parameters.some((p: { name: string }) => p.name === 'exp'));
  t.same(doc.paths['/media/{sha256}'].get.security, [{ deviceBasic: [] }, { mediaLink: [] }, { bearer: [] }]);
});

t.test('the link key: configured, or made once in the data dir with mode 0600 and kept across restarts', async (t) => {
  const dir = await tempDir(t);
  const k1 = await loadMediaLinkKey(undefined, dir);
  t.equal(k1.length, 32);
  t.equal((await stat(join(dir, MEDIA_LINK_KEY_FILE))).mode & 0o777, 0o600);
  t.ok((await loadMediaLinkKey(undefined, dir)).equals(k1), 'the same key after a restart');
  const [c1, c2] = await Promise.all([loadMediaLinkKey(undefined, `${dir}/`), loadMediaLinkKey(undefined, dir)]);
  t.ok(c1.equals(k1) && c2.equals(k1));
  t.equal((await readFile(join(dir, MEDIA_LINK_KEY_FILE), 'utf8')).trim().length, 43);
  const configured = await loadMediaLinkKey('x'.repeat(40), dir);
  t.equal(configured.toString(), 'x'.repeat(40));
  t.throws(() => loadConfig({ LOAXA_MEDIA_LINK_SECRET: 'short' }), /LOAXA_MEDIA_LINK_SECRET/);
  t.equal(loadConfig({}).mediaLinkTtlSeconds, 3600);
  t.equal(loadConfig({ LOAXA_MEDIA_LINK_TTL_SECONDS: '300' }).mediaLinkTtlSeconds, 300);
  t.throws(() => loadConfig({ LOAXA_MEDIA_LINK_TTL_SECONDS: '10' }), /LOAXA_MEDIA_LINK_TTL_SECONDS/);

  // Links made before a restart still open after it.
  const first = await startTestServer(t, { dataDir: dir });
  const f = await first.server.ctx.media.put(randomBytes(1000), 'ogg');
  const user = (first.server.ctx.db.prepare("SELECT id FROM users WHERE username = 'admin'").get() as { id: string }).id;
  const link = first.server.app.mediaLinks.sign(f.sha256, user);
  await first.server.stop();
  const second = await startTestServer(t, { dataDir: dir });
  t.equal((await fetch(second.base + link.url)).status, 200, 'a link survives a restart');
});

t.test('links are stable on a grid and expire within TTL + a tenth', async (t) => {
  const links = new MediaLinks(randomBytes(32), 600);
  const sha = 'a'.repeat(64);
  const now = 1_800_000_012_000;
  const l = links.sign(sha, 'u-1', now);
  t.ok(l.expiresAt >= now + 600_000 && l.expiresAt < now + 660_000);
  t.equal(links.sign(sha, 'u-1', now + 1000).url, l.url, 'the same URL a second later');
  t.same(links.verify(sha, Object.fromEntries(new URL(l.url, 'http://x').searchParams), l.expiresAt - 1), { ok: true, userId: 'u-1' });
  t.same(links.verify(sha, Object.fromEntries(new URL(l.url, 'http://x').searchParams), l.expiresAt), { ok: false, reason: 'expired' });
  t.throws(() => new MediaLinks(Buffer.alloc(16), 600), /32 bytes/);
});

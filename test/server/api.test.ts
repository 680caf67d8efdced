import t from 'tap';
import { readFile } from 'node:fs/promises';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';

const SHARED_UNITS = new URL('../../../shared/data/vn-admin-units-2025.json', import.meta.url);

t.test('health, login and the error shape', async (t) => {
  const { api, token } = await startTestServer(t);
  t.same((await api('GET', '/healthz')).body, { status: 'ok' });
  t.match(token, /^[A-Za-z0-9_-]{40,}$/);

  const wrong = await api('POST', '/api/v1/auth/login', { username: 'admin', password: 'nope' });
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error.code, 'LOAXA_UNAUTHORIZED');
  const nobody = await api('POST', '/api/v1/auth/login', { username: 'ghost', password: ADMIN_PASSWORD });
  t.equal(nobody.status, 401, 'an unknown user gets the same answer');

  const noAuth = await api('GET', '/api/v1/devices');
  t.equal(noAuth.status, 401);
  t.match(noAuth.body.error.message, /log in/);
  t.equal((await api('GET', '/api/v1/devices', undefined, 'x'.repeat(43))).status, 401, 'unknown token');

  const badJson = await api('POST', '/api/v1/auth/login', '{"username":');
  t.equal(badJson.status, 400);
  t.equal(badJson.body.error.code, 'LOAXA_BAD_REQUEST');

  const missing = await api('POST', '/api/v1/auth/login', { username: 'admin' });
  t.equal(missing.status, 400);
  t.same(missing.body.error.fields.map((f: { path: string }) => f.path), ['password']);

  const res = await fetch(`${(await startTestServer(t)).base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
  t.equal(res.status, 415);
  t.equal(((await res.json()) as { error: { code: string } }).error.code, 'LOAXA_UNSUPPORTED_MEDIA_TYPE');

  const unknown = await api('GET', '/api/v1/nothing-here');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'LOAXA_NOT_FOUND');
});

t.test('areas: import is validated and all-or-nothing; the tree is returned', async (t) => {
  const { api, token } = await startTestServer(t);
  const bad = await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'X', type: 'tỉnh', communes: [{ code: '9900', name: 'Y', type: 'xã' }] }] }, token);
  t.equal(bad.status, 400);
  t.equal(bad.body.error.fields[0].path, 'provinces.0.communes.0.code');
  const dup = await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'X', type: 'tỉnh', communes: [{ code: '99001', name: 'Y', type: 'xã' }, { code: '99001', name: 'Z', type: 'xã' }] }] }, token);
  t.equal(dup.status, 400);
  t.match(dup.body.error.message, /duplicate area code 99001/);
  t.same((await api('GET', '/api/v1/areas', undefined, token)).body, { items: [] }, 'nothing was stored by the failed imports');

  await importSampleAreas(api, token);
  const tree = (await api('GET', '/api/v1/areas', undefined, token)).body;
  t.equal(tree.items.length, 1);
  t.equal(tree.items[0].name, 'Tỉnh Mẫu');
  t.equal(tree.items[0].children.length, 6);
  t.same(tree.items[0].children.find((c: { code: string }) => c.code === '99003').children.map((v: { code: string }) => v.code), ['9900301', '9900302']);
});

t.test('the official 34-province list imports whole', { skip: !(await readFile(SHARED_UNITS).then(() => true, () => false)) && 'shared/data not present' }, async (t) => {
  const { api, token } = await startTestServer(t);
  const body = JSON.parse(await readFile(SHARED_UNITS, 'utf8'));
  const res = await api('POST', '/api/v1/areas/import', body, token);
  t.equal(res.status, 200);
  t.same(res.body.imported, { provinces: 34, communes: 3321, villages: 0 });
  const tree = (await api('GET', '/api/v1/areas', undefined, token)).body;
  t.equal(tree.items.length, 34);
  t.equal(tree.items.reduce((n: number, p: { children: unknown[] }) => n + p.children.length, 0), 3321);
  const again = await api('POST', '/api/v1/areas/import', body, token);
  t.equal(again.status, 200, 'importing again updates in place');
});

t.test('devices: registration shows the password once and stores only its hash', async (t) => {
  const { api, token, server, urls } = await startTestServer(t);
  await importSampleAreas(api, token);
  const created = await api('POST', '/api/v1/devices', { name: 'Cụm loa chợ', areaCode: '99003', lat: 21.01, lon: 105.8 }, token);
  t.equal(created.status, 201);
  t.match(created.body.id, /^[a-z0-9][a-z0-9-]{0,63}$/);
  t.equal(created.body.mqtt.username, created.body.id);
  t.equal(created.body.mqtt.url, `mqtt://127.0.0.1:${urls.mqttPort}`);
  t.ok(Buffer.from(created.body.mqtt.password, 'base64url').length >= 16, 'at least 128 bits');
  const row = server.ctx.db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(created.body.id) as { secret_hash: string };
  t.match(row.secret_hash, /^[0-9a-f]{64}$/);
  t.notMatch(JSON.stringify(row), created.body.mqtt.password);

  const listed = await api('GET', '/api/v1/devices', undefined, token);
  t.equal(listed.body.total, 1);
  t.notOk('mqtt' in listed.body.items[0], 'the list never shows credentials');
  t.equal(listed.body.items[0].state, 'offline');

  t.equal((await api('POST', '/api/v1/devices', { name: 'x', areaCode: '12345' }, token)).status, 400, 'unknown area');
  t.equal((await api('POST', '/api/v1/devices', { name: 'x', areaCode: '99003', lat: 200 }, token)).body.error.fields[0].path, 'lat');
  t.equal((await api('GET', '/api/v1/devices/spk-nope', undefined, token)).status, 404);
});

t.test('devices list paginates with a cursor and filters by area', async (t) => {
  const { api, token } = await startTestServer(t);
  await importSampleAreas(api, token);
  for (let i = 0; i < 5; i++) await api('POST', '/api/v1/devices', { name: `loa ${i}`, areaCode: i < 3 ? '99003' : '99004' }, token);
  const p1 = await api('GET', '/api/v1/devices?limit=2', undefined, token);
  t.equal(p1.body.items.length, 2);
  t.equal(p1.body.total, 5);
  t.type(p1.body.next, 'string');
  const p2 = await api('GET', `/api/v1/devices?limit=2&cursor=${p1.body.next}`, undefined, token);
  const p3 = await api('GET', `/api/v1/devices?limit=2&cursor=${p2.body.next}`, undefined, token);
  t.equal(p3.body.next, null);
  const ids = [...p1.body.items, ...p2.body.items, ...p3.body.items].map((d: { id: string }) => d.id);
  t.equal(new Set(ids).size, 5, 'every device exactly once');
  t.equal((await api('GET', '/api/v1/devices?area=99004', undefined, token)).body.total, 2);
  t.equal((await api('GET', '/api/v1/devices?area=99', undefined, token)).body.total, 5, 'a province includes its communes');
  t.equal((await api('GET', '/api/v1/devices?limit=5000', undefined, token)).status, 400);
  t.equal((await api('GET', '/api/v1/devices?cursor=%%%', undefined, token)).status, 400);
});

t.test('bulletins are synthesized to Opus and served to logged-in users', async (t) => {
  const { api, token, base } = await startTestServer(t);
  const created = await api('POST', '/api/v1/bulletins', { title: 'Thông báo cắt điện', text: 'Ủy ban nhân dân xã thông báo: ngày mai cắt điện từ bảy giờ đến mười một giờ.' }, token);
  t.equal(created.status, 201);
  t.equal(created.body.status, 'ready');
  t.ok(created.body.audio.durationMs > 1500 && created.body.audio.durationMs < 20_000, `duration ${created.body.audio.durationMs} ms`);
  const got = await api('GET', `/api/v1/bulletins/${created.body.id}`, undefined, token);
  t.equal(got.body.audio.engine.startsWith('espeak'), true);
  const media = await fetch(`${base}/media/${created.body.audio.sha256}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(media.status, 200);
  t.equal(media.headers.get('content-type'), 'audio/ogg');
  const bytes = Buffer.from(await media.arrayBuffer());
  t.equal(bytes.subarray(0, 4).toString(), 'OggS');
  const { createHash } = await import('node:crypto');
  t.equal(createHash('sha256').update(bytes).digest('hex'), created.body.audio.sha256, 'named by its own hash');

  t.match(got.body.audio.mp3Url, /^\/media\/[0-9a-f]{64}$/, 'an MP3 rendition for download');
  const mp3 = await fetch(`${base}${got.body.audio.mp3Url}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(mp3.headers.get('content-type'), 'audio/mpeg');
  const mp3Bytes = Buffer.from(await mp3.arrayBuffer());
  t.ok(mp3Bytes.length > 1000 && (mp3Bytes.subarray(0, 3).toString() === 'ID3' || (mp3Bytes[0] === 0xff && (mp3Bytes[1]! & 0xe0) === 0xe0)), 'an MP3 stream');

  const part = await fetch(`${base}/media/${created.body.audio.sha256}`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=10-19' } });
  t.equal(part.status, 206);
  t.same(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 20), 'a range resumes a download');
  t.equal((await fetch(`${base}/media/${created.body.audio.sha256}`, { headers: { authorization: `Bearer ${token}`, range: `bytes=${bytes.length + 5}-` } })).status, 416);
  t.equal((await fetch(`${base}/media/${created.body.audio.sha256}`)).status, 401, 'no anonymous scraping');
  t.equal((await fetch(`${base}/media/${'0'.repeat(64)}`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
  t.equal((await fetch(`${base}/media/..%2F..%2Fetc%2Fpasswd`, { headers: { authorization: `Bearer ${token}` } })).status, 400);

  t.equal((await api('POST', '/api/v1/bulletins', { title: 'x', text: '   ' }, token)).status, 400, 'empty text');
  t.equal((await api('POST', '/api/v1/bulletins', { title: 'x', text: 'a', voice: 'en' }, token)).body.error.fields[0].path, 'voice');
});

t.test('a long bulletin answers 202 and shows progress until ready', async (t) => {
  const { api, token } = await startTestServer(t, { ttsSyncWaitMs: 0 });
  const text = Array.from({ length: 20 }, (_, i) => `Đây là câu thông báo số ${i + 1} của ủy ban nhân dân xã.`).join(' ');
  const created = await api('POST', '/api/v1/bulletins', { title: 'Dài', text }, token);
  t.equal(created.status, 202);
  t.equal(created.body.status, 'synthesizing');
  let b = created.body;
  const seen = new Set<number>();
  for (let i = 0; i < 300 && b.status !== 'ready'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    b = (await api('GET', `/api/v1/bulletins/${created.body.id}`, undefined, token)).body;
    seen.add(b.progress);
  }
  t.equal(b.status, 'ready');
  t.equal(b.progress, 100);
  t.ok(b.audio.durationMs > 20_000, 'twenty sentences of speech');
});

t.test('broadcasts validate their bulletin and targets', async (t) => {
  const { api, token } = await startTestServer(t);
  await importSampleAreas(api, token);
  const b = await api('POST', '/api/v1/bulletins', { title: 't', text: 'Xin chào bà con.' }, token);
  const post = (body: unknown) => api('POST', '/api/v1/broadcasts', body, token);
  t.equal((await post({ bulletinId: 'bt-nope', priority: 'normal', target: { areaCodes: ['99003'] } })).status, 400);
  const noTarget = await post({ bulletinId: b.body.id, priority: 'normal', target: {} });
  t.equal(noTarget.status, 400);
  t.equal(noTarget.body.error.fields[0].path, 'target');
  const badArea = await post({ bulletinId: b.body.id, priority: 'normal', target: { areaCodes: ['99003', '12345'] } });
  t.equal(badArea.body.error.fields[0].path, 'target.areaCodes.1');
  t.equal((await post({ bulletinId: b.body.id, priority: 'loud', target: { areaCodes: ['99003'] } })).body.error.fields[0].path, 'priority');
  t.equal((await post({ bulletinId: b.body.id, target: { areaCodes: ['99003'] }, startAt: '2020-01-01T00:00:00Z' })).status, 400, 'in the past');
  t.equal((await post({ bulletinId: b.body.id, target: { areaCodes: ['99003'] }, startAt: 'tomorrow' })).body.error.fields[0].path, 'startAt');
  const both = await post({ bulletinId: b.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 60_000).toISOString(), schedule: { kind: 'daily', times: ['05:30'] } });
  t.equal(both.body.error.fields[0].path, 'schedule', 'startAt and schedule together are ambiguous');
  const badTime = await post({ bulletinId: b.body.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['25:00'] } });
  t.equal(badTime.body.error.fields[0].path, 'schedule.times.0');
  const never = await post({ bulletinId: b.body.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['05:30'], until: '2020-01-01' } });
  t.match(never.body.error.message, /no occurrence in the coming year/);
  const ok = await post({ bulletinId: b.body.id, priority: 'normal', target: { areaCodes: ['99003'] } });
  t.equal(ok.status, 201);
  t.equal(ok.body.status, 'approved', 'an admin covering the targets gets an approved broadcast');
  t.equal(ok.body.devices, 0);
  const got = await api('GET', `/api/v1/broadcasts/${ok.body.id}`, undefined, token);
  t.equal(got.body.id, ok.body.id);
  t.same(got.body.deliveries, []);
  t.equal((await api('GET', '/api/v1/broadcasts/bc-nope', undefined, token)).status, 404);
});

t.test('bulk registration: thousands of boxes in one request, all or nothing', async (t) => {
  const { api, token, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const devices = Array.from({ length: 5000 }, (_, i) => ({ name: `Cụm loa ${i}`, areaCode: i % 2 ? '99003' : '99004' }));
  const started = Date.now();
  const made = await api('POST', '/api/v1/devices/bulk', { devices }, token);
  t.equal(made.status, 201);
  t.equal(made.body.items.length, 5000);
  t.equal(new Set(made.body.items.map((d: { mqtt: { password: string } }) => d.mqtt.password)).size, 5000, 'every box its own secret');
  t.ok(Date.now() - started < 30_000, 'registered in one go');
  t.equal((await api('GET', '/api/v1/devices?limit=1', undefined, token)).body.total, 5000);
  const bad = await api('POST', '/api/v1/devices/bulk', { devices: [{ name: 'ok', areaCode: '99003' }, { name: 'x', areaCode: '12345' }] }, token);
  t.equal(bad.body.error.fields[0].path, 'devices.1.areaCode');
  t.equal((server.ctx.db.prepare('SELECT COUNT(*) AS n FROM devices').get() as { n: number }).n, 5000, 'a bad entry stores none of the batch');
  t.equal((await api('POST', '/api/v1/devices/bulk', { devices: [] }, token)).status, 400);
});

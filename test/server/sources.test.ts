/**
 * Live sources (issue 15 § Relays): who may register, see, use and change them, bad input changing nothing,
 * a source a broadcast still relays staying, and the server's checks against real streams made on this
 * machine (test/helpers/streams.ts: ffmpeg serving MP3, AAC and Ogg like Icecast, and an HLS playlist).
 */
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { startHlsStream, startToneStream } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { hideCredentialsIn, hideUrlCredentials } from '../../server/src/services/source-checker.js';

type Api = Awaited<ReturnType<typeof startTestServer>>['api'];

/** A second province, so that "another province's admin" exists. */
const OTHER_PROVINCE = { provinces: [{ code: '98', name: 'Tỉnh Bên', type: 'tỉnh', communes: [{ code: '98001', name: 'Xã Bên Sông', type: 'xã' }] }] };

async function setup(t: Parameters<typeof startTestServer>[0], overrides = {}) {
  const s = await startTestServer(t, { sourceCheckSeconds: 0, ...overrides });
  await importSampleAreas(s.api, s.token);
  const imported = await s.api('POST', '/api/v1/areas/import', OTHER_PROVINCE, s.token);
  if (imported.status !== 200) throw new Error(`second province not imported: ${JSON.stringify(imported.body)}`);
  const login = async (username: string, role: string, areaCode: string | null) => {
    const created = await s.api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, s.token);
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return (await s.api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  return { ...s, login };
}

const ids = async (api: Api, token: string): Promise<string[]> => {
  const res = await api('GET', '/api/v1/sources', undefined, token);
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.items.map((s: { id: string }) => s.id).sort();
};

t.test('sources: admins manage their area’s, everyone uses those of their area, others see nothing', async (t) => {
  const { api, token, login } = await setup(t);
  const admin99 = await login('qtv-99', 'province-admin', '99');
  const admin98 = await login('qtv-98', 'province-admin', '98');
  const op = await login('vh-tanlap', 'operator', '99003');
  const viewer = await login('xem-tanlap', 'viewer', '99003');
  const op98 = await login('vh-bensong', 'operator', '98001');

  const national = await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['https://stream.vov.vn/vov1.m3u8', 'http://backup.vov.vn/vov1.mp3'], areaCode: null }, token);
  t.equal(national.status, 201, 'an installation-wide admin registers an installation-wide source');
  t.equal(national.body.areaCode, null);
  t.equal(national.body.status, 'unchecked');
  t.same(national.body.urls, ['https://stream.vov.vn/vov1.m3u8', 'http://backup.vov.vn/vov1.mp3'], 'URLs keep their order of preference');

  const refusedWide = await api('POST', '/api/v1/sources', { name: 'Đài tỉnh', urls: ['http://radio.example/tinh.mp3'], areaCode: null }, admin99);
  t.equal(refusedWide.status, 403, 'a province admin cannot make an installation-wide source');
  t.match(refusedWide.body.error.message, /installation-wide/);

  const provincial = await api('POST', '/api/v1/sources', { name: 'Đài PT-TH tỉnh', urls: ['http://radio.example/tinh.mp3'] }, admin99);
  t.equal(provincial.status, 201);
  t.equal(provincial.body.areaCode, '99', 'by default the admin’s own area');
  t.equal(provincial.body.restream, false);

  t.equal((await api('POST', '/api/v1/sources', { name: 'x', urls: ['http://radio.example/x.mp3'] }, viewer)).status, 403, 'a viewer cannot register a source');
  t.equal((await api('POST', '/api/v1/sources', { name: 'x', urls: ['http://radio.example/x.mp3'] }, op)).status, 403, 'an operator cannot either');
  t.equal((await api('POST', '/api/v1/sources', { name: 'x', urls: ['http://radio.example/x.mp3'], areaCode: '98' }, admin99)).status, 403, 'nor an admin for another province');

  // Another province's admin and operator: the provincial source does not exist for them.
  t.same(await ids(api, admin98), [national.body.id]);
  t.equal((await api('GET', `/api/v1/sources/${provincial.body.id}`, undefined, admin98)).status, 404);
  t.equal((await api('PATCH', `/api/v1/sources/${provincial.body.id}`, { name: 'mine now' }, admin98)).status, 404);
  t.equal((await api('DELETE', `/api/v1/sources/${provincial.body.id}`, undefined, admin98)).status, 404);
  t.equal((await api('POST', `/api/v1/sources/${provincial.body.id}/check`, undefined, op98)).status, 404);
  const foreignRelay = await api('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng', sourceId: provincial.body.id, durationMs: 1800_000 }, op98);
  t.equal(foreignRelay.status, 400, 'nor may they relay it');
  t.equal(foreignRelay.body.error.fields[0].path, 'sourceId');

  // Inside the province: the commune sees its province's source and the national one, and may not change them.
  t.same(await ids(api, op), [national.body.id, provincial.body.id].sort());
  t.same(await ids(api, viewer), [national.body.id, provincial.body.id].sort(), 'viewers list and read them');
  t.equal((await api('GET', `/api/v1/sources/${provincial.body.id}`, undefined, viewer)).body.name, 'Đài PT-TH tỉnh');
  t.equal((await api('PATCH', `/api/v1/sources/${provincial.body.id}`, { name: 'x' }, op)).status, 403);
  t.equal((await api('PATCH', `/api/v1/sources/${national.body.id}`, { name: 'x' }, admin99)).status, 403, 'a province admin does not change the national source');

  const renamed = await api('PATCH', `/api/v1/sources/${provincial.body.id}`, { name: 'Đài tỉnh (FM 96)', urls: ['http://radio.example/fm96.aac', 'http://radio.example/tinh.mp3'], restream: true }, admin99);
  t.equal(renamed.status, 200);
  t.equal(renamed.body.name, 'Đài tỉnh (FM 96)');
  t.same(renamed.body.urls, ['http://radio.example/fm96.aac', 'http://radio.example/tinh.mp3']);
  t.equal(renamed.body.restream, true, 'restream is stored');

  const audit = (await api('GET', '/api/v1/audit?limit=20', undefined, admin99)).body.items;
  const edit = audit.find((r: { route: string }) => r.route === '/api/v1/sources/:id');
  t.same(edit.object, { type: 'source', id: provincial.body.id }, 'edits are audited with the source');
  t.equal(edit.before.name, 'Đài PT-TH tỉnh');
  t.equal(edit.after.name, 'Đài tỉnh (FM 96)');
});

t.test('sources: bad input is refused with the field named and changes nothing', async (t) => {
  const { api, token, login, server } = await setup(t);
  const admin99 = await login('qtv-99', 'province-admin', '99');
  const writer = await login('vh-tanlap', 'operator', '99003');
  const good = (await api('POST', '/api/v1/sources', { name: 'Đài tỉnh', urls: ['http://radio.example/a.mp3'] }, admin99)).body;
  const text = (await api('POST', '/api/v1/bulletins', { title: 'Mất sóng', text: 'Xin lỗi, buổi tiếp sóng tạm gián đoạn.' }, admin99)).body;
  const communeText = (await api('POST', '/api/v1/bulletins', { title: 'Tin xã', text: 'Tin của xã Tân Lập.' }, writer)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng', sourceId: good.id, durationMs: 600_000 }, admin99)).body;
  const before = await ids(api, token);

  const cases: Array<[string, unknown, string]> = [
    ['no URL', { name: 'a', urls: [] }, 'urls'],
    ['not http', { name: 'a', urls: ['rtmp://radio.example/live'] }, 'urls.0'],
    ['a file', { name: 'a', urls: ['file:///etc/passwd'] }, 'urls.0'],
    ['not a URL', { name: 'a', urls: ['vov1'] }, 'urls.0'],
    ['nine URLs', { name: 'a', urls: Array.from({ length: 9 }, (_, i) => `http://radio.example/${i}.mp3`) }, 'urls'],
    ['the same URL twice', { name: 'a', urls: ['http://radio.example/a.mp3', 'http://radio.example/a.mp3'] }, 'urls'],
    ['no name', { name: ' ', urls: ['http://radio.example/a.mp3'] }, 'name'],
    ['an unknown area', { name: 'a', urls: ['http://radio.example/a.mp3'], areaCode: '99999' }, 'areaCode'],
    ['an unknown fallback', { name: 'a', urls: ['http://radio.example/a.mp3'], fallbackBulletinId: 'bt-nothing' }, 'fallbackBulletinId'],
    ['a relay as fallback', { name: 'a', urls: ['http://radio.example/a.mp3'], fallbackBulletinId: relay.id }, 'fallbackBulletinId'],
    ['a commune’s bulletin as a province fallback', { name: 'a', urls: ['http://radio.example/a.mp3'], fallbackBulletinId: communeText.id }, 'fallbackBulletinId'],
  ];
  for (const [what, body, path] of cases) {
    const res = await api('POST', '/api/v1/sources', body, admin99);
    t.equal(res.status, 400, what);
    t.equal(res.body.error?.fields?.[0]?.path, path, `${what}: the field is named`);
  }
  t.same(await ids(api, token), before, 'no source was created');

  const patched = await api('PATCH', `/api/v1/sources/${good.id}`, { urls: ['ftp://radio.example/a.mp3'] }, admin99);
  t.equal(patched.status, 400);
  t.equal((await api('PATCH', `/api/v1/sources/${good.id}`, {}, admin99)).status, 400, 'an empty change is refused');
  t.same((await api('GET', `/api/v1/sources/${good.id}`, undefined, admin99)).body.urls, ['http://radio.example/a.mp3'], 'the source is unchanged');

  const withFallback = await api('PATCH', `/api/v1/sources/${good.id}`, { fallbackBulletinId: text.id }, admin99);
  t.equal(withFallback.status, 200, 'the province’s own ready bulletin is a fallback');
  t.equal(withFallback.body.fallbackBulletinId, text.id);

  for (const [what, body] of [
    ['too short', { title: 'a', sourceId: good.id, durationMs: 30_000 }],
    ['too long', { title: 'a', sourceId: good.id, durationMs: 12 * 3600_000 + 1 }],
    ['no source', { title: 'a', durationMs: 600_000 }],
  ] as const) {
    const res = await api('POST', '/api/v1/bulletins/relay', body, admin99);
    t.equal(res.status, 400, `a relay bulletin ${what} is refused`);
  }
  t.equal((await api('POST', '/api/v1/bulletins/relay', { title: 'x', sourceId: good.id, durationMs: 600_000 }, await login('xem', 'viewer', '99'))).status, 403, 'viewers make no relay');
  const relays = server.ctx.db.prepare(`SELECT id FROM bulletins WHERE source = 'relay'`).all();
  t.same(relays, [{ id: relay.id }], 'no refused relay bulletin was stored');
});

t.test('a source a broadcast still relays is not deleted; afterwards it is, and its relays name it still', async (t) => {
  const { api, token } = await setup(t);
  const src = (await api('POST', '/api/v1/sources', { name: 'Đài tỉnh', urls: ['http://radio.example/a.mp3'], areaCode: '99' }, token)).body;
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự tỉnh', sourceId: src.id, durationMs: 1800_000 }, token)).body;
  t.equal(relay.status, 'ready', 'a relay is ready at once');
  t.same(relay.relay, { sourceId: src.id, durationMs: 1800_000 });
  const got = (await api('GET', `/api/v1/bulletins/${relay.id}`, undefined, token)).body;
  t.same(got.relay, { sourceId: src.id, durationMs: 1800_000 });
  t.equal(got.audio, null, 'no audio of its own');

  const daily = await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['18:00'] } }, token);
  t.equal(daily.status, 201, 'a relay is broadcast like any bulletin');
  const refused = await api('DELETE', `/api/v1/sources/${src.id}`, undefined, token);
  t.equal(refused.status, 409);
  t.match(refused.body.error.message, new RegExp(`relayed by 1 broadcast.*${daily.body.id}`));
  t.equal((await api('GET', `/api/v1/sources/${src.id}`, undefined, token)).status, 200, 'still there');

  t.equal((await api('POST', `/api/v1/broadcasts/${daily.body.id}/cancel`, {}, token)).status, 200);
  t.equal((await api('DELETE', `/api/v1/sources/${src.id}`, undefined, token)).status, 204, 'no broadcast left to relay it');
  t.equal((await api('GET', `/api/v1/sources/${src.id}`, undefined, token)).status, 404);
  t.same(await ids(api, token), []);
  t.equal((await api('DELETE', `/api/v1/sources/${src.id}`, undefined, token)).status, 404, 'deleted once');
  const again = await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token);
  t.equal(again.status, 409, 'its relay bulletin can no longer be broadcast');
  t.match(again.body.error.message, /deleted/);
});

t.test('checks: real MP3, AAC, Ogg and HLS streams are up, a silent one silent, a dead one down with why', { timeout: 120_000 }, async (t) => {
  const { api, token } = await setup(t);
  const mp3 = await startToneStream(t, { format: 'mp3' });
  const ogg = await startToneStream(t, { format: 'ogg' });
  const quiet = await startToneStream(t, { format: 'aac', silent: true });
  const hls = await startHlsStream(t);
  const dead = 'http://127.0.0.1:9/nothing.mp3'; // the discard port: nothing listens there
  // A station whose server answers and then sends nothing (a hung encoder behind Icecast).
  const sockets = new Set<Socket>();
  const hung = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => s.write('HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n'));
  });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    hung.close();
  });
  const stalled = `http://127.0.0.1:${(hung.address() as { port: number }).port}/live.mp3`;

  const src = (await api('POST', '/api/v1/sources', { name: 'Thử', urls: [mp3.url, dead, quiet.url, hls.url, ogg.url, stalled], areaCode: '99' }, token)).body;
  const started = Date.now();
  const checked = await api('POST', `/api/v1/sources/${src.id}/check`, undefined, token);
  const tookMs = Date.now() - started;
  t.equal(checked.status, 200);
  const by = Object.fromEntries(checked.body.checks.map((c: { url: string }) => [c.url, c]));
  t.equal(by[mp3.url].status, 'up', 'MP3 over HTTP plays');
  t.ok(by[mp3.url].levelDb > -40, `the tone is heard (${by[mp3.url].levelDb} dBFS)`);
  t.equal(by[ogg.url].status, 'up', 'Ogg/Opus plays');
  t.equal(by[hls.url].status, 'up', 'the HLS playlist plays');
  t.equal(by[quiet.url].status, 'silent', 'a stream of silence is silent, not up');
  t.equal(by[dead].status, 'down');
  t.match(by[dead].reason, /refused/i, 'and says why');
  t.equal(by[stalled].status, 'down', 'a stream that answers and sends nothing is down');
  t.match(by[stalled].reason, /sent nothing for 5 s/);
  t.equal(checked.body.status, 'up', 'the source plays while one URL does');
  t.same(checked.body.checks.map((c: { url: string }) => c.url), [mp3.url, dead, quiet.url, hls.url, ogg.url, stalled], 'in the order of preference');
  t.ok(tookMs < 40_000, `six URLs, two at a time, within bounds (${tookMs} ms)`);
  t.same((await api('GET', `/api/v1/sources/${src.id}`, undefined, token)).body.checks, checked.body.checks, 'the results are kept and shown with the source');

  // The station goes off the air, the playlist breaks: the next check says so.
  await mp3.kill();
  await ogg.kill();
  hls.breakPlaylist();
  const after = await api('POST', `/api/v1/sources/${src.id}/check`, undefined, token);
  const by2 = Object.fromEntries(after.body.checks.map((c: { url: string }) => [c.url, c]));
  t.equal(by2[mp3.url].status, 'down');
  t.equal(by2[hls.url].status, 'down', 'a broken playlist is down');
  t.ok(by2[hls.url].reason, `with a reason (${by2[hls.url].reason})`);
  t.equal(after.body.status, 'silent', 'only the silent URL still answers');

  await mp3.revive();
  const back = await api('POST', `/api/v1/sources/${src.id}/check`, undefined, token);
  t.equal(back.body.status, 'up', 'a source that returns is up again');
});

t.test('checks run by themselves every LOAXA_SOURCE_CHECK_SECONDS', { timeout: 60_000 }, async (t) => {
  const { api, token } = await setup(t, { sourceCheckSeconds: 3 });
  const mp3 = await startToneStream(t, { format: 'mp3' });
  const src = (await api('POST', '/api/v1/sources', { name: 'Thử', urls: [mp3.url], areaCode: '99' }, token)).body;
  const first = await waitFor('a first check', async () => {
    const s = (await api('GET', `/api/v1/sources/${src.id}`, undefined, token)).body;
    return s.checkedAt ? s : null;
  }, 20_000, 250);
  t.equal(first.status, 'up');
  mp3.setSilent(true);
  const later = await waitFor('a later check to hear the silence', async () => {
    const s = (await api('GET', `/api/v1/sources/${src.id}`, undefined, token)).body;
    return s.checkedAt > first.checkedAt && s.status === 'silent' ? s : null;
  }, 30_000, 250);
  t.match(later.checks[0].reason, /silence/);
});

t.test('issue 15 review (1): a stream URL’s credentials reach only those who manage the source', async (t) => {
  const { api, token, login } = await setup(t);
  const admin99 = await login('qtv-99', 'province-admin', '99');
  const viewer = await login('xem-tanlap', 'viewer', '99003');
  const op = await login('vh-tanlap', 'operator', '99003');
  const secretUrl = 'http://vov:s3cret@radio.example/tinh.mp3';
  const deadUrl = 'http://relay:hunter2@127.0.0.1:9/nothing.mp3';
  const created = await api('POST', '/api/v1/sources', { name: 'Đài tỉnh', urls: [secretUrl, deadUrl] }, admin99);
  t.equal(created.status, 201);
  t.same(created.body.urls, [secretUrl, deadUrl], 'the admin who manages it sees its URLs whole');
  t.same((await api('GET', `/api/v1/sources/${created.body.id}`, undefined, token)).body.urls, [secretUrl, deadUrl], 'so does the installation admin');

  const listed = (await api('GET', '/api/v1/sources', undefined, viewer)).body.items.find((s: { id: string }) => s.id === created.body.id);
  t.same(listed.urls, ['http://***@radio.example/tinh.mp3', 'http://***@127.0.0.1:9/nothing.mp3'], 'a viewer sees where it is, not the password');
  const one = await api('GET', `/api/v1/sources/${created.body.id}`, undefined, viewer);
  t.notMatch(JSON.stringify(one.body), /s3cret|hunter2/, 'nor when reading the one source');

  const checked = await api('POST', `/api/v1/sources/${created.body.id}/check`, undefined, op);
  t.equal(checked.status, 200);
  t.notMatch(JSON.stringify(checked.body), /s3cret|hunter2/, 'an operator’s check answers its results without the credentials');
  const dead = checked.body.checks.find((c: { url: string }) => c.url.includes('127.0.0.1'));
  t.equal(dead.status, 'down');

  await api('PATCH', `/api/v1/sources/${created.body.id}`, { urls: [secretUrl] }, admin99);
  const audit = await api('GET', '/api/v1/audit?limit=50', undefined, token);
  const rows = audit.body.items.filter((r: { route: string }) => r.route.startsWith('/api/v1/sources'));
  t.ok(rows.length >= 3, 'creation, check and edit are audited');
  t.notMatch(JSON.stringify(rows), /s3cret|hunter2/, 'the audit log holds no password, in bodies or rows');
  t.match(JSON.stringify(rows), /http:\/\/\*\*\*@radio\.example\/tinh\.mp3/, 'but the URL itself');
});

t.test('issue 15 review (1): credentials are hidden in URLs and in texts quoting them (check reasons, logs, audit)', async (t) => {
  t.equal(hideUrlCredentials('https://user:p%40ss@stream.example.vn:8000/vov1.mp3?x=1'), 'https://***@stream.example.vn:8000/vov1.mp3?x=1');
  t.equal(hideUrlCredentials('http://stream.example.vn/a@b.mp3'), 'http://stream.example.vn/a@b.mp3', 'an @ in the path is not a password');
  t.equal(hideCredentialsIn('Error opening input http://u:pw@h/x.m3u8: 401, and "https://a:b@c/"'), 'Error opening input http://***@h/x.m3u8: 401, and "https://***@c/"');
  t.equal(hideCredentialsIn('write to admin@example.vn'), 'write to admin@example.vn', 'an e-mail address is left alone');
});

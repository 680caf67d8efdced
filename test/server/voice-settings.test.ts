/**
 * Issue 20 ("set reading speed and voice"): a province or commune sets the voice and speaking rate its
 * bulletins are read with when a bulletin does not choose; validated, scoped to the caller's area, audited,
 * and applied by synthesis (a bulletin made after a slower rate lasts longer).
 */
import t from 'tap';
import { importSampleAreas, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

type Api = Awaited<ReturnType<typeof startTestServer>>['api'];

async function userToken(api: Api, admin: string, username: string, role: string, areaCode: string | null): Promise<string> {
  const made = await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-1', role, areaCode }, admin);
  if (made.status !== 201) throw new Error(`user ${username}: ${JSON.stringify(made.body)}`);
  return (await api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: 'mat-khau-dai-1' })).body.token;
}

/** A bulletin made by `token` without a speed of its own, synthesized: its speed and its audio's duration. */
async function bulletinRead(api: Api, token: string, text: string): Promise<{ speed: number; voice: string; durationMs: number }> {
  const made = await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text }, token);
  if (made.status >= 300) throw new Error(JSON.stringify(made.body));
  return waitFor('bulletin ready', async () => {
    const b = (await api('GET', `/api/v1/bulletins/${made.body.id}`, undefined, token)).body;
    return b.status === 'ready' ? { speed: b.speed, voice: b.voice, durationMs: b.audio.durationMs } : null;
  }, 60_000);
}

t.test('a province sets a slower rate: its communes’ bulletins are read slower, and longer', async (t) => {
  const { api, token: root } = await startTestServer(t);
  await importSampleAreas(api, root);
  const province = await userToken(api, root, 'tinh.admin', 'province-admin', '99');
  const operator = await userToken(api, root, 'tanlap.op', 'operator', '99003');
  const approver = await userToken(api, root, 'tanlap.duyet', 'approver', '99003');

  const start = await api('GET', '/api/v1/tts/voice', undefined, operator);
  t.same(start.body, { areaCode: '99003', own: null, effective: { voice: 'vi', speed: 1, from: null } }, 'no setting: the server’s default');

  const text = 'Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia cầm vào sáng thứ bảy tại nhà văn hóa thôn.';
  const before = await bulletinRead(api, operator, text);
  t.equal(before.speed, 1);

  const set = await api('PUT', '/api/v1/tts/voice', { areaCode: '99', voice: 'vi-vn-x-south', speed: 0.75 }, province);
  t.equal(set.status, 200);
  t.same(set.body.effective, { voice: 'vi-vn-x-south', speed: 0.75, from: '99' });
  const seen = await api('GET', '/api/v1/tts/voice', undefined, operator);
  t.same(seen.body.effective, { voice: 'vi-vn-x-south', speed: 0.75, from: '99' }, 'the commune reads with its province’s setting');

  const after = await bulletinRead(api, operator, text);
  t.equal(after.speed, 0.75);
  t.equal(after.voice, 'vi-vn-x-south');
  t.ok(after.durationMs > before.durationMs * 1.15, `read slower: ${after.durationMs} ms at 0.75 vs ${before.durationMs} ms at 1`);
  t.comment(`measured: ${before.durationMs} ms at speed 1, ${after.durationMs} ms at speed 0.75`);

  // A bulletin that chooses keeps its choice.
  const chosen = await api('POST', '/api/v1/bulletins', { title: 'Nhanh', text: 'Xin chào.', voice: 'vi', speed: 1.2 }, operator);
  t.equal((await api('GET', `/api/v1/bulletins/${chosen.body.id}`, undefined, operator)).body.speed, 1.2);

  // The commune's approver sets its own commune, which wins over the province's.
  const own = await api('PUT', '/api/v1/tts/voice', { areaCode: '99003', voice: 'vi', speed: 1.1 }, approver);
  t.equal(own.status, 200);
  t.same(own.body.effective, { voice: 'vi', speed: 1.1, from: '99003' });
  t.same((await api('GET', '/api/v1/tts/voice?areaCode=99001', undefined, province)).body.effective.from, '99', 'another commune keeps the province’s');
  t.equal((await api('DELETE', '/api/v1/tts/voice?areaCode=99003', undefined, approver)).body.effective.from, '99', 'removed: the province’s applies again');
  t.equal((await api('DELETE', '/api/v1/tts/voice?areaCode=99003', undefined, approver)).status, 404);

  // The preview reads as the caller's bulletins will be.
  const preview = await api('POST', '/api/v1/tts/preview', { text: 'Có 24 hộ.' }, operator);
  t.match(preview.body.words, /hai mươi bốn/, 'the province’s southern voice reads the southern way in the preview');

  const audit = (await api('GET', '/api/v1/audit?limit=50', undefined, root)).body.items as Array<{ route: string; method: string; username: string; body: { areaCode?: string; speed?: number } }>;
  t.ok(audit.some((r) => r.method === 'PUT' && r.route === '/api/v1/tts/voice' && r.username === 'tinh.admin' && r.body.speed === 0.75), 'the change is in the audit log');
});

t.test('bad or foreign settings are refused and change nothing', async (t) => {
  const { api, token: root } = await startTestServer(t);
  await importSampleAreas(api, root);
  const operator = await userToken(api, root, 'tanlap.op', 'operator', '99003');
  const approver = await userToken(api, root, 'tanlap.duyet', 'approver', '99003');
  const bad = [
    { areaCode: '99003', voice: 'vi', speed: 3 },
    { areaCode: '99003', voice: 'vi', speed: 0.5 },
    { areaCode: '99003', voice: 'vi', speed: 0.93 },
    { areaCode: '99003', voice: 'english', speed: 1 },
    { areaCode: 'xã', voice: 'vi', speed: 1 },
  ];
  for (const body of bad) {
    const res = await api('PUT', '/api/v1/tts/voice', body, approver);
    t.equal(res.status, 400, JSON.stringify(body));
    t.ok(res.body.error.fields.length > 0, 'the field is named');
  }
  t.equal((await api('PUT', '/api/v1/tts/voice', { areaCode: '99', voice: 'vi', speed: 0.8 }, approver)).status, 403, 'a commune’s approver cannot set its province');
  t.equal((await api('PUT', '/api/v1/tts/voice', { areaCode: '99001', voice: 'vi', speed: 0.8 }, approver)).status, 403, 'nor another commune');
  t.equal((await api('PUT', '/api/v1/tts/voice', { areaCode: '99003', voice: 'vi', speed: 0.8 }, operator)).status, 403, 'operators do not set it');
  t.equal((await api('PUT', '/api/v1/tts/voice', { areaCode: '99999', voice: 'vi', speed: 0.8 }, root)).status, 400, 'an unknown area');
  t.equal((await api('GET', '/api/v1/tts/voice?areaCode=99001', undefined, operator)).status, 403, 'another commune’s is not readable');
  t.same((await api('GET', '/api/v1/tts/voice', undefined, operator)).body.own, null, 'nothing was stored');
});

t.test('the province hears a commune’s reading before it airs there (preview with areaCode)', async (t) => {
  const { api, token: root } = await startTestServer(t);
  await importSampleAreas(api, root);
  const province = await userToken(api, root, 'tinh.admin', 'province-admin', '99');
  const operator = await userToken(api, root, 'tanlap.op', 'operator', '99003');
  t.equal((await api('PUT', '/api/v1/tts/dictionary/HTXTL', { reading: 'hợp tác xã tân lập', areaCode: '99003' }, province)).status, 200);
  const own = await api('POST', '/api/v1/tts/preview', { text: 'Gặp HTXTL.' }, province);
  t.notMatch(own.body.words, /hợp tác xã tân lập/, 'the province’s own reading does not use the commune’s entry');
  const there = await api('POST', '/api/v1/tts/preview', { text: 'Gặp HTXTL.', areaCode: '99003' }, province);
  t.match(there.body.words, /hợp tác xã tân lập/, 'read as in the commune');
  t.ok(there.body.audio.durationMs > 500, 'with audio');
  t.equal((await api('POST', '/api/v1/tts/preview', { text: 'Gặp HTXTL.', areaCode: '99001' }, operator)).status, 403, 'not as another commune');
  t.equal((await api('POST', '/api/v1/tts/preview', { text: 'x', areaCode: '99999' }, province)).status, 400);
});

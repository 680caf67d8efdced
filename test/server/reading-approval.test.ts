/**
 * Issue 19 on the server: the imported areas are read as places, and a text bulletin with spans the reader
 * guessed or could not read airs only once whoever puts it on air says "đã kiểm tra cách đọc".
 */
import t from 'tap';
import { runFfmpeg } from '../../server/src/audio/index.js';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

type Span = { kind: string; text: string; label: string; reading?: string; rule: string };

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const login = async (username: string, role: string, areaCode: string | null) => {
    const created = await s.api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, s.token);
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return (await s.api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token);
  const op = await login('viet-tin', 'operator', '99003');
  const approver = await login('duyet', 'approver', '99');
  const bulletin = async (text: string) => {
    const res = await s.api('POST', '/api/v1/bulletins', { title: 'Tin', text }, op);
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return res.body.id as string;
  };
  return { ...s, op, approver, bulletin };
}

t.test('the imported communes are read as places, and a new import is read at once', async (t) => {
  const { api, token } = await startTestServer(t);
  const text = 'Họp dân ở TanLap và BinhYen.';
  const before = (await api('POST', '/api/v1/tts/preview', { text }, token)).body;
  t.notMatch(before.words, /tân lập/, 'no areas yet: the run-together name is a guess');
  t.ok(before.report.guessed.some((s: Span) => s.text === 'TanLap'), 'and reported as one');

  await importSampleAreas(api, token);
  const after = (await api('POST', '/api/v1/tts/preview', { text }, token)).body;
  t.match(after.words, /ở tân lập và binh/, '"Xã Tân Lập" is read as its name, without its "Xã"');
  t.same(after.report.rewritten.filter((s: Span) => s.rule === 'place-name').map((s: Span) => [s.text, s.reading]), [['TanLap', 'tân lập']]);
  t.notOk(after.report.guessed.some((s: Span) => s.text === 'TanLap'), 'no longer a guess');

  const more = { provinces: [{ code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh', communes: [{ code: '99007', name: 'Xã Bình Yên', type: 'xã' }] }] };
  t.equal((await api('POST', '/api/v1/areas/import', more, token)).status, 200);
  const again = (await api('POST', '/api/v1/tts/preview', { text }, token)).body;
  t.match(again.words, /ở tân lập và bình yên\./, 'a commune imported later is known at the next reading');
  t.same(again.report.guessed, []);
});

t.test('an approver must check guessed and unread spans before approving', async (t) => {
  const { api, op, approver, bulletin, token } = await setup(t);
  const flagged = await bulletin('Cài ứng dụng Zentrix để nhận tin ☺.');
  const plain = await bulletin('Bản tin buổi sáng của xã.');
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const mine = (await api('POST', '/api/v1/broadcasts', { bulletinId: flagged, target: { areaCodes: ['99003'] }, startAt }, op)).body;
  const other = (await api('POST', '/api/v1/broadcasts', { bulletinId: plain, target: { areaCodes: ['99003'] }, startAt }, op)).body;
  t.equal(mine.status, 'submitted');

  const queue = (await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver)).body.items;
  const queued = queue.find((b: { id: string }) => b.id === mine.id);
  t.same(
    queued.readingSpans.map((s: Span) => [s.kind, s.text, s.reading, s.label]),
    [
      ['guessed', 'Zentrix', 'den trích', 'từ nước ngoài, đoán cách đọc'],
      ['unread', '☺', undefined, 'ký hiệu không đọc được'],
    ],
    'the queue lists the spans to check, in text order, with their readings and Vietnamese labels',
  );
  t.same(queue.find((b: { id: string }) => b.id === other.id).readingSpans, [], 'a bulletin read without doubt has none');
  t.notOk((await api('GET', '/api/v1/broadcasts?status=approved', undefined, approver)).body.items.some((b: { readingSpans?: unknown }) => 'readingSpans' in b), 'only the queue carries them');

  const refused = await api('POST', `/api/v1/broadcasts/${mine.id}/approve`, {}, approver);
  t.equal(refused.status, 409, 'not without "đã kiểm tra"');
  t.match(refused.body.error.message, /"Zentrix" → "den trích" \(từ nước ngoài, đoán cách đọc\); "☺" \(ký hiệu không đọc được\)/);
  t.same(refused.body.error.fields.map((f: { path: string }) => f.path), ['checked', 'checked']);
  t.equal((await api('POST', `/api/v1/broadcasts/${mine.id}/approve`, { checked: false }, approver)).status, 409);
  t.equal((await api('GET', `/api/v1/broadcasts/${mine.id}`, undefined, approver)).body.status, 'submitted', 'a refusal changes nothing');

  const ok = await api('POST', `/api/v1/broadcasts/${mine.id}/approve`, { checked: true }, approver);
  t.equal(ok.status, 200);
  t.equal(ok.body.status, 'approved');
  t.equal((await api('POST', `/api/v1/broadcasts/${other.id}/approve`, {}, approver)).body.status, 'approved', 'nothing to check: approved as before');

  // The audit log keeps what the approver said they checked.
  const audit = (await api('GET', '/api/v1/audit?limit=50', undefined, token)).body.items;
  const row = audit.find((r: { route: string; status: number; object: { id: string } | null }) => r.route === '/api/v1/broadcasts/:id/approve' && r.status === 200 && r.object?.id === mine.id);
  t.same(row.body.checked, true);
  t.same(row.body.serverNote.reading.spans.map((s: Span) => s.text), ['Zentrix', '☺']);
  t.equal(row.body.serverNote.reading.checked, true);
});

t.test('the dictionary as it is at decision time decides', async (t) => {
  const { api, op, approver, bulletin, token } = await setup(t);
  const id = await bulletin('Tải Zentrix về máy.');
  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, op)).body;
  t.equal((await api('POST', `/api/v1/broadcasts/${b.id}/approve`, {}, approver)).status, 409);
  t.equal((await api('PUT', '/api/v1/tts/dictionary/Zentrix', { reading: 'den trích', areaCode: null }, token)).status, 200);
  const queued = (await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver)).body.items[0];
  t.same(queued.readingSpans, [], 'an entry added since makes it a known reading');
  t.equal((await api('POST', `/api/v1/broadcasts/${b.id}/approve`, {}, approver)).status, 200);
});

t.test('broadcasting directly: the caller checks; an emergency is not held but warned and audited', async (t) => {
  const { api, approver, token, bulletin } = await setup(t);
  const id = await bulletin('Cài ứng dụng Zentrix để nhận tin ☺.');
  const draft = { bulletinId: id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() };

  const check = (await api('POST', '/api/v1/broadcasts/check', draft, approver)).body;
  t.equal(check.status, 'approved');
  t.same(check.readingSpans.map((s: Span) => s.text), ['Zentrix', '☺'], 'the dry run says what must be checked');

  const refused = await api('POST', '/api/v1/broadcasts', draft, approver);
  t.equal(refused.status, 409, 'an approver broadcasting directly is its own approver');
  t.match(refused.body.error.message, /readingChecked/);
  t.equal(refused.body.error.fields[0].path, 'readingChecked');
  const ok = await api('POST', '/api/v1/broadcasts', { ...draft, readingChecked: true }, approver);
  t.equal(ok.status, 201);
  t.equal(ok.body.status, 'approved');
  t.notOk(ok.body.readingWarning);

  const emergency = await api('POST', '/api/v1/broadcasts', { bulletinId: id, priority: 'emergency', target: { areaCodes: ['99003'] } }, approver);
  t.equal(emergency.status, 201, 'Circular 39: an emergency airs at once, checked or not');
  t.equal(emergency.body.status, 'approved');
  t.same(emergency.body.readingWarning.spans.map((s: Span) => s.text), ['Zentrix', '☺']);
  t.match(emergency.body.readingWarning.message, /nobody checked/);
  const audit = (await api('GET', '/api/v1/audit?limit=50', undefined, token)).body.items;
  const row = audit.find((r: { route: string; object: { id: string } | null }) => r.route === '/api/v1/broadcasts' && r.object?.id === emergency.body.id);
  t.equal(row.body.serverNote.reading.checked, false, 'the audit log keeps the unchecked spans');
  t.same(row.body.serverNote.reading.spans.map((s: Span) => s.text), ['Zentrix', '☺']);
});

t.test('a recording has no text to check; a text read without doubt needs no flag', async (t) => {
  const { api, approver, bulletin, base } = await setup(t);
  const id = await bulletin('Bản tin buổi sáng của xã.');
  const res = await api('POST', '/api/v1/broadcasts', { bulletinId: id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, approver);
  t.equal(res.status, 201, 'straight on air as before');
  t.notOk((await api('POST', '/api/v1/broadcasts/check', { bulletinId: id, target: { areaCodes: ['99003'] } }, approver)).body.readingSpans);

  const wav = (await runFfmpeg(['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100:duration=2', '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'])).stdout;
  const f = new FormData();
  f.set('title', 'Ghi âm Zentrix ☺');
  f.set('file', new Blob([wav], { type: 'audio/wav' }), 'tin.wav');
  const up = (await (await fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${approver}` }, body: f })).json()) as { id: string };
  const rec = await api('POST', '/api/v1/broadcasts', { bulletinId: up.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, approver);
  t.equal(rec.status, 201, 'a recorded bulletin is not affected');
});

t.test("a programme's text items are checked like a bulletin of its own, each span naming its item", async (t) => {
  const { api, op, approver, bulletin } = await setup(t);
  const plain = await bulletin('Bản tin buổi sáng của xã.');
  const flagged = await bulletin('Cài ứng dụng Zentrix để nhận tin.');
  const made = await api('POST', '/api/v1/programmes', { title: 'Chương trình sáng', items: [{ kind: 'bulletin', bulletinId: plain }, { kind: 'bulletin', bulletinId: flagged }] }, op);
  t.equal(made.status, 201, 'saved', { body: made.body });
  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: made.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, op)).body;
  t.equal(b.status, 'submitted');

  const queued = (await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver)).body.items.find((x: { id: string }) => x.id === b.id);
  t.same(queued.readingSpans.map((s: Span & { item?: { index: number; title: string } }) => [s.text, s.item]), [['Zentrix', { index: 1, title: 'Tin' }]], 'the queue names the item the span is in');
  const refused = await api('POST', `/api/v1/broadcasts/${b.id}/approve`, {}, approver);
  t.equal(refused.status, 409, 'not approved without "đã kiểm tra"');
  t.match(refused.body.error.message, /item 2 “Tin”: "Zentrix"/);
  t.equal((await api('GET', `/api/v1/broadcasts/${b.id}`, undefined, approver)).body.status, 'submitted', 'a refusal changes nothing');
  t.equal((await api('POST', `/api/v1/broadcasts/${b.id}/approve`, { checked: true }, approver)).status, 200);

  const direct = await api('POST', '/api/v1/broadcasts', { bulletinId: made.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 7200_000).toISOString() }, approver);
  t.equal(direct.status, 409, 'an approver broadcasting the programme directly checks it too');
  t.equal(direct.body.error.fields[0].path, 'readingChecked');
});

t.test('offering a bulletin to communes: the province checks its reading; an emergency offer is not held', async (t) => {
  const { api, approver, bulletin } = await setup(t);
  const flagged = await bulletin('Cài ứng dụng Zentrix để nhận tin.');
  const body = { areaCodes: ['99003'], priority: 'normal' };
  const refused = await api('POST', `/api/v1/bulletins/${flagged}/offers`, body, approver);
  t.equal(refused.status, 409, 'an offer airs in communes that never saw the text: checked before it is sent');
  t.equal(refused.body.error.fields[0].path, 'checked');
  t.same((await api('GET', '/api/v1/inbox', undefined, approver)).body.items, [], 'no offer was made');
  const ok = await api('POST', `/api/v1/bulletins/${flagged}/offers`, { ...body, checked: true }, approver);
  t.equal(ok.status, 201);
  t.equal(ok.body.items.length, 1);
  const emergency = await api('POST', `/api/v1/bulletins/${flagged}/offers`, { areaCodes: ['99003'], priority: 'emergency' }, approver);
  t.equal(emergency.status, 201, 'Circular 39: an emergency is not held for its reading');
});

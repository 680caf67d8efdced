import t from 'tap';
import { startTestServer } from '../helpers/server.js';

t.test('preview shows the reading, its report and playable audio', async (t) => {
  const { api, token, base } = await startTestServer(t);
  const res = await api('POST', '/api/v1/tts/preview', { text: 'UBND xã họp lúc 17h30 ngày 03/6/2026 ☺' }, token);
  t.equal(res.status, 200);
  t.match(res.body.words, /^ủy ban nhân dân xã họp lúc mười bảy giờ ba mươi phút ngày ba tháng sáu năm hai nghìn không trăm hai mươi sáu/);
  t.ok(res.body.report.rewritten.some((s: { rule: string; text: string }) => s.rule === 'time' && s.text === '17h30'), 'the time is reported as rewritten');
  t.same(res.body.report.unread.map((s: { text: string }) => s.text), ['☺'], 'what it cannot read is reported');
  const audio = await fetch(base + res.body.audio.url, { headers: { authorization: `Bearer ${token}` } });
  t.equal(audio.status, 200);
  t.ok(res.body.audio.durationMs > 2000);
  const south = await api('POST', '/api/v1/tts/preview', { text: 'Có 24 hộ.', voice: 'vi-vn-x-south' }, token);
  t.match(south.body.words, /hai mươi bốn/, 'the southern voice reads numbers the southern way');
  t.equal((await api('POST', '/api/v1/tts/preview', { text: '' }, token)).status, 400);
  t.equal((await api('POST', '/api/v1/tts/preview', { text: 'x', style: 'east' }, token)).body.error.fields[0].path, 'style');
});

t.test('operators add readings that apply over the shipped dictionary', async (t) => {
  const { api, token } = await startTestServer(t);
  const before = await api('POST', '/api/v1/tts/preview', { text: 'Đội PCCC và HTX Tân Phú.' }, token);
  t.match(before.body.words, /phòng cháy chữa cháy/);
  t.equal((await api('PUT', '/api/v1/tts/dictionary/PCCC', { reading: 'Cảnh sát phòng cháy' }, token)).status, 200);
  t.equal((await api('PUT', '/api/v1/tts/dictionary/TPX', { reading: 'Tân Phú Xanh' }, token)).status, 200);
  const list = await api('GET', '/api/v1/tts/dictionary', undefined, token);
  t.same(list.body.items.map((e: { term: string; reading: string }) => [e.term, e.reading]), [['PCCC', 'cảnh sát phòng cháy'], ['TPX', 'tân phú xanh']]);
  const after = await api('POST', '/api/v1/tts/preview', { text: 'Đội PCCC gặp TPX.' }, token);
  t.match(after.body.words, /đội cảnh sát phòng cháy gặp tân phú xanh/);
  t.equal((await api('DELETE', '/api/v1/tts/dictionary/PCCC', undefined, token)).status, 204);
  t.match((await api('POST', '/api/v1/tts/preview', { text: 'Đội PCCC.' }, token)).body.words, /phòng cháy chữa cháy/, 'the shipped reading applies again');
  t.equal((await api('DELETE', '/api/v1/tts/dictionary/PCCC', undefined, token)).status, 404);
  t.equal((await api('PUT', '/api/v1/tts/dictionary/X', { reading: '<script>' }, token)).body.error.fields[0].path, 'reading');
  t.equal((await api('PUT', '/api/v1/tts/dictionary/X', { reading: '' }, token)).status, 400);
  t.equal((await api('PUT', `/api/v1/tts/dictionary/${'A'.repeat(65)}`, { reading: 'a' }, token)).status, 400);
});

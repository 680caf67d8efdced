/**
 * The web app's relay logic (issue 15; web/src/logic/relays.ts): editing the URL list of a source, a relay's
 * length as typed, lengths and minutes as people read them, the Vietnamese words for statuses, check reasons
 * and relay causes, and the server's refusals of a source mapped onto the fields (and rows) they concern.
 */
import t from 'tap';
import { RELAY_CAUSES } from '../../shared/src/messages.js';
import { SOURCE_STATUSES } from '../../shared/src/api/sources.js';
import { addUrl, causeLabel, defaultRelayTitle, fmtLength, fmtMinutes, groupRelays, moveUrl, nowFromReport, reasonLabel, relayDurationMs, removeUrl, setUrl, SOURCE_MAX_URLS, sourceErrors, statusLabel, urlsToSend } from '../../web/src/logic/relays.js';

t.test('the URL list: add, reorder, remove, edit; what is sent skips blank rows and remembers where each came from', async (t) => {
  const a = 'http://a.example/live.mp3';
  const b = 'https://b.example/live.m3u8';
  const c = 'http://c.example/live.aac';
  t.same(addUrl([a]), [a, ''], 'a new row is empty, at the end');
  const full = Array.from({ length: SOURCE_MAX_URLS }, (_, i) => `http://x${i}.example/`);
  t.same(addUrl(full), full, 'no row beyond the server’s limit of 8');
  t.same(moveUrl([a, b, c], 2, -1), [a, c, b], 'move up');
  t.same(moveUrl([a, b, c], 0, 1), [b, a, c], 'move down');
  t.same(moveUrl([a, b, c], 0, -1), [a, b, c], 'the first cannot go higher');
  t.same(moveUrl([a, b, c], 2, 1), [a, b, c], 'the last cannot go lower');
  t.same(removeUrl([a, b, c], 1), [a, c]);
  t.same(removeUrl([a], 0), [''], 'one row is always left to type into');
  const list = [a, b];
  t.same(setUrl(list, 1, c), [a, c]);
  t.same(list, [a, b], 'edits return a new list (the old state is not mutated)');
  t.same(urlsToSend(['  ' + a + ' ', '', '   ', b]), { urls: [a, b], rowOf: [0, 3] });
});

t.test('a relay lasts 1 minute to 12 hours, typed in minutes or hours (a Vietnamese decimal comma works)', async (t) => {
  t.same(relayDurationMs('30', 'minutes'), { ok: true, ms: 1_800_000 });
  t.same(relayDurationMs('1', 'minutes'), { ok: true, ms: 60_000 }, 'the shortest');
  t.same(relayDurationMs('12', 'hours'), { ok: true, ms: 43_200_000 }, 'the longest');
  t.same(relayDurationMs('1,5', 'hours'), { ok: true, ms: 5_400_000 });
  t.same(relayDurationMs(' 2.25 ', 'hours'), { ok: true, ms: 8_100_000 });
  t.same(relayDurationMs('0,5', 'minutes'), { ok: false, error: 'short' });
  t.same(relayDurationMs('721', 'minutes'), { ok: false, error: 'long' });
  t.same(relayDurationMs('12,5', 'hours'), { ok: false, error: 'long' });
  t.same(relayDurationMs('', 'minutes'), { ok: false, error: 'empty' });
  t.same(relayDurationMs('ba mươi', 'minutes'), { ok: false, error: 'nan' });
  t.same(relayDurationMs('-5', 'minutes'), { ok: false, error: 'nan' });
});

t.test('lengths and minutes as people read them', async (t) => {
  t.equal(fmtLength(45_000), '45 giây');
  t.equal(fmtLength(90_000), '1 phút 30 giây');
  t.equal(fmtLength(1_800_000), '30 phút');
  t.equal(fmtLength(5_400_000), '1 giờ 30 phút');
  t.equal(fmtLength(43_200_000), '12 giờ');
  t.equal(fmtMinutes(754_000), '12,6', 'one decimal, comma');
  t.equal(fmtMinutes(1_800_000), '30');
  t.equal(fmtMinutes(0), '0');
  t.equal(defaultRelayTitle('VOV1 — Thời sự'), 'Tiếp sóng VOV1 — Thời sự');
  t.equal(defaultRelayTitle('x'.repeat(300)).length, 200, 'never longer than the server accepts');
});

t.test('every status and every relay cause has Vietnamese words', async (t) => {
  for (const s of SOURCE_STATUSES) t.not(statusLabel(s), s, `status ${s}`);
  t.equal(statusLabel('up'), 'Đang phát');
  t.equal(statusLabel('silent'), 'Im lặng');
  t.equal(statusLabel('down'), 'Mất tín hiệu');
  t.equal(statusLabel('unchecked'), 'Chưa kiểm tra');
  for (const c of RELAY_CAUSES) t.not(causeLabel(c), c, `cause ${c}`);
  t.equal(causeLabel('silence'), 'luồng im lặng');
  t.equal(causeLabel('fallback'), 'mọi địa chỉ đều hỏng');
  t.equal(causeLabel('interrupted'), 'bị ngắt bởi bản tin ưu tiên');
});

t.test('the checker’s reasons (server/src/services/source-checker.ts) in Vietnamese', async (t) => {
  t.equal(reasonLabel(null), null);
  t.equal(reasonLabel('only silence for 4.0 s (loudest -91.0 dBFS)'), 'chỉ có im lặng trong 4 giây');
  t.equal(reasonLabel('the stream sent nothing for 5 s (stalled: Connection timed out)'), 'luồng không gửi dữ liệu trong 5 giây');
  t.equal(reasonLabel('no audio within 16 s: the stream stalled or never answered'), 'không nhận được âm thanh trong 16 giây');
  t.equal(reasonLabel('the stream stopped after 1.5 s of audio'), 'luồng dừng sau 1,5 giây');
  t.equal(reasonLabel('the stream answered but no audio could be decoded from it'), 'có trả lời nhưng không phải âm thanh giải mã được');
  t.equal(reasonLabel('Connection to tcp://127.0.0.1:9 failed: Connection refused'), 'máy chủ luồng từ chối kết nối');
  t.equal(reasonLabel('HTTP error 404 Not Found'), 'không có luồng ở địa chỉ này (HTTP 404)');
  t.equal(reasonLabel('HTTP error 403 Forbidden'), 'bị từ chối truy cập (cần mật khẩu hoặc bị chặn)');
  t.equal(reasonLabel('Server returned 5XX Server Error reply: 503'), 'máy chủ luồng báo lỗi HTTP 503');
  t.equal(reasonLabel('Failed to resolve hostname radio.invalid: Name or service not known'), 'không tìm thấy tên máy chủ');
  t.equal(reasonLabel('Invalid data found when processing input'), 'dữ liệu không phải luồng âm thanh hoặc danh sách HLS hợp lệ');
  t.equal(reasonLabel('something new'), 'không mở được luồng', 'an unknown reason still reads as Vietnamese');
});

t.test('the server’s refusals of a source land on their field, in Vietnamese, on the row as typed', async (t) => {
  // As the server answers (server/src/http/errors.ts: zod issues with instancePath → "urls.1").
  const bad = sourceErrors(
    {
      status: 400,
      message: 'invalid body',
      fields: [
        { path: 'urls.1', message: 'only http:// and https:// streams can be relayed' },
        { path: 'urls.0', message: 'must be a URL such as https://stream.example.vn/vov1.mp3 or an HLS playlist (.m3u8)' },
        { path: 'name', message: 'Too small: expected string to have >=1 characters' },
      ],
    },
    [0, 2], // a blank row between the two was dropped before sending
  );
  t.same(bad, [
    { field: 'urls', row: 2, message: 'Địa chỉ 3: chỉ tiếp sóng được luồng http:// hoặc https://.' },
    { field: 'urls', row: 0, message: 'Địa chỉ 1 không phải là địa chỉ luồng hợp lệ (ví dụ https://stream.example.vn/vov1.mp3 hoặc danh sách HLS .m3u8).' },
    { field: 'name', message: 'Nhập tên nguồn (tối đa 200 ký tự).' },
  ]);
  t.same(sourceErrors({ status: 400, message: 'x', fields: [{ path: 'urls', message: 'a URL is listed twice' }] }), [{ field: 'urls', message: 'Có địa chỉ bị nhập hai lần.' }]);
  t.same(sourceErrors({ status: 400, message: 'x', fields: [{ path: 'urls', message: 'give at least one stream URL' }] }), [{ field: 'urls', message: 'Nhập ít nhất một địa chỉ luồng.' }]);
  t.same(sourceErrors({ status: 400, message: 'x', fields: [{ path: 'urls', message: 'at most 8 stream URLs' }] }), [{ field: 'urls', message: 'Tối đa 8 địa chỉ luồng.' }]);
  const fallback = (message: string) => sourceErrors({ status: 400, message, fields: [{ path: 'fallbackBulletinId', message: 'not a usable fallback' }] })[0]?.message;
  t.match(fallback('the fallback must be a bulletin with audio, not another relay'), /không phải một bản tin tiếp sóng/);
  t.match(fallback('bulletin bt-1 is synthesizing; the fallback must be ready, with audio'), /chưa có âm thanh/);
  t.match(fallback('bulletin bt-1 belongs to area 99003, narrower than the source’s; every box …'), /hẹp hơn/);
  t.same(sourceErrors({ status: 400, message: 'unknown area 99999', fields: [{ path: 'areaCode', message: 'unknown area' }] }), [{ field: 'areaCode', message: 'Địa bàn không tồn tại.' }]);
  t.same(sourceErrors({ status: 403, message: 'only installation-wide admins make a source for the whole installation; give your area’s code', fields: [] }), [
    { field: 'areaCode', message: 'Chỉ quản trị toàn hệ thống mới tạo được nguồn cho toàn hệ thống.' },
  ]);
  const unknown = sourceErrors({ status: 400, message: 'invalid body: restream: expected boolean', fields: [{ path: 'restream', message: 'expected boolean' }] });
  t.equal(unknown.length, 1, 'an unforeseen refusal is still shown');
  t.equal(unknown[0]!.field, 'form');
  t.same(sourceErrors({ status: 500, message: 'boom', fields: [] }), [], 'not a refusal of the input: the generic error message is used');
});

t.test('relay reports are grouped per occurrence, newest first', async (t) => {
  const item = (broadcastId: string, occurrenceAt: string, deviceId: string) => ({
    broadcastId, title: `T ${broadcastId}`, sourceId: 'src-1', sourceName: 'VOV1', occurrenceAt, windowEndsAt: occurrenceAt, deviceId, deviceName: deviceId, areaCode: '99003',
    state: 'played', startedAt: null, endedAt: null, relayedMs: 0, relayedMinutes: 0, airedMs: null, gaps: [], switches: [], urls: [],
  });
  const groups = groupRelays({ from: null, to: null, totals: { boxes: 3, relayedMs: 0, gapMs: 0 }, items: [item('bc-1', '2026-12-07T11:00:00.000Z', 'a'), item('bc-2', '2026-12-07T12:00:00.000Z', 'a'), item('bc-1', '2026-12-07T11:00:00.000Z', 'b')] });
  t.same(groups.map((g) => [g.broadcastId, g.items.map((i) => i.deviceId)]), [['bc-2', ['a']], ['bc-1', ['a', 'b']]]);
});

t.test('what a box relays now, from its report, for a page opened mid-relay', async (t) => {
  const at = Date.parse('2026-12-07T11:10:00Z');
  const base = { state: 'playing', windowEndsAt: '2026-12-07T11:30:00Z', gaps: [], switches: [], urls: [{ url: 'http://a/', servedMs: 600_000 }] };
  t.same(nowFromReport(base, at), { url: 'http://a/', cause: 'started' }, 'one URL, no gap: that one');
  t.same(nowFromReport({ ...base, state: 'played' }, at), null, 'over: nothing relayed now');
  const open = { from: '2026-12-07T11:09:00Z', to: '2026-12-07T11:10:00Z', ms: 60_000, cause: 'error' as const, detail: null };
  t.same(nowFromReport({ ...base, gaps: [open] }, at), { url: null, cause: 'error' }, 'a gap reaching the report’s now is open');
  const closed = { ...open, to: '2026-12-07T11:09:30Z' };
  t.same(nowFromReport({ ...base, gaps: [closed] }, at), { url: 'http://a/', cause: 'returned' }, 'a closed gap on a one-URL source: it is back');
  const two = { ...base, urls: [{ url: 'http://a/', servedMs: 1 }, { url: 'http://b/', servedMs: 1 }] };
  t.same(nowFromReport({ ...two, switches: [{ at: '2026-12-07T11:05:00Z', cause: 'silence' as const, url: 'http://b/', detail: null }] }, at), { url: 'http://b/', cause: 'silence' }, 'after a failover: the URL moved to');
  t.same(nowFromReport({ ...two, gaps: [closed] }, at), null, 'after a gap on several URLs the report cannot tell which serves');
});

/**
 * The bulletin library's search (issue 20, "find, reuse, copy and edit bulletins and recordings"):
 * `GET /api/v1/bulletins` finds by words of the title or the text, kind, status, category, author and a day
 * range, newest first, paged, with a `total` that counts every match and each bulletin's airings so far; a
 * commune never finds another commune's bulletin whatever it asks; bad input is 400 in Vietnamese.
 */
import t from 'tap';
import { securityServer } from '../security/helpers.js';
import { waitFor } from '../helpers/wait.js';
import { uploadTone } from '../helpers/programmes.js';
import { box } from '../helpers/mqtt-box.js';

type Item = { id: string; title: string; source: string; category: string | null; author: { username: string } | null; airings?: { count: number; lastAt: string | null } };
type ListBody = { items: Item[]; total: number; next: string | null };

/** A Vietnam calendar day, `days` from today. */
const vnDay = (days = 0) => new Date(Date.now() + 7 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);

t.test('find by text, kind, status, category, author and days; total counts every match; other communes never', async (t) => {
  const { api, base, login } = await securityServer(t);
  const tanLap = await login('operator', '99003');
  const colleague = await login('approver', '99003');
  const neighbour = await login('operator', '99004');
  const province = await login('viewer', '99');
  const otherProvince = await login('province-admin', '98');

  const text = async (who: { token: string }, title: string, body: string, category?: string) => {
    const r = await api('POST', '/api/v1/bulletins', { title, text: body, ...(category ? { category } : {}) }, who.token);
    t.ok(r.status === 201 || r.status === 202, `${title} created`, { body: r.body });
    await waitFor(`${title} ready`, async () => ((await api('GET', `/api/v1/bulletins/${r.body.id}`, undefined, who.token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id as string;
  };
  const vaccine = await text(tanLap, 'Lịch tiêm phòng', 'Trạm y tế xã tiêm vắc-xin sởi cho trẻ em vào sáng thứ Bảy.', 'knowledge');
  const meeting = await text(colleague, 'Họp thôn Đông', 'Mời bà con thôn Đông đến nhà văn hoá họp về đường giao thông.', 'local-direction');
  const flood = await text(tanLap, 'Phòng chống lụt bão', 'Bà con chú ý mực nước sông dâng cao, không đi qua ngầm tràn.', 'unscheduled-news');
  const jingle = await uploadTone(base, tanLap.token, { hz: 660, seconds: 2, title: 'Nhạc hiệu xã' });
  // The neighbour writes the very words Tân Lập searches for: it must never show up there.
  const secret = await text(neighbour, 'Tin xã bên', 'Tiêm vắc-xin sởi ở xã bên, đường giao thông xã bên.', 'knowledge');
  const far = await text(otherProvince, 'Tin tỉnh khác', 'Tiêm vắc-xin sởi ở tỉnh khác.');

  const list = async (who: { token: string }, query = '') => {
    const r = await api<ListBody>('GET', `/api/v1/bulletins${query}`, undefined, who.token);
    t.equal(r.status, 200, `GET /api/v1/bulletins${query}`, { body: r.body });
    return r.body;
  };
  const ids = (b: ListBody) => b.items.map((i) => i.id);

  const all = await list(tanLap);
  t.same(ids(all), [jingle.id, flood, meeting, vaccine], 'the commune’s bulletins, newest first');
  t.equal(all.total, 4, 'total counts them');

  // Words of the text, not only of the title; any case; every word must be there.
  t.same(ids(await list(tanLap, `?q=${encodeURIComponent('VẮC-XIN sởi')}`)), [vaccine], 'a word of the text finds it (any case)');
  t.same(ids(await list(tanLap, `?q=${encodeURIComponent('đường giao thông')}`)), [meeting], 'words of the text, in the colleague’s bulletin of the same commune');
  t.same(ids(await list(tanLap, `?q=${encodeURIComponent('thôn ĐÔNG')}`)), [meeting], 'title words, any case, with diacritics');
  t.same(ids(await list(tanLap, `?q=${encodeURIComponent('sởi lụt')}`)), [], 'all words must be found');
  t.same(ids(await list(neighbour, `?q=${encodeURIComponent('vắc-xin')}`)), [secret], 'the neighbour finds only its own');
  t.notOk(ids(await list(tanLap, `?q=${encodeURIComponent('xã bên')}`)).includes(secret), 'another commune’s bulletin is never found, by its own words');
  t.same((await list(tanLap, `?q=${encodeURIComponent('xã bên')}`)).total, 0, 'nor counted');
  const above = await list(province, `?q=${encodeURIComponent('vắc-xin')}`);
  t.same(ids(above), [secret, vaccine], 'the province above finds both communes’');
  t.notOk(ids(above).includes(far), 'never another province’s');
  t.same(ids(await list(otherProvince, `?q=${encodeURIComponent('vắc-xin')}`)), [far], 'and the other province only its own');

  t.same(ids(await list(tanLap, '?source=recording')), [jingle.id], 'kind: recordings');
  t.same(ids(await list(tanLap, '?source=text&category=knowledge')), [vaccine], 'kind and category together');
  t.same(ids(await list(tanLap, '?category=unscheduled-news')), [flood], 'category');
  t.same(ids(await list(tanLap, '?status=failed')), [], 'status');
  t.same(ids(await list(tanLap, `?author=${colleague.id}`)), [meeting], 'author: a colleague');
  t.same(ids(await list(colleague, '?author=me')), [meeting], 'author: me');
  t.equal(all.items.find((i) => i.id === meeting)?.author?.username, colleague.username, 'each says who wrote it');
  t.same(ids(await list(tanLap, `?author=${neighbour.id}`)), [], 'the neighbour’s author id finds nothing here');

  t.equal((await list(tanLap, `?from=${vnDay()}&to=${vnDay()}`)).total, 4, 'written today (Vietnam day)');
  t.equal((await list(tanLap, `?to=${vnDay(-1)}`)).total, 0, 'nothing written before today');
  t.equal((await list(tanLap, `?from=${vnDay(1)}`)).total, 0, 'nothing written tomorrow');

  const first = await list(tanLap, '?limit=3&source=text');
  t.same(ids(first), [flood, meeting, vaccine]);
  t.equal(first.next, null, 'three texts: one page');
  const p1 = await list(tanLap, '?limit=2');
  t.equal(p1.total, 4, 'total is every match, not the page');
  t.same(ids(p1), [jingle.id, flood]);
  const p2 = await list(tanLap, `?limit=2&cursor=${p1.next}`);
  t.same(ids(p2), [meeting, vaccine], 'the next page follows on');
  t.equal(p2.total, 4);
  t.equal(p2.next, null, 'and ends');

  // Bad input: 400 with a Vietnamese message, nothing answered.
  const bad = async (query: string, field: string, words: RegExp) => {
    const r = await api('GET', `/api/v1/bulletins${query}`, undefined, tanLap.token);
    t.equal(r.status, 400, `${query} is refused`);
    const f = (r.body.error.fields as Array<{ path: string; message: string }>).find((x) => x.path === field);
    t.match(f?.message, words, `${query}: says why in Vietnamese`, { body: r.body });
  };
  await bad('?from=07-12-2026', 'from', /ngày phải có dạng năm-tháng-ngày/);
  await bad('?from=2026-02-30', 'from', /lịch không có ngày này/);
  await bad(`?from=${vnDay()}&to=${vnDay(-3)}`, 'to', /ngày kết thúc phải sau ngày bắt đầu/);
  await bad('?category=sports', 'category', /chuyên mục là một trong/);
  await bad('?source=podcast', 'source', /không có loại bản tin “podcast”/);
  await bad(`?q=${'a'.repeat(101)}`, 'q', /tối đa 100 ký tự/);
  await bad('?airings=yes', 'airings', /true hoặc false/);
});


t.test('each bulletin says how many times it aired and when last; one aired twice counts two', async (t) => {
  const { api, token, urls, login } = await securityServer(t);
  const tanLap = await login('approver', '99003');
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).body;
  const a = await box(t, urls.mqttUrl, dev);
  const create = async (title: string) => {
    const r = await api('POST', '/api/v1/bulletins', { title, text: `${title}: mời bà con chú ý.` }, tanLap.token);
    await waitFor(`${title} ready`, async () => ((await api('GET', `/api/v1/bulletins/${r.body.id}`, undefined, tanLap.token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id as string;
  };
  const aired = await create('Thông báo thu thuế');
  const never = await create('Thông báo chưa phát');
  const air = async () => {
    const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: aired, target: { deviceIds: [dev.id] } }, tanLap.token);
    t.equal(bc.status, 201, 'broadcast now', { body: bc.body });
    const play = await waitFor('the play', () => a.plays.find((x) => x.broadcastId === bc.body.id) ?? null, 5000);
    await a.report({ kind: 'delivery', broadcastId: bc.body.id, occurrenceAt: play.occurrenceAt, state: 'playing', at: play.occurrenceAt + 10 });
    await a.report({ kind: 'delivery', broadcastId: bc.body.id, occurrenceAt: play.occurrenceAt, state: 'played', at: play.occurrenceAt + 20 });
    return play.occurrenceAt;
  };
  const firstAt = await air();
  await waitFor('the first airing counted', async () => {
    const r = await api<ListBody>('GET', '/api/v1/bulletins?airings=true', undefined, tanLap.token);
    return r.body.items.find((i) => i.id === aired)?.airings?.count === 1 ? true : null;
  }, 5000);
  const secondAt = await air();
  t.ok(secondAt >= firstAt);
  const r = await waitFor('both airings counted', async () => {
    const r = await api<ListBody>('GET', '/api/v1/bulletins?airings=true', undefined, tanLap.token);
    return r.body.items.find((i) => i.id === aired)?.airings?.count === 2 ? r.body : null;
  }, 5000);
  t.same(r.items.find((i) => i.id === aired)?.airings, { count: 2, lastAt: new Date(secondAt).toISOString() }, 'aired twice, the last one named');
  t.same(r.items.find((i) => i.id === never)?.airings, { count: 0, lastAt: null }, 'never aired');
  const plain = await api<ListBody>('GET', '/api/v1/bulletins', undefined, tanLap.token);
  t.equal(plain.body.items[0]!.airings, undefined, 'the pickers, which do not ask, are not given them');
});

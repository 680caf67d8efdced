/**
 * `GET /api/v1/bulletins` (issue 15: a programme's builder, a source's fallback picker and compose need the
 * bulletins they may name): the caller's area and those inside it, and the caller's own, newest first; filters
 * by status, kind and title words; pages that follow on; another commune's bulletins never listed.
 */
import t from 'tap';
import { securityServer } from '../security/helpers.js';
import { waitFor } from '../helpers/wait.js';
import { uploadTone } from '../helpers/programmes.js';

t.test('bulletins of your area, newest first, filtered and paged; other communes’ never', async (t) => {
  const { api, token, base, login } = await securityServer(t);
  const tanLap = await login('operator', '99003');
  const neighbour = await login('operator', '99004');
  const province = await login('viewer', '99');

  const text = async (who: { token: string }, title: string) => {
    const r = await api('POST', '/api/v1/bulletins', { title, text: `${title}: mời bà con chú ý.` }, who.token);
    await waitFor(`${title} ready`, async () => ((await api('GET', `/api/v1/bulletins/${r.body.id}`, undefined, who.token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id as string;
  };
  const a1 = await text(tanLap, 'Lịch tiêm phòng');
  const a2 = await text(tanLap, 'Họp thôn Đông');
  const jingle = await uploadTone(base, tanLap.token, { hz: 660, seconds: 2, title: 'Nhạc hiệu xã' });
  const b1 = await text(neighbour, 'Tin xã bên');
  const source = await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example.invalid/vov1.mp3'], areaCode: null }, token);
  const relay = await api('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng VOV', sourceId: source.body.id, durationMs: 600_000 }, tanLap.token);
  t.equal(relay.status, 201);

  const list = async (who: { token: string } | string, query = '') => {
    const r = await api('GET', `/api/v1/bulletins${query}`, undefined, typeof who === 'string' ? who : who.token);
    t.equal(r.status, 200, `GET /api/v1/bulletins${query}`, { body: r.body });
    return r.body as { items: Array<{ id: string; title: string; source: string; status: string; audio: { signedUrl: string } | null }>; next: string | null };
  };

  const mine = await list(tanLap);
  t.same(mine.items.map((b) => b.id), [relay.body.id, jingle.id, a2, a1], 'the commune’s bulletins, newest first, none of the neighbour’s');
  t.same(mine.items.map((b) => b.source), ['relay', 'recording', 'text', 'text'], 'each says what it is');
  t.ok(mine.items[1]!.audio?.signedUrl, 'with a link the browser can play');
  t.notOk((await list(neighbour)).items.some((b) => [a1, a2, jingle.id, relay.body.id].includes(b.id)), 'the neighbour sees none of them');
  t.same((await list(neighbour)).items.map((b) => b.id), [b1]);
  const above = await list(province);
  t.ok([a1, a2, b1].every((id) => above.items.some((b) => b.id === id)), 'the province above sees both communes’');

  t.same((await list(tanLap, '?status=ready&source=text,recording')).items.map((b) => b.id), [jingle.id, a2, a1], 'what can be an item of a programme: ready audio');
  t.same((await list(tanLap, '?source=recording')).items.map((b) => b.id), [jingle.id]);
  t.same((await list(tanLap, `?q=${encodeURIComponent('thôn ĐÔNG')}`)).items.map((b) => b.id), [a2], 'title words, any case, with diacritics');

  const first = await list(tanLap, '?limit=3');
  t.equal(first.items.length, 3);
  t.ok(first.next, 'a cursor to the rest');
  const second = await list(tanLap, `?limit=3&cursor=${first.next}`);
  t.same(second.items.map((b) => b.id), [a1], 'the next page follows on');
  t.equal(second.next, null, 'and ends');

  t.equal((await api('GET', '/api/v1/bulletins?source=podcast', undefined, tanLap.token)).status, 400, 'an unknown kind is refused');
  t.equal((await api('GET', '/api/v1/bulletins?cursor=bm90LWEtY3Vyc29y', undefined, tanLap.token)).status, 400, 'a forged cursor is refused');
  t.equal((await api('GET', '/api/v1/bulletins')).status, 401, 'not without a login');
});

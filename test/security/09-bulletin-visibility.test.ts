/**
 * Issue 13, finding 9: any logged-in user read any bulletin by id (its text and a signed audio link) and
 * could broadcast another commune's bulletin. A bulletin now belongs to its author's area: users whose
 * area holds it see it, and so do users who see a broadcast or an offer of it.
 */
import t from 'tap';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('another commune’s bulletin can be neither read nor aired; the province and offered communes see it', async (t) => {
  const { api, token, login } = await securityServer(t);
  const author = await login('operator', '99003');
  const neighbour = await login('approver', '99004');
  const foreign = await login('viewer', '98001');
  const province = await login('viewer', '99');
  const created = await api('POST', '/api/v1/bulletins', { title: 'Họp thôn Đông', text: 'Mời bà con thôn Đông họp lúc bảy giờ tối.' }, author.token);
  t.ok([201, 202].includes(created.status), 'the operator writes a bulletin');
  const id = created.body.id as string;
  await waitFor('synthesized', async () => ((await api('GET', `/api/v1/bulletins/${id}`, undefined, author.token)).body.status === 'ready' ? true : null), 30_000);

  for (const [who, u] of [['the neighbouring commune', neighbour], ['another province', foreign]] as const) {
    const read = await api('GET', `/api/v1/bulletins/${id}`, undefined, u.token);
    t.equal(read.status, 404, `${who} cannot read it`);
    t.notMatch(JSON.stringify(read.body), /bảy giờ|signedUrl/, 'and learns neither its text nor an audio link');
  }
  const aired = await api('POST', '/api/v1/broadcasts', { bulletinId: id, priority: 'normal', target: { areaCodes: ['99004'] } }, neighbour.token);
  t.equal(aired.status, 400, 'the neighbour cannot broadcast it');
  t.match(aired.body.error.message, /unknown bulletin/);
  const listed = (await api('GET', '/api/v1/broadcasts', undefined, token)).body.items as unknown[];
  t.equal(listed.length, 0, 'no broadcast was made');

  t.equal((await api('GET', `/api/v1/bulletins/${id}`, undefined, province.token)).status, 200, 'the province above sees it');
  t.equal((await api('GET', `/api/v1/bulletins/${id}`, undefined, token)).status, 200, 'so does the installation-wide admin');

  // A province bulletin offered to one commune is readable (and airable) there, not in the next one.
  const provincial = await api('POST', '/api/v1/bulletins', { title: 'Tỉnh thông báo', text: 'Sở thông báo lịch tiêm phòng.' }, token);
  const pid = provincial.body.id as string;
  await waitFor('synthesized', async () => ((await api('GET', `/api/v1/bulletins/${pid}`, undefined, token)).body.status === 'ready' ? true : null), 30_000);
  t.equal((await api('GET', `/api/v1/bulletins/${pid}`, undefined, author.token)).status, 404, 'an installation-wide bulletin is not every commune’s');
  t.equal((await api('POST', `/api/v1/bulletins/${pid}/offers`, { areaCodes: ['99003'], priority: 'normal' }, token)).status, 201);
  t.equal((await api('GET', `/api/v1/bulletins/${pid}`, undefined, author.token)).status, 200, 'once offered to its commune, the operator reads it');
  t.equal((await api('GET', `/api/v1/bulletins/${pid}`, undefined, neighbour.token)).status, 404, 'the commune it was not offered to still does not');
});

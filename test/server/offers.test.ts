import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import type { BuildOptions } from '../../server/src/app.js';

async function setup(t: Parameters<typeof startTestServer>[0], opts: BuildOptions = {}) {
  const s = await startTestServer(t, {}, opts);
  await importSampleAreas(s.api, s.token);
  const user = async (username: string, role: string, areaCode: string | null) => {
    await s.api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, s.token);
    return (await s.api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  for (const area of ['99003', '99004']) await s.api('POST', '/api/v1/devices', { name: `loa ${area}`, areaCode: area }, s.token);
  const bulletin = (await s.api('POST', '/api/v1/bulletins', { title: 'Tỉnh thông báo', text: 'Sở thông tin và truyền thông thông báo lịch tuyên truyền.' }, s.token)).body;
  return { ...s, user, bulletin };
}

t.test('a normal offer waits in each commune’s inbox until the commune accepts or declines it', async (t) => {
  const { api, token, user, bulletin } = await setup(t);
  const tanlap = await user('op-tanlap', 'operator', '99003');
  const hungdao = await user('op-hungdao', 'approver', '99004');
  t.equal((await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal' }, tanlap)).status, 403, 'communes do not offer');
  const offered = await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003', '99004'], priority: 'normal' }, token);
  t.equal(offered.status, 201);
  t.same(offered.body.items.map((o: { areaCode: string; status: string; action: string }) => [o.areaCode, o.status, o.action]), [['99003', 'pending', 'wait-for-accept'], ['99004', 'pending', 'wait-for-accept']]);

  const inbox = (await api('GET', '/api/v1/inbox', undefined, tanlap)).body.items;
  t.same(inbox.map((o: { areaCode: string }) => o.areaCode), ['99003'], 'each commune sees only its own inbox');
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const accepted = await api('POST', `/api/v1/offers/${inbox[0].id}/accept`, { startAt }, tanlap);
  t.equal(accepted.body.status, 'scheduled');
  const b = (await api('GET', `/api/v1/broadcasts/${accepted.body.broadcastId}`, undefined, tanlap)).body;
  t.equal(b.status, 'submitted', 'the commune’s own approval rules still apply');
  t.equal(b.startAt, startAt);

  const theirs = (await api('GET', '/api/v1/inbox', undefined, hungdao)).body.items[0];
  t.equal((await api('POST', `/api/v1/offers/${theirs.id}/decline`, {}, hungdao)).status, 400, 'a reason is required');
  const declined = await api('POST', `/api/v1/offers/${theirs.id}/decline`, { reason: 'Trùng lịch họp xã' }, hungdao);
  t.equal(declined.body.status, 'declined');
  t.equal((await api('POST', `/api/v1/offers/${theirs.id}/accept`, {}, hungdao)).status, 409, 'declined is final');
  t.equal((await api('POST', `/api/v1/offers/${theirs.id}/accept`, {}, tanlap)).status, 404, 'another commune’s offer is invisible');
});

t.test('an emergency offer airs at once; a priority offer waits only when it collides with the commune’s priority items', async (t) => {
  const { api, token, user, bulletin } = await setup(t);
  const tanlap = await user('duyet-tanlap', 'approver', '99003');
  const emergency = await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99'], priority: 'emergency' }, token);
  t.equal(emergency.body.items.length, 6, 'a province stands for all its communes');
  t.ok(emergency.body.items.every((o: { status: string; broadcastId: string | null }) => o.status === 'scheduled' && o.broadcastId));
  t.equal((await api('POST', `/api/v1/offers/${emergency.body.items[0].id}/decline`, { reason: 'không' }, token)).status, 409, 'an emergency cannot be declined');

  const at = new Date(Date.now() + 2 * 3600_000).toISOString();
  await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'priority', target: { areaCodes: ['99003'] }, startAt: at }, tanlap);
  const prio = await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003', '99004'], priority: 'priority', startAt: at }, token);
  const [tl, hd] = prio.body.items;
  t.equal(tl.action, 'wait-for-order', 'Tân Lập has its own priority item then');
  t.equal(tl.status, 'pending');
  t.equal(tl.collidesWith.length, 1);
  t.equal(hd.action, 'air');
  t.equal(hd.status, 'scheduled', 'Hưng Đạo has nothing in the way');
  const ordered = await api('POST', `/api/v1/offers/${tl.id}/accept`, { startAt: new Date(Date.parse(at) + 10 * 60_000).toISOString() }, tanlap);
  t.equal(ordered.body.status, 'scheduled', 'the commune set the order');
});

t.test('an offer nobody schedules before it expires is expired by the scheduler', async (t) => {
  // The scheduler's clock: moved past the offer's expiry instead of waiting for it.
  const clock = fakeClock();
  const { api, token, user, bulletin, server } = await setup(t, { clock });
  const op = await user('op-tanlap', 'operator', '99003');
  // The route checks the expiry against real time, so it lies a minute ahead: no slow start makes it past.
  const expiresAt = Date.now() + 60_000;
  const offered = await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal', expiresAt: new Date(expiresAt).toISOString() }, token);
  t.equal((await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal', expiresAt: '2020-01-01T00:00:00Z' }, token)).status, 400);
  clock.advance(expiresAt + 200 - clock.now());
  await server.ctx.scheduler.tick();
  const [o] = (await api('GET', '/api/v1/inbox', undefined, op)).body.items;
  t.equal(o.id, offered.body.items[0].id);
  t.equal(o.status, 'expired');
  t.equal((await api('POST', `/api/v1/offers/${o.id}/accept`, {}, op)).status, 409);
});

t.test('a commune accepts an offer on some of its boxes only, never on another commune’s (issue 20, broken 5)', async (t) => {
  const { api, token, user, bulletin } = await setup(t);
  const tanlap = await user('duyet-tanlap', 'approver', '99003');
  const second = (await api('POST', '/api/v1/devices', { name: 'loa 2', areaCode: '99003' }, token)).body.id as string;
  const other = (await api('GET', '/api/v1/devices?area=99004', undefined, token)).body.items[0].id as string;
  const offer = (await api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal' }, token)).body.items[0];
  t.match(offer.reason, /^Tin thường chỉ phát khi xã nhận và xếp lịch/, 'the reason is in Vietnamese');
  const refused = await api('POST', `/api/v1/offers/${offer.id}/accept`, { deviceIds: [second, other] }, tanlap);
  t.equal(refused.status, 400, 'a box of another commune is refused');
  t.equal(refused.body.error.fields[0].path, 'deviceIds.1');
  t.equal((await api('GET', '/api/v1/inbox', undefined, tanlap)).body.items[0].status, 'pending', 'and nothing changed');
  const ok = await api('POST', `/api/v1/offers/${offer.id}/accept`, { deviceIds: [second], schedule: { kind: 'daily', times: ['06:30'] } }, tanlap);
  t.equal(ok.status, 200);
  const b = (await api('GET', `/api/v1/broadcasts/${ok.body.broadcastId}`, undefined, tanlap)).body;
  t.same(b.target, { deviceIds: [second] }, 'only the box chosen');
  t.match(b.schedule, { kind: 'daily', times: ['06:30'] });
});

/**
 * Finding 6 (issue 13): accepting an offer that was already declined answered 409 but created an approved
 * broadcast each time (the broadcast was saved before the state check), and a double click aired twice.
 * Design: state check, broadcast creation and offer update in one transaction; accept is idempotent.
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  await s.api('POST', '/api/v1/users', { username: 'duyet-tanlap', password: 'a-long-password', role: 'approver', areaCode: '99003' }, s.token);
  const approver = (await s.api('POST', '/api/v1/auth/login', { username: 'duyet-tanlap', password: 'a-long-password' })).body.token as string;
  await s.api('POST', '/api/v1/devices', { name: 'loa 99003', areaCode: '99003' }, s.token);
  const bulletin = (await s.api('POST', '/api/v1/bulletins', { title: 'Tỉnh thông báo', text: 'Sở thông tin và truyền thông thông báo lịch tuyên truyền.' }, s.token)).body;
  const offer = async () => (await s.api('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal' }, s.token)).body.items[0];
  /** Every broadcast of the bulletin, read from the store (the API shows each user only some). */
  const broadcasts = () => s.server.ctx.db.prepare('SELECT id, status FROM broadcasts WHERE bulletin_id = ?').all(bulletin.id) as Array<{ id: string; status: string }>;
  return { ...s, approver, bulletin, offer, broadcasts };
}

t.test('accepting a declined offer answers 409 and creates nothing, however often it is tried', async (t) => {
  const { api, approver, offer, broadcasts } = await setup(t);
  const o = await offer();
  t.equal((await api('POST', `/api/v1/offers/${o.id}/decline`, { reason: 'Trùng lịch họp xã' }, approver)).status, 200);
  for (let i = 0; i < 3; i++) {
    const again = await api('POST', `/api/v1/offers/${o.id}/accept`, {}, approver);
    t.equal(again.status, 409, `try ${i + 1}: declined is final`);
  }
  t.same(broadcasts(), [], 'no broadcast was created for the declined offer');
  const after = (await api('GET', '/api/v1/inbox', undefined, approver)).body.items.find((x: { id: string }) => x.id === o.id);
  t.equal(after.status, 'declined');
  t.equal(after.broadcastId, null);
});

t.test('a double click on accept airs once: both answers name the same broadcast', async (t) => {
  const { api, approver, offer, broadcasts } = await setup(t);
  const o = await offer();
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  // Two clicks at once, then a third later: one broadcast, the same one in every answer.
  const [a, b] = await Promise.all([
    api('POST', `/api/v1/offers/${o.id}/accept`, { startAt }, approver),
    api('POST', `/api/v1/offers/${o.id}/accept`, { startAt }, approver),
  ]);
  const c = await api('POST', `/api/v1/offers/${o.id}/accept`, { startAt }, approver);
  t.same([a.status, b.status, c.status], [200, 200, 200], 'accept is idempotent');
  t.equal(a.body.status, 'scheduled');
  t.ok(a.body.broadcastId);
  t.equal(b.body.broadcastId, a.body.broadcastId);
  t.equal(c.body.broadcastId, a.body.broadcastId);
  t.same(broadcasts().map((x) => x.id), [a.body.broadcastId], 'exactly one broadcast for the offer');
  t.equal((await api('POST', `/api/v1/offers/${o.id}/decline`, { reason: 'muộn rồi' }, approver)).status, 409, 'a scheduled offer can no longer be declined');
  t.equal(broadcasts().length, 1);
});

t.test('an accept that fails inside the broadcast rules leaves the offer pending and creates nothing', async (t) => {
  const { api, approver, offer, broadcasts } = await setup(t);
  const o = await offer();
  const past = await api('POST', `/api/v1/offers/${o.id}/accept`, { startAt: '2020-01-01T00:00:00Z' }, approver);
  t.equal(past.status, 400);
  t.same(broadcasts(), []);
  const after = (await api('GET', '/api/v1/inbox', undefined, approver)).body.items.find((x: { id: string }) => x.id === o.id);
  t.equal(after.status, 'pending', 'still waiting for a good accept');
  t.equal((await api('POST', `/api/v1/offers/${o.id}/accept`, {}, approver)).status, 200);
  t.equal(broadcasts().length, 1);
});

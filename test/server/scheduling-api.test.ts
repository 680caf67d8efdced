import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

async function setup(t: Parameters<typeof startTestServer>[0], overrides = {}) {
  const s = await startTestServer(t, overrides);
  await importSampleAreas(s.api, s.token);
  const login = async (username: string, role: string, areaCode: string | null) => {
    const created = await s.api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, s.token);
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return (await s.api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  const dev = (await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token)).body;
  // The commune's own bulletin: a bulletin belongs to its author's area and is aired by those who see it (issue 13).
  const writer = await login('viet-tin', 'operator', '99003');
  const bulletin = (await s.api('POST', '/api/v1/bulletins', { title: 'Lịch phát', text: 'Bản tin buổi sáng của xã.' }, writer)).body;
  return { ...s, login, dev, bulletin };
}

t.test('users: only province admins manage them', async (t) => {
  const { api, token, login } = await setup(t);
  const op = await login('op-tanlap', 'operator', '99003');
  t.equal((await api('GET', '/api/v1/users', undefined, op)).status, 403);
  t.equal((await api('POST', '/api/v1/users', { username: 'x1', password: 'a-long-password', role: 'viewer', areaCode: null }, op)).status, 403);
  const list = await api('GET', '/api/v1/users', undefined, token);
  t.same(list.body.items.map((u: { username: string }) => u.username).sort(), ['admin', 'op-tanlap', 'viet-tin']);
  t.equal((await api('POST', '/api/v1/users', { username: 'op-tanlap', password: 'a-long-password', role: 'viewer', areaCode: null }, token)).status, 409);
  t.equal((await api('POST', '/api/v1/users', { username: 'vv', password: 'short', role: 'viewer', areaCode: null }, token)).body.error.fields[0].path, 'password');
  const id = list.body.items.find((u: { username: string }) => u.username === 'op-tanlap').id;
  t.equal((await api('PATCH', `/api/v1/users/${id}`, { disabled: true }, token)).body.disabled, true);
  t.equal((await api('GET', '/api/v1/areas', undefined, op)).status, 401, 'a disabled user is logged out at once');
});

t.test('approval: an operator’s broadcast waits; an approver approves or rejects it', async (t) => {
  const { api, login, bulletin, dev } = await setup(t);
  const op = await login('op-tanlap', 'operator', '99003');
  const approver = await login('duyet', 'approver', '99');
  const viewer = await login('xem', 'viewer', '99');

  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99004'] } }, op)).status, 403, 'another commune is out of reach');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, viewer)).status, 403, 'viewers never broadcast');
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const mine = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt }, op);
  t.equal(mine.status, 201);
  t.equal(mine.body.status, 'submitted');
  t.same((await api('GET', `/api/v1/broadcasts/${mine.body.id}`, undefined, op)).body.deliveries, [], 'nothing is queued before approval');

  const queue = await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver);
  t.same(queue.body.items.map((b: { id: string }) => b.id), [mine.body.id], 'the approver sees it in the queue');
  t.equal((await api('POST', `/api/v1/broadcasts/${mine.body.id}/approve`, {}, op)).status, 403, 'operators cannot approve');
  const ok = await api('POST', `/api/v1/broadcasts/${mine.body.id}/approve`, {}, approver);
  t.equal(ok.body.status, 'approved');
  const after = await api('GET', `/api/v1/broadcasts/${mine.body.id}`, undefined, op);
  t.same(after.body.deliveries.map((d: { deviceId: string; state: string }) => [d.deviceId, d.state]), [[dev.id, 'queued']]);
  t.equal((await api('POST', `/api/v1/broadcasts/${mine.body.id}/approve`, {}, approver)).status, 409, 'decided once');

  const second = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt }, op);
  t.equal((await api('POST', `/api/v1/broadcasts/${second.body.id}/reject`, {}, approver)).body.error.fields[0].path, 'reason', 'a rejection needs a reason');
  const no = await api('POST', `/api/v1/broadcasts/${second.body.id}/reject`, { reason: 'Sai giờ phát' }, approver);
  t.equal(no.body.status, 'rejected');
  t.equal(no.body.decisionReason, 'Sai giờ phát');

  const emergency = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: ['99003'] } }, op);
  t.equal(emergency.body.status, 'submitted', 'operators are not in LOAXA_EMERGENCY_ROLES by default');
});

t.test('operators need no approval when the installation says so; emergency roles skip it', async (t) => {
  const base = (await import('../../server/src/config.js')).loadConfig({});
  const { api, login, bulletin } = await setup(t, { operatorsNeedApproval: false, emergencyRoles: [...base.emergencyRoles, 'operator'] });
  const op = await login('op-tanlap', 'operator', '99003');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 60_000).toISOString() }, op)).body.status, 'approved');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: ['99003'] } }, op)).body.status, 'approved');
});

t.test('recurring schedules: occurrences in Vietnam time, one cancelled or moved without touching the others', async (t) => {
  const { api, token, bulletin, dev } = await setup(t);
  // 05:30 in Hà Nội is 22:30 UTC the day before.
  const b = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['05:30', '17:00'] } }, token);
  t.equal(b.status, 201);
  const occ = (await api('GET', `/api/v1/broadcasts/${b.body.id}/occurrences`, undefined, token)).body.items;
  t.equal(occ.length, 14, 'two a day for a week');
  for (const o of occ) t.match(o.occurrenceAt, /T(22:30|10:00):00\.000Z$/);
  const deliveries = (await api('GET', `/api/v1/broadcasts/${b.body.id}?occurrence=${occ[1].occurrenceAt}`, undefined, token)).body.deliveries;
  t.same(deliveries.map((d: { state: string }) => d.state), ['queued'], 'each occurrence is written as a delivery ahead of time');

  const cancel = await api('POST', `/api/v1/broadcasts/${b.body.id}/cancel`, { occurrenceAt: occ[2].occurrenceAt }, token);
  t.equal(cancel.body.cancelledDeliveries, 1);
  const moveTo = new Date(Date.parse(occ[3].occurrenceAt) + 15 * 60_000).toISOString();
  t.equal((await api('PATCH', `/api/v1/broadcasts/${b.body.id}/occurrences/${occ[3].occurrenceAt}`, { startAt: moveTo }, token)).status, 200);
  const after = (await api('GET', `/api/v1/broadcasts/${b.body.id}/occurrences`, undefined, token)).body.items;
  t.equal(after.find((o: { occurrenceAt: string }) => o.occurrenceAt === occ[2].occurrenceAt).status, 'cancelled');
  t.same(after.find((o: { occurrenceAt: string }) => o.occurrenceAt === occ[3].occurrenceAt), { occurrenceAt: occ[3].occurrenceAt, status: 'moved', movedTo: moveTo });
  t.equal(after.find((o: { occurrenceAt: string }) => o.occurrenceAt === moveTo).status, 'scheduled');
  t.equal(after.filter((o: { status: string }) => o.status === 'scheduled').length, 13, 'the others are untouched');
  const moved = (await api('GET', `/api/v1/broadcasts/${b.body.id}?occurrence=${moveTo}`, undefined, token)).body.deliveries;
  t.same(moved.map((d: { state: string }) => d.state), ['queued'], 'the moved occurrence is queued at its new time');
  const bogus = await api('POST', `/api/v1/broadcasts/${b.body.id}/cancel`, { occurrenceAt: '2030-01-01T01:02:03Z' }, token);
  t.equal(bogus.status, 400, 'an instant that is not an occurrence');

  // Issue 20, broken 2: a cancelled airing is not brought back by moving it; the detail shows the next that airs.
  const again = await api('PATCH', `/api/v1/broadcasts/${b.body.id}/occurrences/${occ[2].occurrenceAt}`, { startAt: moveTo }, token);
  t.equal(again.status, 409, 'a cancelled airing cannot be moved');
  t.not((await api('GET', `/api/v1/broadcasts/${b.body.id}`, undefined, token)).body.occurrenceAt, occ[2].occurrenceAt);

  // Issue 20, broken 2: after the whole series is cancelled, none of its occurrences lists as scheduled.
  t.equal((await api('POST', `/api/v1/broadcasts/${b.body.id}/cancel`, {}, token)).status, 200);
  const gone = (await api('GET', `/api/v1/broadcasts/${b.body.id}/occurrences`, undefined, token)).body.items;
  t.same([...new Set(gone.map((o: { status: string }) => o.status))], ['cancelled'], 'every occurrence of a cancelled series is cancelled');
});

t.test('conflicts are reported per device before saving', async (t) => {
  const { api, token, bulletin, dev } = await setup(t);
  const at = new Date(Date.now() + 2 * 3600_000).toISOString();
  await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [dev.id] }, startAt: at }, token);
  const check = await api('POST', '/api/v1/broadcasts/check', { bulletinId: bulletin.id, priority: 'emergency', target: { areaCodes: ['99003'] }, startAt: new Date(Date.parse(at) + 500).toISOString() }, token);
  t.equal(check.status, 200);
  t.equal(check.body.conflicts.length, 1);
  t.equal(check.body.conflicts[0].deviceId, dev.id);
  t.equal(check.body.conflicts[0].outcome, 'interrupts', 'an emergency interrupts the normal item');
  const same = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [dev.id] }, startAt: at }, token);
  t.equal(same.body.conflicts[0].outcome, 'queued-after', 'equal priority queues behind what is booked');
});

/**
 * Issue 20, broken 1: an operator's "Phát ngay" approved more than the play window (5 min) after it was
 * submitted showed "approved" and aired nowhere. The approver's wait is made by moving the submitted row's
 * times back, as if it had been waiting that long.
 */
t.test('approval later than the play window: "Phát ngay" airs at approval; a chosen time that has passed is refused', async (t) => {
  const { api, login, bulletin, dev, server } = await setup(t);
  const op = await login('op-tanlap', 'operator', '99003');
  const approver = await login('duyet', 'approver', '99');
  const waited = 6 * 60_000;
  const age = (id: string) => server.ctx.db.prepare('UPDATE broadcasts SET created_at = created_at - @w, start_at = start_at - @w WHERE id = @id').run({ id, w: waited });

  const now = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, op);
  t.equal(now.body.status, 'submitted');
  age(now.body.id);
  const queued = (await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver)).body.items[0];
  t.equal(queued.airsWhenApproved, true, 'the queue says it airs when approved');
  const before = Date.now();
  const ok = await api('POST', `/api/v1/broadcasts/${now.body.id}/approve`, {}, approver);
  t.equal(ok.status, 200);
  t.ok(Date.parse(ok.body.startAt) >= before - 1000, 'its start is the approval, not the submission');
  const detail = await api('GET', `/api/v1/broadcasts/${now.body.id}`, undefined, op);
  t.same(detail.body.deliveries.map((d: { deviceId: string }) => d.deviceId), [dev.id], 'the box gets it');
  t.not(detail.body.deliveries[0].state, 'missed');

  const chosen = new Date(Date.now() + 60_000).toISOString();
  const timed = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: chosen }, op);
  // Submitted ten minutes ago for a minute later; that minute was six minutes ago, past its 5-minute window.
  server.ctx.db.prepare('UPDATE broadcasts SET created_at = created_at - 600000, start_at = start_at - 420000 WHERE id = ?').run(timed.body.id);
  const late = (await api('GET', '/api/v1/broadcasts?status=submitted', undefined, approver)).body.items.find((b: { id: string }) => b.id === timed.body.id);
  t.equal(late.airsWhenApproved, false);
  t.ok(Date.parse(late.lastStartAt) < Date.now(), 'the queue can tell its last start has passed');
  const refused = await api('POST', `/api/v1/broadcasts/${timed.body.id}/approve`, {}, approver);
  t.equal(refused.status, 409);
  t.match(refused.body.error.message, /has passed/);
  t.equal((await api('GET', `/api/v1/broadcasts/${timed.body.id}`, undefined, op)).body.status, 'submitted', 'nothing changed: it still waits, to be rejected or moved');
});

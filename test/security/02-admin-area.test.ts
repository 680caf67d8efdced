/**
 * Issue 13, finding 2: a province admin bound to one province created installation-wide admins and edited
 * any user, and read every province's audit rows. Users and audit rows are now scoped to the admin's area.
 */
import t from 'tap';
import { securityServer } from './helpers.js';

t.test('a province admin manages only users inside its province', async (t) => {
  const { api, token, login } = await securityServer(t);
  const admin99 = await login('province-admin', '99');
  const other = await login('operator', '98001');
  const own = await login('operator', '99003');

  const wide = await api('POST', '/api/v1/users', { username: 'wide-admin', password: 'wide-password-1', role: 'province-admin', areaCode: null }, admin99.token);
  t.equal(wide.status, 403, 'no installation-wide admin from a province admin');
  t.match(wide.body.error.message, /installation/);
  const foreign = await api('POST', '/api/v1/users', { username: 'foreign-op', password: 'foreign-password-1', role: 'operator', areaCode: '98002' }, admin99.token);
  t.equal(foreign.status, 403, 'no user in another province');
  const mine = await api('POST', '/api/v1/users', { username: 'own-op', password: 'own-password-12', role: 'operator', areaCode: '99004' }, admin99.token);
  t.equal(mine.status, 201, 'a user inside its province is fine');

  t.equal((await api('PATCH', `/api/v1/users/${other.id}`, { disabled: true }, admin99.token)).status, 404, 'another province’s user is not even found');
  t.equal((await api('GET', '/api/v1/me', undefined, other.token)).status, 200, 'and still works');
  const adminId = (await api('GET', '/api/v1/me', undefined, token)).body.id;
  t.equal((await api('PATCH', `/api/v1/users/${adminId}`, { password: 'hijacked-password-1' }, admin99.token)).status, 404, 'the installation-wide admin cannot be edited from a province');
  t.equal((await api('PATCH', `/api/v1/users/${own.id}`, { areaCode: null }, admin99.token)).status, 403, 'its own users cannot be moved to the whole installation');
  t.equal((await api('PATCH', `/api/v1/users/${own.id}`, { areaCode: '98001' }, admin99.token)).status, 403, 'nor to another province');
  t.equal((await api('PATCH', `/api/v1/users/${own.id}`, { role: 'approver' }, admin99.token)).status, 200, 'but can be edited');

  const listed = (await api('GET', '/api/v1/users?limit=200', undefined, admin99.token)).body;
  const areas = listed.items.map((u: { areaCode: string | null }) => u.areaCode);
  t.ok(areas.length >= 3, 'its province’s users are listed');
  t.ok(areas.every((a: string | null) => a !== null && a.startsWith('99')), 'and only those');
  t.equal(listed.total, areas.length, 'the total counts only them');

  const everyone = (await api('GET', '/api/v1/users?limit=200', undefined, token)).body;
  t.ok(everyone.items.some((u: { areaCode: string | null }) => u.areaCode === '98001'), 'the installation-wide admin still sees everyone');
});

t.test('a province admin reads only its province’s audit rows', async (t) => {
  const { api, token, login, base } = await securityServer(t);
  const admin99 = await login('province-admin', '99');
  const op98 = await login('operator', '98001');
  const op99 = await login('operator', '99003');
  t.equal((await api('PUT', '/api/v1/tts/dictionary/XYZ', { reading: 'ích xì dét' }, op98.token)).status < 500, true);
  t.equal((await api('PUT', '/api/v1/tts/dictionary/ABC', { reading: 'a bê xê' }, op99.token)).status < 500, true);
  const rows = (await api('GET', '/api/v1/audit?limit=1000', undefined, admin99.token)).body.items as Array<{ username: string | null }>;
  t.ok(rows.some((r) => r.username === op99.username), 'its own operators’ actions are there');
  t.notOk(rows.some((r) => r.username === op98.username), 'another province’s are not');
  t.notOk(rows.some((r) => r.username === 'admin'), 'nor the installation-wide admin’s');
  const csv = await (await fetch(`${base}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${admin99.token}` } })).text();
  t.match(csv, op99.username, 'the CSV export has its own rows');
  t.notMatch(csv, op98.username, 'and not another province’s');
  const all = (await api('GET', '/api/v1/audit?limit=1000', undefined, token)).body.items as Array<{ username: string | null }>;
  t.ok(all.some((r) => r.username === op98.username), 'the installation-wide admin reads every row');
});

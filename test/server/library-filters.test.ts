/**
 * Search and filters (issue 20) for the broadcasts list (words of the bulletin's title, priority, status,
 * the days of the first airing) and the audit log (who, which action, which object, which days; the CSV
 * export follows them), each within the caller's area as before, bad input 400 in Vietnamese.
 */
import t from 'tap';
import { securityServer } from '../security/helpers.js';
import { waitFor } from '../helpers/wait.js';

/** A Vietnam calendar day, `days` from today, and an instant on it at `hh`:00 Vietnam time. */
const vnDay = (days = 0) => new Date(Date.now() + 7 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
const vnAt = (days: number, hh: number) => new Date(Date.parse(`${vnDay(days)}T${String(hh).padStart(2, '0')}:00:00+07:00`)).toISOString();

type Summary = { id: string; bulletinId: string; priority: string; status: string; startAt: string };

t.test('broadcasts: by words of the title, priority, status and days, never another commune’s', async (t) => {
  const { api, token, login } = await securityServer(t);
  const approver = await login('approver', '99003');
  const operator = await login('operator', '99003');
  const neighbour = await login('approver', '99004');
  for (const area of ['99003', '99004']) t.equal((await api('POST', '/api/v1/devices', { name: `Loa ${area}`, areaCode: area }, token)).status, 201);

  const bulletin = async (who: { token: string }, title: string) => {
    const r = await api('POST', '/api/v1/bulletins', { title, text: `${title}: mời bà con chú ý lắng nghe.` }, who.token);
    await waitFor(`${title} ready`, async () => ((await api('GET', `/api/v1/bulletins/${r.body.id}`, undefined, who.token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id as string;
  };
  const broadcast = async (who: { token: string }, bulletinId: string, area: string, startAt: string, priority = 'normal') => {
    const r = await api('POST', '/api/v1/broadcasts', { bulletinId, target: { areaCodes: [area] }, startAt, priority }, who.token);
    t.equal(r.status, 201, 'scheduled', { body: r.body });
    return r.body.id as string;
  };
  const tax = await bulletin(approver, 'Thu thuế đất năm 2027');
  const vaccine = await bulletin(approver, 'Lịch tiêm phòng sởi');
  const theirs = await bulletin(neighbour, 'Thu thuế đất xã bên');
  const taxTomorrow = await broadcast(approver, tax, '99003', vnAt(1, 7));
  const vaccineLater = await broadcast(approver, vaccine, '99003', vnAt(3, 7), 'priority');
  const waiting = await broadcast(operator, vaccine, '99003', vnAt(2, 17));
  const theirTax = await broadcast(neighbour, theirs, '99004', vnAt(1, 7));

  const list = async (query: string, who = approver) => {
    const r = await api<{ items: Summary[] }>('GET', `/api/v1/broadcasts${query}`, undefined, who.token);
    t.equal(r.status, 200, query, { body: r.body });
    return r.body.items.map((b) => b.id).sort();
  };
  t.same(await list(`?q=${encodeURIComponent('THUẾ đất')}`), [taxTomorrow], 'words of the title, any case; the neighbour’s tax notice not found');
  t.same(await list(`?q=${encodeURIComponent('thuế')}`, neighbour), [theirTax], 'and the neighbour finds only its own');
  t.same(await list('?priority=priority'), [vaccineLater], 'by priority');
  t.same(await list('?status=submitted'), [waiting], 'by status: waiting for approval');
  t.same(await list('?status=all'), [taxTomorrow, vaccineLater, waiting].sort(), 'every status');
  t.same(await list(`?status=all&from=${vnDay(2)}&to=${vnDay(3)}`), [vaccineLater, waiting].sort(), 'first airing on these Vietnam days');
  t.same(await list(`?from=${vnDay(1)}&to=${vnDay(1)}`), [taxTomorrow], 'one day');
  t.same(await list(`?status=all&q=${encodeURIComponent('sởi')}&priority=normal`), [waiting], 'filters together');

  const bad = async (query: string, field: string, words: RegExp) => {
    const r = await api('GET', `/api/v1/broadcasts${query}`, undefined, approver.token);
    t.equal(r.status, 400, `${query} is refused`);
    t.match((r.body.error.fields as Array<{ path: string; message: string }>).find((f) => f.path === field)?.message, words, 'in Vietnamese', { body: r.body });
  };
  await bad('?priority=urgent', 'priority', /mức ưu tiên là một trong/);
  await bad('?status=done', 'status', /trạng thái là một trong/);
  await bad(`?from=${vnDay(3)}&to=${vnDay(1)}`, 'to', /ngày kết thúc phải sau ngày bắt đầu/);
  await bad('?to=2026-13-01', 'to', /lịch không có ngày này/);
});

type AuditRow = { id: number; username: string | null; method: string; route: string; object: { type: string; id: string } | null; at: string };

t.test('audit log: by who, action, object and days; the CSV follows; scoped as before', async (t) => {
  const { api, token, base, login } = await securityServer(t);
  const provinceAdmin = await login('province-admin', '99');
  const otherAdmin = await login('province-admin', '98');
  const u1 = await api('POST', '/api/v1/users', { username: 'thu-ky-xa', password: 'mat-khau-rat-dai-1', role: 'operator', areaCode: '99003' }, provinceAdmin.token);
  t.equal(u1.status, 201);
  t.equal((await api('PATCH', `/api/v1/users/${u1.body.id}`, { role: 'viewer' }, provinceAdmin.token)).status, 200);
  const dev = await api('POST', '/api/v1/devices', { name: 'Loa đầu làng', areaCode: '99003' }, provinceAdmin.token);
  t.equal(dev.status, 201);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa tỉnh khác', areaCode: '98001' }, otherAdmin.token)).status, 201);

  const audit = async (query: string, who: { token: string } = provinceAdmin) => {
    const r = await waitFor(`audit ${query}`, async () => {
      const r = await api<{ items: AuditRow[] }>('GET', `/api/v1/audit${query}`, undefined, who.token);
      return r.status === 200 && r.body.items.length ? r : null;
    }, 5000).catch(() => api<{ items: AuditRow[] }>('GET', `/api/v1/audit${query}`, undefined, who.token));
    t.equal(r.status, 200, query, { body: r.body });
    return r.body.items;
  };
  const mine = await audit(`?user=${provinceAdmin.username.toUpperCase()}`);
  t.ok(mine.length >= 4, 'by who acted, any case');
  t.ok(mine.every((r) => r.username === provinceAdmin.username), 'only theirs');
  const created = await audit(`?action=${encodeURIComponent('POST /api/v1/users')}&user=${provinceAdmin.username}`);
  t.same(created.map((r) => r.object?.id), [u1.body.id], 'one action');
  const userRows = await audit(`?objectType=user&objectId=${u1.body.id}`);
  t.same(userRows.map((r) => r.route).sort(), ['/api/v1/users', '/api/v1/users/:id'], 'everything done to one object');
  const devices = await audit('?objectType=device');
  t.same(devices.map((r) => r.object?.id), [dev.body.id], 'by kind of object, within the province: not the other province’s box');
  t.same(await audit(`?from=${vnDay(1)}`), [], 'nothing tomorrow');
  t.ok((await audit(`?from=${vnDay()}&to=${vnDay()}&objectType=device`)).length === 1, 'today');
  t.same(await audit(`?user=${provinceAdmin.username}`, otherAdmin), [], 'another province’s admin finds none of these rows');

  const csv = await fetch(`${base}/api/v1/audit?format=csv&objectType=user&objectId=${u1.body.id}`, { headers: { authorization: `Bearer ${token}` } });
  const lines = (await csv.text()).trim().split(/\r?\n/);
  t.equal(lines.length, 3, 'the CSV export follows the filters: a header and the two rows');

  const bad = async (query: string, field: string, words: RegExp) => {
    const r = await api('GET', `/api/v1/audit${query}`, undefined, provinceAdmin.token);
    t.equal(r.status, 400, `${query} is refused`);
    t.match((r.body.error.fields as Array<{ path: string; message: string }>).find((f) => f.path === field)?.message, words, 'in Vietnamese', { body: r.body });
  };
  await bad(`?action=${encodeURIComponent('GET /api/v1/users')}`, 'action', /hành động không hợp lệ/);
  await bad('?objectType=planet', 'objectType', /loại đối tượng là một trong/);
  await bad(`?from=${vnDay()}&to=${vnDay(-1)}`, 'to', /ngày kết thúc phải sau ngày bắt đầu/);
  await bad(`?user=${'x'.repeat(65)}`, 'user', /tối đa 64 ký tự/);
});

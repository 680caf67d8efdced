import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

t.test('every write is in the append-only audit log, without secrets', async (t) => {
  const { api, token, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/users', { username: 'op1', password: 'a-very-secret-pw', role: 'operator', areaCode: '99003' }, token);
  await api('POST', '/api/v1/auth/login', { username: 'op1', password: 'wrong-password' });
  const op = (await api('POST', '/api/v1/auth/login', { username: 'op1', password: 'a-very-secret-pw' })).body.token;
  await api('POST', '/api/v1/devices', { name: 'x', areaCode: '99004' }, op); // refused: another commune

  const log = (await api('GET', '/api/v1/audit?limit=50', undefined, token)).body.items as Array<{ username: string; method: string; route: string; status: number; body: any; ip: string }>;
  const rows = log.map((r) => [r.username, r.method, r.route, r.status]);
  t.same(rows.find((r) => r[2] === '/api/v1/users'), ['admin', 'POST', '/api/v1/users', 201]);
  t.same(rows.filter((r) => r[2] === '/api/v1/auth/login' && r[0] === 'op1').map((r) => r[3]).sort(), [200, 401], 'failed and successful logins, by account');
  t.same(rows.find((r) => r[2] === '/api/v1/devices' && r[0] === 'op1'), ['op1', 'POST', '/api/v1/devices', 403], 'refused attempts are recorded too');
  const text = JSON.stringify(log);
  t.notMatch(text, /a-very-secret-pw|wrong-password/, 'no password is ever stored');
  t.match(text, /\[redacted\]/);
  t.equal(log[0]!.ip, '127.0.0.1');

  t.throws(() => server.ctx.db.prepare('UPDATE audit_log SET status = 200').run(), /append-only/);
  t.throws(() => server.ctx.db.prepare('DELETE FROM audit_log').run(), /append-only/);
  t.equal((await api('GET', '/api/v1/audit', undefined, op)).status, 403);
  const csv = await fetch(`${server.urls.httpUrl}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${token}` } });
  t.match(await csv.text(), /^id,at,user_id,username,ip,method,route,url,status,body,/);
});

t.test('edits record which object changed, with its stored state before and after', async (t) => {
  const { api, token, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  type Row = { route: string; method: string; status: number; object: { type: string; id: string } | null; before: any; after: any };
  const audit = async () => (await api('GET', '/api/v1/audit?limit=100', undefined, token)).body.items as Row[];

  const created = await api('POST', '/api/v1/users', { username: 'op2', password: 'another-secret-pw', role: 'operator', areaCode: '99003' }, token);
  const userId = created.body.id as string;
  t.equal((await api('PATCH', `/api/v1/users/${userId}`, { role: 'viewer', password: 'a-new-secret-pw' }, token)).status, 200);
  let log = await audit();
  const creation = log.find((r) => r.method === 'POST' && r.route === '/api/v1/users')!;
  t.same(creation.object, { type: 'user', id: userId }, 'a creation names the object from its response');
  t.equal(creation.before, null, 'nothing before a creation');
  t.equal(creation.after.role, 'operator');
  const edit = log.find((r) => r.route === '/api/v1/users/:id')!;
  t.same([edit.before.role, edit.after.role], ['operator', 'viewer'], 'the role before and after');
  t.equal(edit.before.area_code, '99003');
  t.notMatch(JSON.stringify(log), /password_hash|scrypt|secret-pw/, 'hashes and passwords never reach the log');

  const device = (await api('POST', '/api/v1/devices', { name: 'Cụm loa chợ', areaCode: '99003' }, token)).body;
  t.equal((await api('POST', `/api/v1/devices/${device.id}/revoke`, {}, token)).status, 200);
  log = await audit();
  const revoke = log.find((r) => r.route === '/api/v1/devices/:id/revoke')!;
  t.same(revoke.object, { type: 'device', id: device.id });
  t.same([revoke.before.revoked_at, typeof revoke.after.revoked_at], [null, 'number'], 'revoked_at set by the revoke');
  t.notMatch(JSON.stringify(revoke), /secret_hash/, 'the device secret hash stays out');

  // A refused edit: recorded, with the state it left untouched and no "after".
  const refused = await api('PATCH', `/api/v1/users/${userId}`, { role: 'no-such-role' }, token);
  t.equal(refused.status, 400);
  log = await audit();
  const bad = log.find((r) => r.route === '/api/v1/users/:id' && r.status === 400)!;
  t.equal(bad.after, null, 'no after for a refused request');

  // Dictionary entries: keyed by their term.
  t.equal((await api('PUT', '/api/v1/tts/dictionary/UBND', { reading: 'ủy ban nhân dân' }, token)).status < 300, true);
  t.equal((await api('DELETE', '/api/v1/tts/dictionary/UBND', undefined, token)).status < 300, true);
  log = await audit();
  const del = log.find((r) => r.method === 'DELETE')!;
  t.same([del.object?.type, del.before?.reading, del.after], ['dictionary-entry', 'ủy ban nhân dân', null], 'a deletion shows what was removed');

  const csv = await (await fetch(`${server.urls.httpUrl}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${token}` } })).text();
  t.match(csv, /^id,at,user_id,username,ip,method,route,url,status,body,object_type,object_id,before,after\r\n/, 'the export carries them too');
});

t.test('every audited route exists, so a renamed route cannot silently lose its before/after', async (t) => {
  const { AUDITED } = await import('../../server/src/routes/audit.js');
  const { server } = await startTestServer(t);
  for (const key of Object.keys(AUDITED)) {
    const [method, url] = key.split(' ') as [string, string];
    t.ok(server.app.hasRoute({ method: method, url }), key);
  }
});

t.test('the CSV export is the whole log, past any page size, streamed', async (t) => {
  const { api, token, server } = await startTestServer(t);
  const insert = server.ctx.db.prepare(`INSERT INTO audit_log (at, user_id, username, ip, method, route, url, status) VALUES (?, NULL, 'op', '10.0.0.1', 'POST', '/api/v1/bulletins', '/api/v1/bulletins', 201)`);
  server.ctx.db.transaction(() => {
    for (let i = 0; i < 12_345; i++) insert.run(Date.now() - i);
  })();
  const total = (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  const res = await fetch(`${server.urls.httpUrl}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/csv/);
  const lines = (await res.text()).trimEnd().split('\r\n');
  t.equal(lines.length - 1, total, `all ${total} rows, not one page`);
  const ids = lines.slice(1).map((l) => Number(l.split(',')[0]));
  t.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]!), 'newest first, no row twice');
  const capped = await (await fetch(`${server.urls.httpUrl}/api/v1/audit?format=csv&limit=10`, { headers: { authorization: `Bearer ${token}` } })).text();
  t.equal(capped.trimEnd().split('\r\n').length, 11, 'limit still caps an export when given');
  t.equal((await api('GET', '/api/v1/audit?limit=5', undefined, token)).body.items.length, 5, 'JSON pages as before');
});

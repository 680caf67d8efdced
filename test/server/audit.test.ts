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
  t.match(await csv.text(), /^id,at,user_id,username,ip,method,route,url,status,body\r\n/);
});

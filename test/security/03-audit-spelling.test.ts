/**
 * Issue 13, finding 3: the audit hook tested the raw URL, so `POST /%61pi/v1/users` created a user and left
 * no audit row. Writes are now audited by the route that matched and the method, whatever the spelling.
 */
import t from 'tap';
import { securityServer } from './helpers.js';

t.test('every spelling of a write leaves an audit row naming the route', async (t) => {
  const { api, token } = await securityServer(t);
  const spellings = ['/%61pi/v1/users', '/api/v1/%75sers', '/API/V1/USERS', '/api/v1/users/', '//api/v1//users'];
  for (const [i, path] of spellings.entries()) {
    const username = `spelled${i}`;
    const created = await api('POST', path, { username, password: 'spelled-password-1', role: 'viewer', areaCode: '99003' }, token);
    t.equal(created.status, 201, `POST ${path} creates the user`);
    const rows = (await api('GET', '/api/v1/audit?limit=50', undefined, token)).body.items as Array<{ route: string; url: string; method: string; object: { type: string; id: string } | null; body: { username?: string } | null }>;
    const row = rows.find((r) => r.body?.username === username);
    t.ok(row, `${path} is in the audit log`);
    t.equal(row?.route, '/api/v1/users', 'under the route that ran');
    t.equal(row?.url, path, 'with the spelling that was sent');
    t.same(row?.object, { type: 'user', id: created.body.id }, 'naming the user it created');
  }
  // A refused write is audited too, under its route.
  const refused = await api('PATCH', '/%61pi/v1/users/u-does-not-exist', { disabled: true }, token);
  t.equal(refused.status, 404);
  const rows = (await api('GET', '/api/v1/audit?limit=5', undefined, token)).body.items as Array<{ route: string; status: number; method: string }>;
  t.ok(rows.some((r) => r.method === 'PATCH' && r.route === '/api/v1/users/:id' && r.status === 404), 'the refused edit is there with its 404');
});

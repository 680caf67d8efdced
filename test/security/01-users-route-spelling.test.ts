/**
 * Issue 13, finding 1 (critical): the users routes checked the role against the raw `request.url`, so
 * `POST /api/v1/%75sers` (the router decodes `%75` to `u` and runs the users route) let a viewer create an
 * installation-wide province admin. Permission now comes from the matched route's declaration.
 */
import t from 'tap';
import { securityServer } from './helpers.js';

t.test('a viewer cannot create, list or edit users under any spelling of the path', async (t) => {
  const { api, token, login } = await securityServer(t);
  const viewer = await login('viewer', '99003');
  const spellings = ['/api/v1/%75sers', '/api/v1/users', '/%61pi/v1/users', '/api/v1/USERS', '/api/v1/users/', '//api//v1//users'];
  for (const path of spellings) {
    const created = await api('POST', path, { username: `evil${spellings.indexOf(path)}`, password: 'evil-password-1', role: 'province-admin', areaCode: null }, viewer.token);
    t.equal(created.status, 403, `POST ${path} is refused`);
    t.equal(created.body.error?.code, 'LOAXA_FORBIDDEN');
    const listed = await api('GET', path, undefined, viewer.token);
    t.equal(listed.status, 403, `GET ${path} is refused`);
    t.notOk(Array.isArray(listed.body.items), 'and lists nobody');
  }
  const admin = (await api('GET', '/api/v1/users?limit=100', undefined, token)).body;
  t.notOk(admin.items.some((u: { username: string }) => u.username.startsWith('evil')), 'no user was created');
  const patched = await api('PATCH', `/api/v1/%75sers/${viewer.id}`, { role: 'province-admin', areaCode: null }, viewer.token);
  t.equal(patched.status, 403, 'the viewer cannot promote itself through %75sers');
  const me = (await api('GET', '/api/v1/me', undefined, viewer.token)).body;
  t.equal(me.role, 'viewer', 'and is still a viewer');
});

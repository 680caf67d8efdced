/**
 * Issue 13, hostile review after the fix: a client that hangs up before the answer got no response, so the
 * audit hook (onResponse) never ran and its write left no row: a province admin created by a request closed
 * 5 ms after it was sent could log in, and the log did not know. The row is now written when the handler
 * settles, with status 499 and the object's state after.
 */
import t from 'tap';
import { connect } from 'node:net';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('a write whose client hung up before the answer is still in the audit log', async (t) => {
  const { api, token, urls } = await securityServer(t);
  const body = JSON.stringify({ username: 'ghost-admin', password: 'ghost-password-1', role: 'province-admin', areaCode: '99' });
  const port = Number(new URL(urls.httpUrl).port);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      // The password hash takes tens of milliseconds: hang up while it runs.
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 5);
    });
    socket.on('error', reject);
  });
  const created = await waitFor('the user to exist', async () => {
    const users = (await api('GET', '/api/v1/users?limit=100', undefined, token)).body.items as Array<{ id: string; username: string }>;
    return users.find((u) => u.username === 'ghost-admin') ?? null;
  }, 5000);
  const row = await waitFor('its audit row', async () => {
    const rows = (await api('GET', '/api/v1/audit?limit=20', undefined, token)).body.items as Array<{ route: string; status: number; object: { type: string; id: string } | null; after: { username?: string } | null; ip: string | null; body: { username?: string } | null }>;
    return rows.find((r) => r.route === '/api/v1/users' && r.body?.username === 'ghost-admin') ?? null;
  }, 5000);
  t.equal(row.status, 499, 'recorded as answered to nobody');
  t.same(row.object, { type: 'user', id: created.id }, 'naming the user it created');
  t.equal(row.after?.username, 'ghost-admin', 'with its state after');
  t.equal(row.ip, '127.0.0.1', 'and the address it came from');

  // A normal write still gets exactly one row.
  const ok = await api('POST', '/api/v1/users', { username: 'seen-admin', password: 'seen-password-12', role: 'viewer', areaCode: '99003' }, token);
  t.equal(ok.status, 201);
  await new Promise((r) => setTimeout(r, 50));
  const rows = (await api('GET', '/api/v1/audit?limit=50', undefined, token)).body.items as Array<{ body: { username?: string } | null; status: number }>;
  t.same(rows.filter((r) => r.body?.username === 'seen-admin').map((r) => r.status), [201], 'one row, with the status sent');
});

/**
 * Issue 13, hostile review after the fix: the login lock counts per account and per client address.
 * - Behind a reverse proxy every request came from the proxy's address, so five wrong logins by anyone locked
 *   everyone out (emergencies need a fresh login): LOAXA_TRUST_PROXY names the proxy, and the address is then
 *   the client's as the proxy forwards it.
 * - A valid login cleared the address's count, so one attacker with one account of its own could spray
 *   passwords over many accounts by logging in between guesses; now a success gives back only itself.
 */
import t from 'tap';
import { securityServer } from './helpers.js';
import { ADMIN_PASSWORD } from '../helpers/server.js';

async function login(base: string, username: string, password: string, from?: string) {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) }, body: JSON.stringify({ username, password }) });
  return res.status;
}

t.test('behind a named proxy, one client’s wrong logins lock that client, not everyone', async (t) => {
  const { base, api, token } = await securityServer(t, { loginMaxFailures: 3, trustProxy: '127.0.0.1' });
  for (let i = 0; i < 3; i++) t.equal(await login(base, `nobody${i}`, 'guess-guess', '203.0.113.5'), 401, `guess ${i + 1}`);
  t.equal(await login(base, 'nobody9', 'guess-guess', '203.0.113.5'), 429, 'the guessing client is locked');
  t.equal(await login(base, 'admin', ADMIN_PASSWORD, '203.0.113.9'), 200, 'the admin at another address logs in');
  const rows = (await api('GET', '/api/v1/audit?limit=20', undefined, token)).body.items as Array<{ route: string; ip: string; status: number }>;
  t.ok(rows.some((r) => r.route === '/api/v1/auth/login' && r.ip === '203.0.113.5' && r.status === 429), 'the audit log names the client’s address, not the proxy’s');
});

t.test('a forwarded address is not believed from a client that is not the named proxy', async (t) => {
  const { base } = await securityServer(t, { loginMaxFailures: 3 });
  // No LOAXA_TRUST_PROXY: X-Forwarded-For is the client's own claim, and a new one per guess changes nothing.
  for (let i = 0; i < 3; i++) await login(base, `nobody${i}`, 'guess-guess', `198.51.100.${i}`);
  t.equal(await login(base, 'nobody7', 'guess-guess', '198.51.100.77'), 429, 'a forged X-Forwarded-For does not escape the lock');
});

t.test('a valid login does not reset its address’s budget, and valid logins alone never lock it', async (t) => {
  const { base, login: createUser } = await securityServer(t, { loginMaxFailures: 3 });
  // Its own account: created through the API (logging it in once counts one success).
  const own = await createUser('viewer', '99003');
  let guesses = 0;
  let refused = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 2; i++) {
      const status = await login(base, `victim${round}-${i}`, 'Password1!');
      if (status === 401) guesses++;
      if (status === 429) refused++;
    }
    await login(base, own.username, `pw-${own.username}-secret`);
  }
  t.ok(guesses <= 3, `${guesses} password guesses got through from one address (limit 3)`);
  t.ok(refused > 0, 'the rest were refused');
});

t.test('many valid logins from one address are never locked', async (t) => {
  const { base } = await securityServer(t, { loginMaxFailures: 3 });
  for (let i = 0; i < 8; i++) t.equal(await login(base, 'admin', ADMIN_PASSWORD), 200, `login ${i + 1}`);
});

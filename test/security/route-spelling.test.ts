/**
 * Issue 13: every registered route, sent as every role under other spellings of its path (percent-encoded
 * letters, a trailing slash, doubled slashes, another case), answers exactly as the plain spelling does.
 * Permission comes from the route that matched, so no spelling can reach a route past its check.
 *
 * Requests are made so that they change nothing: bodies are empty (a permitted caller gets the validation
 * error, a refused one 403 before the body is read) and object ids do not exist; logout gets a throwaway
 * session each time. The live-events stream is cut once its status is known.
 */
import t from 'tap';
import { securityServer } from './helpers.js';
import { routeTableOf } from '../../server/src/http/access.js';

// Every route × 4 spellings × 6 roles is ~2,000 requests (more with each issue's routes): 72 s alone here, past
// tap's 120 s per file when the suite loads both cores. The bound is for a hang, not for speed.
t.setTimeout(360_000);

const PARAM_VALUES: Record<string, string> = { id: 'zz-does-not-exist', term: 'UBND', occurrenceAt: '2026-12-07T00:00:00.000Z', sha256: 'a'.repeat(64) };

function fill(url: string): string {
  return url.replace(/:(\w+)/g, (_, name: string) => PARAM_VALUES[name] ?? 'x');
}

/** The spellings of one concrete path: static segments are respelled, parameter values left as they are. */
function spellings(route: string): Array<[string, string]> {
  const segments = route.split('/').slice(1);
  const respell = (f: (seg: string) => string) => `/${segments.map((seg) => (seg.startsWith(':') || seg === '*' ? fill(seg) : f(seg))).join('/')}`;
  const percent = (seg: string) => (seg.length ? `%${seg.charCodeAt(0).toString(16)}${seg.slice(1)}` : seg);
  return [
    ['percent-encoded', respell(percent)],
    ['trailing slash', `${fill(route)}/`],
    ['doubled slashes', fill(route).replace(/\//g, '//')],
    ['upper case', respell((seg) => seg.toUpperCase())],
  ];
}

t.test('every route answers every role the same under every spelling', async (t) => {
  const s = await securityServer(t);
  const roles = {
    anonymous: null,
    viewer: (await s.login('viewer', '99003')).token,
    operator: (await s.login('operator', '99003')).token,
    approver: (await s.login('approver', '99')).token,
    'province-admin of 99': (await s.login('province-admin', '99')).token,
    'installation-wide admin': s.token,
  } as Record<string, string | null>;
  const routes = routeTableOf(s.server.app).filter((r) => r.method !== 'HEAD' && !r.url.includes('*') && r.url !== '/');
  t.ok(routes.length >= 40, `${routes.length} routes to try`);

  async function send(method: string, path: string, token: string | null): Promise<string> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    const write = method !== 'GET' && method !== 'DELETE';
    if (write) headers['content-type'] = 'application/json';
    const abort = new AbortController();
    const res = await fetch(s.base + path, { method, headers, ...(write ? { body: '{}' } : {}), signal: abort.signal, redirect: 'manual' });
    let code = '';
    if ((res.headers.get('content-type') ?? '').includes('application/json')) {
      const body = (await res.json()) as { error?: { code?: string } };
      code = body.error?.code ?? '';
    } else {
      abort.abort(); // a stream (events) or a file: the status is what we compare
    }
    return `${res.status} ${code}`.trim();
  }

  const mismatches: string[] = [];
  let compared = 0;
  for (const route of routes) {
    for (const [role, token] of Object.entries(roles)) {
      if (route.url === '/api/v1/auth/logout' && token) continue; // checked below with its own sessions
      const plain = await send(route.method, fill(route.url), token);
      for (const [how, path] of spellings(route.url)) {
        const got = await send(route.method, path, token);
        compared++;
        if (got !== plain) mismatches.push(`${role}: ${route.method} ${path} (${how}) answered ${got}, plain ${fill(route.url)} answered ${plain}`);
      }
    }
  }
  t.same(mismatches, [], `${compared} respelled requests answered as their plain spelling`);

  // An unknown API path in another spelling is the API's 404, not the web app's page.
  for (const path of ['/api/v1/nope', '/API/V1/NOPE', '//api//v1/nope', '/%61pi/v1/nope']) {
    const res = await s.api('GET', path, undefined, s.token);
    t.equal(res.status, 404, `GET ${path} is not found`);
    t.equal(res.body.error?.code, 'LOAXA_NOT_FOUND', 'as a JSON error');
  }

  // Logout under each spelling ends exactly the session it was sent with.
  for (const [how, path] of [['plain', '/api/v1/auth/logout'] as [string, string], ...spellings('/api/v1/auth/logout')]) {
    const { token } = await s.login('viewer', '99003');
    t.equal((await s.api('POST', path, {}, token)).status, 204, `logout (${how})`);
    t.equal((await s.api('GET', '/api/v1/me', undefined, token)).status, 401, `the session is over (${how})`);
  }
});

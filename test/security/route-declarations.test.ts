/**
 * Issue 13: every route declares who may call it, and the server refuses to start with a route that does
 * not. The table of declarations is checked here as a whole, so a new public route, or a write open to
 * viewers, is a decision someone made on purpose and not an accident.
 */
import t from 'tap';
import Fastify from 'fastify';
import { startTestServer } from '../helpers/server.js';
import { access, installAccess, routeTableOf, ANY_ROLE } from '../../server/src/http/access.js';
import { isAudited } from '../../server/src/routes/audit.js';
import { ROLES } from '../../server/src/repos/users.js';
import type { ObjectScope } from '../../server/src/auth/objects.js';
import type { AreaRepository } from '../../server/src/repos/areas.js';

const deps = { objects: {} as ObjectScope, areas: {} as AreaRepository };

t.test('a route without an access declaration stops the server from starting', async (t) => {
  const app = Fastify();
  installAccess(app, deps);
  app.get('/ok', { config: { access: access.roles(ANY_ROLE, { scope: 'test' }) } }, async () => 'ok');
  await t.rejects(async () => {
    await app.register(async (child) => {
      child.post('/api/v1/forgotten', async () => 'oops');
    });
    await app.ready();
  }, /POST \/api\/v1\/forgotten declares no config.access/);
  await app.close().catch(() => undefined);

  const empty = Fastify();
  installAccess(empty, deps);
  t.throws(() => empty.get('/nobody', { config: { access: access.roles([], { scope: 'test' }) } }, async () => 'x'), /allows no role/);
  await empty.close();
});

t.test('the server’s route table: every route declared, public routes few and named, writes closed to viewers and audited', async (t) => {
  const { server } = await startTestServer(t);
  const table = routeTableOf(server.app).filter((r) => r.method !== 'HEAD');
  t.ok(table.length >= 45, `${table.length} routes`);
  for (const r of table) {
    t.ok(r.access, `${r.method} ${r.url} declares access`);
    if (r.access.kind === 'roles') t.ok(r.access.roles.every((role) => (ROLES as readonly string[]).includes(role)), `${r.method} ${r.url} names real roles`);
  }
  const open = table.filter((r) => r.access.kind !== 'roles').map((r) => `${r.access.kind} ${r.method} ${r.url}`).sort();
  t.same(open, [
    'public GET /',
    'public GET /*',
    // The CAP feed we publish (issue 18): disaster warnings are public information; LOAXA_CAP_FEED=off closes it.
    'public GET /cap/alerts.atom',
    'public GET /cap/alerts/:file',
    'public GET /healthz',
    'public GET /openapi.json',
    // The communes' web pages (issue 22): public bulletins that aired there, nothing else; 404 for all the rest.
    'public GET /xa',
    'public GET /xa/*',
    'public GET /xa/:code/ban-tin/:id',
    'public GET /xa/:code/ban-tin/:id/:file',
    'public GET /xa/:code/nhung',
    'public GET /xa/:code/podcast.xml',
    'public GET /xa/:code/thong-bao.xml',
    'public GET /xa/:image',
    'public GET /xa/nhung.css',
    'public GET /xa/nhung.js',
    'public POST /api/v1/auth/login',
    // The national interface served (issue 17): peers log in with their own credentials and send a token.
    'self DELETE /national/*',
    'self GET /live/:id',
    'self GET /media/:sha256',
    'self GET /streams/:sourceId',
    'self POST /api/v1/broker/acl',
    'self POST /api/v1/broker/auth',
    // RabbitMQ's HTTP auth backend (issue 21): the shared token in Basic auth.
    'self POST /api/v1/broker/rabbitmq/resource',
    'self POST /api/v1/broker/rabbitmq/topic',
    'self POST /api/v1/broker/rabbitmq/user',
    'self POST /api/v1/broker/rabbitmq/vhost',
    'self POST /api/v1/claim',
    // A warning source pushes CAP with its own token (issue 18).
    'self POST /api/v1/warnings/cap',
    'self POST /national/*',
    'self PUT /national/*',
  ], 'only these answer without a user’s login, each checking its own credentials where it has any');
  const writes = table.filter((r) => r.method !== 'GET' && r.url.startsWith('/api/'));
  for (const r of writes) {
    // A viewer's own session and own notifications (issue 20: marking read, push subscriptions, channels) are theirs to change.
    const own = r.url === '/api/v1/auth/logout' || r.url.startsWith('/api/v1/notifications/');
    if (r.access.kind === 'roles' && !own) t.notOk(r.access.roles.includes('viewer'), `viewers cannot ${r.method} ${r.url}`);
    const expected = !r.url.startsWith('/api/v1/broker/');
    t.equal(isAudited(r.method, r.url, false), expected, `${r.method} ${r.url} is ${expected ? '' : 'not '}audited`);
  }
});

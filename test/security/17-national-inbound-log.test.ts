/**
 * Issue 17 review (hostile): what the served interface (`/national/*`) writes to `national_inbound` for
 * requests it refuses.
 *
 * HOLE 1 (medium, unauthenticated disk growth) — server/src/routes/national-served.ts, the route handler's
 * catch (`deps.inbound.record({ ..., body: request.body.subarray(0, 4096) })`): every refused request is a row
 * holding up to 4 KB of its body, including a request with no token at all. Nothing bounds it but the 30-day
 * retention (repos/national-inbound.ts INBOUND_RETENTION_MS) — no login guard, no rate, no per-address
 * collapsing. Anyone who can reach the server's port (the interface is public: provinces call it) writes
 * ~4 KB of SQLite per request: 1,000 requests a second is ~350 GB a day, and the disk the box agendas, the
 * outbox and the audit log live on fills. Impact: a stopped loudspeaker system, without credentials.
 * Fix: keep no body for a request that is not authenticated (a 401 names no peer, so no admin can act on its
 * body anyway), and collapse unauthenticated refusals per address per minute with a count, as taken statuses
 * are collapsed per child (STATUS_LOG_EVERY_MS).
 *
 * HOLE 2 (low-medium, a password at rest) — same catch: a login that does not decode (a vendor's client that
 * names the user field its own way, a user name of the wrong type, a password over 500 characters) is refused with 400
 * and its raw body — the peer's real password in clear — is stored in `national_inbound.body` for 30 days, in
 * the database and its backups, next to passwords that are otherwise only hashed. Fix: never keep a login
 * body (kind 'login': body null), or redact the mapping's password field before recording.
 *
 * Both tests FAIL now and pass once fixed.
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { addPeer, post } from '../national/served-helpers.js';

t.test('HOLE: requests with no token each store up to 4 KB of their body in national_inbound (unauthenticated disk growth)', async (t) => {
  const { base, server } = await startTestServer(t);
  const filler = JSON.stringify({ NguonID: 'X', pad: 'A'.repeat(4000) });
  const N = 200;
  for (let i = 0; i < N; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => post(base, '/national/api/thietbi/trangthai', filler)));
    for (const r of batch) if (r.status !== 401) t.fail(`expected 401, got ${r.status}`);
  }
  const row = server.ctx.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS bytes FROM national_inbound WHERE peer_id IS NULL').get() as { n: number; bytes: number };
  t.comment(`${N} unauthenticated requests left ${row.n} rows holding ${row.bytes} bytes of body`);
  t.ok(row.bytes < 8192, `the bodies of unauthenticated requests are not kept (kept ${row.bytes} bytes for ${N} requests)`);
  t.ok(row.n <= 10, `unauthenticated refusals from one address are collapsed, not one row each (${row.n} rows for ${N} requests)`);
});

t.test('HOLE: a login that does not decode keeps the peer’s password in clear in national_inbound', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const vendor = await addPeer(api, token, { role: 'child', name: 'Nhà cung cấp A', sourceId: '99003', mapping: 'vi', username: 'vendor-a', areaCodes: ['99003'] });
  // A vendor's client that names the user field its own way (TenDangNhap) but sends the real password: refused
  // with 400 (right: Username is required), but its whole body is kept.
  const r = await post(base, '/national/api/auth/login', JSON.stringify({ TenDangNhap: 'vendor-a', Password: vendor.password }));
  t.equal(r.status, 400, 'the login is refused (Username is required)');
  const rows = server.ctx.db.prepare('SELECT body FROM national_inbound WHERE body IS NOT NULL').all() as { body: string }[];
  t.notOk(
    rows.some((x) => x.body.includes(vendor.password)),
    'no stored inbound body holds the peer’s password',
  );
  // Regression (passes now): a wrong password is logged without its body.
  await post(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: `${vendor.password}x` }));
  const wrong = server.ctx.db.prepare(`SELECT body FROM national_inbound WHERE kind = 'login' AND detail LIKE '%sai tên%'`).all() as { body: string | null }[];
  t.ok(wrong.length >= 1 && wrong.every((x) => x.body === null), 'REGRESSION (passes): a wrong password is logged with no body');
});

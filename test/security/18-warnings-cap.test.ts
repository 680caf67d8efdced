/**
 * Issue 18, CAP in and out as an attacker would try them: a push without the source's own token, or with a
 * user's session, stores nothing; a hostile document (external entity, entity expansion, external DTD) is
 * refused before anything is expanded or fetched, and stores nothing; the push token is kept as a hash only;
 * the audit log keeps a bounded copy of a pushed document, not a megabyte; a source cannot reach areas
 * outside its own; and the public CAP feed publishes only what aired with status Actual and scope Public
 * (never a Test, a Restricted message, or one a person rejected).
 */
import t from 'tap';
import { alert, refOf, warningServer, xmlOf } from '../warnings/server-helpers.js';

t.test('CAP push: credentials, hostile documents, stored secrets, audit size', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ areaCodes: ['99003'] });
  const xml = xmlOf(alert());

  for (const [what, token] of [['no token', null], ['a wrong token', 'A'.repeat(32)], ["an admin's session", s.token]] as const) {
    const r = await s.push(xml, token);
    t.equal(r.status, 401, what);
  }
  const hostile = [
    `<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&xxe;</alert>`,
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><alert>&lol2;</alert>`,
    '<!DOCTYPE alert SYSTEM "http://127.0.0.1:1/cap.dtd"><alert/>',
    xml.replace('<identifier>', '<identifier>a b,'),
  ];
  for (const [i, doc] of hostile.entries()) {
    const r = await s.push(doc, src.token);
    t.equal(r.status, 400, `hostile document ${i + 1} is refused: ${JSON.stringify(r.body).slice(0, 200)}`);
  }
  t.equal(s.count('warning_versions'), 0, 'nothing stored');

  const row = s.server.ctx.db.prepare('SELECT token_hash FROM warning_sources WHERE id = ?').get(src.id) as { token_hash: string };
  t.match(row.token_hash, /^[0-9a-f]{64}$/);
  const dump = JSON.stringify(s.server.ctx.db.prepare('SELECT * FROM warning_sources').all());
  t.notOk(dump.includes(src.token), 'the token is not stored in clear');

  // A large but valid document: its audit row holds a bounded copy.
  const big = xmlOf(alert({}, { description: 'Mưa lớn. '.repeat(20_000), instruction: 'Sơ tán. '.repeat(20_000) }));
  t.ok(Buffer.byteLength(big) > 400_000);
  const ok = await s.push(big, src.token);
  t.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 300));
  const audit = s.server.ctx.db.prepare(`SELECT length(body_json) AS n FROM audit_log WHERE route = '/api/v1/warnings/cap' ORDER BY id DESC LIMIT 1`).get() as { n: number } | undefined;
  t.ok(audit, 'the push is audited');
  t.ok(audit!.n < 10_000, `the audit row is bounded (${audit!.n} characters)`);
});

t.test("a source reaches only its own areas, whatever its message says", async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ areaCodes: ['99003'] });
  const r = await s.push(xmlOf(alert({}, { area: [{ areaDesc: 'Tỉnh Mẫu, Tỉnh Thứ Hai', geocode: [{ valueName: 'MaDVHC', value: '99' }, { valueName: 'MaDVHC', value: '98' }] }] })), src.token);
  t.equal(r.body.state, 'airing');
  const w = s.server.warnings.warnings.get(r.body.warningId)!;
  t.same(w.communes.map((c) => c.code), ['99003']);
  t.same(s.server.ctx.broadcasts.get(w.broadcastId!)!.target, { areaCodes: ['99003'] });
  t.ok(w.unmatched.filter((u) => u.what === 'outside').length >= 6, 'the other communes of both provinces are listed as outside');
});

t.test('the public feed: only what aired, status Actual, scope Public', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ policy: { atOnce: { minRiskLevel: null, severities: ['Extreme'] } } });
  const aired = alert();
  await s.push(xmlOf(aired), src.token);
  const test = alert({ status: 'Test' });
  await s.push(xmlOf(test), src.token);
  const restricted = alert({ scope: 'Restricted', restriction: 'Chỉ cho Ban chỉ huy PCTT' });
  const rr = await s.push(xmlOf(restricted), src.token);
  t.equal(rr.body.state, 'airing', 'a Restricted alert may air (the policy says so) …');
  const waiting = alert({}, { severity: 'Moderate' });
  const pw = await s.push(xmlOf(waiting), src.token);
  t.equal(pw.body.state, 'pending');
  t.equal((await s.api('POST', `/api/v1/warnings/${pw.body.warningId}/reject`, { reason: 'tin sai' }, s.token)).status, 200);
  const feed = await (await fetch(`${s.base}/cap/alerts.atom`)).text();
  t.ok(feed.includes(aired.identifier), 'the aired alert is published');
  t.notOk(feed.includes(test.identifier), 'not a Test');
  t.notOk(feed.includes(restricted.identifier), '… but is never published');
  t.notOk(feed.includes(waiting.identifier), 'not one a person rejected');
  // A source's Cancel of what aired is published; its version's own URL answers, others' do not.
  const cancel = alert({ msgType: 'Cancel', references: [refOf(aired)] });
  await s.push(xmlOf(cancel), src.token);
  const after = await (await fetch(`${s.base}/cap/alerts.atom`)).text();
  t.ok(after.includes(cancel.identifier));
  const ids = s.server.ctx.db.prepare('SELECT id, identifier FROM warning_versions').all() as { id: number; identifier: string }[];
  for (const v of ids) {
    const res = await fetch(`${s.base}/cap/alerts/v${v.id}.xml`);
    const published = v.identifier === aired.identifier || v.identifier === cancel.identifier;
    t.equal(res.status, published ? 200 : 404, `${v.identifier}: ${published ? 'published' : 'not published'}`);
  }
});

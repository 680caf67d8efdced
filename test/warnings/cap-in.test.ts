/**
 * CAP 1.2 in (issue 18), through HTTP on a real server and SQLite: every msgType × status combination
 * (CAP 1.2 §3.2.1) and what it becomes, a repeated message ignored, an Update replacing what airs, a Cancel
 * stopping it, references we do not know, and the element path of a refused document.
 */
import t from 'tap';
import { CAP_MSG_TYPES, CAP_STATUSES, formatCapDateTime } from '@loaxa/shared';
import { alert, refOf, warningServer, xmlOf } from './server-helpers.js';

t.test('every msgType × status combination', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource();
  const broadcastOf = (id: string | null) => (id ? s.server.ctx.broadcasts.get(id) : null);

  // What each combination becomes. The base of Update, Cancel, Ack and Error is an Actual Alert on air.
  const expected = (msgType: string, status: string): { state: string | null; airs: boolean; baseStops: boolean } => {
    const airs = status === 'Actual';
    switch (msgType) {
      case 'Alert':
        return { state: airs ? 'airing' : 'held', airs, baseStops: false };
      case 'Update':
        // A Test/Exercise/System/Draft Update of a real warning is disregarded (recorded only).
        return { state: 'airing', airs, baseStops: airs };
      case 'Cancel':
        return { state: airs ? 'cancelled' : 'airing', airs: false, baseStops: airs };
      default:
        return { state: 'airing', airs: false, baseStops: false };
    }
  };

  for (const msgType of CAP_MSG_TYPES) {
    for (const status of CAP_STATUSES) {
      await t.test(`${msgType} / ${status}`, async (t) => {
        let base: ReturnType<typeof alert> | null = null;
        let baseBroadcast: string | null = null;
        if (msgType !== 'Alert') {
          base = alert();
          const r = await s.push(xmlOf(base), src.token);
          t.equal(r.status, 200, JSON.stringify(r.body));
          baseBroadcast = s.server.warnings.warnings.get(r.body.warningId)!.broadcastId;
          t.ok(baseBroadcast, 'the base alert is on air');
        }
        const before = s.count('broadcasts');
        const msg = alert({ status, msgType, ...(base ? { references: [refOf(base)] } : {}) });
        const r = await s.push(xmlOf(msg), src.token);
        t.equal(r.status, 200, JSON.stringify(r.body));
        t.equal(r.body.accepted, true);
        const exp = expected(msgType, status);
        const id = r.body.warningId as string;
        const w = s.server.warnings.warnings.get(id)!;
        t.equal(w.state, exp.state, `${msgType}/${status} → ${exp.state} (${w.reason})`);
        t.equal(s.count('broadcasts') - before, exp.airs ? 1 : 0, exp.airs ? 'a new broadcast' : 'no new broadcast');
        if (exp.airs) t.match(broadcastOf(w.broadcastId), { priority: 'emergency', status: 'approved' });
        if (baseBroadcast) t.equal(broadcastOf(baseBroadcast)!.status, exp.baseStops ? 'cancelled' : 'approved', exp.baseStops ? 'the old broadcast is cancelled' : 'the old broadcast stays');
        if (msgType === 'Update' && exp.airs) t.equal(w.version, 2, 'version 2');
        if (!exp.airs && msgType === 'Alert') t.match(w.reason, /trạng thái/);
        const stored = s.server.ctx.db.prepare('SELECT COUNT(*) AS n FROM warning_versions WHERE identifier = ?').get(msg.identifier) as { n: number };
        t.equal(stored.n, 1, 'the message is recorded');
      });
    }
  }
});

t.test('a repeated message is ignored; Update replaces; Cancel stops; unknown references', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource();
  const a = alert();
  const first = await s.push(xmlOf(a), src.token);
  t.equal(first.status, 200);
  t.match(first.body, { accepted: true, state: 'airing' });
  const id = first.body.warningId;
  // The actor is the source's system actor (its own disabled users row), never a person.
  const firstBroadcast = s.server.ctx.broadcasts.get(s.server.warnings.warnings.get(id)!.broadcastId!)!;
  t.equal(firstBroadcast.createdBy, src.id);
  t.match(s.server.ctx.users.byId(src.id), { username: `cap:${src.id}`, disabled: true, system: true });

  const before = s.count('broadcasts');
  const again = await s.push(xmlOf(a), src.token);
  t.equal(again.status, 200);
  t.match(again.body, { accepted: false, warningId: null });
  t.equal(s.count('broadcasts'), before, 'nothing airs twice');

  const got = await s.api('GET', `/api/v1/warnings/${id}`, undefined, s.token);
  t.equal(got.status, 200);
  t.match(got.body, { state: 'airing', version: 1, kind: 'flash-flood', riskLevel: 3, priority: 'emergency', communes: [{ code: '99003' }], boxes: 2 });
  t.match(got.body.announcement, /lũ quét/);
  t.match(got.body.announcement, /xã Tân Lập/);
  const oldBroadcast = got.body.versions[0].broadcastId;
  t.ok(oldBroadcast);
  t.equal(s.server.ctx.bulletins.get(firstBroadcast.bulletinId)!.public, true, 'an actual warning is a public notice (issue 22)');

  const upd = alert({ msgType: 'Update', references: [refOf(a)] }, { description: 'Mưa rất lớn, đã có lũ quét ở thượng nguồn.', area: [{ areaDesc: 'xã Tân Lập, xã Hưng Đạo', geocode: [{ valueName: 'MaDVHC', value: '99003' }, { valueName: 'MaDVHC', value: '99004' }] }] });
  const u = await s.push(xmlOf(upd), src.token);
  t.match(u.body, { accepted: true, warningId: id, state: 'airing' });
  const w2 = (await s.api('GET', `/api/v1/warnings/${id}`, undefined, s.token)).body;
  t.equal(w2.version, 2);
  t.equal(w2.versions.length, 2);
  t.equal(w2.communes.length, 2, 'the update reaches both communes');
  t.equal(s.server.ctx.broadcasts.get(oldBroadcast)!.status, 'cancelled', 'the old broadcast is cancelled everywhere');
  const newBroadcast = s.server.ctx.broadcasts.get(w2.versions[1].broadcastId)!;
  t.match(newBroadcast, { status: 'approved', priority: 'emergency', target: { areaCodes: ['99003', '99004'] } });
  t.match(newBroadcast.schedule, { kind: 'every', minutes: 30 }, 'repeated every 30 minutes until it expires');

  const cancel = alert({ msgType: 'Cancel', references: [refOf(a), refOf(upd)] });
  const c = await s.push(xmlOf(cancel), src.token);
  t.match(c.body, { accepted: true, warningId: id, state: 'cancelled' });
  t.equal(s.server.ctx.broadcasts.get(newBroadcast.id)!.status, 'cancelled', 'Cancel stops it');
  // Issue 22: an actual warning's bulletin is public on the communes' pages once aired; a Cancel takes every
  // version off them (review: a warning sent in error stayed there for good).
  t.same([firstBroadcast.bulletinId, newBroadcast.bulletinId].map((b) => s.server.ctx.bulletins.get(b)!.public), [false, false], 'the cancelled warning is off the public pages');
  t.equal((await s.api('GET', `/api/v1/warnings/${id}`, undefined, s.token)).body.version, 3);

  // An Update of a warning we never saw is taken as a new Alert; a Cancel of one is recorded only.
  const ghost = alert();
  const orphanUpdate = await s.push(xmlOf(alert({ msgType: 'Update', references: [refOf(ghost)] })), src.token);
  t.match(orphanUpdate.body, { accepted: true, state: 'airing' });
  t.not(orphanUpdate.body.warningId, id);
  const orphanCancel = await s.push(xmlOf(alert({ msgType: 'Cancel', references: [refOf(ghost)] })), src.token);
  t.match(orphanCancel.body, { accepted: true, warningId: null, state: null });

  // Another source cannot cancel this source's warning: its reference is unknown to it.
  const other = await s.addSource({ name: 'Nguồn khác' });
  const live = await s.push(xmlOf(alert()), src.token);
  const foreign = await s.push(xmlOf(alert({ msgType: 'Cancel', references: [refOf(alert())] })), other.token);
  t.equal(foreign.body.warningId, null);
  t.equal(s.server.warnings.warnings.get(live.body.warningId)!.state, 'airing');
});

t.test('a refused document names the element; size and type limits', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource();
  const bad = xmlOf(alert()).replace('<status>Actual</status>', '<status>Real</status>');
  const r = await s.push(bad, src.token);
  t.equal(r.status, 400);
  t.match(r.body.error.message, /\/alert\/status/);
  t.match(r.body.error.fields, [{ path: '/alert/status' }]);
  const notCap = await s.push('<feed xmlns="http://www.w3.org/2005/Atom"/>', src.token);
  t.equal(notCap.status, 400);
  const huge = `<?xml version="1.0"?><!-- ${'x'.repeat(1024 * 1024 + 10)} --><alert/>`;
  const big = await s.push(huge, src.token);
  t.equal(big.status, 413, 'over 1 MiB is refused');
  const json = await s.push(JSON.stringify({ a: 1 }), src.token, 'application/json');
  t.equal(json.status, 415);
  for (const type of ['application/xml', 'text/xml']) {
    const ok = await s.push(xmlOf(alert()), src.token, type);
    t.equal(ok.status, 200, type);
  }
  t.equal(s.count('warning_versions'), 2, 'refused documents store nothing');
});

t.test('push authentication: no token, a wrong token, a disabled source', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource();
  const xml = xmlOf(alert());
  t.equal((await s.push(xml, null)).status, 401);
  t.equal((await s.push(xml, 'x'.repeat(32))).status, 401);
  t.equal((await s.push(xml, s.token)).status, 401, "a user's session is not a source token");
  const off = await s.api('PATCH', `/api/v1/warning-sources/${src.id}`, { disabled: true }, s.token);
  t.equal(off.status, 200);
  t.equal((await s.push(xml, src.token)).status, 403);
  await s.api('PATCH', `/api/v1/warning-sources/${src.id}`, { disabled: false }, s.token);
  const renewed = await s.api('POST', `/api/v1/warning-sources/${src.id}/token`, undefined, s.token);
  t.equal(renewed.status, 200);
  t.equal((await s.push(xml, src.token)).status, 401, 'the old token stops working');
  t.equal(s.count('warning_versions'), 0, 'nothing stored');
  t.equal((await s.push(xml, renewed.body.token)).status, 200);
  const del = await s.api('DELETE', `/api/v1/warning-sources/${src.id}`, undefined, s.token);
  t.equal(del.status, 204);
  t.equal((await s.push(xmlOf(alert()), renewed.body.token)).status, 401);
  const list = await s.api('GET', '/api/v1/warning-sources', undefined, s.token);
  t.equal(list.body.items.length, 0);
  // A feed source is pulled: it has no push token and gets none.
  const feed = await s.api('POST', '/api/v1/warning-sources', { name: 'Feed KTTV', kind: 'feed', feedUrl: 'https://kttv.example.vn/cap.atom', areaCodes: ['99'] }, s.token);
  t.equal(feed.status, 201);
  t.match(feed.body, { token: null, feed: { failures: 0, lastResult: null } });
  t.equal((await s.api('POST', `/api/v1/warning-sources/${feed.body.id}/token`, undefined, s.token)).status, 409);
  t.same(s.server.warnings.sources.feeds(), [{ id: feed.body.id, feedUrl: 'https://kttv.example.vn/cap.atom', pollSeconds: 60 }]);
  s.server.warnings.sources.saveState(feed.body.id, { etag: '"x"', lastModified: null, lastPolledAt: Date.now(), lastChangedAt: null, lastResult: '304', failures: 0, nextPollAt: null, seen: ['a'] });
  t.match(s.server.warnings.sources.state(feed.body.id), { etag: '"x"', lastResult: '304', seen: ['a'] });
  t.equal((await s.api('POST', '/api/v1/warning-sources', { name: 'x', kind: 'feed', areaCodes: ['99'] }, s.token)).status, 400, 'a feed needs its URL');
  t.equal((await s.api('POST', '/api/v1/warning-sources', { name: 'x', kind: 'push', areaCodes: ['99'], requireSignature: true, certificatePem: 'not a certificate' }, s.token)).status, 400);
  const viewer = await s.login('viewer', null);
  t.equal((await s.api('GET', '/api/v1/warning-sources', undefined, viewer.token)).status, 403, 'sources are for admins');
});

t.test('expired on arrival is recorded, not aired; expiry moves airing to expired', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ policy: { repeatMinutes: 0 } });
  const now = Date.now();
  const old = await s.push(xmlOf(alert({}, { expires: formatCapDateTime(now - 60_000) })), src.token);
  t.match(old.body, { accepted: true, state: 'expired' });
  t.equal(s.count('broadcasts'), 0);
  const soon = await s.push(xmlOf(alert({}, { expires: formatCapDateTime(now + 3_000) })), src.token);
  t.match(soon.body, { state: 'airing' });
  const b = s.server.ctx.broadcasts.get(s.server.warnings.warnings.get(soon.body.warningId)!.broadcastId!)!;
  t.equal(b.schedule, null, 'repeatMinutes 0: once, at once');
  await new Promise((r) => setTimeout(r, 3_500));
  const w = await s.api('GET', `/api/v1/warnings/${soon.body.warningId}`, undefined, s.token);
  t.equal(w.body.state, 'expired');
});

/**
 * The province's warning form (issue 18): preview, then an emergency repeated every N minutes until it
 * expires, with the reading check and a recent login; and CAP 1.2 out: the Atom feed of every warning version
 * and emergency broadcast, each alert valid against the OASIS schema (xmllint), with ETag/Last-Modified.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeClock } from '../helpers/clock.js';
import { alert, refOf, warningServer, xmlOf } from './server-helpers.js';

const XSD = fileURLToPath(new URL('./fixtures/CAP-v1.2.xsd', import.meta.url));
const XMLLINT = spawnSync('xmllint', ['--version'], { encoding: 'utf8' }).status === 0;

const form = (o: Record<string, unknown> = {}) => ({
  kind: 'flash-flood',
  riskLevel: 4,
  agency: 'Đài Khí tượng Thủy văn tỉnh Mẫu',
  agencyText: 'Mưa lớn 100-200 mm/24h, nguy cơ lũ quét rất cao tại các suối.',
  areaCodes: ['99003', '99004'],
  validUntil: new Date(Date.now() + 3 * 3600_000).toISOString(),
  repeatMinutes: 2,
  checked: true,
  ...o,
});

t.test('the form: preview, then an emergency repeated until it expires', async (t) => {
  const s = await warningServer(t);
  const operator = await s.login('operator', '99003');
  const approver = await s.login('approver', '99003');

  const pv = await s.api('POST', '/api/v1/warnings/preview', form(), s.token);
  t.equal(pv.status, 200, JSON.stringify(pv.body));
  t.match(pv.body, { decision: null, boxes: 3, communes: [{ code: '99003' }, { code: '99004' }] });
  t.match(pv.body.announcement, /Thông báo khẩn\. Tin cảnh báo lũ quét\./);
  t.match(pv.body.announcement, /cấp 4, màu đỏ/);
  t.match(pv.body.announcement, /xã Tân Lập và xã Hưng Đạo/);
  t.equal(s.count('warnings') + s.count('bulletins') + s.count('broadcasts'), 0, 'the preview stores nothing');

  t.equal((await s.api('POST', '/api/v1/warnings', form(), operator.token)).status, 403, 'an operator cannot issue a warning');
  t.equal((await s.api('POST', '/api/v1/warnings', form(), approver.token)).status, 403, "Hưng Đạo is outside the commune approver's area");
  t.equal((await s.api('POST', '/api/v1/warnings', form({ validUntil: new Date(Date.now() - 1000).toISOString() }), s.token)).status, 400);
  // Issue 19: an announcement with spans the reader cannot read is refused unless checked.
  const unread = await s.api('POST', '/api/v1/warnings', form({ announcement: 'Cảnh báo ☺☺ lũ quét Qoffice xyzzq.', checked: false }), s.token);
  t.equal(unread.status, 409, JSON.stringify(unread.body));
  t.equal(s.count('warnings'), 0);

  const made = await s.api('POST', '/api/v1/warnings', form(), s.token);
  t.equal(made.status, 201, JSON.stringify(made.body));
  t.match(made.body, { state: 'airing', priority: 'emergency', kind: 'flash-flood', riskLevel: 4, severity: 'Extreme', urgency: 'Immediate', repeatMinutes: 2, sourceId: null, version: 1 });
  const b = s.server.ctx.broadcasts.get(made.body.versions[0].broadcastId)!;
  t.match(b, { priority: 'emergency', status: 'approved', target: { areaCodes: ['99003', '99004'] } });
  t.match(b.schedule, { kind: 'every', minutes: 2 }, 'aired again every 2 minutes, as the form asked');
  t.equal(s.server.ctx.bulletins.get(b.bulletinId)!.attention, true, 'with the attention signal before the speech');
  t.equal(Date.parse((b.schedule as { until: string }).until), Date.parse(made.body.expiresAt), 'until the warning expires');
  t.equal(s.server.ctx.bulletins.get(b.bulletinId)!.category, 'unscheduled-news');
  const stored = s.server.ctx.db.prepare('SELECT xml, sender FROM warning_versions').get() as { xml: string; sender: string };
  t.match(stored.xml, /<eventCode>\s*<valueName>VN-QD18-2021<\/valueName>\s*<value>flash-flood<\/value>/);
  t.match(stored.xml, /<geocode>\s*<valueName>MaDVHC<\/valueName>\s*<value>99004<\/value>/);
  t.equal(stored.sender, 'loaxa.local');

  const asRun = await s.api('GET', `/api/v1/warnings/${made.body.id}/as-run`, undefined, s.token);
  t.equal(asRun.status, 200);
  t.ok(asRun.body.items.every((i: { version: number }) => i.version === 1));
  t.equal(new Set(asRun.body.items.map((i: { deviceId: string }) => i.deviceId)).size, 3, 'each box of both communes');
  const commune = await s.api('GET', `/api/v1/warnings/${made.body.id}/as-run`, undefined, approver.token);
  t.ok(commune.body.items.every((i: { areaCode: string }) => i.areaCode.startsWith('99003')), "a commune's user sees its own boxes");
});

t.test('an emergency needs a recent login; expiry by the clock', async (t) => {
  const clock = fakeClock();
  const s = await warningServer(t, {}, { clock });
  // The admin's login is made 11 minutes old (LOAXA_EMERGENCY_REAUTH_SECONDS is 10 minutes).
  s.server.ctx.db.prepare('UPDATE sessions SET created_at = created_at - 660000').run();
  const stale = await s.api('POST', '/api/v1/warnings', form(), s.token);
  t.equal(stale.status, 401, 'an emergency needs a new login');
  t.equal(s.count('warnings'), 0);
  const priority = await s.api('POST', '/api/v1/warnings', form({ riskLevel: 2 }), s.token);
  t.equal(priority.status, 201, 'a level 2 warning is a priority broadcast by default: no new login needed');
  t.equal(priority.body.priority, 'priority');
  const fresh = await s.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: 'test-admin-password' });
  const made = await s.api('POST', '/api/v1/warnings', form({ validUntil: new Date(clock.now() + 3600_000).toISOString() }), fresh.body.token);
  t.equal(made.status, 201, JSON.stringify(made.body));
  t.equal(made.body.state, 'airing');
  clock.advance(3600_000 + 1000);
  const w = await s.api('GET', `/api/v1/warnings/${made.body.id}`, undefined, fresh.body.token);
  t.equal(w.body.state, 'expired');
  t.match(w.body.reason, /hết hiệu lực/);
});

t.test('CAP out: the Atom feed validates against CAP-v1.2.xsd, with ETag and 304', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource();
  const a = alert();
  await s.push(xmlOf(a), src.token);
  await s.push(xmlOf(alert({ msgType: 'Update', references: [refOf(a)] })), src.token);
  const test = alert({ status: 'Test' });
  await s.push(xmlOf(test), src.token);
  const made = await s.api('POST', '/api/v1/warnings', form(), s.token);
  t.equal(made.status, 201);
  t.equal((await s.api('POST', `/api/v1/warnings/${made.body.id}/cancel`, { reason: 'hết nguy cơ' }, s.token)).status, 200);
  // A plain emergency broadcast is published too.
  const bl = await s.api('POST', '/api/v1/bulletins', { title: 'Sơ tán khẩn cấp', text: 'Bà con di chuyển ngay lên vùng cao.' }, s.token);
  t.equal(bl.status, 201, JSON.stringify(bl.body));
  const bc = await s.api('POST', '/api/v1/broadcasts', { bulletinId: bl.body.id, priority: 'emergency', target: { areaCodes: ['99005'] }, readingChecked: true }, s.token);
  t.equal(bc.status, 201, JSON.stringify(bc.body));

  const res = await fetch(`${s.base}/cap/alerts.atom`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /application\/atom\+xml/);
  const etag = res.headers.get('etag')!;
  t.ok(etag && res.headers.get('last-modified'));
  const feed = await res.text();
  const alerts = [...feed.matchAll(/<alert xmlns="urn:oasis:names:tc:emergency:cap:1\.2">[\s\S]*?<\/alert>/g)].map((m) => m[0]);
  t.equal(alerts.length, 5, 'Alert, Update, the form Alert, its Cancel, the emergency broadcast (not the Test)');
  t.notOk(feed.includes(test.identifier), 'a Test message is not published');
  t.match(feed, /<msgType>Cancel<\/msgType>/);
  t.match(feed, /Thông báo khẩn cấp/);
  const links = [...feed.matchAll(/href="([^"]+\/cap\/alerts\/[^"]+\.xml)"/g)].map((m) => m[1]!);
  t.equal(links.length, 5);

  t.equal((await fetch(`${s.base}/cap/alerts.atom`, { headers: { 'if-none-match': etag } })).status, 304);
  t.equal((await fetch(`${s.base}/cap/alerts.atom`, { headers: { 'if-modified-since': res.headers.get('last-modified')! } })).status, 304);
  const single = await fetch(links[0]!.replace(/^https?:\/\/[^/]+/, s.base));
  t.equal(single.status, 200);
  t.match(single.headers.get('content-type'), /application\/cap\+xml/);
  const one = await single.text();
  t.equal((await fetch(`${s.base}/cap/alerts/v999999.xml`)).status, 404);
  t.equal((await fetch(`${s.base}/cap/alerts/..%2Fx.xml`)).status, 400);

  await t.test('each alert validates with xmllint', { skip: XMLLINT ? false : 'xmllint not installed (apt-get install libxml2-utils): the CAP 1.2 schema check needs it' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'loaxa-cap-out-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const files = [...alerts.map((xml) => `<?xml version="1.0" encoding="UTF-8"?>\n${xml}\n`), one].map((xml, i) => {
      const f = join(dir, `alert-${i}.xml`);
      writeFileSync(f, xml);
      return f;
    });
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, ...files], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr.split('\n').filter((l) => !l.endsWith(' validates')).slice(0, 10).join('\n') || `${files.length} alerts validate`);
  });
});

t.test('LOAXA_CAP_FEED=off', async (t) => {
  const s = await warningServer(t, { capFeed: 'off' });
  t.equal((await fetch(`${s.base}/cap/alerts.atom`)).status, 404);
});

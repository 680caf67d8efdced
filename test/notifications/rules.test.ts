/**
 * Issue 20, the notifications' pure rules: who is told what (recipients.ts), when a commune's coverage counts as
 * dropped (coverage-watch.ts), the Vietnamese texts (messages.ts), and the VAPID key pair made once and kept.
 */
import t from 'tap';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approversOf, communeUsersOf, coverageUsersOf } from '../../server/src/notifications/recipients.js';
import { communeShares, CoverageWatch } from '../../server/src/notifications/coverage-watch.js';
import { decided, emailOf, vnTime } from '../../server/src/notifications/messages.js';
import { loadVapidKeys } from '../../server/src/notifications/vapid.js';
import type { Recipient } from '../../server/src/notifications/repo.js';

const u = (id: string, role: Recipient['role'], areaCode: string | null): Recipient => ({ id, username: id, role, areaCode });
const users = [u('admin', 'province-admin', null), u('tinh', 'approver', '99'), u('huyen', 'approver', '99-d1'), u('xa', 'approver', '99003'), u('op', 'operator', '99003'), u('thon', 'viewer', '99003-t1'), u('khac', 'viewer', '99004')];
// Ancestries, the area first (AreaRepository.ancestry).
const tanLap = ['99003', '99-d1', '99'];
const binhYen = ['99004', '99-d2', '99'];

t.test('approvals go to those who may decide every target, never the author', async (t) => {
  t.same(approversOf(users, [tanLap], 'op').map((r) => r.id), ['admin', 'tinh', 'huyen', 'xa']);
  t.same(approversOf(users, [tanLap, binhYen], 'op').map((r) => r.id), ['admin', 'tinh'], 'two districts: only those above both');
  t.same(approversOf(users, [tanLap], 'xa').map((r) => r.id), ['admin', 'tinh', 'huyen'], 'not the author');
  t.same(approversOf(users, [[]], 'op').map((r) => r.id), ['admin'], 'a box nobody can place: the whole installation only');
  t.same(approversOf(users, [], 'op'), [], 'no target, nobody');
});

t.test('a fault goes to the commune’s own users; a coverage drop to the province and the commune', async (t) => {
  const box = ['99003-t1', ...tanLap];
  t.same(communeUsersOf(users, box, '99003').map((r) => r.id), ['xa', 'op', 'thon']);
  t.same(communeUsersOf(users, tanLap, '99003').map((r) => r.id), ['xa', 'op'], 'a box at the commune itself: not the village’s users');
  t.same(communeUsersOf(users, box, null), [], 'a box outside any commune: nobody');
  t.same(coverageUsersOf(users, '99003', '99').map((r) => r.id), ['admin', 'tinh', 'xa', 'op'], 'not the district, not the village, not another commune');
});

t.test('a drop is told once, when the share falls below the threshold from at or above it', async (t) => {
  const now = 1_000_000_000;
  const heard = now - 60_000;
  const shares = (working: number, total: number, commune = '99003') =>
    communeShares(
      Array.from({ length: total }, (_, i) => ({ communeCode: commune, lastSeenAt: heard, openFaults: i < working ? [] : ['amplifier'] })),
      now,
    );
  t.same(communeShares([{ communeCode: 'a', lastSeenAt: now - 16 * 60_000, openFaults: [] }, { communeCode: 'a', lastSeenAt: heard, openFaults: ['disk'] }], now).get('a'), { working: 1, total: 2 }, 'unheard for 15 min is not working; a full disk does not block');
  const w = new CoverageWatch(50);
  t.same(w.drops(shares(2, 2)), [], 'the first look only learns');
  t.same(w.drops(shares(1, 2)), [], '50 % is not below 50 %');
  t.same(w.drops(shares(0, 2)), [{ communeCode: '99003', working: 0, total: 2 }], 'below: told');
  t.same(w.drops(shares(0, 2)), [], 'still low: not again');
  t.same(w.drops(shares(2, 2)), [], 'recovered');
  t.same(w.drops(shares(0, 2)), [{ communeCode: '99003', working: 0, total: 2 }], 'down again: told again');
  t.same(w.drops(shares(0, 1, '99004')), [], 'a commune seen for the first time is not a drop');
});

t.test('texts: Vietnam time, the reason, no ids; the e-mail links into the app', async (t) => {
  t.equal(vnTime(Date.UTC(2026, 11, 31, 17, 5)), '00:05 ngày 01/01/2027', 'UTC+7, across the new year');
  const r = decided({ broadcastId: 'bc_1', title: 'Họp dân', approver: 'duyet', approved: false, reason: '  ' });
  t.match(r.body, /Lý do: không ghi lý do\./, 'an empty reason says so');
  t.equal(r.link, '/luot-phat/bc_1');
  const m = emailOf(r, 'https://loaxa.tinh.vn/base');
  t.equal(m.subject, '[Loa Xã] Bị từ chối: “Họp dân”');
  t.match(m.text, /Xem chi tiết: https:\/\/loaxa\.tinh\.vn\/luot-phat\/bc_1/);
  t.match(emailOf({ ...r, body: '<b>x</b> & "y"' }, 'https://a.vn').html, /&lt;b&gt;x&lt;\/b&gt; &amp; &quot;y&quot;/, 'HTML escaped');
});

t.test('the VAPID key pair is made once and kept; a damaged file is not silently replaced', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-vapid-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = loadVapidKeys(dir);
  t.equal(Buffer.from(first.publicKey, 'base64url').length, 65);
  t.equal((await stat(join(dir, 'vapid.json'))).mode & 0o777, 0o600, 'readable by the server only');
  t.same(loadVapidKeys(dir), first, 'the same pair at the next start');
  t.same(loadVapidKeys(dir, { publicKey: undefined, privateKey: undefined }), first);
  await writeFile(join(dir, 'vapid.json'), '{"publicKey":"x"}');
  t.throws(() => loadVapidKeys(dir), /does not hold a VAPID key pair/);
  t.equal(await readFile(join(dir, 'vapid.json'), 'utf8'), '{"publicKey":"x"}', 'left for the admin to restore');
  t.throws(() => loadVapidKeys(dir, { publicKey: first.publicKey }), /must both be set/, 'half a configured pair fails the start');
  t.same(loadVapidKeys(dir, first), first, 'a configured pair wins over the file');
});

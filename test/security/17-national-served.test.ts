/**
 * Issue 17 review (hostile): the served interface under `/national/*` (token auth) and the peers' powers.
 *
 * HOLE (low-medium, the parent's system actor can be turned into a login) — server/src/national/downlink/
 * downlink.ts:109-114 (`ensureActor`) makes the parent's actor an ordinary `users` row (`national:<username>`,
 * disabled, random password) and says "nobody can log in as it"; but server/src/routes/users.ts:70-95
 * (PATCH /api/v1/users/:id) lets an installation-wide admin set its password, enable it and make it a
 * province-admin, and then anyone with that password logs in to the normal API as `national:httt-tinh`:
 * every write they make is audited in the name of the province's source system, the same name as what the
 * province really sent (routes/national-served.ts audits downlink commands as `national:<username>`). The
 * row is also listed in GET /api/v1/users like a person. Impact: the audit trail can no longer tell what the
 * province sent from what a local admin did under its name (Circular 39 accountability for emergencies).
 * Fix: mark system actors (a `system` flag, or refuse ids of national_peers) — PATCH refuses them (409/403),
 * login refuses them whatever their `disabled`, and the users list leaves them out.
 * The test "HOLE: the parent’s system actor …" FAILS now.
 *
 * Everything else in this file is a REGRESSION test of a check that holds now (token forging and revocation,
 * a child acting as a parent and the reverse, NguonID spoofing, acting outside areaCodes by area, by CumLoaID
 * and by our device id, another parent's BanTinId, Circular 39's normal-bulletin path, prototype-pollution
 * field names, login lockout, the central routes refused to a commune-level admin, the sealing key's mode and
 * nonces).
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSealer, SEAL_KEY_FILE } from '../../server/src/national/central/seal.js';
import { securityServer } from './helpers.js';
import { httpApi } from '../helpers/server.js';
import { addPeer, localDay, mediaServer, peerSession, post, toneWav } from '../national/served-helpers.js';
import { waitFor } from '../helpers/wait.js';

const today = localDay(0);
const bulletin = (o: Record<string, unknown>) => ({
  NguonId: 'H99',
  TenNguon: 'Sở TT&TT',
  BanTinId: 'BT-1',
  TieuDe: 'Thông báo',
  LinhVuc: 2,
  NoiDungTomTat: 'x',
  ThoiGianSanXuat: '2026-12-07T08:00:00.00000',
  TacGia: 'Sở',
  DiaBanTao: 'Tỉnh',
  DanhSachDiaBanNhan: ['99003'],
  NoiDung: { Link: 'http://203.0.113.1/a.wav', LoaiBanTin: 3 },
  MucDoUuTien: 3,
  CheDoPhat: 1,
  NgayBatDau: `${today.date}T00:00:00.00000`,
  NgayKetThuc: `${today.date}T23:59:59.00000`,
  LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['00:00:00.000000'], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] },
  ...o,
});
const status = (o: Record<string, unknown>) => ({ NguonID: '99003', DichID: '99003', CumLoaID: '860000000000001', AmLuong: 50, TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G', ThoiDiemBatDau: Math.floor(Date.now() / 1000), ...o });

t.test('HOLE: the parent’s system actor can be given a password and logs in to the API in the province’s name', async (t) => {
  const s = await securityServer(t);
  const parent = await addPeer(s.api, s.token, { role: 'parent', name: 'HTTT nguồn tỉnh', sourceId: 'H99', mapping: 'vi', username: 'httt-tinh', areaCodes: ['99'] });
  const patched = await s.api('PATCH', `/api/v1/users/${parent.id}`, { password: 'a-password-we-chose-1', disabled: false, role: 'province-admin' }, s.token);
  t.ok(patched.status >= 400, `the system actor cannot be edited into a login (PATCH answered ${patched.status})`);
  const login = await s.api('POST', '/api/v1/auth/login', { username: 'national:httt-tinh', password: 'a-password-we-chose-1' });
  t.not(login.status, 200, 'nobody logs in to the API as national:httt-tinh');
  const users = await s.api<{ items: { username: string }[] }>('GET', '/api/v1/users?limit=200', undefined, s.token);
  t.notOk(users.body.items.some((u) => u.username.startsWith('national:')), 'system actors are not listed as users');
});

t.test('REGRESSION: tokens — forged, revoked peer, reset password, login lockout', async (t) => {
  const s = await securityServer(t, { loginMaxFailures: 3 });
  const child = await addPeer(s.api, s.token, { role: 'child', name: 'Vendor', sourceId: '99003', mapping: 'vi', username: 'vendor-a', areaCodes: ['99003'] });
  const forged = await post(s.base, '/national/api/thietbi/trangthai', JSON.stringify(status({})), { authorization: `Bearer ${randomBytes(32).toString('base64url')}` });
  t.equal(forged.status, 401, 'a forged token is refused');
  const noScheme = await post(s.base, '/national/api/thietbi/trangthai', JSON.stringify(status({})), { authorization: 'Bearer ' });
  t.equal(noScheme.status, 401, 'an empty token is refused');

  const a = await peerSession(s.base, 'vendor-a', child.password);
  t.equal((await a.raw('/api/thietbi/trangthai', status({}))).status, 200, 'a live token works');
  const reset = await s.api('PUT', `/api/v1/national/peers/${child.id}`, { resetPassword: true }, s.token);
  t.equal(reset.status, 200);
  t.equal((await a.raw('/api/thietbi/trangthai', status({}))).status, 401, 'a reset password ends the old tokens');
  const b = await peerSession(s.base, 'vendor-a', reset.body.password);
  t.equal((await s.api('DELETE', `/api/v1/national/peers/${child.id}`, undefined, s.token)).status, 204);
  t.equal((await b.raw('/api/thietbi/trangthai', status({}))).status, 401, 'a revoked peer’s token is refused at once');
  t.equal((await post(s.base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: reset.body.password }))).status, 401, 'a revoked peer cannot log in');

  const other = await addPeer(s.api, s.token, { role: 'child', name: 'Vendor B', sourceId: '99004', mapping: 'vi', username: 'vendor-b', areaCodes: ['99004'] });
  for (let i = 0; i < 3; i++) await post(s.base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-b', Password: `guess-${i}` }));
  const locked = await post(s.base, '/national/api/auth/login', JSON.stringify({ Username: 'VENDOR-B', Password: other.password }));
  t.equal(locked.status, 429, 'after the failures allowed, even the right password waits (the lock ignores case)');
});

t.test('REGRESSION: roles, NguonID and areas are enforced for children and parents', async (t) => {
  const s = await securityServer(t);
  const childP = await addPeer(s.api, s.token, { role: 'child', name: 'Vendor', sourceId: '99003', mapping: 'vi', username: 'vendor-a', areaCodes: ['99003'] });
  const parentP = await addPeer(s.api, s.token, { role: 'parent', name: 'HTTT tỉnh 99', sourceId: 'H99', mapping: 'vi', username: 'httt-99', areaCodes: ['99'] });
  const child = await peerSession(s.base, 'vendor-a', childP.password);
  const parent = await peerSession(s.base, 'httt-99', parentP.password);

  // Roles.
  t.equal((await child.raw('/api/bantin', bulletin({ NguonId: '99003' }))).status, 403, 'a child cannot send a bulletin down');
  t.equal((await child.raw('/api/thietbi/dieukhien', { NguonId: '99003', DieuKhienThietBi: { MaLenh: 1, ThamSo: '' }, DanhSachThietBi: { CumLoaID: [] }, DanhSachDiaBanNhan: ['99003'] })).status, 403, 'a child cannot control devices');
  t.equal((await parent.raw('/api/thietbi/trangthai', status({ NguonID: 'H99' }))).status, 403, 'a parent cannot report as a child');
  // NguonID.
  t.equal((await child.raw('/api/thietbi/trangthai', status({ NguonID: '99004', DichID: '99003' }))).status, 403, 'a child cannot report under another NguonID');
  t.equal((await parent.raw('/api/bantin', bulletin({ NguonId: 'H98' }))).status, 403, 'a parent cannot send under another NguonID');
  // Areas: a child's box in another commune / province.
  t.equal((await child.raw('/api/thietbi/trangthai', status({ DichID: '99004' }))).status, 403, 'a child cannot report a box of another commune');
  t.equal((await child.raw('/api/thietbi/trangthai', status({ DichID: '98001' }))).status, 403, 'nor of another province');
  // Areas: a parent's bulletin, device control by area, by CumLoaID and by our device id, in another province.
  t.equal((await parent.raw('/api/bantin', bulletin({ DanhSachDiaBanNhan: ['99003', '98001'] }))).status, 403, 'a bulletin naming another province’s commune is refused whole');
  t.equal((await parent.raw('/api/bantin', bulletin({ MucDoUuTien: 1, DanhSachDiaBanNhan: ['98'] }))).status, 403, 'an emergency to another province is refused');
  const box98 = (await s.api('POST', '/api/v1/devices', { name: 'loa 98', areaCode: '98001' }, s.token)).body as { id: string };
  const box98b = (await s.api('POST', '/api/v1/devices', { name: 'loa 98b', areaCode: '98002' }, s.token)).body as { id: string };
  s.server.national.devices.setNationalId(box98b.id, '860000000000098');
  const control = (o: Record<string, unknown>) => parent.raw('/api/thietbi/dieukhien', { NguonId: 'H99', DieuKhienThietBi: { MaLenh: 0, ThamSo: '0' }, DanhSachThietBi: { CumLoaID: [] }, ...o });
  t.equal((await control({ DanhSachDiaBanNhan: ['98'] })).status, 403, 'device control of another province’s area is refused');
  t.equal((await control({ DanhSachThietBi: { CumLoaID: [box98.id] } })).status, 403, 'device control of another province’s box by our device id is refused');
  t.equal((await control({ DanhSachThietBi: { CumLoaID: ['860000000000098'] } })).status, 403, 'device control of another province’s box by its CumLoaID is refused');
  t.equal((await control({ DanhSachThietBi: { CumLoaID: [box98b.id] } })).status, 404, 'a box with a CumLoaID is not found by our id');

  // Prototype-pollution field names and unicode tricks are refused or ignored; nothing is polluted.
  const polluted = await child.raw('/api/thietbi/trangthai', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},' + JSON.stringify(status({})).slice(1));
  t.ok(polluted.status === 200 || polluted.status === 400, `answered ${polluted.status}`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
  const wide = await child.raw('/api/thietbi/trangthai', status({ DichID: '９９００３' }));
  t.ok(wide.status === 400 || wide.status === 403, `full-width digits are not the child’s area code (${wide.status} ${JSON.stringify(wide.body)})`);
  t.equal((await child.raw('/api/thietbi/trangthai', status({ NguonID: '99003\u200b' }))).status, 403, 'a zero-width NguonID is not the child’s');
  let deep = '1';
  for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;
  const deepR = await child.raw('/api/thietbi/trangthai', `{"CumLoaID":${deep}}`);
  t.equal(deepR.status, 400, 'a 100,000-deep body is a 400, not a crash');
  t.equal((await s.api('GET', '/healthz')).status, 200, 'the server still answers');
});

t.test('REGRESSION: another parent’s BanTinId, and Circular 39’s normal path', async (t) => {
  const s = await securityServer(t);
  const media = await mediaServer(t, { '/a.wav': await toneWav(1) });
  const pA = await addPeer(s.api, s.token, { role: 'parent', name: 'Nguồn A', sourceId: 'H99', mapping: 'vi', username: 'nguon-a', areaCodes: ['99'] });
  const pB = await addPeer(s.api, s.token, { role: 'parent', name: 'Nguồn B', sourceId: 'HB', mapping: 'vi', username: 'nguon-b', areaCodes: ['99'] });
  const a = await peerSession(s.base, 'nguon-a', pA.password);
  const b = await peerSession(s.base, 'nguon-b', pB.password);
  const sent = await a.raw('/api/bantin', bulletin({ BanTinId: 'TT-1', NoiDung: { Link: `${media.url}/a.wav`, LoaiBanTin: 3 } }));
  t.equal(sent.status, 200, JSON.stringify(sent.body));
  const rec = await waitFor('TT-1 to settle', () => {
    const r = s.server.national.bulletins.get(pA.id, 'TT-1');
    return r && r.state !== 'fetching' ? r : null;
  }, 30_000);
  t.equal(rec.state, 'inbox', 'a normal bulletin waits in the commune’s inbox (Circular 39)');
  t.same(rec.broadcastIds, [], 'and does not air by itself');
  const offers = rec.offerIds.map((id) => s.server.ctx.offers.get(id)!);
  t.ok(offers.length > 0 && offers.every((o) => o.status === 'pending'), 'its offers wait for the commune');

  t.equal((await b.raw('/api/bantin/xoa', { NguonId: 'HB', BanTinId: 'TT-1' })).status, 404, 'another parent cannot delete it');
  t.equal((await b.raw('/api/bantin/lichphat', { NguonId: 'HB', BanTinId: 'TT-1', NgayBatDau: `${today.date}T00:00:00.00000`, NgayKetThuc: `${today.date}T23:59:59.00000`, CheDoPhat: 1, LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['00:00:00.000000'], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] } })).status, 404, 'nor reschedule it');
  t.equal((await b.raw('/api/bantin/xoa', { NguonId: 'H99', BanTinId: 'TT-1' })).status, 403, 'nor delete it under A’s NguonID');
  t.ok(rec.offerIds.every((id) => s.server.ctx.offers.get(id)!.status === 'pending'), 'A’s offers are untouched');
});

t.test('REGRESSION: the central routes are for installation-wide admins only', async (t) => {
  const s = await securityServer(t);
  const communeAdmin = await s.login('province-admin', '99003');
  const provinceOperator = await s.login('operator', null);
  const child = await addPeer(s.api, s.token, { role: 'child', name: 'Tỉnh con', sourceId: 'C1', mapping: 'vi', username: 'tinh-con', areaCodes: ['99'], baseUrl: 'http://203.0.113.9', outUsername: 'loaxa', outPassword: 'child-secret-password' });
  const api = httpApi(s.base);
  for (const who of [communeAdmin, provinceOperator]) {
    for (const [method, path, body] of [
      ['GET', '/api/v1/national/children', undefined],
      ['GET', `/api/v1/national/children/${child.id}/airings`, undefined],
      ['GET', '/api/v1/national/peers', undefined],
      ['POST', '/api/v1/national/peers', { role: 'parent', name: 'x', sourceId: 'X', mapping: 'vi', username: 'evil-parent', areaCodes: ['99003'] }],
      ['PUT', `/api/v1/national/peers/${child.id}`, { resetPassword: true }],
      ['POST', '/api/v1/national/send', { peerIds: [child.id], title: 'x', link: 'http://203.0.113.1/a.wav', priority: 'emergency', areaCodes: ['99003'] }],
      ['GET', '/api/v1/national/sent', undefined],
      ['GET', '/api/v1/national/inbound', undefined],
      ['GET', '/api/v1/national/link', undefined],
      ['GET', '/api/v1/national/outbox', undefined],
    ] as const) {
      const r = await api(method, path, body, who.token);
      t.equal(r.status, 403, `${who.username}: ${method} ${path} is refused`);
    }
  }
  const peers = await s.api('GET', '/api/v1/national/peers', undefined, s.token);
  const listed = JSON.stringify(peers.body);
  t.notOk(/"password"|passwordHash|outPasswordSealed|scrypt\$|"v1\./.test(listed), 'no password, hash or sealed secret in the peers list');
  t.notOk(listed.includes('child-secret-password') || listed.includes(child.password), 'neither the child’s password nor ours at the child is listed');
  // Added with the fixes: the audit log keeps the peer's body, but not our password at the child (outPassword).
  const audited = s.server.ctx.db.prepare(`SELECT body_json FROM audit_log WHERE body_json LIKE '%child-secret-password%'`).all();
  t.same(audited, [], 'the audit log does not keep outPassword in clear');
});

t.test('REGRESSION: the sealing key is private and every seal has its own nonce', async (t) => {
  const s = await securityServer(t);
  const keyFile = join(s.dataDir, SEAL_KEY_FILE);
  t.equal((await stat(keyFile)).mode & 0o077, 0, 'national-seal.key is readable by its owner only');
  const sealer = loadSealer(s.dataDir);
  const a = sealer.seal('child-password');
  const b = sealer.seal('child-password');
  t.not(a, b, 'the same password sealed twice differs');
  t.not(a.split('.')[1], b.split('.')[1], 'with a fresh nonce each time');
  t.equal(sealer.open(a), 'child-password');
  const [v, iv, tag, body] = a.split('.') as [string, string, string, string];
  const flipped = Buffer.from(body, 'base64url');
  flipped[0] = flipped[0]! ^ 1;
  t.equal(sealer.open([v, iv, tag, flipped.toString('base64url')].join('.')), null, 'an altered seal does not open');
});

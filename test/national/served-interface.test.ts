/**
 * The national interface served by Loa Xã (issue 17): children (vendors' boxes, commune systems) log in with
 * the credentials the province admin gave them, report box statuses and play logs in either vocabulary, and the
 * province admin sees them per child in /api/v1/national/children. Tokens expire (401, the client logs in
 * again); hostile bodies are refused with the reason and change nothing.
 */
import t from 'tap';
import { encodeUp, SHIPPED_MAPPINGS, type UpstreamEvent } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';

type Api = Awaited<ReturnType<typeof startTestServer>>['api'];

async function raw(base: string, path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* left as text */
  }
  return { status: res.status, body: json };
}

async function addPeer(api: Api, token: string, body: Record<string, unknown>) {
  const r = await api('POST', '/api/v1/national/peers', body, token);
  if (r.status !== 201) throw new Error(`peer not added: ${JSON.stringify(r.body)}`);
  return r.body as { id: string; password: string; username: string };
}

t.test('a vendor and a commune system report in both vocabularies and the admin sees them per child', async (t) => {
  const clock = fakeClock();
  const { api, token, base, server } = await startTestServer(t, {}, { clock });
  await importSampleAreas(api, token);
  const vendor = await addPeer(api, token, { role: 'child', name: 'Nhà cung cấp A (Tân Lập)', sourceId: '99003', mapping: 'vi', username: 'vendor-a', areaCodes: ['99003'] });
  const commune = await addPeer(api, token, { role: 'child', name: 'Hệ thống xã Hưng Đạo', sourceId: 'HD-01', mapping: 'en', username: 'hungdao', areaCodes: ['99004'] });
  t.match(vendor.password, /.{12,}/, 'the password is shown once');
  const listed = await api('GET', '/api/v1/national/peers', undefined, token);
  t.notOk(JSON.stringify(listed.body).includes(vendor.password), 'and never again');

  // Login (Vietnamese variant): {Username, Password} → {TrangThaiGui: 0, NoiDung: {Token}}.
  const wrong = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: 'nope' }));
  t.equal(wrong.status, 401);
  t.equal(wrong.body.TrangThaiGui, 1);
  t.match(wrong.body.MoTa, /Sai tên đăng nhập/);
  const login = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: vendor.password }));
  t.equal(login.status, 200);
  t.equal(login.body.TrangThaiGui, 0);
  const vToken = login.body.NoiDung.Token as string;
  t.ok(vToken.length >= 32, 'a random token');
  const auth = { authorization: `Bearer ${vToken}` };

  const nowS = Math.floor(clock.now() / 1000);
  // A vendor's box as its agent sends it: AmLuong a string, no DichID (the box is in the reporting commune).
  const status = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', TenNguon: 'Tân Lập', CumLoaID: '860000000000001', AmLuong: '70', TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G,-10dbm', ThoiDiemBatDau: nowS }), auth);
  t.same(status.body, { TrangThaiGui: 0, MoTa: 'Đã nhận trạng thái' });
  t.equal(status.status, 200);
  const faulty = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', DichID: '99003', CumLoaID: '860000000000002', AmLuong: 0, TrangThaiHoatDong: 0, TrangThaiKetNoi: '4G,-90dbm', ThoiDiemBatDau: nowS }), auth);
  t.equal(faulty.status, 200);
  // A play log at the start, and the vendor's minimal completion record (no airing key, no start time): paired by box and bulletin.
  const start = await raw(base, '/national/api/nhatky/bantin', JSON.stringify({ NguonID: '99003', CumLoaID: '860000000000001', BanTinID: 'BT-77', TieuDe: 'Lịch tiêm phòng', MucDoUuTien: 3, LoaiBanTin: 3, LoaiNhatKy: 1, ThoiDiemBatDau: nowS - 60, ThoiDiemGui: nowS - 60 }), auth);
  t.equal(start.status, 200, JSON.stringify(start.body));
  const end = await raw(base, '/national/api/nhatky/ketqua', JSON.stringify({ NguonId: '99003', CumLoaID: '860000000000001', BanTinId: 'BT-77', LoaiNhatKy: 2, GiaTri: 1, ThoiDiemGui: nowS }), auth);
  t.equal(end.status, 200, JSON.stringify(end.body));
  t.equal(end.body.MoTa, 'Đã nhận kết quả phát');

  // The English variant, as another Loa Xã commune system encodes it.
  const en = SHIPPED_MAPPINGS.en;
  const enLogin = await raw(base, `/national${en.login.path}`, JSON.stringify({ Username: 'hungdao', Password: commune.password }));
  t.equal(enLogin.status, 200, JSON.stringify(enLogin.body));
  const enToken = enLogin.body.Data.Token as string;
  const source = { id: 'HD-01', name: 'Hưng Đạo' };
  const box = { nationalId: '860000000000009', name: 'Cụm loa chợ', area: { code: '99004', name: 'Xã Hưng Đạo' }, vendor: { code: 'LOAXA', name: 'Loa Xã' } };
  const send = async (e: UpstreamEvent) => {
    const req = encodeUp(en, e);
    return raw(base, `/national${req.path}`, JSON.stringify(req.body), { authorization: `Bearer ${enToken}` });
  };
  const at = clock.now();
  const bulletin = { id: 'bt-1', title: 'Thông báo', category: 'general' as const, summary: '', durationS: 30, author: 'xã', contentType: 'audio' as const, producedAt: at - 3600_000 };
  t.equal((await send({ kind: 'box-status', at, source, box, volume: 80, operating: 'playing', connection: 'ETHERNET', lat: 21, lon: 105.8, powerW: 30, temperatureC: 41, storageUsedPct: 12, nowPlaying: 'Thông báo', appVersion: '0.1.0' })).status, 200);
  t.equal((await send({ kind: 'airing-start', at, source, box, airingId: 'bc-1@1@dev-1', bulletin, priority: 'normal', startedAt: at, relay: null })).status, 200);
  t.equal((await send({ kind: 'airing-end', at: at + 30_000, source, box, airingId: 'bc-1@1@dev-1', bulletin, priority: 'normal', startedAt: at, relay: null, ok: false, airedS: 3, reason: 'mất điện' })).status, 200);

  const children = await api('GET', '/api/v1/national/children', undefined, token);
  t.equal(children.status, 200);
  const byName = Object.fromEntries(children.body.items.map((c: any) => [c.sourceId, c]));
  t.match(byName['99003'], { boxes: 2, online: 2, faulty: 1, communesCovered: 1, communesWithBoxes: 1, airings: { total: 1, ok: 1, failed: 0, open: 0 } });
  t.match(byName['HD-01'], { boxes: 1, online: 1, faulty: 0, communesCovered: 1, airings: { total: 1, ok: 0, failed: 1, open: 0 } });
  const airings = await api('GET', `/api/v1/national/children/${vendor.id}/airings`, undefined, token);
  t.equal(airings.body.items.length, 1);
  t.match(airings.body.items[0], { bulletinId: 'BT-77', boxNationalId: '860000000000001', ok: true, title: 'Lịch tiêm phòng' });

  // Sixteen minutes without a report: not online, no working coverage (ARCHITECTURE.md § Coverage).
  clock.advance(16 * 60_000);
  const later = await api('GET', '/api/v1/national/children', undefined, token);
  t.match(later.body.items.find((c: any) => c.sourceId === '99003'), { boxes: 2, online: 0, communesCovered: 0 });

  // The token lasts an hour: after it, 401 and the client logs in again (the vocabulary's rule).
  clock.advance(45 * 60_000);
  const expired = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', CumLoaID: '860000000000001', AmLuong: 70, TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G' }), auth);
  t.equal(expired.status, 401);
  t.equal(expired.body.TrangThaiGui, 1);
  t.match(expired.body.MoTa, /đăng nhập lại/);
  const again = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: vendor.password }));
  const renewed = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', CumLoaID: '860000000000001', AmLuong: 70, TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G' }), { authorization: `Bearer ${again.body.NoiDung.Token}` });
  t.equal(renewed.status, 200);

  // A new password (resetPassword): shown once, and the old tokens stop with the old password.
  const reset = await api('PUT', `/api/v1/national/peers/${vendor.id}`, { resetPassword: true, areaCodes: ['99003', '99005'] }, token);
  t.equal(reset.status, 200);
  t.match(reset.body, { areaCodes: ['99003', '99005'], password: /.{12,}/ });
  const stale = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', CumLoaID: '860000000000001', AmLuong: 70, TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G' }), { authorization: `Bearer ${again.body.NoiDung.Token}` });
  t.equal(stale.status, 401, 'the old password’s token is gone');
  const oldPassword = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: vendor.password }));
  t.equal(oldPassword.status, 401);
  const fresh = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: reset.body.password }));
  t.equal(fresh.status, 200);

  // A revoked peer's token stops at once.
  t.equal((await api('DELETE', `/api/v1/national/peers/${vendor.id}`, undefined, token)).status, 204);
  const revoked = await raw(base, '/national/api/thietbi/trangthai', JSON.stringify({ NguonID: '99003', CumLoaID: '860000000000001', AmLuong: 70, TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G' }), { authorization: `Bearer ${fresh.body.NoiDung.Token}` });
  t.equal(revoked.status, 401);
  t.equal((await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: reset.body.password }))).status, 401, 'and it cannot log in');

  const inbound = await api('GET', '/api/v1/national/inbound?limit=100', undefined, token);
  t.ok(inbound.body.items.some((i: any) => i.kind === 'login' && !i.accepted), 'the wrong login is in the log');
  t.ok(inbound.body.items.some((i: any) => i.kind === 'box-status' && i.accepted), 'the statuses are in the log');
  const viewer = await api('POST', '/api/v1/users', { username: 'xem', password: 'mat-khau-xem-1234', role: 'viewer', areaCode: null }, token);
  t.equal(viewer.status, 201, JSON.stringify(viewer.body));
  const vt = (await api('POST', '/api/v1/auth/login', { username: 'xem', password: 'mat-khau-xem-1234' })).body.token;
  t.equal((await api('GET', '/api/v1/national/peers', undefined, vt)).status, 403, 'province admins only');
  void server;
});

t.test('hostile bodies are refused with the reason, and nothing is stored', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const vendor = await addPeer(api, token, { role: 'child', name: 'Nhà cung cấp A', sourceId: '99003', mapping: 'vi', username: 'vendor-a', areaCodes: ['99003'] });
  const login = await raw(base, '/national/api/auth/login', JSON.stringify({ Username: 'vendor-a', Password: vendor.password }));
  const auth = { authorization: `Bearer ${login.body.NoiDung.Token}` };
  const path = '/national/api/thietbi/trangthai';
  const good = { NguonID: '99003', CumLoaID: '860000000000001', AmLuong: '70', TrangThaiHoatDong: 1, TrangThaiKetNoi: '4G,-10dbm' };

  const noToken = await raw(base, path, JSON.stringify(good));
  t.equal(noToken.status, 401, 'no token');
  const forged = await raw(base, path, JSON.stringify(good), { authorization: 'Bearer forged-token' });
  t.equal(forged.status, 401, 'a token we did not issue');

  const garbage = await raw(base, path, '{"NguonID": "99003", garbage', auth);
  t.equal(garbage.status, 400);
  t.same(garbage.body, { TrangThaiGui: 1, MoTa: 'Nội dung không phải JSON hợp lệ' });

  const huge = await raw(base, path, JSON.stringify({ ...good, TenThietBi: 'x'.repeat(2 * 1024 * 1024) }), auth);
  t.equal(huge.status, 413);
  t.equal(huge.body.TrangThaiGui, 1);
  t.match(huge.body.MoTa, /quá lớn/);

  const wrongType = await raw(base, path, JSON.stringify({ ...good, AmLuong: { level: 70 } }), auth);
  t.equal(wrongType.status, 400);
  t.match(wrongType.body.MoTa, /AmLuong/, 'MoTa names the field');

  const missing = await raw(base, path, JSON.stringify({ ...good, CumLoaID: '' }), auth);
  t.equal(missing.status, 400);
  t.match(missing.body.MoTa, /CumLoaI[Dd]/, 'the checker\'s rule: CumLoaId not empty');

  const otherArea = await raw(base, path, JSON.stringify({ ...good, DichID: '99004' }), auth);
  t.equal(otherArea.status, 403);
  t.match(otherArea.body.MoTa, /99004.*ngoài địa bàn/);

  const otherSource = await raw(base, path, JSON.stringify({ ...good, NguonID: '99004', DichID: '99003' }), auth);
  t.equal(otherSource.status, 403, 'another system\'s NguonID');

  const wrongRole = await raw(base, '/national/api/bantin', JSON.stringify({ NguonId: '99003', BanTinId: 'x' }), auth);
  t.equal(wrongRole.status, 403, 'a child may not send bulletins down');
  t.match(wrongRole.body.MoTa, /không được gửi/);

  const unknownPath = await raw(base, '/national/api/khong-co', JSON.stringify(good), auth);
  t.equal(unknownPath.status, 404);

  const rows = server.ctx.db.prepare('SELECT COUNT(*) AS n FROM national_child_boxes').get() as { n: number };
  t.equal(rows.n, 0, 'nothing was stored');
  const refused = await api('GET', '/api/v1/national/inbound?accepted=false&limit=100', undefined, token);
  const details = refused.body.items.map((i: any) => i.detail).join('\n');
  for (const why of ['JSON', 'quá lớn', 'AmLuong', 'ngoài địa bàn', 'token']) t.match(details, why, `the log says why: ${why}`);

  // The peer admin: areas are checked, the mapping must resolve, only province admins.
  const badArea = await api('POST', '/api/v1/national/peers', { role: 'child', name: 'x', sourceId: 'x', username: 'xxx', areaCodes: ['12345'] }, token);
  t.equal(badArea.status, 400);
  const badMapping = await api('POST', '/api/v1/national/peers', { role: 'child', name: 'x', sourceId: 'x', username: 'xxx', areaCodes: ['99003'], mapping: '/nonexistent/mapping.json' }, token);
  t.equal(badMapping.status, 400);
});

/**
 * Bulletins coming down from the province's source system (issue 17) enter the Circular 39 paths that exist
 * (Circular 39/2020/TT-BTTTT): an emergency airs at once on the simulated boxes of the listed areas; a normal
 * bulletin waits in each commune's inbox; a priority one airs on its schedule unless the commune's own
 * priority items collide (then it waits in that commune's inbox with the collision named); a repeated BanTinId
 * does not air twice; a delete stops what airs and cancels what is ahead; a reschedule moves it; a device
 * control reaches the boxes. The actor is the parent, not a person.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DownBulletin } from '@loaxa/shared';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { uploadTone } from '../helpers/programmes.js';
import { addPeer, localDay, localTimeIn, mediaServer, peerSession, toneWav } from './served-helpers.js';

t.test('what the province sends down takes the Circular 39 paths on simulated boxes', async (t) => {
  const { api, token, base, dataDir, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const sim = (area: string, count: number, name: string) =>
    startSimulation({ serverUrl: base, count, areaCode: area, stateFile: join(dataDir, `${name}.json`), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  const tanlap = await sim('99003', 2, 'tanlap');
  t.teardown(() => tanlap.stop());
  const hungdao = await sim('99004', 1, 'hungdao');
  t.teardown(() => hungdao.stop());
  t.equal(await tanlap.waitForConnections(10_000), 2);
  t.equal(await hungdao.waitForConnections(10_000), 1);

  const media = await mediaServer(t, { '/kc1.wav': await toneWav(2), '/ut1.wav': await toneWav(3, 660), '/tt1.wav': await toneWav(2, 550), '/long.wav': await toneWav(30, 330) });
  const parent = await addPeer(api, token, { role: 'parent', name: 'HTTT nguồn tỉnh', sourceId: 'H99', mapping: 'vi', username: 'httt-tinh', areaCodes: ['99003', '99004'] });
  const province = await peerSession(base, 'httt-tinh', parent.password);
  const record = (id: string) => server.national.bulletins.get(parent.id, id);
  // Audio that takes longer to fetch and master than the parent should wait is answered "taken, in progress"
  // (the ack follows); what it became is then read once it has settled.
  const settled = (id: string) => waitFor(`bulletin ${id} to settle`, () => {
    const r = record(id);
    return r && r.state !== 'fetching' ? r : null;
  }, 30_000);
  const today = localDay(0);
  const inTwoDays = localDay(2);

  // 1. An emergency, in the province's own words (the checker's api5 fields): airs at once on every box of Tân Lập.
  const emergency = await province.raw('/api/bantin', {
    NguonId: 'H99', TenNguon: 'Sở TT&TT', BanTinId: 'KC-1', TieuDe: 'Cảnh báo lũ', LinhVuc: 2, NoiDungTomTat: 'Lũ trên sông, di chuyển ngay', ThoiGianSanXuat: '2026-12-07T08:00:00.00000',
    TacGia: 'Ban chỉ huy PCTT', DiaBanTao: 'Tỉnh Mẫu', DanhSachDiaBanNhan: ['99003'], NoiDung: { Link: `${media.url}/kc1.wav`, LoaiBanTin: 3 }, MucDoUuTien: 1, CheDoPhat: 1,
    NgayBatDau: `${today.date}T00:00:00.00000`, NgayKetThuc: `${today.date}T23:59:59.00000`, LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['00:00:00.000000'], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] },
  });
  t.equal(emergency.status, 200, JSON.stringify(emergency.body));
  t.equal(emergency.body.TrangThaiGui, 0);
  t.match(emergency.body.MoTa, /khẩn cấp|đang tải/);
  const kc1 = await settled('KC-1');
  t.equal(kc1.state, 'aired');
  const [kcBroadcast] = kc1.broadcastIds;
  const b = (await api('GET', `/api/v1/broadcasts/${kcBroadcast}`, undefined, token)).body;
  t.match(b, { priority: 'emergency', status: 'approved' });
  const actor = server.ctx.db.prepare('SELECT created_by AS by FROM broadcasts WHERE id = ?').get(kcBroadcast) as { by: string };
  t.equal(actor.by, parent.id, 'the actor is the parent (a system actor), not a user');
  t.match(server.ctx.users.byId(parent.id), { username: 'national:httt-tinh', disabled: true }, 'which nobody can log in as');
  const users = await api('GET', '/api/v1/users', undefined, token);
  t.equal(users.status, 200, 'the users list still reads with the system actor in it');
  await waitFor('the emergency to play on both boxes of Tân Lập', async () => {
    const d = (await api('GET', `/api/v1/broadcasts/${kcBroadcast}`, undefined, token)).body.deliveries;
    return d.length === 2 && d.every((x: { state: string }) => x.state === 'played') ? true : null;
  }, 20_000);

  // 2. The same BanTinId again (a retry after a lost answer): accepted, not aired twice, not fetched twice.
  const broadcastsBefore = (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM broadcasts').get() as { n: number }).n;
  const again = await province.raw('/api/bantin', JSON.parse(JSON.stringify({
    NguonId: 'H99', TenNguon: 'Sở TT&TT', BanTinId: 'KC-1', TieuDe: 'Cảnh báo lũ', LinhVuc: 2, NoiDungTomTat: 'Lũ trên sông, di chuyển ngay', ThoiGianSanXuat: '2026-12-07T08:00:00.00000',
    TacGia: 'Ban chỉ huy PCTT', DiaBanTao: 'Tỉnh Mẫu', DanhSachDiaBanNhan: ['99003'], NoiDung: { Link: `${media.url}/kc1.wav`, LoaiBanTin: 3 }, MucDoUuTien: 1, CheDoPhat: 1,
    NgayBatDau: `${today.date}T00:00:00.00000`, NgayKetThuc: `${today.date}T23:59:59.00000`, LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['00:00:00.000000'], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] },
  })));
  t.equal(again.status, 200);
  t.match(again.body.MoTa, /đã nhận trước đó/);
  t.equal((server.ctx.db.prepare('SELECT COUNT(*) AS n FROM broadcasts').get() as { n: number }).n, broadcastsBefore, 'no second broadcast');
  t.equal(media.hits.get('/kc1.wav'), 1, 'the audio was fetched once');

  const base5: Omit<DownBulletin, 'bulletinId' | 'priority' | 'playMode' | 'link' | 'areaCodes' | 'schedule'> = {
    kind: 'bulletin', source: { id: 'H99', name: 'Sở TT&TT' }, title: 'Bản tin', category: 'general', summary: 'Tóm tắt', author: 'Sở', producedAt: Date.now(), durationS: 3,
    startDate: today.startMs, endDate: inTwoDays.endMs, contentType: 'audio', createdBy: 'Tỉnh Mẫu',
  };

  // 3. Normal: an offer in each listed commune's inbox, nothing airs until the commune accepts.
  const normal = await province.down({ ...base5, bulletinId: 'TT-1', priority: 'normal', playMode: 'scheduled', link: `${media.url}/tt1.wav`, areaCodes: ['99003', '99004'], schedule: { kind: 'daily', starts: [localTimeIn(120)], ends: [], days: [] } });
  t.equal(normal.status, 200, JSON.stringify(normal.body));
  t.match(normal.body.MoTa, /hộp thư của 2 xã|đang tải/);
  const tt1 = await settled('TT-1');
  t.match(tt1, { state: 'inbox', broadcastIds: [] });
  t.equal(tt1.offerIds.length, 2);
  const inbox = (await api('GET', '/api/v1/inbox?status=pending', undefined, token)).body.items;
  const offered = inbox.filter((o: { bulletinId: string }) => o.bulletinId === tt1.bulletinId);
  t.same(offered.map((o: { areaCode: string }) => o.areaCode).sort(), ['99003', '99004'], 'in the inbox of both communes');
  t.ok(offered.every((o: { action: string; priority: string }) => o.action === 'wait-for-accept' && o.priority === 'normal'));

  // 4. Priority colliding with Hưng Đạo's own priority item: airs in Tân Lập, waits in Hưng Đạo's inbox with the collision named.
  const at = localTimeIn(180);
  const own = await uploadTone(base, token, { hz: 880, seconds: 3, title: 'Bản tin ưu tiên của xã' });
  const ownCast = await api('POST', '/api/v1/broadcasts', { bulletinId: own.id, priority: 'priority', target: { areaCodes: ['99004'] }, schedule: { kind: 'daily', times: [at.slice(0, 5)], from: today.date, until: inTwoDays.date } }, token);
  t.equal(ownCast.status, 201, JSON.stringify(ownCast.body));
  const priority = await province.down({ ...base5, bulletinId: 'UT-1', priority: 'priority', playMode: 'scheduled', link: `${media.url}/ut1.wav`, areaCodes: ['99003', '99004'], schedule: { kind: 'daily', starts: [at], ends: [], days: [] } });
  t.equal(priority.status, 200, JSON.stringify(priority.body));
  const ut1 = await settled('UT-1');
  t.equal(ut1.state, 'scheduled');
  t.equal(ut1.broadcastIds.length, 1);
  t.equal(ut1.offerIds.length, 1);
  const airing = (await api('GET', `/api/v1/broadcasts/${ut1.broadcastIds[0]}`, undefined, token)).body;
  t.same(airing.target.areaCodes, ['99003'], 'it airs in Tân Lập');
  t.match(airing.schedule, { kind: 'daily', times: [at.slice(0, 5)] });
  const waiting = server.ctx.offers.get(ut1.offerIds[0]!)!;
  t.match(waiting, { areaCode: '99004', status: 'pending', action: 'wait-for-order' });
  t.same(waiting.collidesWith, [ownCast.body.id], 'the collision is named');
  t.match(waiting.reason, new RegExp(ownCast.body.id));

  // 5. Reschedule: moved to another time, the old airing cancelled; now nothing collides, so both communes air it.
  const later = localTimeIn(240);
  const moved = await province.raw('/api/bantin/lichphat', { NguonId: 'H99', BanTinId: 'UT-1', NgayBatDau: `${today.date}T00:00:00.00000`, NgayKetThuc: `${inTwoDays.date}T00:00:00.00000`, CheDoPhat: 0, LichPhat: { KieuLich: 0, ThoiDiemBatDau: [`${later}.000000`], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] } });
  t.equal(moved.status, 200, JSON.stringify(moved.body));
  const ut1b = record('UT-1')!;
  t.notSame(ut1b.broadcastIds, ut1.broadcastIds);
  t.equal(server.ctx.broadcasts.get(ut1.broadcastIds[0]!)!.status, 'cancelled', 'the old time is cancelled');
  t.equal(server.ctx.offers.get(ut1.offerIds[0]!)!.status, 'expired', 'the old inbox item withdrawn');
  const movedCast = (await api('GET', `/api/v1/broadcasts/${ut1b.broadcastIds[0]}`, undefined, token)).body;
  t.match(movedCast.schedule, { kind: 'daily', times: [later.slice(0, 5)] });
  t.same(movedCast.target.areaCodes, ['99003', '99004']);

  // 6. Delete: what is ahead is cancelled.
  const del = await province.raw('/api/bantin/xoa', { NguonId: 'H99', BanTinId: 'UT-1' });
  t.equal(del.status, 200);
  t.equal(record('UT-1')!.state, 'deleted');
  t.equal(server.ctx.broadcasts.get(ut1b.broadcastIds[0]!)!.status, 'cancelled');
  const delNormal = await province.raw('/api/bantin/xoa', { NguonId: 'H99', BanTinId: 'TT-1' });
  t.equal(delNormal.status, 200);
  t.ok(tt1.offerIds.every((id) => server.ctx.offers.get(id)!.status === 'expired'), 'the inbox offers are withdrawn');
  const unknown = await province.raw('/api/bantin/xoa', { NguonId: 'H99', BanTinId: 'KHONG-CO' });
  t.equal(unknown.status, 404);
  t.equal(unknown.body.TrangThaiGui, 1);

  // 7. Delete while it airs: the boxes are told to stop.
  const long = await province.down({ ...base5, bulletinId: 'KC-2', title: 'Cảnh báo dài', priority: 'emergency', playMode: 'now', link: `${media.url}/long.wav`, areaCodes: ['99003'], schedule: { kind: 'daily', starts: ['00:00:00'], ends: [], days: [] } });
  t.equal(long.status, 200, JSON.stringify(long.body));
  const kc2 = (await settled('KC-2')).broadcastIds[0]!;
  await waitFor('the long emergency to play', async () => {
    const d = (await api('GET', `/api/v1/broadcasts/${kc2}`, undefined, token)).body.deliveries;
    return d.length === 2 && d.every((x: { state: string }) => x.state === 'playing') ? true : null;
  }, 20_000);
  const stop = await province.raw('/api/bantin/xoa', { NguonId: 'H99', BanTinId: 'KC-2' });
  t.equal(stop.status, 200);
  const stopped = (await api('GET', `/api/v1/broadcasts/${kc2}`, undefined, token)).body;
  t.equal(stopped.status, 'cancelled');
  t.ok(stopped.deliveries.every((x: { state: string }) => x.state === 'cancelled'), 'both boxes stopped');

  // 8. Device control: volume to one box by its CumLoaID (our id, no national id set), then to every box of an area.
  const one = tanlap.devices[0]!.id;
  server.national.devices.setNationalId(hungdao.devices[0]!.id, '860000000000042');
  const vol = await province.raw('/api/thietbi/dieukhien', { NguonId: 'H99', DieuKhienThietBi: { MaLenh: 0, ThamSo: '35' }, DanhSachThietBi: { CumLoaID: [one, '860000000000042'] } });
  t.equal(vol.status, 200, JSON.stringify(vol.body));
  t.match(vol.body.MoTa, /2\/2 thiết bị thực hiện/);
  const all = await province.raw('/api/thietbi/dieukhien', { NguonId: 'H99', DieuKhienThietBi: { MaLenh: 0, ThamSo: '60' }, DanhSachThietBi: { CumLoaID: [] }, DanhSachDiaBanNhan: ['99003'] });
  t.match(all.body.MoTa, /2\/2 thiết bị thực hiện/);
  const badVolume = await province.raw('/api/thietbi/dieukhien', { NguonId: 'H99', DieuKhienThietBi: { MaLenh: 0, ThamSo: 'loud' }, DanhSachThietBi: { CumLoaID: [one] } });
  t.equal(badVolume.status, 400);

  // 9. Refusals: an area outside the parent's, a link that is not http(s), a body that does not decode.
  const outside = await province.down({ ...base5, bulletinId: 'X-1', priority: 'emergency', playMode: 'now', link: `${media.url}/kc1.wav`, areaCodes: ['99005'], schedule: { kind: 'daily', starts: ['00:00:00'], ends: [], days: [] } });
  t.equal(outside.status, 403);
  t.match(outside.body.MoTa, /99005.*ngoài địa bàn/);
  t.equal(record('X-1'), null, 'nothing recorded');
  const ftp = await province.down({ ...base5, bulletinId: 'X-2', priority: 'normal', playMode: 'now', link: 'ftp://127.0.0.1/a.wav', areaCodes: ['99003'], schedule: { kind: 'daily', starts: ['00:00:00'], ends: [], days: [] } });
  t.equal(ftp.status, 400);
  t.match(ftp.body.MoTa, /http/);
  const notAudio = await province.down({ ...base5, bulletinId: 'X-3', priority: 'normal', playMode: 'now', link: `${media.url}/missing.wav`, areaCodes: ['99003'], schedule: { kind: 'daily', starts: ['00:00:00'], ends: [], days: [] } });
  t.equal(notAudio.body.TrangThaiGui, 1);
  t.match(notAudio.body.MoTa, /404/);
  const badTime = await province.raw('/api/bantin', { NguonId: 'H99', BanTinId: 'X-4', TieuDe: 'x', LinhVuc: 1, NoiDungTomTat: 'x', ThoiGianSanXuat: '2026-12-07T08:00:00.00000', TacGia: 'x', DiaBanTao: 'x', DanhSachDiaBanNhan: ['99003'], NoiDung: { Link: `${media.url}/kc1.wav` }, CheDoPhat: 0, NgayBatDau: 'hôm nay', NgayKetThuc: `${today.date}T23:59:59.00000`, LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['7h'] } });
  t.equal(badTime.status, 400);
  t.match(badTime.body.MoTa, /NgayBatDau|ThoiDiemBatDau/);

  // The province admin sees what came down and what each became.
  const received = (await api('GET', '/api/v1/national/received', undefined, token)).body.items;
  const byId = Object.fromEntries(received.map((r: { upstreamId: string }) => [r.upstreamId, r]));
  t.match(byId['KC-1'], { state: 'aired', priority: 'emergency', title: 'Cảnh báo lũ' });
  t.match(byId['UT-1'], { state: 'deleted' });
  t.match(byId['X-3'], { state: 'failed', detail: /404/ });
  const audited = server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE user_id = ? AND route = '/national/*'`).get(parent.id) as { n: number };
  t.ok(audited.n >= 10, `what the parent sent is audited in its name (${audited.n} entries)`);
});

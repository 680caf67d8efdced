/**
 * Issue 17 review (hostile): how much work one parent's requests can start at once.
 *
 * HOLE (medium, resource exhaustion by a parent or by whoever holds its password) — server/src/national/
 * downlink/downlink.ts:171-188 (`bulletin` → `take` → `makeBulletin`): every bulletin with a new BanTinId starts
 * its own download (up to DEFAULT_AUDIO_MAX_BYTES = 64 MB to the uploads folder, up to 60 s) followed by an
 * ffmpeg decode and mastering, with no bound on how many run at once — `running` only joins repeats of the
 * *same* BanTinId. The request is answered after answerWaitMs (8 s) while the job goes on. 100 requests in a
 * second with BanTinIds 1…100 linking to a slow or large file mean 100 sockets, up to 6.4 GB of disk, then
 * 100 ffmpeg processes: the server that must air an emergency in seconds (Circular 39) is starved, and the
 * uploads disk fills. The peer's password is a long-lived secret held by the province's vendor, and a leaked
 * one is exactly this attacker; a buggy province system resending in a loop does the same.
 * Fix: a small semaphore around fetch + decode + master (per parent, e.g. 2, and server-wide, like the API's
 * password-check slots), answering 503 + Retry-After (the vocabulary's "send again later") when its queue is
 * full; and a per-parent bound on bulletins still `fetching`.
 *
 * The test FAILS now: 30 bulletins open 30 downloads at once.
 */
import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { addPeer, localDay, peerSession } from '../national/served-helpers.js';

t.test('HOLE: one parent starts any number of audio downloads (and masterings) at once', async (t) => {
  const { api, token, base } = await startTestServer(t);
  await importSampleAreas(api, token);
  // A media server that answers slowly: headers, then a trickle, until the test lets go.
  const open = new Set<ServerResponse>();
  let peak = 0;
  const media = createServer((_req, res) => {
    open.add(res);
    peak = Math.max(peak, open.size);
    res.on('close', () => open.delete(res));
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.write(Buffer.alloc(1024));
  });
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const r of open) r.destroy();
    media.closeAllConnections();
    return new Promise<void>((r) => media.close(() => r()));
  });
  const mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;

  const parent = await addPeer(api, token, { role: 'parent', name: 'HTTT nguồn tỉnh', sourceId: 'H99', mapping: 'vi', username: 'httt-tinh', areaCodes: ['99'] });
  const province = await peerSession(base, 'httt-tinh', parent.password);
  const today = localDay(0);
  const N = 30;
  const answers = Array.from({ length: N }, (_, i) =>
    province.raw('/api/bantin', {
      NguonId: 'H99', TenNguon: 'Sở', BanTinId: `FLOOD-${i}`, TieuDe: 'Thông báo', LinhVuc: 2, NoiDungTomTat: 'x', ThoiGianSanXuat: '2026-12-07T08:00:00.00000', TacGia: 'Sở', DiaBanTao: 'Tỉnh',
      DanhSachDiaBanNhan: ['99003'], NoiDung: { Link: `${mediaUrl}/slow-${i}.wav`, LoaiBanTin: 3 }, MucDoUuTien: 3, CheDoPhat: 1,
      NgayBatDau: `${today.date}T00:00:00.00000`, NgayKetThuc: `${today.date}T23:59:59.00000`, LichPhat: { KieuLich: 0, ThoiDiemBatDau: ['00:00:00.000000'], ThoiDiemKetThuc: [], DanhSachNgayPhat: [] },
    }),
  );
  await new Promise((r) => setTimeout(r, 2000));
  t.comment(`${N} bulletins from one parent: ${peak} downloads open at once`);
  t.ok(peak <= 4, `downloads from one parent run a few at a time, not all at once (peak ${peak} of ${N})`);
  // Let the downloads fail (closed mid-body) so the jobs end before the server stops.
  for (const r of open) r.destroy();
  const done = await Promise.all(answers);
  t.ok(done.every((d) => d.status < 500 || d.status === 502 || d.status === 503), 'every request is answered');
  // Added with the fix: beyond the queue, "send again later" in the mapping's answer form.
  const busy = done.filter((d) => d.status === 503);
  t.ok(busy.length > 0 && busy.every((d) => d.body.TrangThaiGui === 1 && /gửi lại/.test(d.body.MoTa)), `the ones beyond the queue are told to send again (${busy.length}: ${JSON.stringify(busy[0]?.body)})`);
});

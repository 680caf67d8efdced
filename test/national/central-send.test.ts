/**
 * Loa Xã as the central source system (issue 17): a "central" server sends an emergency down to a "province"
 * server (two apps in one test, on loopback); the province takes it as from any source system and it plays
 * on the province's simulated boxes. The child's answers are recorded per child; a token the child forgot is
 * renewed on 401; a child answering garbage, too much or a redirect is reported, not believed.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { uploadTone } from '../helpers/programmes.js';
import { addPeer } from './served-helpers.js';

t.test('an emergency sent down from the centre plays on the province’s boxes', async (t) => {
  // The centre first: it knows the province as a child, and gives it the credentials it reports up with.
  const central = await startTestServer(t);
  await importSampleAreas(central.api, central.token);
  const child = await addPeer(central.api, central.token, { role: 'child', name: 'Tỉnh Mẫu', sourceId: 'H99', mapping: 'vi', username: 'tinh-mau', areaCodes: ['99'] });
  // The province reports up to the centre through its link (LOAXA_NATIONAL_URL), and knows the centre as its parent.
  const link = { url: `${central.base}/national`, mapping: 'vi', username: 'tinh-mau', password: child.password, passwordFile: undefined, sourceId: 'H99', sourceName: 'Tỉnh Mẫu', vendorCode: 'LOAXA', vendorName: 'Loa Xã', statusSeconds: 5, timeoutMs: 15_000, maxAnswerBytes: 65_536 };
  const province = await startTestServer(t, { national: link });
  await importSampleAreas(province.api, province.token);
  const sim = await startSimulation({ serverUrl: province.base, count: 2, areaCode: '99003', stateFile: join(province.dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2);
  const parentAtProvince = await addPeer(province.api, province.token, { role: 'parent', name: 'Loa Xã trung ương', sourceId: central.server.national.self().id, mapping: 'vi', username: 'trung-uong', areaCodes: ['99'] });
  const put = await central.api('PUT', `/api/v1/national/peers/${child.id}`, { baseUrl: `${province.base}/national`, outUsername: 'trung-uong', outPassword: parentAtProvince.password }, central.token);
  t.equal(put.status, 200, JSON.stringify(put.body));
  const peer = (await central.api('GET', `/api/v1/national/peers/${child.id}`, undefined, central.token)).body;
  t.equal(peer.hasOutPassword, true);
  t.notOk(JSON.stringify(peer).includes(parentAtProvince.password), 'the password we log in with is never shown');
  const sealed = central.server.ctx.db.prepare('SELECT out_password_sealed AS s FROM national_peers WHERE id = ?').get(child.id) as { s: string };
  t.notOk(sealed.s.includes(parentAtProvince.password), 'and is stored sealed');

  const tone = await uploadTone(central.base, central.token, { hz: 500, seconds: 2, title: 'Cảnh báo bão số 9' });
  const sent = await central.api('POST', '/api/v1/national/send', { bulletinId: tone.id, peerIds: [child.id], priority: 'emergency', playMode: 'now', areaCodes: ['99003'], summary: 'Bão vào bờ' }, central.token);
  t.equal(sent.status, 200, JSON.stringify(sent.body));
  t.equal(sent.body.items.length, 1);
  t.match(sent.body.items[0], { peerId: child.id, ok: true, httpStatus: 200, upstreamId: tone.id });
  // The province's answer (MoTa): aired, or "taken, in progress" when its audio took longer than the answer may wait.
  t.match(sent.body.items[0].detail, /khẩn cấp|đang tải/, 'the province’s answer (MoTa) is shown');

  const rec = await waitFor('the bulletin to settle at the province', () => {
    const r = province.server.national.bulletins.get(parentAtProvince.id, tone.id);
    return r && r.state !== 'fetching' ? r : null;
  }, 30_000);
  t.equal(rec.state, 'aired');
  const castId = rec.broadcastIds[0]!;
  await waitFor('the emergency to play on the province’s boxes', async () => {
    const d = (await province.api('GET', `/api/v1/broadcasts/${castId}`, undefined, province.token)).body.deliveries;
    return d.length === 2 && d.every((x: { state: string }) => x.state === 'played') ? true : null;
  }, 20_000);
  const aired = province.server.ctx.bulletins.get(rec.bulletinId!)!;
  t.equal(aired.title, 'Cảnh báo bão số 9');
  t.ok(Math.abs((aired.durationMs ?? 0) - tone.durationMs) < 300, 'the centre’s audio, mastered by the province');

  // The province told the centre what it did with it (its link's schedule-ack), and its boxes report up.
  const acked = await waitFor('the province’s schedule-ack at the centre', async () => {
    const items = (await central.api('GET', '/api/v1/national/sent', undefined, central.token)).body.items;
    return items[0]?.ack ? items[0] : null;
  }, 60_000);
  t.match(acked.ack, { accepted: true, detail: /khẩn cấp/ });
  const seen = await waitFor('the province’s boxes and airings at the centre', async () => {
    const c = (await central.api('GET', '/api/v1/national/children', undefined, central.token)).body.items[0];
    return c?.boxes === 2 && c.airings.ok === 2 ? c : null;
  }, 60_000);
  t.match(seen, { sourceId: 'H99', online: 2, communesCovered: 1 }, 'the centre sees the province’s coverage and as-run');

  // The province forgot our token (a restart): the next send logs in again on the 401 and goes through.
  province.server.national.tokens.revokePeer(parentAtProvince.id);
  const normal = await central.api('POST', '/api/v1/national/send', { bulletinId: tone.id, peerIds: [child.id], priority: 'normal', playMode: 'commune-decides', areaCodes: ['99003', '99004'] }, central.token);
  t.match(normal.body.items[0], { ok: true, httpStatus: 200 });
  t.match(normal.body.items[0].detail, /Đã cập nhật/, 'the same bulletin again is an update there, not a second airing');
  const list = await central.api('GET', '/api/v1/national/sent', undefined, central.token);
  t.equal(list.body.items.length, 2);
  t.equal(list.body.items[0].peerName, 'Tỉnh Mẫu');

  // Each child gets only the send's areas inside its own: none of them, and it is not sent to at all.
  const elsewhere = await central.api('POST', '/api/v1/national/send', { bulletinId: tone.id, peerIds: [child.id], priority: 'normal', playMode: 'commune-decides', areaCodes: ['98001'] }, central.token);
  t.equal(elsewhere.status, 200);
  t.match(elsewhere.body.items[0], { ok: false, httpStatus: null, detail: /không có địa bàn nào được chọn thuộc Tỉnh Mẫu/ }, 'a child outside the areas is told nothing');
  // No areas given: the child's own.
  const own = await central.api('POST', '/api/v1/national/send', { bulletinId: tone.id, peerIds: [child.id], priority: 'normal', playMode: 'commune-decides' }, central.token);
  t.match(own.body.items[0], { ok: true, httpStatus: 200 });
  t.same(JSON.parse(central.server.ctx.db.prepare('SELECT command_json AS c FROM national_sent WHERE id = ?').pluck().get(own.body.items[0].id) as string).areaCodes, ['99']);
});

t.test('a hostile child is reported, not believed', async (t) => {
  const central = await startTestServer(t);
  await importSampleAreas(central.api, central.token);
  let mode: 'garbage' | 'huge' | 'redirect' | 'refuse' = 'garbage';
  const hostile = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/api/auth/login') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ TrangThaiGui: 0, NoiDung: { Token: 'tok' } }));
        return;
      }
      if (mode === 'garbage') res.writeHead(200).end('<html>not json');
      else if (mode === 'huge') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ TrangThaiGui: 0, MoTa: 'x'.repeat(200_000) }));
      else if (mode === 'redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ TrangThaiGui: 1, MoTa: 'Sai định dạng' }));
    });
  });
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => hostile.close(() => r())));
  const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  const child = await addPeer(central.api, central.token, { role: 'child', name: 'Tỉnh lạ', sourceId: 'H98', username: 'tinh-la', areaCodes: ['99'], baseUrl: url, outUsername: 'u', outPassword: 'p' });
  const send = () => central.api('POST', '/api/v1/national/send', { title: 'Thử', audioUrl: 'http://example.invalid/a.mp3', peerIds: [child.id], priority: 'normal', areaCodes: ['99003'] }, central.token);
  const garbage = await send();
  t.match(garbage.body.items[0], { ok: false, httpStatus: 200 });
  t.match(garbage.body.items[0].detail, /không phải JSON/);
  mode = 'huge';
  t.match((await send()).body.items[0].detail, /quá lớn/);
  mode = 'redirect';
  const redirect = (await send()).body.items[0];
  t.match(redirect, { ok: false, httpStatus: null });
  t.match(redirect.detail, /chuyển hướng.*không theo/);
  mode = 'refuse';
  t.match((await send()).body.items[0], { ok: false, detail: 'Sai định dạng' });
  const notChild = await central.api('POST', '/api/v1/national/send', { title: 'Thử', audioUrl: 'http://example.invalid/a.mp3', peerIds: ['np-nope'], priority: 'normal', areaCodes: ['99003'] }, central.token);
  t.equal(notChild.status, 400);
});

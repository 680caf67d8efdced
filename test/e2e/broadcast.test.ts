/**
 * The walking skeleton end to end: a real server (HTTP + embedded broker + SQLite + eSpeak + ffmpeg) on
 * ephemeral ports, three simulated boxes running the real device agent, a Vietnamese text bulletin.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { boxDir } from '../../firmware-sim/src/state-file.js';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';

const TEXT =
  'Ủy ban nhân dân xã Tân Lập thông báo: để phục vụ sửa chữa lưới điện, ngày mai sẽ cắt điện từ bảy giờ đến mười một giờ. ' +
  'Đề nghị bà con chủ động sắp xếp công việc.';

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('a Vietnamese text bulletin plays on every simulated box and the audio on disk has the stored hash', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-sim-');
  const stateFile = join(simDir, 'state.json');
  const sim = await startSimulation({
    serverUrl: base,
    count: 3,
    areaCode: '99003',
    stateFile,
    logger: pino({ level: 'silent' }),
    username: 'admin',
    password: ADMIN_PASSWORD,
    startSpreadMs: 50,
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 3, 'three boxes connected');
  await waitFor('presence on the server', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 3 ? true : null), 5000);

  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Thông báo cắt điện', text: TEXT, category: 'local-direction' }, token);
  t.equal(bulletin.status, 201);
  const { sha256, durationMs } = bulletin.body.audio;

  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.body.id, priority: 'normal', target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201);
  t.equal(cast.body.devices, 3);

  const seen = new Map<string, string[]>();
  const final = await waitFor(
    'every box to report played',
    async () => {
      const b = (await api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, token)).body;
      for (const d of b.deliveries) {
        const states = seen.get(d.deviceId) ?? [];
        if (states.at(-1) !== d.state) states.push(d.state);
        seen.set(d.deviceId, states);
      }
      return b.deliveries.length === 3 && b.deliveries.every((d: { state: string }) => d.state === 'played') ? b : null;
    },
    durationMs + 20_000,
  );
  t.equal(final.summary.played, 3);

  for (const d of sim.devices) {
    const file = join(boxDir(stateFile, d.id), 'cache', `${sha256}.ogg`);
    const bytes = await readFile(file);
    t.equal(createHash('sha256').update(bytes).digest('hex'), sha256, `${d.id} cached the exact audio`);
    const log = server.ctx.db
      .prepare('SELECT state FROM delivery_events WHERE broadcast_id = ? AND device_id = ? ORDER BY id')
      .all(cast.body.id, d.id)
      .map((r) => (r as { state: string }).state);
    t.same(log, ['sent', 'acknowledged', 'cached', 'playing', 'played'], `${d.id}: every transition is in the as-run log`);
  }
  const playing = server.ctx.db
    .prepare(`SELECT MIN(at) AS first, MAX(at) AS last FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`)
    .get(cast.body.id) as { first: number; last: number };
  t.ok(playing.last - playing.first < 1000, `boxes started together (spread ${playing.last - playing.first} ms)`);

  // The as-run report the province files: per commune and device, scheduled vs played, with airtime.
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  const report = (await api('GET', `/api/v1/reports/as-run?area=99&from=${today}&to=${today}`, undefined, token)).body;
  t.equal(report.totals.scheduled, 3);
  t.equal(report.totals.played, 3);
  // Every commune of the province is listed (issue 20, broken 9); only Tân Lập has airings.
  t.equal(report.communes.length, 6);
  const tanLap = report.communes.find((c: { code: string }) => c.code === '99003');
  t.equal(tanLap.name, 'Xã Tân Lập');
  t.same(report.communes.filter((c: { scheduled: number }) => c.scheduled > 0).map((c: { code: string }) => c.code), ['99003']);
  t.ok(Math.abs(report.totals.airtimeMs - 3 * durationMs) < 3000, `airtime ${report.totals.airtimeMs} ms for 3 × ${durationMs} ms`);
  t.equal(tanLap.devices[0].items[0].state, 'played');
  const csv = await fetch(`${base}/api/v1/reports/as-run?area=99&from=${today}&to=${today}&format=csv`, { headers: { authorization: `Bearer ${token}` } });
  t.match(csv.headers.get('content-type'), /text\/csv/);
  const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
  // The programme columns (issue 15) are empty for a bulletin's airing. Headers and values in Vietnamese, and a
  // category column, since issue 20 (broken 8: they were English, commune_code … and `played`).
  t.equal(lines[0], 'Mã xã,Tên xã,Mã cụm loa,Tên cụm loa,Mã lượt phát,Tiêu đề,Chuyên mục,Mức ưu tiên,Giờ phát theo lịch,Trạng thái,Bắt đầu phát,Kết thúc phát,Thời lượng phát (giây),Lý do,Phiên bản chương trình,Mục chương trình');
  t.equal(lines.length, 4, 'one row per delivery');
  t.ok(lines.slice(1).every((l) => l.startsWith('99003,Xã Tân Lập,') && l.includes(',Đã phát xong,')));
  const xlsx = await fetch(`${base}/api/v1/reports/as-run?area=99&from=${today}&to=${today}&format=xlsx`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(xlsx.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as never);
  const sum = book.getWorksheet('Tổng hợp')!;
  // Every commune of the province has its row (issue 20, broken 9): Tân Lập's has the airings.
  const summaryRows = Array.from({ length: 6 }, (_, i) => sum.getRow(4 + i));
  t.same(summaryRows.map((r) => r.getCell(1).value).sort(), ['99001', '99002', '99003', '99004', '99005', '99006'].sort(), 'one row per commune of the province');
  const row = summaryRows.find((r) => r.getCell(1).value === '99003')!;
  t.same(row.values, [undefined, '99003', 'Xã Tân Lập', 3, 3, 0, 0, 0, 0, 0, row.getCell(10).value], 'the workbook reads back: 3 scheduled, 3 played in Tân Lập');
  t.equal(book.getWorksheet('Chi tiết')!.rowCount, 4, 'a header and one row per delivery');
  const yesterday = new Date(Date.now() + 7 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
  t.equal((await api('GET', `/api/v1/reports/as-run?area=99&from=${yesterday}&to=${yesterday}`, undefined, token)).body.totals.scheduled, 0, 'another day is empty');
  t.equal((await api('GET', `/api/v1/reports/as-run?area=99&from=2026-02-30&to=${today}`, undefined, token)).status, 400, 'not a calendar date');
  t.equal((await api('GET', `/api/v1/reports/as-run?area=12&from=${today}&to=${today}`, undefined, token)).status, 404);
});

t.test('a box that is offline at broadcast time gets the bulletin when it connects', async (t) => {
  const { api, token, base } = await startTestServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-sim-');
  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Họp dân', text: 'Mời bà con đến nhà văn hóa thôn họp lúc mười chín giờ.' }, token);
  // Provision the box first, stop it, broadcast while it is away, then bring it back.
  const opts = { serverUrl: base, count: 1, areaCode: '99004', stateFile: join(simDir, 's.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 };
  const first = await startSimulation(opts);
  await first.waitForConnections(10_000);
  await first.stop();
  await waitFor('offline on the server', async () => ((await api('GET', '/api/v1/devices?state=offline&area=99004', undefined, token)).body.total === 1 ? true : null), 5000);

  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.body.id, target: { areaCodes: ['99004'] } }, token);
  const before = (await api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, token)).body;
  t.equal(before.deliveries[0].state, 'queued', 'nothing was sent to an offline box');

  const again = await startSimulation(opts);
  t.teardown(() => again.stop());
  t.equal(again.provisioned, 0, 'the state file was reused');
  await waitFor(
    'the returning box to play',
    async () => ((await api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, token)).body.deliveries[0].state === 'played' ? true : null),
    bulletin.body.audio.durationMs + 20_000,
  );
  t.pass('played after reconnecting');
});

t.test('a corrupted download is discarded and reported, never played', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 1, areaCode: '99005', stateFile: join(simDir, 's.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'x', text: 'Thông báo thử nghiệm hệ thống.' }, token);
  // Damage the stored file behind the server's back: the box must refuse bytes that do not match the hash.
  const stat = await server.ctx.media.stat(bulletin.body.audio.sha256);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(stat!.path, Buffer.concat([await readFile(stat!.path), Buffer.from('tampered')]));
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.body.id, target: { areaCodes: ['99005'] } }, token);
  const d = await waitFor(
    'the failure report',
    async () => {
      const x = (await api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, token)).body.deliveries[0];
      return x.state === 'failed' || x.state === 'played' ? x : null;
    },
    20_000,
  );
  t.equal(d.state, 'failed');
  t.match(d.reason, /hash mismatch/i);
});

/**
 * Issue 20: "a printable monthly report per commune and for the province … as PDF". Real airings on boxes that
 * speak MQTT to the in-process broker; the monthly JSON must say what the as-run report says for the same
 * month; the PDF must carry the national motto, the title, the period and a commune's row, in Vietnamese
 * that survives text extraction (poppler's pdftotext, when the machine has it).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type MonthlyReport, type AsRunReport } from '@loaxa/shared';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SCREENSHOTS } from '../web/helpers.js';
import { box } from '../helpers/mqtt-box.js';

const run = promisify(execFile);
const PDFTOTEXT = '/usr/bin/pdftotext';
const PDFTOPPM = '/usr/bin/pdftoppm';


/** Vietnam's month (YYYY-MM) and its first and last days (YYYY-MM-DD) for an instant. */
function vnMonth(ms: number) {
  const d = new Date(ms + 7 * 3600_000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const mm = String(m).padStart(2, '0');
  return { month: `${y}-${mm}`, first: `${y}-${mm}-01`, last: `${y}-${mm}-${last}`, y, mm, lastDay: String(last).padStart(2, '0') };
}

t.test('the monthly report counts what the as-run counts, and prints as an administrative report', async (t) => {
  const { api, token, urls, base } = await startTestServer(t);
  await importSampleAreas(api, token);
  const market = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '9900301', lat: 21.03, lon: 105.85 }, token)).body;
  const school = (await api('POST', '/api/v1/devices', { name: 'Loa trường', areaCode: '99004', lat: 21.05, lon: 105.8 }, token)).body;
  const a = await box(t, urls.mqttUrl, market);
  const b = await box(t, urls.mqttUrl, school);

  const news = (await api('POST', '/api/v1/bulletins', { title: 'Phòng chống lũ', text: 'Thông báo khẩn về mưa lũ.' }, token)).body;
  const urgent = (await api('POST', '/api/v1/broadcasts', { bulletinId: news.id, target: { areaCodes: ['99003', '99004'] }, priority: 'emergency' }, token)).body;
  t.ok(urgent.id, 'an emergency broadcast to two communes');
  const playA = await waitFor('the play on the market box', () => a.plays.find((x) => x.broadcastId === urgent.id) ?? null, 15_000);
  const playB = await waitFor('the play on the school box', () => b.plays.find((x) => x.broadcastId === urgent.id) ?? null, 15_000);
  const at = playA.occurrenceAt;
  await waitFor('a second to pass', () => (Date.now() > at + 1200 ? true : null), 15_000, 50);
  // The market box plays it for a second; the school box fails (its amplifier gave out, a fault it reports).
  await a.report({ kind: 'delivery', broadcastId: urgent.id, occurrenceAt: at, state: 'playing', at: at + 100 });
  await a.report({ kind: 'delivery', broadcastId: urgent.id, occurrenceAt: at, state: 'played', at: at + 1100 });
  await b.report({ kind: 'fault', fault: 'amplifier', active: true, at: playB.occurrenceAt + 50 });
  await b.report({ kind: 'delivery', broadcastId: urgent.id, occurrenceAt: playB.occurrenceAt, state: 'failed', at: playB.occurrenceAt + 60, reason: 'amplifier' });

  const { month, first, last, y, mm, lastDay } = vnMonth(at);
  const asRun = await waitFor('the as-run to show both', async () => {
    const r = (await api<AsRunReport>('GET', `/api/v1/reports/as-run?area=99&from=${first}&to=${last}`, undefined, token)).body;
    return r.totals.played === 1 && r.totals.failed === 1 ? r : null;
  }, 15_000);
  await waitFor('the fault to be stored', async () => {
    const r = (await api<MonthlyReport>('GET', `/api/v1/reports/monthly?area=99&month=${month}`, undefined, token)).body;
    return r.faults.opened === 1 ? true : null;
  }, 15_000);

  const res = await api<MonthlyReport>('GET', `/api/v1/reports/monthly?area=99&month=${month}`, undefined, token);
  t.equal(res.status, 200);
  const r = res.body;
  t.same(r.airings, asRun.totals, 'the month’s airings are the as-run’s totals for the same days');
  t.equal(r.airings.played, 1);
  t.equal(r.airings.failed, 1);
  t.ok(r.airings.airtimeMs >= 900 && r.airings.airtimeMs <= 1100, `airtime is the played second (${r.airings.airtimeMs} ms)`);
  t.same(r.airingsByPriority.find((p) => p.priority === 'emergency'), { priority: 'emergency', ...asRun.totals }, 'all of it is emergency');
  t.same(r.broadcasts, { total: 1, byPriority: { normal: 0, priority: 0, emergency: 1 } });
  for (const c of asRun.communes) {
    const row = r.communes.find((x) => x.code === c.code);
    t.ok(row, `${c.name} has its row`);
    t.equal(row!.airings.played, c.played, `${c.name}: played as in the as-run`);
    t.equal(row!.airings.failed, c.failed, `${c.name}: failed as in the as-run`);
    t.equal(row!.airings.scheduled, c.scheduled, `${c.name}: scheduled as in the as-run`);
  }
  t.equal(r.communes.length, 6, 'every commune of the province, those that aired nothing too');
  t.same(r.faults, { opened: 1, devices: 1, openAtEnd: 1, byKind: [{ kind: 'amplifier', count: 1 }] }, 'the amplifier fault, still open');
  t.equal(r.communes.find((c) => c.code === '99004')!.faults, 1, 'counted for Hưng Đạo');
  t.same(r.boxes, { total: 2, online: 2, faulty: 1, onlinePct: 100 });
  t.same(r.coverage.communes, { total: 6, installed: 2, working: 1 }, 'Hưng Đạo’s only box has a blocking fault');
  t.same(r.issuer, { superior: null, unit: 'UBND TỈNH MẪU', place: 'Mẫu', reportsTo: null }, 'the province issues its own report');

  const commune = (await api<MonthlyReport>('GET', `/api/v1/reports/monthly?area=99003&month=${month}`, undefined, token)).body;
  t.same(commune.issuer, { superior: 'UBND TỈNH MẪU', unit: 'UBND XÃ TÂN LẬP', place: 'Tân Lập', reportsTo: 'UBND tỉnh Mẫu' }, 'a commune’s report: the province above, the commune below');
  t.equal(commune.communes.length, 1);
  t.equal(commune.airings.played, 1, 'the commune’s own airing (its village’s box counts for it)');
  t.equal(commune.airings.failed, 0);

  // Bad input changes nothing and says why; an area outside the caller's is not found.
  t.equal((await api('GET', `/api/v1/reports/monthly?area=99&month=2026-13`, undefined, token)).status, 400, 'no 13th month');
  t.equal((await api('GET', `/api/v1/reports/monthly?area=99&month=${month}&format=doc`, undefined, token)).status, 400);
  t.equal((await api('GET', `/api/v1/reports/monthly?area=98&month=${month}`, undefined, token)).status, 404, 'an unknown area');
  await api('POST', '/api/v1/users', { username: 'canbo-hd', password: 'mat-khau-dai-hon-12', role: 'operator', areaCode: '99004' }, token);
  const login = await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'canbo-hd', password: 'mat-khau-dai-hon-12' });
  t.equal((await api('GET', `/api/v1/reports/monthly?area=99003&month=${month}`, undefined, login.body.token)).status, 404, 'a commune officer cannot read another commune’s month');
  t.equal((await api('GET', `/api/v1/reports/monthly?area=99004&month=${month}`, undefined, login.body.token)).status, 200, 'but reads their own');

  const pdfRes = await fetch(`${base}/api/v1/reports/monthly?area=99&month=${month}&format=pdf`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(pdfRes.status, 200);
  t.equal(pdfRes.headers.get('content-type'), 'application/pdf');
  const pdf = Buffer.from(await pdfRes.arrayBuffer());
  t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'a PDF');
  t.ok(pdf.includes('/FontFile2') && pdf.includes('/ToUnicode'), 'the font is embedded with its map back to Unicode');
  const dir = await tempDir(t, 'loaxa-monthly-');
  const file = join(dir, 'report.pdf');
  await writeFile(file, pdf);

  t.test('the PDF’s text, as poppler extracts it', { skip: existsSync(PDFTOTEXT) ? false : 'pdftotext is missing (Debian: apt-get install poppler-utils)' }, async (t) => {
    await run(PDFTOTEXT, ['-layout', file, join(dir, 'report.txt')]);
    const text = (await readFile(join(dir, 'report.txt'), 'utf8')).normalize('NFC');
    t.match(text, 'UBND TỈNH MẪU', 'the issuing body');
    t.match(text, 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'the national motto');
    t.match(text, 'Độc lập - Tự do - Hạnh phúc');
    t.match(text, `Kết quả hoạt động hệ thống truyền thanh thông minh tháng ${mm}/${y}`, 'the title');
    t.match(text, `từ ngày 01/${mm}/${y} đến ngày ${lastDay}/${mm}/${y}`, 'the period');
    t.match(text, /Mẫu, ngày \d\d tháng \d\d năm \d{4}/, 'place and date');
    t.match(text, /Tổng cộng\s+2\s+2\s+2\s+1\s+0\s+1\s+1 giây\s+1/, 'the table’s totals');
    t.match(text, /Xã Tân Lập\s+1\s+1\s+1\s+1\s+0\s+0\s+1 giây\s+0/, 'Tân Lập’s row: 1 box, 1 online, 1 scheduled, 1 played, 0 missed, 0 failed, airtime, no fault');
    t.match(text, /Xã Hưng Đạo\s+1\s+1\s+1\s+0\s+0\s+1\s+0 phút\s+1/, 'Hưng Đạo’s row: the failed airing and its fault');
    t.match(text, /Xã Quang Trung\s+0\s+0\s+0/, 'a commune with nothing, in zeros');
    t.match(text, /Khẩn cấp\s+2\s+1\s+0\s+1/, 'airings by priority and state');
    t.match(text, 'NGƯỜI LẬP BÁO CÁO');
    t.match(text, 'THỦ TRƯỞNG ĐƠN VỊ');
    t.match(text, 'Nơi nhận:');
  });

  t.test('a commune’s PDF: issued by the commune under its province, sent up to the province', { skip: existsSync(PDFTOTEXT) ? false : 'pdftotext is missing (Debian: apt-get install poppler-utils)' }, async (t) => {
    const res = await fetch(`${base}/api/v1/reports/monthly?area=99003&month=${month}&format=pdf`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 200);
    await writeFile(join(dir, 'commune.pdf'), Buffer.from(await res.arrayBuffer()));
    await run(PDFTOTEXT, ['-layout', join(dir, 'commune.pdf'), join(dir, 'commune.txt')]);
    const text = (await readFile(join(dir, 'commune.txt'), 'utf8')).normalize('NFC');
    t.match(text, /UBND TỈNH MẪU[^\n]*CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM/, 'the province above, beside the motto');
    t.match(text, 'UBND XÃ TÂN LẬP', 'the commune below it');
    t.match(text, /Tân Lập, ngày \d\d tháng \d\d năm \d{4}/);
    t.match(text, 'UBND tỉnh Mẫu (để báo cáo)', 'sent up to the province');
    t.notMatch(text, 'THEO TỪNG XÃ', 'no per-commune table for one commune');
  });

  t.test('page 1 as an image', { skip: existsSync(PDFTOPPM) ? false : 'pdftoppm is missing (Debian: apt-get install poppler-utils)' }, async (t) => {
    await run(PDFTOPPM, ['-png', '-r', '110', '-f', '1', '-l', '1', '-singlefile', file, join(dir, 'page1')]);
    const png = await readFile(join(dir, 'page1.png'));
    t.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    await mkdir(SCREENSHOTS, { recursive: true });
    await copyFile(join(dir, 'page1.png'), join(SCREENSHOTS, 'monthly-report.png'));
  });
});

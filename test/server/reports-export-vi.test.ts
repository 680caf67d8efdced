/**
 * Issue 20, broken 8: the as-run CSV and the workbook's detail sheet had English headers and values
 * (`played`, `emergency`) and UTC times, 7 hours off, for people who read Vietnamese and live at UTC+7.
 * Now both say what the web app says (headers, states, priorities, categories), times are Vietnam's wall clock
 * as `dd/MM/yyyy HH:mm:ss`, the CSV starts with a BOM for Excel, and formula prefixes stay neutralised.
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { box } from '../helpers/mqtt-box.js';


/** RFC 4180 lines into cells (quoted cells may hold commas, line breaks and doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** What a clock in Hà Nội showed at this instant, as the export writes it. */
function vietnamClock(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const p = (k: string) => parts.find((x) => x.type === k)!.value;
  return `${p('day')}/${p('month')}/${p('year')} ${p('hour')}:${p('minute')}:${p('second')}`;
}

const HEADER = ['Mã xã', 'Tên xã', 'Mã cụm loa', 'Tên cụm loa', 'Mã lượt phát', 'Tiêu đề', 'Chuyên mục', 'Mức ưu tiên', 'Giờ phát theo lịch', 'Trạng thái', 'Bắt đầu phát', 'Kết thúc phát', 'Thời lượng phát (giây)', 'Lý do', 'Phiên bản chương trình', 'Mục chương trình'];

t.test('the as-run CSV and workbook speak Vietnamese and tell Vietnam time', async (t) => {
  const { api, token, urls, base } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).body;
  const a = await box(t, urls.mqttUrl, dev);
  // A title a spreadsheet would run as a formula: it must stay text.
  const news = (await api('POST', '/api/v1/bulletins', { title: '=HYPERLINK("http://x")', text: 'Thông báo khẩn về mưa lũ.', category: 'unscheduled-news' }, token)).body;
  const bc = (await api('POST', '/api/v1/broadcasts', { bulletinId: news.id, target: { deviceIds: [dev.id] }, priority: 'emergency' }, token)).body;
  t.ok(bc.id, 'the broadcast is on');
  const play = await waitFor('the play', () => a.plays.find((x) => x.broadcastId === bc.id) ?? null, 5000);
  const occurrenceAt = play.occurrenceAt;
  await waitFor('a second to pass', () => (Date.now() > occurrenceAt + 1200 ? true : null), 5000, 50);
  const startedAt = occurrenceAt + 100;
  const endedAt = occurrenceAt + 1100;
  await a.report({ kind: 'delivery', broadcastId: bc.id, occurrenceAt, state: 'playing', at: startedAt });
  await a.report({ kind: 'delivery', broadcastId: bc.id, occurrenceAt, state: 'played', at: endedAt });
  const day = new Date(occurrenceAt + 7 * 3600_000).toISOString().slice(0, 10);
  await waitFor('the airing played', async () => {
    const r = (await api('GET', `/api/v1/reports/as-run?area=99003&from=${day}&to=${day}`, undefined, token)).body;
    return r.totals.played === 1 ? true : null;
  }, 5000);

  const res = await fetch(`${base}/api/v1/reports/as-run?area=99003&from=${day}&to=${day}&format=csv`, { headers: { authorization: `Bearer ${token}` } });
  // Read the bytes: fetch's text() would drop the BOM itself.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  t.ok(text.startsWith('\uFEFF'), 'a BOM, so Excel reads the Vietnamese as UTF-8');
  const rows = parseCsv(text.slice(1));
  t.same(rows[0], HEADER, 'Vietnamese headers');
  const line = rows.find((r) => r[4] === bc.id)!;
  t.ok(line, 'the airing has its line');
  const col = (name: string) => line[HEADER.indexOf(name)];
  t.equal(col('Tên cụm loa'), 'Loa chợ');
  t.equal(col('Tiêu đề'), `'=HYPERLINK("http://x")`, 'a formula-looking title is neutralised, still');
  t.equal(col('Chuyên mục'), 'Thông tin đột xuất, bất thường', 'the category as the web app names it');
  t.equal(col('Mức ưu tiên'), 'Khẩn cấp', 'the priority in Vietnamese, not "emergency"');
  t.equal(col('Trạng thái'), 'Đã phát xong', 'the state in Vietnamese, not "played"');
  t.equal(col('Giờ phát theo lịch'), vietnamClock(occurrenceAt), 'the scheduled time on Vietnam’s clock, dd/MM/yyyy HH:mm:ss');
  t.equal(col('Bắt đầu phát'), vietnamClock(startedAt));
  t.equal(col('Kết thúc phát'), vietnamClock(endedAt));
  t.match(col('Bắt đầu phát'), /^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/);
  t.notOk(text.includes('Z,') || /\d{4}-\d\d-\d\dT/.test(text), 'no ISO/UTC instant anywhere');

  const xlsx = await fetch(`${base}/api/v1/reports/as-run?area=99003&from=${day}&to=${day}&format=xlsx`, { headers: { authorization: `Bearer ${token}` } });
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as never);
  const detail = book.getWorksheet('Chi tiết')!;
  const cells = (n: number) => (detail.getRow(n).values as unknown[]).slice(1);
  t.same(cells(1), HEADER, 'the detail sheet has the same Vietnamese headers');
  // A workbook cell has a type: the title is a text cell, which a spreadsheet shows and never runs.
  t.equal(detail.getRow(2).getCell(6).type, ExcelJS.ValueType.String, 'the formula-looking title is a text cell, not a formula');
  t.same(cells(2).slice(5, 12), ['=HYPERLINK("http://x")', 'Thông tin đột xuất, bất thường', 'Khẩn cấp', vietnamClock(occurrenceAt), 'Đã phát xong', vietnamClock(startedAt), vietnamClock(endedAt)], 'and the same Vietnamese values and Vietnam times');
});

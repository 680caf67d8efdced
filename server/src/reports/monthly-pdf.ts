/**
 * The monthly report (issue 20) as an A4 PDF in the form of a Vietnamese administrative report (Decree
 * 30/2020/NĐ-CP, Appendix I): the issuing body top left, the national motto top right with its underline, place
 * and date, the title and period, the figures, a table per commune for the province, and the signature block.
 * Drawn only from the JSON figures (monthly.ts). The font is DejaVu Serif Condensed from the `dejavu-fonts-ttf` npm package,
 * so Vietnamese renders on a fresh machine after `npm ci` with no system font; pdfkit embeds the subset it uses
 * with its ToUnicode map, so the text can be searched and copied.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PRIORITY_LABELS_VI, type AsRunCounts, type MonthlyReport } from '@loaxa/shared';
import { VN_UTC_OFFSET_MS } from '../scheduling/local-time.js';

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
// The condensed cut: close to the width of Times New Roman, the face official documents use (Decree 30/2020).
const FONTS = { regular: 'DejaVuSerifCondensed.ttf', bold: 'DejaVuSerifCondensed-Bold.ttf', italic: 'DejaVuSerifCondensed-Italic.ttf', boldItalic: 'DejaVuSerifCondensed-BoldItalic.ttf' } as const;

/** The Vietnamese names of fault kinds (the web app's words). */
const FAULT_LABELS: Record<string, string> = {
  power: 'mất nguồn',
  amplifier: 'hỏng bộ khuếch đại',
  'speaker-line': 'đứt đường loa',
  'audio-device': 'lỗi thiết bị âm thanh',
  disk: 'lỗi bộ nhớ',
  clock: 'sai đồng hồ',
  network: 'mất mạng',
};

const num = new Intl.NumberFormat('vi-VN');
const fmt = (n: number) => num.format(n);
const fmtPct = (n: number) => `${new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }).format(n)}%`;

/** Vietnam's calendar date of an instant. */
function vnDate(ms: number): { d: string; m: string; y: string } {
  const t = new Date(ms + VN_UTC_OFFSET_MS);
  return { d: String(t.getUTCDate()).padStart(2, '0'), m: String(t.getUTCMonth() + 1).padStart(2, '0'), y: String(t.getUTCFullYear()) };
}

/** "12 giờ 05 phút" (an airtime in the report's words); under a minute in seconds, so a short airing is not "0". */
export function durationVi(ms: number): string {
  if (ms > 0 && ms < 59_500) return `${Math.max(1, Math.round(ms / 1000))} giây`;
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${fmt(h)} giờ ${String(m).padStart(2, '0')} phút` : `${m} phút`;
}

/** Lines of text the PDF shows (exported so a test can say what to look for without parsing the layout). */
export function titleLines(r: MonthlyReport): { title: string; subtitle: string; period: string; dateLine: string } {
  const [y, m] = r.month.split('-') as [string, string];
  const from = vnDate(Date.parse(r.from));
  const last = vnDate(Date.parse(r.to) - 1);
  const made = vnDate(Date.parse(r.generatedAt));
  return {
    title: 'BÁO CÁO',
    subtitle: `Kết quả hoạt động hệ thống truyền thanh thông minh tháng ${m}/${y}`,
    period: `(Kỳ báo cáo: từ ngày ${from.d}/${from.m}/${from.y} đến ngày ${last.d}/${last.m}/${last.y})`,
    dateLine: `${r.issuer.place}, ngày ${made.d} tháng ${made.m} năm ${made.y}`,
  };
}

type Doc = PDFKit.PDFDocument;

export async function monthlyPdf(r: MonthlyReport): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const lines = titleLines(r);
  const doc: Doc = new PDFDocument({
    size: 'A4',
    // Decree 30/2020, Appendix I: top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
    margins: { top: 57, bottom: 57, left: 85, right: 57 },
    info: { Title: `${lines.title} ${lines.subtitle}`, Author: r.issuer.unit, Creator: 'Loa Xã' },
    bufferPages: true,
  });
  for (const [name, file] of Object.entries(FONTS)) doc.registerFont(name, join(FONT_DIR, file));
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  const centred = (text: string, x: number, w: number, font: keyof typeof FONTS, size: number, y?: number) => {
    doc.font(font).fontSize(size).text(text, x, y ?? doc.y, { width: w, align: 'center' });
  };
  /** A short rule under the last line, centred in the column (the underline of the motto and of the body). */
  const rule = (x: number, w: number, len: number) => {
    // pdfkit's y after a line sits just under the baseline: clear the descenders (g, y, ạ).
    const y = doc.y + 4;
    doc.moveTo(x + (w - len) / 2, y).lineTo(x + (w + len) / 2, y).lineWidth(0.6).stroke();
    doc.y = y + 6;
  };

  // Header: issuing body (left) and national motto (right), side by side.
  const top = doc.page.margins.top;
  const lw = 175;
  const rx = left + lw + 5;
  const rw = width - lw - 5;
  doc.y = top;
  if (r.issuer.superior) centred(r.issuer.superior, left - 20, lw + 20, 'regular', 11.5);
  centred(r.issuer.unit, left - 20, lw + 20, 'bold', 11.5);
  rule(left - 20, lw + 20, 60);
  centred('Số:        /BC-UBND', left - 20, lw + 20, 'regular', 12);
  const leftEnd = doc.y;
  centred('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', rx, rw, 'bold', 11.5, top);
  centred('Độc lập - Tự do - Hạnh phúc', rx, rw, 'bold', 12.5);
  rule(rx, rw, doc.font('bold').fontSize(12.5).widthOfString('Độc lập - Tự do - Hạnh phúc'));
  doc.moveDown(0.3);
  centred(lines.dateLine, rx, rw, 'italic', 12);
  doc.y = Math.max(doc.y, leftEnd) + 16;

  centred(lines.title, left, width, 'bold', 14);
  centred(lines.subtitle, left, width, 'bold', 12.5);
  centred(lines.period, left, width, 'italic', 12);
  rule(left, width, 90);
  doc.moveDown(0.5);

  const heading = (text: string) => {
    ensureRoom(40);
    doc.font('bold').fontSize(12.5).text(text, left, doc.y, { width });
    doc.moveDown(0.25);
  };
  const item = (text: string) => {
    ensureRoom(18);
    doc.font('regular').fontSize(12).text(`- ${text}`, left + 14, doc.y, { width: width - 14, lineGap: 1.5 });
  };
  const ensureRoom = (h: number) => {
    if (doc.y + h > doc.page.height - doc.page.margins.bottom) {
      doc.addPage();
      doc.y = doc.page.margins.top;
    }
  };

  const unitWord = r.communes.length > 1 ? `toàn ${r.area.type.trim().toLocaleLowerCase('vi') || 'tỉnh'}` : 'trên địa bàn';
  heading('I. THIẾT BỊ VÀ ĐỘ PHỦ SÓNG');
  item(`Tổng số cụm loa ${unitWord}: ${fmt(r.boxes.total)}; đang trực tuyến khi lập báo cáo: ${fmt(r.boxes.online)} (${fmtPct(r.boxes.onlinePct)}); đang có sự cố: ${fmt(r.boxes.faulty)}.`);
  item(`Số xã, phường có cụm loa: ${fmt(r.coverage.communes.installed)}/${fmt(r.coverage.communes.total)} (${fmtPct(r.coverage.installedPct)}); đang hoạt động: ${fmt(r.coverage.communes.working)}/${fmt(r.coverage.communes.total)} (${fmtPct(r.coverage.workingPct)}).`);
  if (r.coverage.month) item(`Độ phủ hoạt động trong tháng (${fmt(r.coverage.month.samples)} lần đo): trung bình ${fmtPct(r.coverage.month.avgWorkingPct)}, thấp nhất ${fmtPct(r.coverage.month.minWorkingPct)}.`);
  doc.moveDown(0.4);

  heading('II. KẾT QUẢ PHÁT THANH');
  const prio = (p: string) => PRIORITY_LABELS_VI[p as keyof typeof PRIORITY_LABELS_VI] ?? p;
  item(`Số chương trình, bản tin được phát: ${fmt(r.broadcasts.total)} (${Object.entries(r.broadcasts.byPriority).map(([p, n]) => `${prio(p).toLocaleLowerCase('vi')}: ${fmt(n)}`).join('; ')}).`);
  item(`Số lượt phát trên các cụm loa theo lịch: ${fmt(r.airings.scheduled)}; đã phát: ${fmt(r.airings.played)}; bỏ lỡ: ${fmt(r.airings.missed)}; lỗi: ${fmt(r.airings.failed)}; đã hủy: ${fmt(r.airings.cancelled)}; hết hạn: ${fmt(r.airings.expired)}; chưa xong: ${fmt(r.airings.pending)}.`);
  item(`Tổng thời lượng đã phát: ${durationVi(r.airings.airtimeMs)}.`);
  doc.moveDown(0.3);
  const countCols = (c: AsRunCounts) => [fmt(c.scheduled), fmt(c.played), fmt(c.missed), fmt(c.failed), fmt(c.cancelled), fmt(c.expired), fmt(c.pending), durationVi(c.airtimeMs)];
  table(doc, ensureRoom, left, width, {
    header: ['Mức ưu tiên', 'Theo lịch', 'Đã phát', 'Bỏ lỡ', 'Lỗi', 'Đã hủy', 'Hết hạn', 'Chưa xong', 'Thời lượng'],
    widths: [0.17, 0.09, 0.09, 0.08, 0.07, 0.08, 0.09, 0.1, 0.23],
    rows: [...r.airingsByPriority.map((p) => [prio(p.priority), ...countCols(p)]), ['Tổng cộng', ...countCols(r.airings)]],
    boldLast: true,
  });
  doc.moveDown(0.6);

  heading('III. SỰ CỐ, TIẾP SÓNG VÀ CẢNH BÁO THIÊN TAI');
  const kinds = r.faults.byKind.map((k) => `${FAULT_LABELS[k.kind] ?? k.kind}: ${fmt(k.count)}`).join('; ');
  item(`Sự cố phát sinh trong tháng: ${fmt(r.faults.opened)} trên ${fmt(r.faults.devices)} cụm loa${kinds ? ` (${kinds})` : ''}; chưa khắc phục đến cuối tháng: ${fmt(r.faults.openAtEnd)}.`);
  item(`Tiếp sóng: ${fmt(r.relays.airings)} lượt trên các cụm loa, thời lượng tiếp sóng ${durationVi(r.relays.relayedMs)}, gián đoạn ${durationVi(r.relays.gapMs)}.`);
  item(`Cảnh báo thiên tai tiếp nhận: ${fmt(r.warnings.total)}, trong đó đã phát trên loa: ${fmt(r.warnings.aired)}.`);
  doc.moveDown(0.6);

  if (r.communes.length > 1) {
    heading('IV. KẾT QUẢ THEO TỪNG XÃ, PHƯỜNG');
    table(doc, ensureRoom, left, width, {
      header: ['STT', 'Xã, phường', 'Cụm loa', 'Trực tuyến', 'Theo lịch', 'Đã phát', 'Bỏ lỡ', 'Lỗi', 'Thời lượng', 'Sự cố'],
      widths: [0.05, 0.25, 0.08, 0.09, 0.09, 0.09, 0.07, 0.06, 0.16, 0.06],
      rows: [
        ...r.communes.map((c, i) => [String(i + 1), c.name, fmt(c.boxes.total), fmt(c.boxes.online), fmt(c.airings.scheduled), fmt(c.airings.played), fmt(c.airings.missed), fmt(c.airings.failed), durationVi(c.airings.airtimeMs), fmt(c.faults)]),
        ['', 'Tổng cộng', fmt(r.boxes.total), fmt(r.boxes.online), fmt(r.airings.scheduled), fmt(r.airings.played), fmt(r.airings.missed), fmt(r.airings.failed), durationVi(r.airings.airtimeMs), fmt(r.faults.opened)],
      ],
      boldLast: true,
      leftColumns: [1],
    });
    doc.moveDown(0.6);
  }

  // Signature block: who made the report and the head of the unit, with room to sign, then the recipients.
  ensureRoom(170);
  const sy = doc.y + 6;
  const half = width / 2;
  centred('NGƯỜI LẬP BÁO CÁO', left, half, 'bold', 12, sy);
  centred('(Ký, ghi rõ họ tên)', left, half, 'italic', 11);
  centred('THỦ TRƯỞNG ĐƠN VỊ', left + half, half, 'bold', 12, sy);
  centred('(Ký tên, đóng dấu)', left + half, half, 'italic', 11);
  doc.y += 80;
  doc.font('boldItalic').fontSize(12).text('Nơi nhận:', left, doc.y, { width: half });
  // A commune reports to its province; the province to the ministry's department of grassroots information.
  const superior = `- ${r.issuer.reportsTo ?? 'Cục Thông tin cơ sở'} (để báo cáo);`;
  for (const line of [superior, ...(r.communes.length > 1 ? ['- UBND các xã, phường;'] : []), '- Lưu: VT.']) doc.font('regular').fontSize(11).text(line, left, doc.y, { width: half });

  // Page numbers at the foot of every page after the first (Decree 30: Arabic numerals, centred).
  const range = doc.bufferedPageRange();
  for (let i = 1; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    // Text below the bottom margin makes pdfkit start a new page (one blank page per number): lift the margin.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('regular').fontSize(11).text(String(i + 1), left, doc.page.height - 40, { width, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

interface TableSpec {
  header: string[];
  /** Fractions of the width. */
  widths: number[];
  rows: string[][];
  boldLast?: boolean;
  /** Columns aligned left (names); the others are numbers, right-aligned. */
  leftColumns?: number[];
}

/** A ruled table that continues on the next page with its header repeated. */
function table(doc: Doc, ensureRoom: (h: number) => void, x: number, width: number, spec: TableSpec): void {
  const ws = spec.widths.map((f) => f * width);
  const pad = 3;
  const drawRow = (cells: string[], font: 'regular' | 'bold', size: number, isHeader: boolean) => {
    doc.font(font).fontSize(size);
    const h = Math.max(...cells.map((c, i) => doc.heightOfString(c, { width: ws[i]! - 2 * pad }))) + 2 * pad;
    ensureRoom(h + (isHeader ? 20 : 0));
    const y = doc.y;
    let cx = x;
    cells.forEach((c, i) => {
      const align = isHeader ? 'center' : i === 0 || spec.leftColumns?.includes(i) ? 'left' : 'right';
      doc.rect(cx, y, ws[i]!, h).lineWidth(0.5).stroke();
      doc.text(c, cx + pad, y + pad, { width: ws[i]! - 2 * pad, align });
      cx += ws[i]!;
    });
    doc.y = y + h;
    return h;
  };
  drawRow(spec.header, 'bold', 8.5, true);
  spec.rows.forEach((row, i) => {
    const last = spec.boldLast && i === spec.rows.length - 1;
    // A row that would not fit starts a page, which repeats the header first.
    doc.font(last ? 'bold' : 'regular').fontSize(9);
    const h = Math.max(...row.map((c, j) => doc.heightOfString(c, { width: ws[j]! - 6 }))) + 6;
    if (doc.y + h > doc.page.height - doc.page.margins.bottom) {
      doc.addPage();
      doc.y = doc.page.margins.top;
      drawRow(spec.header, 'bold', 8.5, true);
    }
    drawRow(row, last ? 'bold' : 'regular', 9, false);
  });
  doc.x = x;
}

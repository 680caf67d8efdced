/**
 * The report's Vietnamese rule names (vi-reading.md "Reports"): the operator who approves a bulletin reads
 * these next to each span, so they name what was done in the operator's words, not the code's.
 */
import type { ReportSpan, RuleName } from './types.js';

export const RULE_LABELS: Readonly<Record<RuleName, string>> = Object.freeze({
  pause: 'ngắt nghỉ',
  quote: 'dấu ngoặc kép',
  hyphen: 'gạch nối',
  ampersand: 'ký hiệu &, đọc "và"',
  equals: 'dấu bằng',
  plus: 'dấu cộng',
  range: 'khoảng, đọc "đến"',
  negative: 'số âm',
  bullet: 'gạch đầu dòng, bỏ qua',
  'end-mark': 'dấu kết thúc bài, bỏ qua',
  per: 'dấu / đọc là "mỗi" hoặc "trên"',
  or: 'dấu / đọc là "hoặc"',
  list: 'liệt kê số',
  web: 'địa chỉ mạng',
  roman: 'số La Mã',
  heading: 'tiêu đề viết hoa',
  dictionary: 'từ điển viết tắt',
  loanword: 'từ mượn, theo từ điển',
  'loanword-guess': 'từ nước ngoài, đoán cách đọc',
  'place-name': 'địa danh viết liền hoặc thiếu dấu',
  toneless: 'từ thiếu dấu, đoán cách đọc',
  symbol: 'số, ký hiệu văn bản',
  score: 'tỷ số',
  ratio: 'tỷ lệ',
  time: 'giờ',
  date: 'ngày tháng',
  'invalid-date': 'ngày tháng không hợp lệ',
  ordinal: 'số thứ tự',
  number: 'số',
  decimal: 'số thập phân',
  dotted: 'số có dấu chấm',
  digits: 'đọc từng chữ số',
  percent: 'phần trăm',
  money: 'tiền',
  unit: 'đơn vị đo',
  fraction: 'phân số',
  phone: 'số điện thoại',
  letters: 'đánh vần chữ cái',
  word: 'từ tiếng Việt',
  'unknown-word': 'từ không đọc được',
  'unknown-symbol': 'ký hiệu không đọc được',
});

/** The three lists of a result, in the order an operator must look at them: the worst first. */
interface ReportLists {
  rewritten: readonly ReportSpan[];
  guessed: readonly ReportSpan[];
  unread: readonly ReportSpan[];
}

/**
 * The report as lines of text, for the command line (`tts synth`, `tts normalize`): a summary, then every
 * unread span, every guessed one, every rewritten one, each with its offsets, text, reading and the rule's
 * Vietnamese name.
 */
export function formatReport(result: ReportLists): string[] {
  const lines = [
    `báo cáo đọc: ${result.unread.length} đoạn chưa đọc được, ${result.guessed.length} đoạn đoán, ${result.rewritten.length} đoạn viết lại`,
  ];
  const groups: [string, readonly ReportSpan[]][] = [['chưa đọc', result.unread], ['đoán', result.guessed], ['viết lại', result.rewritten]];
  for (const [name, spans] of groups) {
    for (const s of spans) {
      const reading = s.reading === undefined ? '' : ` → ${JSON.stringify(s.reading)}`;
      lines.push(`  ${name.padEnd(8)} ${s.start}-${s.end} ${JSON.stringify(s.text)}${reading} (${s.label})`);
    }
  }
  return lines;
}

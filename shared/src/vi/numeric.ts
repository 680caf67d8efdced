/**
 * Plain numbers and what is glued to them (vi-reading.md "Numbers", "Money, units"):
 * - a dot groups thousands only when every group after it has exactly three digits ("10.599",
 *   "1.500.000"); otherwise it is read "chấm" with the digits after it one by one ("1.1200", "2.5");
 * - the comma is the decimal mark ("91,4" → chín mươi mốt phẩy bốn; "10.000,50" → … phẩy năm mươi);
 * - "%" is "phần trăm"; units and currencies follow (units.ts);
 * - `a/b` that is not a symbol or a date is a fraction ("3/5" → ba phần năm).
 */
import { endsWithPhrase, ORDINAL_CONTEXT } from './context.js';
import { isAlnum, isDigit } from './letters.js';
import { cardinalWords, decimalTailWords, digitWords, integerWords, monthWords, ordinalWords } from './numbers.js';
import type { Reading, Rule, RuleName, ScanContext, Style } from './types.js';
import { unitAt } from './units.js';

interface Core {
  end: number;
  words: string[];
  rule: 'number' | 'decimal' | 'dotted' | 'digits';
  plain: boolean; // digits only, no separators
}

const NUMBER = /\d+(?:\.\d+)*(?:,\d+)?/y;

/** The number itself, without what follows it. */
export function readCore(text: string, pos: number, style: Style): Core | null {
  NUMBER.lastIndex = pos;
  const m = NUMBER.exec(text);
  if (!m) return null;
  const [intPart, frac] = m[0].split(',') as [string, string | undefined];
  const groups = intPart.split('.');
  const head = groups[0]!;
  if (groups.length > 1) {
    const thousands = head.length <= 3 && groups.slice(1).every((g) => g.length === 3);
    if (!thousands) {
      // "1.1200" → một chấm một hai không không; the comma part, if any, is left for the next token.
      const words = integerWords(head, style);
      for (const g of groups.slice(1)) words.push('chấm', ...digitWords(g));
      return { end: pos + intPart.length, words, rule: 'dotted', plain: false };
    }
  }
  const digits = groups.join('');
  const words = groups.length > 1 ? cardinalWords(BigInt(digits), style) : integerWords(digits, style);
  const rule = groups.length === 1 && digits.length >= 4 && digits.startsWith('0') ? 'digits' : 'number';
  if (frac === undefined) return { end: pos + intPart.length, words, rule, plain: groups.length === 1 };
  words.push('phẩy', ...decimalTailWords(frac, style));
  return { end: pos + m[0].length, words, rule: 'decimal', plain: false };
}

function isYear(s: string): boolean {
  return s.length === 4 && Number(s) >= 1900 && Number(s) <= 2100;
}

/** Things counted one by one: after "a/b" they make it "a of b" ("17/19 tiêu chí" → mười bảy trên mười chín). */
const COUNTED = new RegExp(
  `^ (?:${[
    'xã', 'phường', 'thị trấn', 'huyện', 'thôn', 'bản', 'ấp', 'xóm', 'tổ', 'hộ', 'người', 'tiêu chí', 'chỉ tiêu',
    'trường', 'đơn vị', 'cơ quan', 'cơ sở', 'lớp', 'học sinh', 'em', 'phòng', 'trạm', 'doanh nghiệp', 'hợp tác xã',
    'câu', 'nội dung', 'nhiệm vụ', 'dự án', 'công trình', 'mô hình', 'hồ sơ', 'thủ tục', 'ca', 'mẫu', 'phiếu',
    'đại biểu', 'thành viên', 'tuyến', 'điểm', 'trận', 'đội', 'khu', 'làng', 'gia đình', 'chi bộ', 'tỉnh', 'thành phố',
  ].join('|')})(?!\\p{L})`,
  'u',
);

/** "2.150/2.300 hộ": so many thousands of so many, written with thousands dots (issue 19 bench). */
function groupedFraction(ctx: ScanContext, core: Core): Reading | null {
  const { text } = ctx;
  if (core.plain || core.rule !== 'number' || text[core.end] !== '/') return null;
  const m = /\d{1,3}(?:\.\d{3})+(?![\d,]|\.\d)|\d+(?![\d.,])/y;
  m.lastIndex = core.end + 1;
  const b = m.exec(text)?.[0];
  if (!b || isAlnum(text[core.end + 1 + b.length])) return null;
  const end = core.end + 1 + b.length;
  const of = COUNTED.test(text.slice(end, end + 16)) ? 'trên' : 'phần';
  return { end, words: [...core.words, of, ...cardinalWords(BigInt(b.replace(/\./gu, '')), ctx.style)], rule: 'fraction', kind: 'numeric' };
}

/** `a/b`, `a:b` after a plain number that no earlier rule (symbol, date, time) took. */
function pairAfter(ctx: ScanContext, pos: number, core: Core): Reading | null {
  const { text, style } = ctx;
  const sep = text[core.end];
  const grouped = groupedFraction(ctx, core);
  if (grouped) return grouped;
  if (!core.plain || (sep !== '/' && sep !== ':') || !isDigit(text[core.end + 1])) return null;
  const m = /\d+/y;
  m.lastIndex = core.end + 1;
  const b = m.exec(text)![0];
  const end = core.end + 1 + b.length;
  const a = text.slice(pos, core.end);
  if (sep === '/' && text[end] === '/' && isDigit(text[end + 1])) {
    // "31/2/2020" and the like: not a valid date, not a symbol; the operator must fix it.
    const all = /[\d/]+/y;
    all.lastIndex = pos;
    const whole = all.exec(text)![0];
    return { end: pos + whole.length, words: [whole], rule: 'invalid-date', kind: 'word', report: 'unread' };
  }
  if (isAlnum(text[end])) return null;
  const bWords = integerWords(b, style);
  if (sep === ':') return { end, words: [...core.words, 'trên', ...bWords], rule: 'ratio', kind: 'numeric' };
  // "năm học 2023/2024" → hai nghìn không trăm hai mươi ba đến hai nghìn không trăm hai mươi tư
  if (isYear(a) && isYear(b)) return { end, words: [...core.words, 'đến', ...bWords], rule: 'range', kind: 'numeric' };
  // "17/19 tiêu chí", "3/5 xã": so many of so many things is "trên" (issue 19 "Symbols in context"), and
  // so are "24/24", "7/7" (round the clock, every day); a share of one whole ("3/5 diện tích") is "phần".
  const of = COUNTED.test(text.slice(end, end + 16)) || a === b ? 'trên' : 'phần';
  return { end, words: [...core.words, of, ...bWords], rule: 'fraction', kind: 'numeric' };
}

export const numberRule: Rule = (ctx, pos) => {
  const { text, style } = ctx;
  const dollarFirst = text[pos] === '$' && isDigit(text[pos + 1]); // "$100" → một trăm đô la
  const core = readCore(text, dollarFirst ? pos + 1 : pos, style);
  if (!core) return null;
  if (!dollarFirst) {
    const pair = pairAfter(ctx, pos, core);
    if (pair) return pair;
  }
  const words = [...core.words];
  let end = core.end;
  let rule: RuleName = core.rule;
  if (dollarFirst) {
    words.push('đô', 'la');
    rule = 'money';
  } else if (text[end] === '%' || (text[end] === ' ' && text[end + 1] === '%')) {
    end += text[end] === '%' ? 1 : 2;
    words.push('phần', 'trăm');
    rule = 'percent';
  } else {
    const unit = unitAt(text, end);
    if (unit) {
      words.push(...unit.words);
      end = unit.end;
      rule = unit.money ? 'money' : 'unit';
    }
  }
  return { end, words, rule, kind: 'numeric' };
};

/**
 * "thứ 2" → thứ hai, "thứ 1" → thứ nhất, "lần thứ 4" → lần thứ tư; and "tháng 4" → tháng tư (month 4 is
 * "tư" even without a day or year).
 */
export const ordinalRule: Rule = (ctx, pos) => {
  const prev = ctx.prevWords(pos, 1);
  const month = endsWithPhrase(prev, ['tháng']);
  if (!month && !endsWithPhrase(prev, ORDINAL_CONTEXT)) return null;
  const m = /\d{1,4}/y;
  m.lastIndex = pos;
  const digits = m.exec(ctx.text)?.[0];
  if (!digits) return null;
  const end = pos + digits.length;
  const next = ctx.text[end];
  if (isAlnum(next) || ((next === '.' || next === ',' || next === '/') && isDigit(ctx.text[end + 1]))) return null;
  const n = Number(digits);
  if (month) return n >= 1 && n <= 12 ? { end, words: monthWords(n, ctx.style), rule: 'date', kind: 'numeric' } : null;
  return { end, words: ordinalWords(n, ctx.style), rule: 'ordinal', kind: 'numeric' };
};

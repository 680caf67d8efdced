/**
 * Marks read by what stands around them (issue 19 "Symbols in context"):
 * - `./.`, the end-of-article mark of official texts, is a sentence end and nothing more;
 * - `+` opening a list item is silent (a pause before it), between numbers it is "cộng";
 * - `/` between words is "mỗi" after a count ("1 số/tháng" → một số mỗi tháng), "trên" before a unit
 *   ("tạ/ha" → tạ trên héc ta; after money "một": "đồng/m2" → đồng một mét vuông), otherwise "hoặc"
 *   ("phóng sự/chương trình" → phóng sự hoặc chương trình);
 * - `3,4` after "mức", "cấp", "điều", "khoản", "dịch vụ công"… is a list of levels, not a decimal:
 *   "dịch vụ công mức 3,4" → mức ba và bốn.
 */
import { endsWithPhrase } from './context.js';
import { isDigit, isLetter } from './letters.js';
import { cardinalWords } from './numbers.js';
import type { Reading, Rule, ScanContext } from './types.js';
import { unitAt } from './units.js';

export const endMarkRule: Rule = (ctx, pos) =>
  ctx.text.startsWith('./.', pos) ? { end: pos + 3, words: ['.'], rule: 'end-mark', kind: 'pause', report: 'rewritten' } : null;

/** Only spaces between the start of the line (or a ":" / ";" that opens a list) and `pos`. */
function opensItem(text: string, pos: number): boolean {
  let i = pos - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || text[i] === '\u00a0')) i--;
  return i < 0 || text[i] === '\n' || text[i] === ':' || text[i] === ';';
}

export const plusRule: Rule = (ctx, pos) => {
  const { text, history } = ctx;
  if (text[pos] !== '+') return null;
  if (opensItem(text, pos) && /\s/u.test(text[pos + 1] ?? '')) {
    // A list bullet: said as the pause between items, never "dấu cộng".
    return { end: pos + 1, words: [','], rule: 'bullet', kind: 'pause', report: 'rewritten' };
  }
  let next = pos + 1;
  while (text[next] === ' ') next++;
  const last = history[history.length - 1];
  if (last?.kind === 'numeric' && isDigit(text[next])) return { end: pos + 1, words: ['cộng'], rule: 'plus', kind: 'word' };
  return null;
};

/** Nouns of time and of counting after which `/` is "mỗi": "2 lần/tuần", "1 số/tháng", "3 buổi/ngày". */
const PER_NOUNS = new Set([
  'ngày', 'tuần', 'tháng', 'năm', 'quý', 'giờ', 'phút', 'giây', 'buổi', 'ca', 'kỳ', 'kì', 'vụ', 'đợt', 'lượt', 'lần',
  'người', 'hộ', 'con', 'xã', 'thôn', 'trường', 'lớp', 'cháu', 'em', 'suất', 'khẩu',
]);
const MONEY_WORDS = ['đồng', 'usd', 'đô', 'triệu', 'tỷ', 'nghìn', 'ngàn'];

/** A number said since the last pause, a few items back: "1 số" before "/tháng". */
function countBefore(ctx: ScanContext): boolean {
  const h = ctx.history;
  for (let i = h.length - 1; i >= 0 && i >= h.length - 4; i--) {
    const item = h[i]!;
    if (item.kind === 'pause') return false;
    if (item.kind === 'numeric') return true;
  }
  return false;
}

function wordAfter(text: string, from: number): string {
  let end = from;
  while (end < text.length && isLetter(text[end])) end++;
  return text.slice(from, end).toLowerCase();
}

export const slashRule: Rule = (ctx, pos): Reading | null => {
  const { text } = ctx;
  if (text[pos] !== '/') return null;
  let before = pos - 1;
  while (text[before] === ' ') before--;
  let after = pos + 1;
  while (text[after] === ' ') after++;
  if (!isLetter(text[before]) || !(isLetter(text[after]) || text[after] === '°')) return null;
  const money = endsWithPhrase(ctx.prevWords(pos, 1), MONEY_WORDS);
  const unit = unitAt(text, after);
  if (unit && !unit.money && !isLetter(text[unit.end])) {
    return { end: unit.end, words: [money ? 'một' : 'trên', ...unit.words], rule: 'per', kind: 'word' };
  }
  const noun = wordAfter(text, after);
  if (PER_NOUNS.has(noun) && (countBefore(ctx) || money)) {
    return { end: pos + 1, words: [money ? 'một' : 'mỗi'], rule: 'per', kind: 'word' };
  }
  return { end: pos + 1, words: ['hoặc'], rule: 'or', kind: 'word' };
};

/** Words after which "3,4" lists levels or articles rather than writing a decimal. */
const LIST_CONTEXT = [
  'mức', 'mức độ', 'cấp', 'cấp độ', 'điều', 'khoản', 'chương', 'mục', 'tiết', 'lớp', 'khối', 'tổ', 'thôn', 'xóm',
  'ấp', 'bản', 'đội', 'khu phố', 'tổ dân phố', 'phường', 'quận', 'câu', 'dịch vụ công', 'dịch vụ công trực tuyến',
];
const LIST = /(\d{1,2})((?:, ?\d{1,2})+)(?![\d%]|[.,]\d)/y;
/** After these the comma was a decimal after all: "mức 3,5 triệu đồng", "cấp 1,5 tấn". */
const AMOUNT_AFTER = /^ ?(?:triệu|tỷ|tỉ|nghìn|ngàn|đồng|lần)(?!\p{L})/u;

export const listRule: Rule = (ctx, pos) => {
  LIST.lastIndex = pos;
  const m = LIST.exec(ctx.text);
  if (!m || !endsWithPhrase(ctx.prevWords(pos, 5), LIST_CONTEXT)) return null;
  const end = pos + m[0].length;
  const numbers = [m[1]!, ...m[2]!.split(',').slice(1)].map((s) => Number(s.trim()));
  // A list counts up ("3,4", "1,2,3"); "3,1" is a decimal.
  if (numbers.some((n, i) => i > 0 && n <= numbers[i - 1]!)) return null;
  if (AMOUNT_AFTER.test(ctx.text.slice(end, end + 8)) || unitAt(ctx.text, end)) return null;
  const words: string[] = [];
  numbers.forEach((n, i) => {
    if (i === numbers.length - 1) words.push('và');
    words.push(...cardinalWords(BigInt(n), ctx.style));
  });
  return { end, words, rule: 'list', kind: 'numeric' };
};

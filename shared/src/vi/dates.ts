/**
 * Dates (vi-reading.md "Dates and times"). A day/month pair is a date when it carries a year, or follows
 * ngày, sáng, trưa, chiều, tối, đêm, hôm (so also rạng sáng, từ ngày, đến ngày), and is a valid calendar
 * date; otherwise `a-b` is a range and `a/b` a fraction (numeric.ts). Symbols are matched before this rule.
 */
import { DATE_CONTEXT, DATE_SAYS_DAY, endsWithPhrase } from './context.js';
import { isDigit } from './letters.js';
import { cardinalWords, monthWords } from './numbers.js';
import type { Reading, Rule, ScanContext } from './types.js';

function daysInMonth(m: number, y?: number): number {
  if (m === 2) {
    if (y === undefined) return 29; // no year: 29/2 may be valid
    return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

export function isValidDate(d: number, m: number, y?: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(m, y);
}

function exec(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(text);
}

/** The date ends here: no more digits and no further "/12" or ".5" glued on. */
function endsCleanly(text: string, end: number): boolean {
  return !isDigit(text[end]) && !(/[/.-]/u.test(text[end] ?? '') && isDigit(text[end + 1]));
}

/** A date just read, then "đến", "và" or a range dash: the next day/month pair is a date too. */
function followsDate(ctx: ScanContext): boolean {
  const h = ctx.history;
  const link = h[h.length - 1];
  const before = h[h.length - 2];
  return before?.kind === 'date' && link?.words.length === 1 && ['đến', 'và'].includes(link.words[0]!);
}

/** "ngày" unless the text just said it ("Ngày 27-9" → ngày hai mươi bảy tháng chín, never "ngày ngày"). */
function dayPrefix(ctx: ScanContext, pos: number): string[] {
  return endsWithPhrase(ctx.prevWords(pos, 1), DATE_SAYS_DAY) ? [] : ['ngày'];
}

function yearWords(ctx: ScanContext, y: string | undefined): string[] {
  return y === undefined ? [] : ['năm', ...cardinalWords(BigInt(y), ctx.style)];
}

const FULL_DATE = /(\d{1,2})([/.-])(\d{1,2})\2(\d{4})/y;
const DAY_RANGE = /(\d{1,2}) ?[-–] ?(\d{1,2})([/.])(\d{1,2})(?:\3(\d{4}))?/y;
const MONTH_YEAR = /(\d{1,2})[/.-](\d{4})/y;
const QUARTER_YEAR = /([1-4])\/(\d{4})/y;
const DAY_MONTH = /(\d{1,2})([/.-])(\d{1,2})/y;

export const dateRule: Rule = (ctx, pos): Reading | null => {
  const { text, style } = ctx;
  const prev = ctx.prevWords(pos, 2);
  const dated = endsWithPhrase(prev, DATE_CONTEXT) || followsDate(ctx);

  // 03/6/2020, 27-9-2021, 03.6.2020 — a year makes it a date wherever it stands.
  let m = exec(FULL_DATE, text, pos);
  if (m && endsCleanly(text, pos + m[0].length)) {
    const [d, mo, y] = [Number(m[1]), Number(m[3]), Number(m[4])];
    const end = pos + m[0].length;
    if (!isValidDate(d, mo, y)) return { end, words: [m[0]], rule: 'invalid-date', kind: 'word', report: 'unread' };
    const words = [...dayPrefix(ctx, pos), ...cardinalWords(BigInt(d), style), 'tháng', ...monthWords(mo, style)];
    return { end, words: [...words, ...yearWords(ctx, m[4])], rule: 'date', kind: 'date' };
  }

  // ngày 25-27/9 → ngày hai mươi lăm đến hai mươi bảy tháng chín
  m = exec(DAY_RANGE, text, pos);
  if (m && (dated || m[5]) && endsCleanly(text, pos + m[0].length)) {
    const [d1, d2, mo] = [Number(m[1]), Number(m[2]), Number(m[4])];
    const y = m[5] === undefined ? undefined : Number(m[5]);
    if (isValidDate(d1, mo, y) && isValidDate(d2, mo, y) && d1 < d2) {
      const words = [...dayPrefix(ctx, pos), ...cardinalWords(BigInt(d1), style), 'đến'];
      words.push(...cardinalWords(BigInt(d2), style), 'tháng', ...monthWords(mo, style), ...yearWords(ctx, m[5]));
      return { end: pos + m[0].length, words, rule: 'date', kind: 'date' };
    }
  }

  // tháng 10-2021, tháng 12/2022 → tháng mười năm hai nghìn không trăm hai mươi mốt
  m = exec(MONTH_YEAR, text, pos);
  if (m && endsCleanly(text, pos + m[0].length) && Number(m[1]) >= 1 && Number(m[1]) <= 12) {
    const afterMonth = endsWithPhrase(prev, ['tháng']);
    // Without "tháng", only "6/2025" (slash, plausible year) is a month; "10-2021" stays a range.
    const standalone = m[0].includes('/') && Number(m[2]) >= 1900 && Number(m[2]) <= 2100;
    if (afterMonth || (standalone && !endsWithPhrase(prev, ['quý']))) {
      const words = afterMonth ? [] : ['tháng'];
      words.push(...monthWords(Number(m[1]), style), ...yearWords(ctx, m[2]));
      return { end: pos + m[0].length, words, rule: 'date', kind: 'date' };
    }
  }

  // quý 2/2023 → quý hai năm hai nghìn không trăm hai mươi ba
  m = exec(QUARTER_YEAR, text, pos);
  if (m && endsWithPhrase(prev, ['quý']) && endsCleanly(text, pos + m[0].length)) {
    const words = [...cardinalWords(BigInt(m[1]!), style), ...yearWords(ctx, m[2])];
    return { end: pos + m[0].length, words, rule: 'date', kind: 'date' };
  }

  // ngày 27-9, sáng 27/9, hôm 2.9 — only after the listed words, and only if valid.
  m = exec(DAY_MONTH, text, pos);
  if (m && dated && endsCleanly(text, pos + m[0].length)) {
    const [d, mo] = [Number(m[1]), Number(m[3])];
    if (isValidDate(d, mo)) {
      const words = [...dayPrefix(ctx, pos), ...cardinalWords(BigInt(d), style), 'tháng', ...monthWords(mo, style)];
      return { end: pos + m[0].length, words, rule: 'date', kind: 'date' };
    }
  }
  return null;
};

/**
 * Phone and hotline numbers are read digit by digit (vi-reading.md "Money, units, phone numbers"). This
 * rule runs before the thousands-separator rule, so "0912.345.678" is a phone number, not 912 million.
 */
import { CALL_CONTEXT, endsWithPhrase, PHONE_CONTEXT } from './context.js';
import { isAlnum, isDigit } from './letters.js';
import { digitWords } from './numbers.js';
import type { Reading, Rule, ScanContext } from './types.js';

interface Group {
  end: number;
  digits: string;
}

/** Digit groups joined by one space, dot or hyphen: "0214-3822-115", "0912 345 678". */
function digitGroups(text: string, pos: number): Group[] {
  const groups: Group[] = [];
  const re = /\d+/y;
  let i = pos;
  for (;;) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    groups.push({ end: i + m[0].length, digits: m[0] });
    i += m[0].length;
    if (!/[ .-]/u.test(text[i] ?? '') || !isDigit(text[i + 1])) break;
    i++;
  }
  return groups;
}

function phoneReading(prefix: string[], groups: Group[], count: number): Reading {
  const digits = groups.slice(0, count).map((g) => g.digits).join('');
  return { end: groups[count - 1]!.end, words: [...prefix, ...digitWords(digits)], rule: 'phone', kind: 'word' };
}

/** After "tổng đài", "đường dây nóng", "hotline", "(số) điện thoại", "SĐT", "fax": any number; after "gọi (ngay)", "liên hệ"… one of 3 digits or more. */
function phoneAfterContext(ctx: ScanContext, pos: number, prefix: string[], start: number): Reading | null {
  const words = ctx.prevWords(pos, 5);
  while (words.length > 0 && ['số', 'là'].includes(words[words.length - 1]!)) words.pop();
  const call = !endsWithPhrase(words, PHONE_CONTEXT) && endsWithPhrase(words, CALL_CONTEXT);
  if (!call && !endsWithPhrase(words, PHONE_CONTEXT)) return null;
  const groups = digitGroups(ctx.text, start);
  if (call && ((groups[0]?.digits.length ?? 0) < 3 || !endsCall(ctx.text, groups))) return null;
  let count = 0;
  let total = 0;
  for (const g of groups) {
    if (total + g.digits.length > 12) break;
    total += g.digits.length;
    count++;
  }
  if (count === 0) return null;
  if (isAlnum(ctx.text[groups[count - 1]!.end])) return null;
  return phoneReading(prefix, groups, count);
}

/**
 * A number to dial ends its clause or is followed by what a call is for ("gọi ngay 114 để được giúp"); one
 * followed by anything else counts something ("gọi 100 người", "liên hệ 300 hộ").
 */
const AFTER_CALL = ['để', 'khi', 'nếu', 'hoặc', 'và', 'ngay', 'miễn', 'là', 'của', 'trong', 'theo'];
function endsCall(text: string, groups: readonly Group[]): boolean {
  const rest = text.slice(groups.at(-1)!.end);
  if (/^\s*($|[.,;:!?)"”»–—-])/u.test(rest)) return true;
  const next = /^\s+(\p{L}+)/u.exec(rest)?.[1]?.toLowerCase();
  return next !== undefined && AFTER_CALL.includes(next);
}

/**
 * Anywhere: 1800 and 1900 numbers (toll-free and service lines) with their 4 or 6 digits, in one piece or
 * groups ("1900 1234", "1800.6789"): a year or a count is never followed by such a group.
 */
function serviceLine(ctx: ScanContext, prefix: string[], start: number): Reading | null {
  const groups = digitGroups(ctx.text, start);
  const digits = groups.map((g) => g.digits);
  const joined = digits.join('');
  let count = 0;
  if (/^1[89]00$/.test(digits[0] ?? '') && groups.length >= 2) {
    let total = 4;
    for (let k = 1; k < groups.length && total < 10; k++) {
      total += digits[k]!.length;
      if (total === 8 || total === 10) count = k + 1;
    }
  } else if (/^1[89]00(\d{4}|\d{6})$/.test(joined) && groups.length === 1) count = 1;
  if (count === 0 || isAlnum(ctx.text[groups[count - 1]!.end])) return null;
  return phoneReading(prefix, groups, count);
}

/** Anywhere: 9–11 digits in all, starting with 0 (or +84), in one piece or in groups. */
function phoneByShape(ctx: ScanContext, prefix: string[], start: number, plus: boolean): Reading | null {
  const groups = digitGroups(ctx.text, start);
  const first = groups[0];
  if (!first || (!plus && !first.digits.startsWith('0'))) return null;
  // A first group of one or two digits is a date or a decimal ("05.10.2023"), not a phone prefix.
  if (!plus && first.digits.length < 3) return null;
  let best = 0;
  let total = 0;
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    if (k > 0 && g.digits.length < 2) break;
    total += g.digits.length;
    const national = plus ? total - 2 : total; // +84 912 345 678 has 9 digits after the country code
    if (national > 11) break;
    if (national >= 9) best = k + 1;
  }
  if (best === 0 || isAlnum(ctx.text[groups[best - 1]!.end])) return null;
  return phoneReading(prefix, groups, best);
}

export const phoneRule: Rule = (ctx, pos) => {
  const plus = ctx.text[pos] === '+';
  const start = plus ? pos + 1 : pos;
  if (!isDigit(ctx.text[start])) return null;
  const prefix = plus ? ['cộng'] : [];
  return phoneAfterContext(ctx, pos, prefix, start) ?? phoneByShape(ctx, prefix, start, plus) ?? (plus ? null : serviceLine(ctx, prefix, start));
};

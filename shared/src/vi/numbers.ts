/**
 * Cardinal, digit-by-digit, decimal and ordinal readings (vi-reading.md "Numbers").
 * Pure arithmetic on bigint so that long amounts ("2.500.000.000 đồng") stay exact.
 */
import type { Style } from './types.js';

export const DIGIT_WORDS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'] as const;

function digit(d: number): string {
  return DIGIT_WORDS[d] ?? 'không';
}

/**
 * Reads 0 < n < 1000. `full` is set for a group that follows a spoken higher group, which must say its
 * hundreds even when zero: 1001 → một nghìn *không trăm linh một*, 2020 → hai nghìn *không trăm* hai mươi.
 */
function readGroup(n: number, full: boolean, style: Style): string[] {
  const h = Math.floor(n / 100);
  const t = Math.floor(n / 10) % 10;
  const u = n % 10;
  const words: string[] = [];
  if (full || h > 0) words.push(digit(h), 'trăm');
  if (t === 0) {
    if (u > 0) {
      // 101 → một trăm linh một; Southern style says "lẻ".
      if (words.length > 0) words.push(style === 'south' ? 'lẻ' : 'linh');
      words.push(digit(u));
    }
  } else if (t === 1) {
    words.push('mười');
    if (u === 5) words.push('lăm'); // 15 → mười lăm
    else if (u > 0) words.push(digit(u)); // 11 → mười một, 14 → mười bốn
  } else {
    words.push(digit(t), 'mươi');
    if (u === 1) words.push('mốt'); // 21 → hai mươi mốt
    else if (u === 4) words.push(style === 'south' ? 'bốn' : 'tư'); // 24 → hai mươi tư [bốn]
    else if (u === 5) words.push('lăm'); // 25 → hai mươi lăm
    else if (u > 0) words.push(digit(u));
  }
  return words;
}

const BILLION = 1_000_000_000n;

/** Reads n < 10^9 in groups of triệu, nghìn, units; `started` means a higher unit was already spoken. */
function readBelowBillion(n: bigint, started: boolean, style: Style): string[] {
  const groups = [Number(n / 1_000_000n), Number((n / 1000n) % 1000n), Number(n % 1000n)];
  const names = ['triệu', style === 'south' ? 'ngàn' : 'nghìn', ''];
  const words: string[] = [];
  let spoken = started;
  groups.forEach((g, i) => {
    if (g === 0) return;
    words.push(...readGroup(g, spoken, style));
    const name = names[i];
    if (name) words.push(name);
    spoken = true;
  });
  return words;
}

function readPositive(n: bigint, started: boolean, style: Style): string[] {
  if (n < BILLION) return readBelowBillion(n, started, style);
  // Above a billion the high part is itself a number of tỷ: 10^12 → một nghìn tỷ.
  const words = [...readPositive(n / BILLION, started, style), 'tỷ'];
  const low = n % BILLION;
  if (low > 0n) words.push(...readBelowBillion(low, true, style));
  return words;
}

/** Cardinal reading as words. */
export function cardinalWords(n: bigint, style: Style = 'north'): string[] {
  if (n === 0n) return ['không'];
  if (n < 0n) return ['âm', ...readPositive(-n, false, style)];
  return readPositive(n, false, style);
}

/** Cardinal reading of an integer: readNumber(2025) → "hai nghìn không trăm hai mươi lăm". */
export function readNumber(n: bigint | number, style: 'north' | 'south' = 'north'): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw new RangeError(`readNumber needs a safe integer, got ${n}`);
  }
  return cardinalWords(BigInt(n), style).join(' ');
}

/** Digit by digit: phone numbers, hotlines, codes with a leading zero ("0214" → không hai một bốn). */
export function digitWords(digits: string): string[] {
  const words: string[] = [];
  for (const ch of digits) if (ch >= '0' && ch <= '9') words.push(digit(ch.charCodeAt(0) - 48));
  return words;
}

/** Longest digit string still read as a cardinal; beyond that an announcer reads digits one by one. */
const MAX_CARDINAL_DIGITS = 15;

/**
 * A written integer (digits only). Short numbers with a leading zero are cardinals as written in official
 * style ("05 hộ" → năm hộ); longer ones are codes read digit by digit ("0123").
 */
export function integerWords(digits: string, style: Style): string[] {
  if (digits.length > MAX_CARDINAL_DIGITS) return digitWords(digits);
  if (digits.length >= 4 && digits.startsWith('0')) return digitWords(digits);
  return cardinalWords(BigInt(digits), style);
}

/**
 * The part after the decimal comma (91,4 → phẩy bốn; 94,45 → phẩy bốn mươi lăm; 10.000,50 → phẩy năm
 * mươi). Up to three digits are a number with leading zeros spoken ("3,05" → phẩy không năm); longer
 * tails are read digit by digit, as announcers do.
 */
export function decimalTailWords(digits: string, style: Style): string[] {
  if (digits.length > 3) return digitWords(digits);
  const trimmed = digits.replace(/^0+/, '');
  const zeros = digits.length - trimmed.length;
  const words: string[] = [];
  for (let i = 0; i < zeros; i++) words.push('không');
  if (trimmed) words.push(...cardinalWords(BigInt(trimmed), style));
  return words;
}

/** After "thứ": 1 → nhất, 4 → tư, otherwise the cardinal (thứ 2 → thứ hai, lần thứ 4 → lần thứ tư). */
export function ordinalWords(n: number, style: Style): string[] {
  if (n === 1) return ['nhất'];
  if (n === 4) return ['tư'];
  return cardinalWords(BigInt(n), style);
}

/** Month names: month 4 is "tư", month 1 is "một" (vi-reading.md "Dates and times"). */
export function monthWords(m: number, style: Style): string[] {
  return m === 4 ? ['tư'] : cardinalWords(BigInt(m), style);
}

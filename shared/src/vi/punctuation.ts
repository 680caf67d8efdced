/**
 * Punctuation: sentence punctuation is kept as pause marks (vi-reading.md "Output"); dashes between numbers
 * read "đến" ("2-3 mô hình", "10 -15 phút", "giai đoạn 2021- 2025"); a minus before a number is "âm";
 * hyphens inside words and quotes are silent; brackets are pauses; "&" is "và", "=" is "bằng".
 */
import { isAlnum, isDigit, isLetter } from './letters.js';
import type { Rule } from './types.js';

export const PAUSE_MARKS = ['.', ',', ';', ':', '!', '?'] as const;
const PAUSE_RUN = /[.,;:!?…]+/y;
const DASHES = '-–—';
const QUOTES = '"“”‘’\'«»`„';
const BRACKETS = '()[]{}';
const BULLETS = '•·●▪◦';

/** Characters this module reads; anything else that is not a letter or digit is unread. */
export function isHandledPunctuation(ch: string): boolean {
  return /[.,;:!?…&=]/u.test(ch) || (DASHES + QUOTES + BRACKETS + BULLETS).includes(ch);
}

/** ” and » close; a straight quote closes when it follows a word and a space or a mark follows it. */
function isClosingQuote(text: string, pos: number): boolean {
  const ch = text[pos]!;
  const before = text[pos - 1];
  const after = text[pos + 1];
  if (ch === '”' || ch === '»') return true;
  if (ch !== '"' && ch !== '’') return false;
  return before !== undefined && !/\s/u.test(before) && (after === undefined || !isAlnum(after));
}

/** One mark for a run: "..." → ".", "?!" → "?", ",," → ",". */
function markOf(run: string): string {
  if (run.includes('?')) return '?';
  if (run.includes('!')) return '!';
  if (run.includes('.') || run.includes('…')) return '.';
  return run[0]!;
}

export const punctuationRule: Rule = (ctx, pos) => {
  const { text, history } = ctx;
  const ch = text[pos]!;
  PAUSE_RUN.lastIndex = pos;
  const run = PAUSE_RUN.exec(text);
  if (run) return { end: pos + run[0].length, words: [markOf(run[0])], rule: 'pause', kind: 'pause' };
  // A closing quote ends a title or a quotation: a pause, so "2022 - 2025” năm 2023" is not heard as
  // "… hai mươi lăm năm" (issue 19 "Pauses"). Opening quotes and apostrophes stay silent.
  if (isClosingQuote(text, pos)) return { end: pos + 1, words: [','], rule: 'pause', kind: 'pause' };
  if (QUOTES.includes(ch) || BULLETS.includes(ch)) return { end: pos + 1, words: [], rule: 'quote', kind: 'silent' };
  if (BRACKETS.includes(ch)) return { end: pos + 1, words: [','], rule: 'pause', kind: 'pause' };
  if (ch === '&') return { end: pos + 1, words: ['và'], rule: 'ampersand', kind: 'word' };
  // Exchange rates: "1 USD = 24.500 đồng" → một đô la mỹ bằng hai mươi tư nghìn năm trăm đồng.
  if (ch === '=') return { end: pos + 1, words: ['bằng'], rule: 'equals', kind: 'word' };
  if (!DASHES.includes(ch)) return null;

  let next = pos + 1;
  while (text[next] === ' ') next++;
  const last = history[history.length - 1];
  if ((last?.kind === 'numeric' || last?.kind === 'date') && isDigit(text[next])) {
    return { end: pos + 1, words: ['đến'], rule: 'range', kind: 'word' };
  }
  const prevChar = text[pos - 1];
  if (isDigit(text[pos + 1]) && !isAlnum(prevChar)) {
    return { end: pos + 1, words: ['âm'], rule: 'negative', kind: 'word' }; // -5°C → âm năm độ xê
  }
  if (isAlnum(prevChar) && isAlnum(text[pos + 1])) return { end: pos + 1, words: [], rule: 'hyphen', kind: 'silent' };
  // A spaced dash between words ("Hà Nội - Hải Phòng") is a pause; a list bullet is silent.
  if (last && last.kind !== 'pause' && (isLetter(text[next]) || isDigit(text[next]))) {
    return { end: pos + 1, words: [','], rule: 'pause', kind: 'pause' };
  }
  return { end: pos + 1, words: [], rule: 'hyphen', kind: 'silent' };
};

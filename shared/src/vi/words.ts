/**
 * Letter tokens (vi-reading.md "Ranges, ordinals, Roman numerals" and "Abbreviations and loanwords"):
 * Roman numerals after the listed words, capital headings read as words, the dictionary, capital strings
 * spelled with letter names, ordinary words lower-cased, and unknown words left as written.
 */
import { endsWithPhrase, ROMAN_CONTEXT } from './context.js';
import { isAllCaps, isAlnum, isLetter, isVietnameseSyllable, spellWords } from './letters.js';
import { cardinalWords, ordinalWords } from './numbers.js';
import type { Reading, Rule, ScanContext } from './types.js';

const ROMAN = /^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$/u;
const ROMAN_VALUES: Readonly<Record<string, number>> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };

/** Value of a well-formed Roman numeral ("XXI" → 21), or null. */
export function parseRoman(s: string): number | null {
  if (!s || !ROMAN.test(s)) return null;
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    const v = ROMAN_VALUES[s[i]!]!;
    const next = ROMAN_VALUES[s[i + 1] ?? ''] ?? 0;
    total += v < next ? -v : v;
  }
  return total;
}

/** The run of letters and digits starting at `pos`. */
function tokenAt(text: string, pos: number): string {
  let end = pos;
  while (end < text.length && isAlnum(text[end])) end++;
  return text.slice(pos, end);
}

/** "quý II", "khóa XV", "thế kỷ XXI", "lần thứ XIII", "quý II/2023"; elsewhere "CV" is not a number. */
export const romanRule: Rule = (ctx, pos) => {
  const token = tokenAt(ctx.text, pos);
  const value = parseRoman(token);
  const prev = ctx.prevWords(pos, 2);
  if (value === null || !endsWithPhrase(prev, ROMAN_CONTEXT)) return null;
  const words = endsWithPhrase(prev, ['thứ']) ? ordinalWords(value, ctx.style) : cardinalWords(BigInt(value), ctx.style);
  let end = pos + token.length;
  const year = /\/(\d{4})(?!\d)/y;
  year.lastIndex = end;
  const y = year.exec(ctx.text);
  if (y && endsWithPhrase(prev, ['quý'])) {
    words.push('năm', ...cardinalWords(BigInt(y[1]!), ctx.style));
    end += y[0].length;
  }
  return { end, words, rule: 'roman', kind: 'numeric' };
};

/** Neighbouring letter token on the same line, skipping spaces and punctuation (not line breaks). */
function neighbour(text: string, from: number, step: 1 | -1): string | null {
  let i = from;
  while (i >= 0 && i < text.length && !isAlnum(text[i]) && text[i] !== '\n') i += step;
  if (i < 0 || i >= text.length || text[i] === '\n') return null;
  let j = i;
  while (j + step >= 0 && j + step < text.length && isAlnum(text[j + step])) j += step;
  return step === 1 ? text.slice(i, j + 1) : text.slice(j, i + 1);
}

function isCapsSyllable(token: string | null): boolean {
  return token !== null && isAllCaps(token) && !/\d/u.test(token) && isVietnameseSyllable(token);
}

/**
 * A capital heading ("THÔNG BÁO KHẨN", "AI CŨNG PHẢI ĐI TIÊM") reads as ordinary words when its tokens are
 * syllables: a capital syllable next to another capital syllable is a heading word, even if the dictionary
 * has it ("AI" in a heading is the word ai).
 */
export const headingRule: Rule = (ctx, pos) => {
  const token = tokenAt(ctx.text, pos);
  if (!isCapsSyllable(token)) return null;
  const end = pos + token.length;
  const inHeading = isCapsSyllable(neighbour(ctx.text, pos - 1, -1)) || isCapsSyllable(neighbour(ctx.text, end, 1));
  if (!inHeading) return null;
  // Report only where the dictionary would have said something else.
  const report = ctx.lexicon.lookup(token) ? 'rewritten' : 'plain';
  return { end, words: [token.toLowerCase()], rule: 'heading', kind: 'word', report };
};

export const dictionaryRule: Rule = (ctx, pos) => {
  const m = ctx.lexicon.matchAt(ctx.text, pos);
  return m ? { end: m.end, words: m.reading.split(' '), rule: 'dictionary', kind: 'word' } : null;
};

/** Everything else made of letters (and digits glued after a letter). */
export const wordRule: Rule = (ctx: ScanContext, pos: number): Reading | null => {
  if (!isLetter(ctx.text[pos])) return null;
  const token = tokenAt(ctx.text, pos);
  const end = pos + token.length;
  const hasDigit = /\d/u.test(token);
  if (!hasDigit && isVietnameseSyllable(token)) {
    // Ordinary words and single capital syllables ("Tin KHẨN") are just lower-cased.
    return { end, words: [token.toLowerCase()], rule: 'word', kind: 'word', report: 'plain' };
  }
  // Capital strings not in the dictionary ("CV", "MC", "F0", "H5N1") are spelled with letter names, and
  // so are single letters ("điểm b" → điểm bê).
  const letters = token.replace(/\d/gu, '');
  if (isAllCaps(letters) || letters.length === 1 || (hasDigit && letters.length <= 3)) {
    const spelled = spellWords(token, ctx.style);
    if (spelled) return { end, words: spelled, rule: 'letters', kind: 'word' };
  }
  // A foreign word the dictionary does not know: left as written, reported so an operator can add it.
  return { end, words: [token], rule: 'unknown-word', kind: 'word', report: 'unread' };
};

/**
 * Letters: the Vietnamese letter names used to spell capital strings, and a test for whether a token is a
 * Vietnamese syllable (vi-reading.md "Abbreviations and loanwords").
 */
import { cardinalWords } from './numbers.js';
import { isSyllable, isSyllableShape } from './syllable.js';
import type { Style } from './types.js';

/** Letter names from the spec, keyed by the upper-case letter without tone mark. */
export const LETTER_NAMES: Readonly<Record<string, string>> = {
  A: 'a', Ă: 'á', Â: 'ớ', B: 'bê', C: 'xê', D: 'dê', Đ: 'đê', E: 'e', Ê: 'ê', F: 'ép', G: 'giê', H: 'hát',
  I: 'i', J: 'gi', K: 'ca', L: 'e lờ', M: 'em mờ', N: 'en nờ', O: 'o', Ô: 'ô', Ơ: 'ơ', P: 'pê', Q: 'cu',
  R: 'e rờ', S: 'ét', T: 'tê', U: 'u', Ư: 'ư', V: 'vê', W: 'vê kép', X: 'ích', Y: 'i dài', Z: 'dét',
};

/** The five tone marks as combining characters (huyền, sắc, ngã, hỏi, nặng). */
const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/gu;

/** "ế" → "ê", "Ặ" → "Ă": removes the tone but keeps the vowel quality marks (ă â ê ô ơ ư). */
export function stripTones(s: string): string {
  return s.normalize('NFD').replace(TONE_MARKS, '').normalize('NFC');
}


// ASCII is answered without a regex: these run on every character of a bulletin (issue 19 asks the
// reading of 1,000 words to stay within 10 % of its time before the loanword and syllable rules).
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
export const isLetter = (ch: string | undefined): boolean => {
  if (ch === undefined) return false;
  const c = ch.charCodeAt(0);
  return c < 128 ? ch.length === 1 && isAsciiLetter(c) : /^\p{L}$/u.test(ch);
};
export const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
export const isAlnum = (ch: string | undefined): boolean => {
  if (ch === undefined) return false;
  const c = ch.charCodeAt(0);
  if (c < 128) return ch.length === 1 && (isAsciiLetter(c) || (c >= 48 && c <= 57));
  return /^[\p{L}\p{M}]$/u.test(ch);
};

/** Upper-case letters present and no lower-case letter. */
export function isAllCaps(token: string): boolean {
  return /\p{Lu}/u.test(token) && !/\p{Ll}/u.test(token);
}

/**
 * True when the token (any case) is one Vietnamese syllable: onset, rhyme, tone and where the tone mark
 * sits (syllable.ts; issue 19 "A syllable check"; vi-reading.md has no section on it yet).
 */
export function isVietnameseSyllable(token: string): boolean {
  return isSyllable(token);
}

/**
 * Splits a toneless run like "dichvucong" into syllables ("dich vu cong") for web addresses. Prefers
 * consonant-initial syllables, then fewer pieces ("hanoi" → "ha noi", not "han oi"). Null if impossible.
 */
export function segmentSyllables(word: string): string[] | null {
  const n = word.length;
  const best: ({ cost: number; parts: string[] } | null)[] = new Array(n + 1).fill(null);
  best[0] = { cost: 0, parts: [] };
  for (let i = 0; i < n; i++) {
    const from = best[i];
    if (!from) continue;
    for (let len = 1; len <= 7 && i + len <= n; len++) {
      const piece = word.slice(i, i + len);
      if (!isSyllableShape(piece)) continue; // addresses carry no tones: "dich" is a shape
      const cost = from.cost + 1 + (/^[aăâeêioôơuưy]/u.test(piece) ? 100 : 0);
      const cur = best[i + len];
      if (!cur || cost < cur.cost) best[i + len] = { cost, parts: [...from.parts, piece] };
    }
  }
  return best[n]?.parts ?? null;
}

/** Letter name of one letter (tone marks ignored), or null when it has none. */
export function letterName(ch: string): string | null {
  return LETTER_NAMES[stripTones(ch).toUpperCase()] ?? null;
}

/**
 * Spells a capital string with letter names; digit runs inside it are cardinals ("F0" → ép không,
 * "U23" → u hai mươi ba, "CV" → xê vê). Null if some character has no reading.
 */
export function spellWords(token: string, style: Style): string[] | null {
  const words: string[] = [];
  for (const part of token.match(/\d+|\D/gu) ?? []) {
    if (/^\d+$/u.test(part)) {
      words.push(...cardinalWords(BigInt(part), style));
      continue;
    }
    const name = letterName(part);
    if (name === null) return null;
    words.push(...name.split(' '));
  }
  return words;
}

/**
 * Letters: the Vietnamese letter names used to spell capital strings, and a test for whether a token is a
 * Vietnamese syllable (vi-reading.md "Abbreviations and loanwords").
 */
import { cardinalWords } from './numbers.js';
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

function toneCount(s: string): number {
  return s.normalize('NFD').match(TONE_MARKS)?.length ?? 0;
}

export const isLetter = (ch: string | undefined): boolean => ch !== undefined && /^\p{L}$/u.test(ch);
export const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
export const isAlnum = (ch: string | undefined): boolean => isLetter(ch) || isDigit(ch) || (ch !== undefined && /^\p{M}$/u.test(ch));

/** Upper-case letters present and no lower-case letter. */
export function isAllCaps(token: string): boolean {
  return /\p{Lu}/u.test(token) && !/\p{Ll}/u.test(token);
}

// Vowel clusters of Vietnamese rhymes (with their glides), longest first so the regex tries them first.
const VOWELS = [
  'iêu', 'yêu', 'oai', 'oay', 'oao', 'oeo', 'uây', 'uôi', 'uya', 'uyê', 'uyu', 'ươi', 'ươu',
  'ai', 'ao', 'au', 'ay', 'âu', 'ây', 'eo', 'êu', 'ia', 'iê', 'iu', 'oa', 'oă', 'oe', 'oi', 'ôi', 'ơi', 'oo',
  'ua', 'uâ', 'uê', 'ui', 'uô', 'uơ', 'uy', 'ưa', 'ưi', 'ươ', 'ưu', 'yê',
  'a', 'ă', 'â', 'e', 'ê', 'i', 'o', 'ô', 'ơ', 'u', 'ư', 'y',
];
// Onsets; "k" as a coda is accepted for highland place names (Đắk Lắk).
const SYLLABLE = new RegExp(
  `^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?(?:${VOWELS.join('|')})(?:ch|nh|ng|[cmnptk])?$`,
  'u',
);

/** True when the token (any case) is one Vietnamese syllable: onset, rhyme and at most one tone mark. */
export function isVietnameseSyllable(token: string): boolean {
  if (!token || token.length > 7 || toneCount(token) > 1) return false;
  return SYLLABLE.test(stripTones(token.toLowerCase()));
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
      if (!isVietnameseSyllable(piece)) continue;
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

/**
 * Legal document symbols (vi-reading.md "Legal document symbols"): "749/QĐ-TTg", "39/2020/TT-BTTTT".
 * The number is a cardinal, a year part is "năm …", each code comes from the abbreviation dictionary, and
 * `/` and `-` are silent. A symbol is never a date, a fraction ("trên", "phần") or a range, so this rule
 * runs before those.
 */
import { isAlnum, spellWords } from './letters.js';
import { cardinalWords, integerWords } from './numbers.js';
import type { Lexicon, Rule, Style } from './types.js';

// number [/year] / CODE [-CODE]...; a code starts with a capital ("QĐ", "TTg", "QH14", "TT&TT").
// Older symbols may carry other number parts ("12/05/QĐ-UB"); they are cardinals.
const SYMBOL = /(\d+)((?:\/\d+)*)\/(\p{Lu}[\p{L}&]*\d*(?:[-/]\p{Lu}[\p{L}&]*\d*)*)/uy;

/** "UBNDVP"-like runs of known codes without separators; null if no split exists. */
function decompose(code: string, lexicon: Lexicon): string[] | null {
  if (code === '') return [];
  for (let len = code.length; len >= 2; len--) {
    const reading = lexicon.lookup(code.slice(0, len));
    if (!reading) continue;
    const rest = decompose(code.slice(len), lexicon);
    if (rest) return [...reading.split(' '), ...rest];
  }
  return null;
}

/** One code such as "TTg" or "QH14" (letters from the dictionary, a trailing number as a cardinal). */
function codeWords(part: string, lexicon: Lexicon, style: Style): string[] {
  const direct = lexicon.lookup(part);
  if (direct) return direct.split(' ');
  const m = /^(.*?)(\d*)$/u.exec(part)!;
  const letters = m[1] ?? '';
  const digits = m[2] ?? '';
  const head = lexicon.lookup(letters)?.split(' ') ?? decompose(letters, lexicon) ?? spellWords(letters, style) ?? [letters.toLowerCase()];
  return digits ? [...head, ...cardinalWords(BigInt(digits), style)] : head;
}

/** All codes of "QĐ-TTg" or "NĐ-CP": the longest run of parts that is a dictionary key wins. */
export function symbolCodeWords(code: string, lexicon: Lexicon, style: Style): string[] {
  const parts = code.split(/([-/])/u); // separators kept at odd indexes, codes at even ones
  const words: string[] = [];
  let i = 0;
  while (i < parts.length) {
    let matched = false;
    for (let j = parts.length - 1; j > i; j -= 2) {
      const reading = lexicon.lookup(parts.slice(i, j + 1).join(''));
      if (reading) {
        words.push(...reading.split(' '));
        i = j + 2;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    words.push(...codeWords(parts[i]!, lexicon, style));
    i += 2;
  }
  return words;
}

export const symbolRule: Rule = (ctx, pos) => {
  SYMBOL.lastIndex = pos;
  const m = SYMBOL.exec(ctx.text);
  if (!m) return null;
  const end = pos + m[0].length;
  if (isAlnum(ctx.text[end])) return null;
  const words = integerWords(m[1]!, ctx.style);
  for (const part of (m[2] ?? '').split('/').filter(Boolean)) {
    // A four-digit part is the year of issue: "39/2020/TT-BTTTT" → … năm hai nghìn không trăm hai mươi …
    if (part.length === 4) words.push('năm', ...cardinalWords(BigInt(part), ctx.style));
    else words.push(...integerWords(part, ctx.style));
  }
  words.push(...symbolCodeWords(m[3]!, ctx.symbolLexicon, ctx.style));
  return { end, words, rule: 'symbol', kind: 'word' };
};

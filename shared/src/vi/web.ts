/**
 * Web and e-mail addresses: dots read "chấm" (vi-reading.md "Abbreviations and loanwords"), "@" is
 * "a còng". Labels come from the dictionary, else as toneless syllables ("dichvucong" → dich vu cong),
 * else spelled with letter names; digits one by one.
 */
import { isAlnum, segmentSyllables, spellWords } from './letters.js';
import { isSyllableShape } from './syllable.js';
import { digitWords } from './numbers.js';
import type { Rule, ScanContext } from './types.js';

const TLD = '(?:vn|com|net|org|gov|edu|info|biz|io)';
const LABEL = '[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?';
const URL = new RegExp(`(?:https?://)?(?:${LABEL}\\.)+${TLD}(?![\\p{L}\\p{N}])(?:/[a-z0-9\\-._/]*[a-z0-9/])?`, 'iuy');
const EMAIL = new RegExp(`[a-z0-9._\\-]+@(?:${LABEL}\\.)+[a-z]{2,}(?![\\p{L}\\p{N}])`, 'iuy');

const SEPARATORS: Readonly<Record<string, string[]>> = {
  '.': ['chấm'],
  '@': ['a', 'còng'],
  '/': ['gạch', 'chéo'],
  '-': ['gạch', 'ngang'],
  _: ['gạch', 'dưới'],
};

function labelWords(label: string, ctx: ScanContext): string[] {
  const words: string[] = [];
  for (const run of label.match(/\d+|\p{L}+/gu) ?? []) {
    if (/^\d/u.test(run)) {
      words.push(...digitWords(run));
      continue;
    }
    // Addresses are lower-case: "ubnd" is the acronym UBND unless it is a syllable ("ai" stays ai).
    const fromDictionary = ctx.lexicon.lookup(run) ?? (isSyllableShape(run) ? null : ctx.lexicon.lookup(run.toUpperCase()));
    if (fromDictionary) {
      words.push(...fromDictionary.split(' '));
      continue;
    }
    const lower = run.toLowerCase();
    const parts = isSyllableShape(lower) ? [lower] : segmentSyllables(lower);
    words.push(...(parts ?? spellWords(run, ctx.style) ?? [lower]));
  }
  return words;
}

export const webRule: Rule = (ctx, pos) => {
  const { text } = ctx;
  if (pos > 0 && (isAlnum(text[pos - 1]) || text[pos - 1] === '.' || text[pos - 1] === '@')) return null;
  let m: RegExpExecArray | null = null;
  for (const re of [EMAIL, URL]) {
    re.lastIndex = pos;
    m = re.exec(text);
    if (m) break;
  }
  if (!m) return null;
  const address = m[0].replace(/^https?:\/\//iu, ''); // announcers do not read the scheme
  const words: string[] = [];
  for (const piece of address.match(/[a-z0-9]+|[^a-z0-9]/giu) ?? []) {
    words.push(...(SEPARATORS[piece] ?? labelWords(piece, ctx)));
  }
  return { end: pos + m[0].length, words, rule: 'web', kind: 'word' };
};

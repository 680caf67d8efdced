/**
 * Latin-script words that are not Vietnamese syllables (vi-reading.md "Abbreviations and loanwords";
 * issue 19 "Loanwords"): the shipped loanword lexicon ("Facebook" → phây búc), place names written
 * together or without tones ("QuangNam" → quảng nam, from the area list), camel-case names cut into their
 * parts ("AgriConnect"), and letter-to-sound rules for the rest, reported as guesses. Capital strings are
 * left to the letter names (words.ts).
 */
import { guessReading } from './letter-to-sound.js';
import { isAllCaps, isLetter, isVietnameseSyllable } from './letters.js';
import { Lexicon } from './lexicon.js';
import { LOANWORDS } from './loanwords.js';
import { NATIONAL_PLACES } from './places.js';
import { isSyllableShape } from './syllable.js';
import type { Reading, Rule, ScanContext } from './types.js';

/** Built once: the loanwords do not change between calls (operators' entries are in ctx.lexicon). */
const LOANWORD_LEXICON = new Lexicon(LOANWORDS);

/** The key a place is found under: bare letters, no spaces or hyphens ("Đà Nẵng" → danang). */
export function placeKey(name: string): string {
  return name.toLowerCase().replace(/đ/gu, 'd').normalize('NFD').replace(/[^a-z]/gu, '');
}

const cache = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

function addPlaces(map: Map<string, string>, places: readonly string[]): Map<string, string> {
  for (const p of places) {
    const key = placeKey(p);
    const name = p.normalize('NFC').toLowerCase();
    // A key two places share ("Tân Phong" and "Tân Phòng") is no answer: the words stay a guess.
    if (key) map.set(key, map.has(key) && map.get(key) !== name ? '' : name);
  }
  return map;
}

const NATIONAL = addPlaces(new Map(), NATIONAL_PLACES);

/**
 * The national places with the option's over them, as a lookup table built once per list (the server passes
 * the same array while its areas do not change).
 */
export function placeTable(places: readonly string[] | undefined): ReadonlyMap<string, string> {
  if (!places || places.length === 0) return NATIONAL;
  let table = cache.get(places);
  if (!table) {
    table = addPlaces(new Map(NATIONAL), places);
    cache.set(places, table);
  }
  return table;
}

export const loanwordRule: Rule = (ctx, pos) => {
  const m = LOANWORD_LEXICON.matchAt(ctx.text, pos);
  return m ? { end: m.end, words: m.reading.split(' '), rule: 'loanword', kind: 'word' } : null;
};

function letterRun(text: string, pos: number): string {
  let end = pos;
  while (end < text.length && (isLetter(text[end]) || /\p{M}/u.test(text[end]!))) end++;
  return text.slice(pos, end);
}

interface PartReading {
  words: string[];
  guessed: boolean;
}

/** One part of a name: a known word, a Vietnamese syllable, a toneless syllable, or a guess. */
function readPart(part: string, ctx: ScanContext): PartReading | null {
  const known = ctx.lexicon.lookup(part) ?? LOANWORD_LEXICON.lookup(part);
  if (known) return { words: known.split(' '), guessed: false };
  if (isVietnameseSyllable(part)) return { words: [part.toLowerCase()], guessed: false };
  const guess = guessReading(part);
  return guess ? { words: guess, guessed: true } : null;
}

export const foreignWordRule: Rule = (ctx, pos): Reading | null => {
  const token = letterRun(ctx.text, pos);
  if (!token || isVietnameseSyllable(token) || isAllCaps(token)) return null;
  const end = pos + token.length;
  if (/[\p{N}]/u.test(ctx.text[end] ?? '')) return null; // "F0", "U23": letters and digits (words.ts)
  const place = ctx.places.get(placeKey(token));
  if (place) return { end, words: place.split(/[\s-]+/u), rule: 'place-name', kind: 'word' };
  // An abbreviation typed in lower case ("ubnd xã") is still the abbreviation, as in web addresses.
  const abbreviation = ctx.lexicon.lookup(token.toUpperCase());
  if (abbreviation) return { end, words: abbreviation.split(' '), rule: 'dictionary', kind: 'word' };

  // "QuangNam", "AgriConnect", "VNeID"-like names: cut where a lower-case letter meets a capital.
  const parts = token.split(/(?<=\p{Ll})(?=\p{Lu})/u);
  if (parts.length > 1) {
    const read = parts.map((p) => readPart(p, ctx));
    if (read.some((r) => r === null)) return null;
    const words = read.flatMap((r) => r!.words);
    if (parts.every((p) => isSyllableShape(p))) {
      // Every part is a syllable: a Vietnamese name written together, its tones perhaps missing.
      return { end, words, rule: 'place-name', kind: 'word', report: 'guessed' };
    }
    const guessed = read.some((r) => r!.guessed);
    return { end, words, rule: guessed ? 'loanword-guess' : 'loanword', kind: 'word', report: guessed ? 'guessed' : 'rewritten' };
  }
  // "top", "hoat", "Telehealth": not a syllable (a closed syllable without sắc or nặng cannot be one).
  const guess = guessReading(token);
  return guess ? { end, words: guess, rule: 'loanword-guess', kind: 'word', report: 'guessed' } : null;
};

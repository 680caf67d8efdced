/**
 * Longest-match lookup of dictionary keys in the text, with the case rules described in dictionary.ts.
 */
import { isAllCaps, isAlnum, isVietnameseSyllable } from './letters.js';
import type { Lexicon as LexiconView, LexiconMatch } from './types.js';

export type { LexiconMatch };

interface Entry {
  key: string;
  reading: string;
  lowerOnly: boolean;
}

/** Does `written` (a slice of the text as long as `key`) spell the entry `key`? */
function sameKey(written: string, entry: Entry): boolean {
  if (written === entry.key) return true;
  // All-lowercase keys are loanwords: "Zalo", "ZALO" and "zalo" are the same word.
  if (entry.lowerOnly) return written.toLowerCase() === entry.key;
  if (written.toUpperCase() !== entry.key.toUpperCase()) return false;
  // "TTG" in a capitalised heading is still TTg; "Covid" or "Ubnd" are not syllables, so they are the
  // acronym; but "Ai" at the start of a sentence is the word ai, not AI, and "5g" is five grams.
  const letters = written.replace(/[^\p{L}]/gu, '');
  return isAllCaps(written) || (/\p{Lu}/u.test(written) && !isVietnameseSyllable(letters));
}

export class Lexicon implements LexiconView {
  /** Entries bucketed by the lower-cased first character, longest key first. */
  private readonly buckets = new Map<string, Entry[]>();

  /** Later sources win over earlier ones. */
  constructor(...sources: readonly Readonly<Record<string, string>>[]) {
    const merged = new Map<string, string>();
    for (const source of sources) {
      for (const [key, reading] of Object.entries(source)) {
        const k = key.normalize('NFC').trim();
        const r = reading.normalize('NFC').toLowerCase().trim().replace(/\s+/gu, ' ');
        if (k && r) merged.set(k, r);
      }
    }
    for (const [key, reading] of merged) {
      const first = key[0]!.toLowerCase();
      const bucket = this.buckets.get(first) ?? [];
      bucket.push({ key, reading, lowerOnly: key === key.toLowerCase() });
      this.buckets.set(first, bucket);
    }
    for (const bucket of this.buckets.values()) bucket.sort((a, b) => b.key.length - a.key.length);
  }

  /** Longest key written at `pos` that ends at a word boundary (keys ending in "." need none). */
  matchAt(text: string, pos: number): LexiconMatch | null {
    const first = text[pos];
    if (first === undefined) return null;
    for (const entry of this.buckets.get(first.toLowerCase()) ?? []) {
      const end = pos + entry.key.length;
      if (end > text.length) continue;
      const lastOfKey = entry.key[entry.key.length - 1];
      if (isAlnum(lastOfKey) && isAlnum(text[end])) continue;
      if (sameKey(text.slice(pos, end), entry)) return { end, key: entry.key, reading: entry.reading };
    }
    return null;
  }

  /** Reading of a whole code (a part of a document symbol), or null. */
  lookup(code: string): string | null {
    const m = this.matchAt(code, 0);
    return m && m.end === code.length ? m.reading : null;
  }
}

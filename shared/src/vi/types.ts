/**
 * Public and internal types of the Vietnamese reading normalizer (design/vi-reading.md).
 */

/** A dictionary match at a position of the text (lexicon.ts). */
export interface LexiconMatch {
  end: number;
  key: string;
  reading: string;
}

/**
 * What rules read of a dictionary. Declared here rather than imported from lexicon.ts, so the types every
 * rule imports depend on nothing (lexicon.ts needs letters.ts, which needs numbers.ts, which needs these).
 */
export interface Lexicon {
  /** Longest key written at `pos` that ends at a word boundary. */
  matchAt(text: string, pos: number): LexiconMatch | null;
  /** Reading of a whole code, or null. */
  lookup(code: string): string | null;
}

/** Northern broadcast style is the default; `south` changes 24 → hai mươi bốn, linh → lẻ, nghìn → ngàn. */
export type Style = 'north' | 'south';

export interface NormalizeOptions {
  style?: Style;
  /** Extra entries applied over the shipped dictionary (e.g. added by an operator for a province). */
  dictionary?: Record<string, string>;
}

export interface ReportSpan {
  /** Code point offsets in the NFC input, end exclusive (vi-reading.md "Reports"). */
  start: number;
  end: number;
  text: string;
  rule: string;
  reading?: string;
}

export interface NormalizeResult {
  /** The reading: lowercase words, single spaces, pause marks `. , ; : ! ?`. */
  text: string;
  sentences: string[];
  rewritten: ReportSpan[];
  unread: ReportSpan[];
}

/** What kind of item was last emitted; a dash between two numeric items reads "đến". */
export type ItemKind = 'word' | 'numeric' | 'date';

/** What a rule recognised at a position of the NFC text. */
export interface Reading {
  /** UTF-16 index in the NFC text where the recognised span ends (exclusive). */
  end: number;
  /** Lowercase words of the reading; empty means silent. */
  words: string[];
  rule: string;
  /** 'pause' carries one pause mark in `words`; 'silent' is dropped without a trace (quotes, hyphens). */
  kind: ItemKind | 'pause' | 'silent';
  /** 'rewritten' (default) is reported as a rewrite, 'unread' is left as written, 'plain' is not reported. */
  report?: 'rewritten' | 'unread' | 'plain';
}

export interface EmittedItem {
  kind: ItemKind | 'pause';
  words: readonly string[];
}

export interface ScanContext {
  readonly text: string;
  readonly style: Style;
  /** Shipped dictionary with the operator's entries over it. */
  readonly lexicon: Lexicon;
  /** Codes inside legal document symbols: operator entries, then symbol-only codes, then the shipped dictionary. */
  readonly symbolLexicon: Lexicon;
  /** Up to `n` lowercased source words right before `pos` (see context.ts). */
  prevWords(pos: number, n: number): string[];
  /** Items emitted so far, most recent last. */
  readonly history: readonly EmittedItem[];
}

export type Rule = (ctx: ScanContext, pos: number) => Reading | null;

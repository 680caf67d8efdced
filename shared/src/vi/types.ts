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
  /**
   * Place names as written with their tones ("Quảng Nam", "Tân Phong"), e.g. the installation's area list:
   * a run-together or toneless spelling of one ("QuangNam") is read as the name (issue 19 "Loanwords").
   */
  places?: readonly string[];
}

/**
 * Every rule's name. The report shows each with a Vietnamese label (report.ts), a table keyed by this
 * union, so a rule without a label does not compile.
 */
export type RuleName =
  | 'pause' | 'quote' | 'hyphen' | 'ampersand' | 'equals' | 'plus' | 'range' | 'negative' | 'bullet' | 'end-mark'
  | 'per' | 'or' | 'list' | 'web' | 'roman' | 'heading' | 'dictionary' | 'loanword' | 'loanword-guess'
  | 'place-name' | 'toneless' | 'symbol' | 'score' | 'ratio' | 'time' | 'date' | 'invalid-date' | 'ordinal'
  | 'number' | 'decimal' | 'dotted' | 'digits' | 'percent' | 'money' | 'unit' | 'fraction' | 'phone'
  | 'letters' | 'word' | 'unknown-word' | 'unknown-symbol';

export interface ReportSpan {
  /** Code point offsets in the NFC input, end exclusive (vi-reading.md "Reports"). */
  start: number;
  end: number;
  text: string;
  rule: RuleName;
  /** The rule's name in Vietnamese, as the operator sees it ("ký hiệu văn bản", "từ nước ngoài, đoán"). */
  label: string;
  /** The words said for this span; '' when it is dropped (an end mark, a bullet). Absent for unread spans. */
  reading?: string;
}

export interface NormalizeResult {
  /** The reading: lowercase words, single spaces, pause marks `. , ; : ! ?`. */
  text: string;
  sentences: string[];
  /** Spans read by a rule that is sure of itself (a date, a dictionary entry). */
  rewritten: ReportSpan[];
  /** Spans whose reading is a guess (letter-to-sound for a foreign word, a word without its tones). */
  guessed: ReportSpan[];
  /** Spans left as written: the engine will say them however it can. */
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
  rule: RuleName;
  /** 'pause' carries one pause mark in `words`; 'silent' is dropped without a trace (quotes, hyphens). */
  kind: ItemKind | 'pause' | 'silent';
  /**
   * 'rewritten' (the default for words), 'guessed', 'unread' (left as written) or 'plain' (not reported;
   * the default for pauses and silent marks).
   */
  report?: 'rewritten' | 'guessed' | 'unread' | 'plain';
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
  /** Toneless, space-free lower-case spellings of the known places → the name with its tones. */
  readonly places: ReadonlyMap<string, string>;
}

export type Rule = (ctx: ScanContext, pos: number) => Reading | null;

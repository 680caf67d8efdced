/**
 * The normalizer: scans the NFC text left to right, tries the rules in priority order at each position,
 * and collects the reading, the sentences and the report (vi-reading.md, whole document).
 */
import { previousWords } from './context.js';
import { dateRule } from './dates.js';
import { DEFAULT_DICTIONARY, SYMBOL_DICTIONARY } from './dictionary.js';
import { isAlnum } from './letters.js';
import { Lexicon } from './lexicon.js';
import { numberRule, ordinalRule } from './numeric.js';
import { ReadingBuilder } from './output.js';
import { phoneRule } from './phone.js';
import { isHandledPunctuation, punctuationRule } from './punctuation.js';
import { symbolRule } from './symbols.js';
import { scoreRule, timeRule } from './times.js';
import type { EmittedItem, NormalizeOptions, NormalizeResult, Reading, ReportSpan, Rule, ScanContext } from './types.js';
import { webRule } from './web.js';
import { dictionaryRule, headingRule, romanRule, wordRule } from './words.js';

/**
 * Order matters: phone numbers before thousands separators, symbols before dates and fractions, dates
 * before ranges, Roman numerals and headings before the dictionary ("AI" in a heading is a word).
 */
const RULES: readonly Rule[] = [
  punctuationRule,
  webRule,
  romanRule,
  headingRule,
  dictionaryRule,
  phoneRule,
  symbolRule,
  scoreRule,
  dateRule,
  timeRule,
  ordinalRule,
  numberRule,
  wordRule,
];

/** UTF-16 index → code point index, so reports count code points (vi-reading.md "Reports"). */
function codePointIndex(text: string): Int32Array {
  const index = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    index[i] = cp;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) index[++i] = cp;
    }
    cp++;
  }
  index[text.length] = cp;
  return index;
}

/** Emoji and stray symbols: left as written, one span per run. */
function unreadRun(text: string, pos: number): Reading {
  let end = pos + (text.codePointAt(pos)! > 0xffff ? 2 : 1);
  while (end < text.length) {
    const ch = String.fromCodePoint(text.codePointAt(end)!);
    if (/\s/u.test(ch) || isAlnum(ch) || isHandledPunctuation(ch)) break;
    end += ch.length;
  }
  return { end, words: [text.slice(pos, end)], rule: 'unknown-symbol', kind: 'word', report: 'unread' };
}

export function normalizeVietnamese(input: string, opts: NormalizeOptions = {}): NormalizeResult {
  const text = input.normalize('NFC');
  const extra = opts.dictionary ?? {};
  const history: EmittedItem[] = [];
  const ctx: ScanContext = {
    text,
    style: opts.style ?? 'north',
    lexicon: new Lexicon(DEFAULT_DICTIONARY, extra),
    symbolLexicon: new Lexicon(DEFAULT_DICTIONARY, SYMBOL_DICTIONARY, extra),
    prevWords: (pos, n) => previousWords(text, pos, n),
    history,
  };
  const cps = codePointIndex(text);
  const out = new ReadingBuilder();
  const rewritten: ReportSpan[] = [];
  const unread: ReportSpan[] = [];

  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos]!;
    if (ch === '\n') {
      // A line break ends a heading or a paragraph: a sentence pause.
      if (out.pause('.')) history.push({ kind: 'pause', words: ['.'] });
      pos++;
      continue;
    }
    if (/\s/u.test(ch)) {
      pos++;
      continue;
    }
    let reading: Reading | null = null;
    for (const rule of RULES) {
      reading = rule(ctx, pos);
      if (reading && reading.end > pos) break;
      reading = null;
    }
    const r = reading ?? unreadRun(text, pos);
    if (r.kind === 'pause') {
      if (out.pause(r.words[0]!)) history.push({ kind: 'pause', words: r.words });
    } else if (r.kind !== 'silent') {
      out.words(r.words);
      history.push({ kind: r.kind, words: r.words });
      const span: ReportSpan = { start: cps[pos]!, end: cps[r.end]!, text: text.slice(pos, r.end), rule: r.rule };
      if (r.report === 'unread') unread.push(span);
      else if (r.report !== 'plain') rewritten.push({ ...span, reading: r.words.join(' ') });
    }
    pos = r.end;
  }
  const sentences = out.sentences();
  return { text: sentences.join(' '), sentences, rewritten, unread };
}

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
import { foreignWordRule, loanwordRule, placeTable } from './foreign.js';
import { endMarkRule, listRule, plusRule, slashRule } from './marks.js';
import { RULE_LABELS } from './report.js';

/**
 * Order matters: phone numbers before thousands separators, symbols before dates and fractions, dates
 * before ranges, Roman numerals and headings before the dictionary ("AI" in a heading is a word); the
 * abbreviations (with the operators' entries) before the loanwords, and both before letter-to-sound.
 */
const RULES: readonly Rule[] = [
  endMarkRule,
  punctuationRule,
  plusRule,
  webRule,
  slashRule,
  romanRule,
  headingRule,
  dictionaryRule,
  loanwordRule,
  phoneRule,
  symbolRule,
  scoreRule,
  dateRule,
  timeRule,
  ordinalRule,
  listRule,
  numberRule,
  foreignWordRule,
  wordRule,
];

/** Numbers, dates and times follow one another only across a pause ("31/08/2022, 01:20"). */
const isNumeric = (kind: string | undefined): boolean => kind === 'numeric' || kind === 'date';

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
    places: placeTable(opts.places),
  };
  const cps = codePointIndex(text);
  const out = new ReadingBuilder();
  const rewritten: ReportSpan[] = [];
  const guessed: ReportSpan[] = [];
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
    const mark = r.kind === 'pause' || r.kind === 'silent';
    if (r.kind === 'pause') {
      if (out.pause(r.words[0]!)) history.push({ kind: 'pause', words: r.words });
    } else if (r.kind !== 'silent') {
      // Two numeric readings in a row run together ("… hai nghìn không trăm hai mươi lăm một giờ"):
      // a pause keeps them apart (issue 19 "Pauses"; vi-reading.md "Output" keeps pause marks).
      if (isNumeric(r.kind) && isNumeric(history[history.length - 1]?.kind) && out.pause(',')) {
        history.push({ kind: 'pause', words: [','] });
      }
      out.words(r.words);
      history.push({ kind: r.kind, words: r.words });
    }
    // Nothing is misread in silence: every span but plain words and plain marks is reported.
    const report = r.report ?? (mark ? 'plain' : 'rewritten');
    if (report !== 'plain') {
      const span: ReportSpan = { start: cps[pos]!, end: cps[r.end]!, text: text.slice(pos, r.end), rule: r.rule, label: RULE_LABELS[r.rule] };
      if (report === 'unread') unread.push(span);
      else (report === 'guessed' ? guessed : rewritten).push({ ...span, reading: mark ? '' : r.words.join(' ') });
    }
    pos = r.end;
  }
  const sentences = out.sentences();
  return { text: sentences.join(' '), sentences, rewritten, guessed, unread };
}

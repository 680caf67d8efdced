/**
 * Vietnamese reading normalizer: written bulletin text → the words an announcer says
 * (design/vi-reading.md). Pure, deterministic, no I/O.
 */
export { normalizeVietnamese } from './normalize.js';
export { readNumber } from './numbers.js';
export { DEFAULT_DICTIONARY, SYMBOL_DICTIONARY } from './dictionary.js';
export { LETTER_NAMES, isVietnameseSyllable } from './letters.js';
export { RULE_LABELS, formatReport } from './report.js';
export { LOANWORDS } from './loanwords.js';
export type { NormalizeOptions, NormalizeResult, ReportSpan, RuleName, Style as ReadingStyle } from './types.js';

/**
 * Times of day and number pairs with a colon (vi-reading.md "Dates and times"):
 * "08:10" → tám giờ mười phút, "17h30" → mười bảy giờ ba mươi phút, "5h" → năm giờ, "20h00" → hai mươi giờ.
 * Scores ("tỷ số 2-1") and map ratios ("tỷ lệ 1:500") are never times, dates or ranges.
 */
import { endsWithPhrase, RATIO_CONTEXT, SCORE_CONTEXT } from './context.js';
import { isAlnum, isDigit } from './letters.js';
import { cardinalWords, integerWords } from './numbers.js';
import type { Rule, ScanContext, Style } from './types.js';

function clockWords(h: number, min: number, sec: number, style: Style): string[] {
  const words = [...cardinalWords(BigInt(h), style), 'giờ'];
  // Zero minutes are not said: 20h00 → hai mươi giờ.
  if (min > 0 || sec > 0) words.push(...cardinalWords(BigInt(min), style), 'phút');
  if (sec > 0) words.push(...cardinalWords(BigInt(sec), style), 'giây');
  return words;
}

const COLON_TIME = /(\d{1,2}):(\d{2})(?::(\d{2}))?/y;
// "17h30", "5h", "7g30" (the Southern "giờ"); "g" needs minutes, since "5g" is five grams.
const LETTER_TIME = /(\d{1,2})(?:h(\d{2})?|g(\d{2}))'?/y;

/**
 * "từ 6g30 đến 10g": "10g" alone is ten grams, but right after a time and "đến" it is the Southern "giờ"
 * (issue 19, a misread of the reading bench).
 */
function bareHourAfterTime(ctx: ScanContext, pos: number): RegExpExecArray | null {
  const h = ctx.history;
  const link = h[h.length - 1]?.words;
  if (!h[h.length - 2]?.words.includes('giờ') || link?.length !== 1 || link[0] !== 'đến') return null;
  const bare = /(\d{1,2})g/y;
  bare.lastIndex = pos;
  return bare.exec(ctx.text);
}

export const timeRule: Rule = (ctx, pos) => {
  const { text, style } = ctx;
  COLON_TIME.lastIndex = pos;
  let m = COLON_TIME.exec(text);
  if (m) {
    const end = pos + m[0].length;
    const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
    const clean = !isDigit(text[end]) && !(text[end] === ':' && isDigit(text[end + 1]));
    if (clean && h <= 24 && min <= 59 && sec <= 59) {
      return { end, words: clockWords(h, min, sec, style), rule: 'time', kind: 'numeric' };
    }
    return null;
  }
  LETTER_TIME.lastIndex = pos;
  m = LETTER_TIME.exec(text) ?? bareHourAfterTime(ctx, pos);
  if (m) {
    const end = pos + m[0].length;
    const h = Number(m[1]);
    const min = Number(m[2] ?? m[3] ?? 0);
    if (!isAlnum(text[end]) && h <= 24 && min <= 59) {
      return { end, words: clockWords(h, min, 0, style), rule: 'time', kind: 'numeric' };
    }
  }
  return null;
};

const PAIR = /(\d+) ?[-–:] ?(\d+)/y;

/** "tỷ số 2-1", "thắng 3:0" → hai một; "tỷ lệ 1:500" → một trên năm trăm. */
export const scoreRule: Rule = (ctx, pos) => {
  const prev = ctx.prevWords(pos, 2);
  const score = endsWithPhrase(prev, SCORE_CONTEXT);
  const ratio = !score && endsWithPhrase(prev, RATIO_CONTEXT);
  if (!score && !ratio) return null;
  PAIR.lastIndex = pos;
  const m = PAIR.exec(ctx.text);
  if (!m || (ratio && !m[0].includes(':'))) return null;
  const end = pos + m[0].length;
  if (isAlnum(ctx.text[end])) return null;
  const a = integerWords(m[1]!, ctx.style);
  const b = integerWords(m[2]!, ctx.style);
  return score
    ? { end, words: [...a, ...b], rule: 'score', kind: 'word' }
    : { end, words: [...a, 'trên', ...b], rule: 'ratio', kind: 'word' };
};

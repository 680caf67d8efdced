/**
 * The words before a number decide how it is read (vi-reading.md: dates after "ngày", digits after
 * "tổng đài", Roman numerals after "quý"...). Both spellings of a word are listed where Vietnamese has an
 * old and a new tone placement (khoá/khóa, kỳ/kì, hoà/hòa).
 */
import { isLetter } from './letters.js';

/**
 * Up to `n` source words right before `pos`, lower-cased, in reading order. Spaces between words and a
 * single colon right before `pos` ("Hotline: 1900…") are skipped; any other character stops the search.
 */
export function previousWords(text: string, pos: number, n: number): string[] {
  const words: string[] = [];
  let i = pos;
  let colonSkipped = false;
  while (words.length < n) {
    while (i > 0 && /[ \t\u00a0]/u.test(text[i - 1]!)) i--;
    if (!colonSkipped && words.length === 0 && text[i - 1] === ':') {
      colonSkipped = true;
      i--;
      continue;
    }
    let j = i;
    while (j > 0 && isLetter(text[j - 1])) j--;
    if (j === i) break;
    words.unshift(text.slice(j, i).toLowerCase());
    i = j;
  }
  return words;
}

/** Phrases split once: the context lists are constants, asked about at every number. */
const SPLIT = new Map<string, string[]>();

/** True when `words` ends with one of the phrases (each phrase space-separated). */
export function endsWithPhrase(words: readonly string[], phrases: readonly string[]): boolean {
  return phrases.some((phrase) => {
    let p = SPLIT.get(phrase);
    if (!p) SPLIT.set(phrase, (p = phrase.split(' ')));
    if (p.length > words.length) return false;
    return p.every((w, i) => words[words.length - p.length + i] === w);
  });
}

/** A day/month pair is a date after these (vi-reading.md; "rạng sáng", "từ ngày", "đến ngày" included). */
export const DATE_CONTEXT = ['ngày', 'mồng', 'mùng', 'sáng', 'trưa', 'chiều', 'tối', 'đêm', 'hôm'];

/** After these the date does not say "ngày" again ("Ngày 27-9" never gives "ngày ngày"; "hôm 2/9"). */
export const DATE_SAYS_DAY = ['ngày', 'mồng', 'mùng', 'hôm'];

/** Numbers after these are read digit by digit (vi-reading.md "Money, units, phone numbers"). */
export const PHONE_CONTEXT = ['tổng đài', 'đường dây nóng', 'hotline', 'số điện thoại', 'điện thoại', 'sđt', 'fax'];

/**
 * A number of three digits or more after these is a number to dial, read digit by digit: "gọi ngay 114" is
 * "gọi ngay một một bốn", as the fire service's number is said, not "một trăm mười bốn". Fewer digits stay
 * numbers ("gọi 2 lần"). Issue 19: warnings and emergencies end with the number to call.
 */
export const CALL_CONTEXT = ['gọi', 'gọi ngay', 'gọi đến', 'gọi tới', 'gọi cho', 'gọi về', 'gọi số', 'liên hệ', 'liên hệ số', 'nhắn tin đến', 'nhắn tin tới', 'bấm số', 'quay số'];

/** Roman numerals are read only after these words. */
export const ROMAN_CONTEXT = [
  'quý', 'khóa', 'khoá', 'thế kỷ', 'thế kỉ', 'chương', 'phần', 'mục', 'kỳ', 'kì', 'đại hội', 'lần thứ', 'thứ',
];

/** "thứ 2" is an ordinal; "lần thứ 4" ends with "thứ" too. */
export const ORDINAL_CONTEXT = ['thứ'];

/** Scores are never dates or ranges: "tỷ số 2-1" → hai một. */
export const SCORE_CONTEXT = ['tỷ số', 'tỉ số', 'thắng', 'thua', 'hòa', 'hoà'];

/** "tỷ lệ 1:500" → một trên năm trăm. */
export const RATIO_CONTEXT = ['tỷ lệ', 'tỉ lệ'];

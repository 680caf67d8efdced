/**
 * Vietnamese phonotactics (issue 19 "A syllable check"; vi-reading.md has no section on it yet): whether a
 * written token can be one Vietnamese syllable — onset, medial, nucleus, coda, tone, and where the tone mark sits. A token that fails is not
 * read as a Vietnamese word: it goes to the loanword rules and is reported (issue 19: `top` and `hoat`
 * passed as syllables and reached the engine unreported).
 *
 * Checked against the 6,606 lower-case entries of the hunspell Vietnamese dictionary (npm dictionary-vi
 * 3.0.0, not a dependency): 19 are rejected, all loanwords or non-standard spellings ("gen", "gram", "ping",
 * "tivi", "web", "quoắt", "têt"); the loanwords among them are in loanwords.ts.
 */

/** The five tone marks as combining characters. */
const GRAVE = '\u0300';
const ACUTE = '\u0301'; // sắc
const TILDE = '\u0303';
const HOOK = '\u0309';
const DOT = '\u0323'; // nặng
const TONES = new Set([GRAVE, ACUTE, TILDE, HOOK, DOT]);

// Onsets, longest first so that the regex prefers "ngh" over "ng", "gi" over "g". "k" before any vowel and
// the coda "k" are kept for highland names (Kon Tum, Đắk Lắk).
const ONSET = 'ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]';
const CODA = 'ch|nh|ng|[cmnptk]';
const SHAPE = new RegExp(`^(${ONSET})?([aăâeêioôơuưy]+)(${CODA})?$`, 'u');

/**
 * Vowel clusters (medial + nucleus + final glide) and which codas each allows:
 * 'none' — ends in a glide or is an open diphthong (ai, ao, ia, ưa…): no consonant after it;
 * 'must' — needs a consonant (ă, â, iê, uô, ươ…: "tiên", never "tiê");
 * 'may' — either.
 */
type CodaRule = 'none' | 'must' | 'may';
const CLUSTERS: Readonly<Record<string, CodaRule>> = {
  a: 'may', ă: 'must', â: 'must', e: 'may', ê: 'may', i: 'may', o: 'may', ô: 'may', ơ: 'may', u: 'may', ư: 'may', y: 'may',
  ai: 'none', ao: 'none', au: 'none', ay: 'none', âu: 'none', ây: 'none', eo: 'none', êu: 'none', ia: 'none',
  iu: 'none', oi: 'none', ôi: 'none', ơi: 'none', ua: 'none', ui: 'none', ưa: 'none', ưi: 'none', ưu: 'none',
  iê: 'must', yê: 'must', uô: 'must', ươ: 'must', oo: 'must',
  oa: 'may', oă: 'must', oe: 'may', uâ: 'must', uê: 'may', uơ: 'may', uy: 'may',
  iêu: 'none', yêu: 'none', oai: 'none', oay: 'none', oao: 'none', oeo: 'none', uây: 'none', uôi: 'none',
  ươi: 'none', ươu: 'none', uya: 'none', uyu: 'none', uyê: 'must',
};

/** Vowels carrying a quality mark: the tone sits on them ("người", "tiếng", "quyết"). */
const MARKED = new Set(['ă', 'â', 'ê', 'ô', 'ơ', 'ư']);
/** Two-vowel clusters whose tone may sit on either vowel (old "hoà", "khoẻ", "thuỷ"; new "hòa", "khỏe", "thủy"). */
const EITHER = new Set(['oa', 'oe', 'uy']);

export interface Syllable {
  onset: string;
  vowels: string;
  coda: string;
  /** The combining tone mark, or '' for ngang. */
  tone: string;
}

/** Base letters and the tone: "Quyết" → { base: "quyêt", tone: U+0301, toneAt: 3 }. */
function splitTone(token: string): { base: string; tone: string; toneAt: number } | null {
  let base = '';
  let tone = '';
  let toneAt = -1;
  for (const ch of token.toLowerCase().normalize('NFD')) {
    if (TONES.has(ch)) {
      if (tone || base === '') return null; // two tone marks, or one on nothing
      tone = ch;
      toneAt = base.normalize('NFC').length - 1;
      continue;
    }
    base += ch;
  }
  return { base: base.normalize('NFC'), tone, toneAt };
}

/** Index in `vowels` where the tone mark belongs, or -1 when either of two places is right. */
function toneSlot(vowels: string, hasCoda: boolean): number {
  for (let i = vowels.length - 1; i >= 0; i--) if (MARKED.has(vowels[i]!)) return i;
  if (hasCoda) return vowels.length - 1; // "toàn", "huỳnh"
  if (vowels.length === 3) return 1; // "ngoài", "khuya", "khuỷu"
  if (vowels.length === 2) return EITHER.has(vowels) ? -1 : 0; // "mùa", "máy", "hoà"/"hòa"
  return 0;
}

/**
 * Parses one written syllable, or returns null when the token cannot be one. `checkTone: false` skips the
 * tone rules, for toneless text such as web addresses ("dichvucong").
 */
export function parseSyllable(token: string, checkTone = true): Syllable | null {
  if (!token || token.length > 8) return null;
  const split = splitTone(token);
  if (!split) return null;
  const m = SHAPE.exec(split.base);
  if (!m) return null;
  let onset = m[1] ?? '';
  let vowels = m[2]!;
  const coda = m[3] ?? '';
  // "giếng", "tháng Giêng": before a coda the i belongs to the rhyme iê ("gi" + "ê" + "ng" would be no rhyme).
  if (onset === 'gi' && vowels[0] === 'ê' && coda) {
    onset = 'g';
    vowels = `i${vowels}`;
  }
  const rule = CLUSTERS[vowels];
  if (rule === undefined) return null;
  if ((rule === 'none' && coda) || (rule === 'must' && !coda)) return null;
  const first = vowels[0]!;
  const front = first === 'e' || first === 'ê' || first === 'i' || first === 'y';
  // Spelling of /k/, /ɣ/, /ŋ/: c, g, ng before a, o, u…; gh, ngh before e, ê, i ("ghế", "nghỉ", never "ce").
  if ((onset === 'c' || onset === 'ng') && front) return null;
  if ((onset === 'gh' || onset === 'ngh') && !front) return null;
  if (onset === 'g' && (first === 'e' || first === 'ê')) return null;
  // "qu" already holds the medial: "quy", "quốc", never "quu" or "quo".
  if (onset === 'qu' && (first === 'u' || first === 'o')) return null;
  // ch and nh close only front or open rhymes: "sách", "lệnh", "tính", "oanh", "huỳnh"; c and ng the others.
  if ((coda === 'ch' || coda === 'nh') && !['a', 'ê', 'i', 'y', 'oa', 'uê', 'uy'].includes(vowels)) return null;
  if ((coda === 'c' || coda === 'ng') && ['ê', 'i', 'y', 'uê', 'uy'].includes(vowels)) return null;
  if (checkTone) {
    // A syllable closed by p, t, c, ch (and the k of Đắk) carries only sắc or nặng: "top", "hoat" cannot be.
    if (['p', 't', 'c', 'ch', 'k'].includes(coda) && split.tone !== ACUTE && split.tone !== DOT) return null;
    if (split.tone) {
      const at = split.toneAt - onset.length;
      const slot = toneSlot(vowels, coda !== '');
      if (at < 0 || at >= vowels.length || (slot >= 0 && at !== slot)) return null;
    }
  }
  return { onset, vowels, coda, tone: split.tone };
}

/** Answers remembered: a bulletin says the same few hundred syllables over and over. */
const known = new Map<string, boolean>();

/** True when the token (any case) is one Vietnamese syllable, tone and tone placement included. */
export function isSyllable(token: string): boolean {
  let answer = known.get(token);
  if (answer === undefined) {
    answer = parseSyllable(token) !== null;
    if (known.size >= 20_000) known.clear();
    known.set(token, answer);
  }
  return answer;
}

/** The shape of a syllable without tones: for toneless runs (web addresses, "QuangNam"). */
export function isSyllableShape(token: string): boolean {
  return parseSyllable(token, false) !== null;
}

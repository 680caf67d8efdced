/**
 * Letter-to-sound rules for Latin-script words that neither dictionary knows (vi-reading.md "Abbreviations
 * and loanwords"; issue 19 "Loanwords"): a guess at a Vietnamese-style reading ("Lenin" → le nin, "Putin" →
 * pu tin, "SmartCity" → xờ mát xi ti), always reported as guessed so that an operator adds the right one.
 * Every syllable of the result is checked by syllable.ts, so the engine never meets a foreign spelling; a word the rules cannot turn into syllables is returned as null (unread).
 */
import { isSyllable } from './syllable.js';

/** English spellings rewritten before syllables are cut, longest first. */
const GRAPHEMES: readonly (readonly [string, string])[] = [
  ['tion', 'Sân'], ['igh', 'ai'], ['ph', 'f'], ['ck', 'k'], ['sh', 'S'], ['wh', 'w'], ['ee', 'i'], ['ea', 'i'],
  ['oo', 'u'], ['ou', 'ao'], ['ow', 'ao'], ['ai', 'ây'], ['ay', 'ây'], ['ey', 'ây'], ['au', 'o'], ['aw', 'o'],
  ['ie', 'i'], ['ue', 'iu'], ['ew', 'iu'], ['oy', 'oi'], ['x', 'ks'], ['qu', 'Q'], ['q', 'k'], ['ll', 'l'],
  ['ss', 's'], ['tt', 't'], ['pp', 'p'], ['mm', 'm'], ['nn', 'n'], ['ff', 'f'], ['rr', 'r'], ['dd', 'd'],
];

const VOWEL = /[aăâeêioôơuưy]/u;
/** Consonant pairs that stay one sound ("th", "ch", "tr"), as written in Vietnamese. */
const DIGRAPHS = new Set(['th', 'ch', 'tr', 'kh', 'ng', 'nh', 'gh']);

/** Onset of a syllable, in Vietnamese spelling before the c/k and g/gh choice. */
const ONSETS: Readonly<Record<string, string>> = {
  b: 'b', c: 'k', d: 'đ', f: 'ph', g: 'g', h: 'h', j: 'gi', k: 'k', l: 'l', m: 'm', n: 'n', p: 'p', r: 'r', s: 'x',
  t: 't', v: 'v', z: 'd', S: 's', th: 'th', ch: 'ch', tr: 'tr', kh: 'kh', ng: 'ng', nh: 'nh', gh: 'g', w: 'w', Q: 'qu',
};
/** Codas: stops stay stops (b → p, d → t, g → c), s and x sound as t ("virus" → vi rút), l as n ("hotel"). */
const CODAS: Readonly<Record<string, string>> = {
  b: 'p', c: 'c', d: 't', f: 'p', g: 'c', k: 'c', l: 'n', m: 'm', n: 'n', ng: 'ng', nh: 'nh', p: 'p', s: 't', t: 't',
  th: 't', ch: 'ch', S: 't', z: 't', v: 'p',
};
/** What a consonant alone before another consonant is said as: "gờ", "xờ" ("Grab" → gờ ráp). */
const SCHWA: Readonly<Record<string, string>> = { s: 'xờ', S: 'sờ', c: 'cờ', k: 'cờ', g: 'gờ', b: 'bờ', p: 'pờ', d: 'đờ', t: 'tờ', f: 'phờ' };

type Part = { kind: 'c' | 'v'; text: string };

/** Letters → runs of consonants and vowels, digraphs kept whole. */
function runs(word: string): Part[] {
  const parts: Part[] = [];
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    const two = word.slice(i, i + 2);
    // "y" before a vowel is a consonant ("yoga" → dô ga); elsewhere it is the vowel i.
    const isVowel = VOWEL.test(ch) && !(ch === 'y' && VOWEL.test(word[i + 1] ?? ''));
    if (!isVowel && DIGRAPHS.has(two)) {
      parts.push({ kind: 'c', text: two });
      i++;
      continue;
    }
    const kind = isVowel ? 'v' : 'c';
    const last = parts[parts.length - 1];
    if (kind === 'v' && last?.kind === 'v') last.text += ch === 'y' ? 'i' : ch;
    else parts.push({ kind, text: kind === 'c' && ch === 'y' ? 'd' : ch === 'y' ? 'i' : ch });
  }
  return parts;
}

/** The c/k, g/gh, ng/ngh spelling before e, ê, i (Vietnamese orthography). */
function spellOnset(onset: string, vowels: string): string {
  const front = /^[eêiy]/u.test(vowels);
  if (onset === 'k') return front ? 'k' : 'c';
  if (onset === 'g') return front ? 'gh' : 'g';
  if (onset === 'ng') return front ? 'ngh' : 'ng';
  return onset;
}

/** One syllable from its parts; a closed syllable ending in a stop takes sắc (the only tone it can have). */
function syllable(onset: string, vowels: string, coda: string): string | null {
  // After i and ê Vietnamese writes nh and ch: "shopping" → sốp pinh, "click" → clích.
  const front = /[iêy]$/u.test(vowels);
  const c = front && coda === 'ng' ? 'nh' : front && coda === 'c' ? 'ch' : coda;
  // Vowel runs Vietnamese has no rhyme for keep their first vowels ("oe" stays, "eo" stays, "iou" → i).
  for (const v of [vowels, vowels.slice(0, 2), vowels[0]!]) {
    const o = spellOnset(onset, v);
    const base = `${o}${v}${c}`;
    const toned = /(?:p|t|c|ch)$/u.test(c) ? addAcute(o, v, c) : base;
    if (isSyllable(toned)) return toned;
    // Rhymes that cannot be closed ("ao" + "n") drop the coda.
    if (c && isSyllable(`${o}${v}`)) return `${o}${v}`;
  }
  return null;
}

/** The vowels after a "w": o before a and e, u before i (as "uy"). */
function glide(vowels: string): string {
  if (/^[aăe]/u.test(vowels)) return `o${vowels}`;
  if (vowels.startsWith('i')) return `uy${vowels.slice(1)}`;
  return vowels;
}

/** Puts sắc on the vowel that carries the tone: the marked one, else the last before the coda. */
function addAcute(onset: string, vowels: string, coda: string): string {
  let at = vowels.length - 1;
  for (let i = vowels.length - 1; i >= 0; i--) {
    if ('ăâêôơư'.includes(vowels[i]!)) {
      at = i;
      break;
    }
  }
  const toned = `${vowels.slice(0, at)}${`${vowels[at]!}\u0301`.normalize('NFC')}${vowels.slice(at + 1)}`;
  return `${onset}${toned}${coda}`;
}

/**
 * A guessed Vietnamese reading of one Latin-script word, or null. Syllables are cut before a single
 * consonant between vowels ("le-nin") and inside a pair ("con-nec"); a consonant that cannot open or close
 * a syllable is said on its own with "ờ".
 */
export function guessReading(word: string): string[] | null {
  let w = word.toLowerCase();
  if (!/^[a-zđăâêôơư]+$/u.test(w)) return null;
  w = w
    .replace(/c(?=[eiy])/gu, 's') // "office", "cinema": c before e, i, y is s
    .replace(/([^aeiouy])e$/u, '$1') // a final e is silent: "mobile", "online"
    .replace(/(?:er|or)$/u, 'ơ') // "computer" → com piu tơ
    .replace(/r(?![aeiouy])/gu, '') // r closes nothing: "smart" → xờ mát
    .replace(/(?<![tckgnsw])h(?![aeiouy])/gu, ''); // "John" → giôn
  for (const [from, to] of GRAPHEMES) w = w.split(from).join(to);
  const parts = runs(w);
  const out: string[] = [];
  let i = 0;
  while (i < parts.length) {
    // Onset consonants: all but the last are said alone.
    const cons: string[] = [];
    while (i < parts.length && parts[i]!.kind === 'c') cons.push(parts[i++]!.text);
    if (i >= parts.length) {
      // Trailing consonants with no vowel after them ("-st"): the first closes the last syllable if it can.
      if (out.length === 0) return null;
      const lastSyl = out[out.length - 1]!;
      const coda = cons.map((c) => CODAS[c]).find((c) => c !== undefined);
      if (coda && /[aăâeêioôơuưy]$/u.test(lastSyl.normalize('NFD').replace(/[\u0300-\u036f]/gu, ''))) {
        const redone = reclose(lastSyl, coda);
        if (redone) out[out.length - 1] = redone;
      }
      break;
    }
    for (const c of cons.slice(0, -1)) {
      const alone = SCHWA[c];
      if (alone) out.push(alone);
    }
    const onsetLetter = cons[cons.length - 1];
    const onset = onsetLetter === undefined ? '' : ONSETS[onsetLetter];
    if (onset === undefined) return null;
    const vowels = parts[i++]!.text;
    // Coda: the next consonant closes this syllable when another consonant (or the end) follows it.
    let coda = '';
    const next = parts[i];
    const after = parts[i + 1];
    if (next?.kind === 'c' && (after === undefined || after.kind === 'c')) {
      const mapped = CODAS[next.text];
      if (mapped !== undefined) {
        coda = mapped;
        i++;
      }
    }
    // "w" is a glide: "web" → oép, "wa" → oa, "wi" → uy.
    const syl = onset === 'w' ? syllable('', glide(vowels), coda) : syllable(onset, vowels, coda);
    if (!syl) return null;
    out.push(syl);
  }
  return out.length > 0 ? out : null;
}

/** Closes an open syllable with a coda ("te" + t → tét), or null if the result is no syllable. */
function reclose(syl: string, coda: string): string | null {
  const bare = syl.normalize('NFD').replace(/[\u0300\u0301\u0303\u0309\u0323]/gu, '').normalize('NFC');
  const m = /^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?([aăâeêioôơuưy]+)$/u.exec(bare);
  if (!m) return null;
  return syllable(m[1] ?? '', m[2]!, coda);
}

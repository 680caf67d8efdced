/**
 * Units and currencies after a number (vi-reading.md "Money, units, phone numbers"):
 * "50.000đ" → năm mươi nghìn đồng, "37°C" → ba mươi bảy độ xê, "60 km/h" → sáu mươi ki lô mét trên giờ.
 */
import { isAlnum, isVietnameseSyllable } from './letters.js';

export const CURRENCIES: Readonly<Record<string, string>> = {
  đ: 'đồng', đồng: 'đồng', VNĐ: 'đồng', VND: 'đồng', vnđ: 'đồng', vnd: 'đồng', USD: 'đô la mỹ', $: 'đô la',
};

export const MEASURES: Readonly<Record<string, string>> = {
  km: 'ki lô mét', m: 'mét', dm: 'đề xi mét', cm: 'xen ti mét', mm: 'mi li mét',
  km2: 'ki lô mét vuông', 'km²': 'ki lô mét vuông', m2: 'mét vuông', 'm²': 'mét vuông', cm2: 'xen ti mét vuông',
  m3: 'mét khối', 'm³': 'mét khối',
  kg: 'ki lô gam', g: 'gam', mg: 'mi li gam', ha: 'héc ta',
  l: 'lít', ml: 'mi li lít',
  '°C': 'độ xê', '℃': 'độ xê', oC: 'độ xê', '°': 'độ',
  kW: 'ki lô oát', kWh: 'ki lô oát giờ', W: 'oát', MW: 'mê ga oát', V: 'vôn', kV: 'ki lô vôn',
  MB: 'mê ga bai', GB: 'gi ga bai',
};

/** Only as the second half of a compound unit: km/h, m/s. */
const DENOMINATORS: Readonly<Record<string, string>> = { h: 'giờ', s: 'giây', ...MEASURES };

export interface UnitMatch {
  end: number;
  words: string[];
  money: boolean;
}

function keyAt(text: string, pos: number, table: Readonly<Record<string, string>>): [string, string] | null {
  let best: [string, string] | null = null;
  for (const [key, reading] of Object.entries(table)) {
    if (!text.startsWith(key, pos)) continue;
    // A unit ends the word: "2 ha" but not "2 hay"; "5 m" but not "5 mô hình".
    if (isAlnum(key[key.length - 1]) && isAlnum(text[pos + key.length])) continue;
    if (!best || key.length > best[0].length) best = [key, reading];
  }
  return best;
}

/** A unit written right after a number, glued or after one space, with an optional "/denominator". */
export function unitAt(text: string, pos: number): UnitMatch | null {
  let i = pos;
  if (text[i] === ' ' || text[i] === '\u00a0') i++;
  const money = keyAt(text, i, CURRENCIES);
  const measure = money ? null : keyAt(text, i, MEASURES);
  const found = money ?? measure;
  if (!found) return null;
  const words = found[1].split(' ');
  let end = i + found[0].length;
  if (text[end] === '/') {
    const den = keyAt(text, end + 1, DENOMINATORS);
    if (den) {
      // km/h → ki lô mét trên giờ; money per unit is "một": 25.000 đồng/kg → đồng một ki lô gam.
      words.push(money ? 'một' : 'trên', ...den[1].split(' '));
      end += 1 + den[0].length;
    } else {
      const word = /^\p{Ll}+/u.exec(text.slice(end + 1, end + 12))?.[0];
      if (word && isVietnameseSyllable(word) && !isAlnum(text[end + 1 + word.length])) {
        words.push(money ? 'một' : 'trên', word); // 200.000 đồng/người → đồng một người
        end += 1 + word.length;
      }
    }
  }
  return { end, words, money: money !== null };
}

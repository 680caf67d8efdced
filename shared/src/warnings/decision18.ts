/**
 * Disaster kinds and risk levels of Decision 18/2021/QĐ-TTg (22 April 2021, in force 1 July 2021; it replaced
 * Decisions 44/2014/QĐ-TTg and 46/2014/QĐ-TTg): "Quy định về dự báo, cảnh báo, truyền tin thiên tai và cấp
 * độ rủi ro thiên tai".
 *
 * - Article 3 lists the disasters that are forecast, warned of and passed on; `DISASTER_KINDS` has one entry
 *   per disaster named there (the article groups them in ten items; `group` keeps that grouping).
 * - Chapter II (Articles 8–41) sets the bulletins per group in sections (Mục 1–7) and how they are passed on
 *   (Mục 8); `section` names the section for each kind.
 * - Article 4 sets the risk levels: at most five per kind, each with a colour (clause 3, Appendix XII), and
 *   lets two or more simultaneous or successive disasters raise the level by one, or two where serious loss
 *   of life and property threatens, never above 5 (clause 4) — `raiseRiskLevel`.
 * - Chapter III sets, per kind, what each level means (e.g. Article 46: flash flood, landslide, subsidence
 *   caused by rain or flow). A kind does not use all five levels; which ones it uses is not encoded here yet:
 *   the form takes the level the agency's bulletin states.
 *
 * CAP severity/urgency/certainty suggested per level (`RISK_LEVEL_CAP`) are ours, not the decision's: CAP
 * 1.2 has no risk-level element, so we carry the level as a parameter and suggest values that make
 * a CAP consumer rank our warnings as the decision ranks them.
 */
import type { CapCategory, CapCertainty, CapSeverity, CapUrgency } from './cap.js';

export type RiskLevel = 1 | 2 | 3 | 4 | 5;
export const RISK_LEVELS: readonly RiskLevel[] = [1, 2, 3, 4, 5];

export interface RiskLevelInfo {
  level: RiskLevel;
  /** Article 4 clause 3: the colour's name and the risk it stands for, in the decision's words. */
  colourVi: string;
  colourEn: string;
  meaningVi: string;
  meaningEn: string;
  /**
   * Our screen rendering of the colour. Appendix XII is the authority for map colours; these hex values are
   * a rendering of the named colours, to be checked against the appendix before they go on a printed map.
   */
  hex: string;
}

/** Article 4 clause 3 of Decision 18/2021/QĐ-TTg. */
export const RISK_LEVEL_INFO: Readonly<Record<RiskLevel, RiskLevelInfo>> = {
  1: { level: 1, colourVi: 'xanh dương nhạt', colourEn: 'light blue', meaningVi: 'rủi ro thấp', meaningEn: 'low risk', hex: '#8ecdf5' },
  2: { level: 2, colourVi: 'vàng nhạt', colourEn: 'light yellow', meaningVi: 'rủi ro trung bình', meaningEn: 'medium risk', hex: '#fff3a0' },
  3: { level: 3, colourVi: 'da cam', colourEn: 'orange', meaningVi: 'rủi ro lớn', meaningEn: 'high risk', hex: '#ff9a1f' },
  4: { level: 4, colourVi: 'đỏ', colourEn: 'red', meaningVi: 'rủi ro rất lớn', meaningEn: 'very high risk', hex: '#e52222' },
  5: { level: 5, colourVi: 'tím', colourEn: 'purple', meaningVi: 'thảm họa', meaningEn: 'catastrophic risk', hex: '#8b2fc9' },
};

/**
 * Article 4 clause 4: the level of two or more disasters at once or in succession may be raised by one on
 * their impact, by two where serious loss of life and property threatens; never above 5.
 */
export function raiseRiskLevel(level: RiskLevel, by: 0 | 1 | 2): RiskLevel {
  return Math.min(5, level + by) as RiskLevel;
}

export interface CapSuggestion {
  severity: CapSeverity;
  urgency: CapUrgency;
  certainty: CapCertainty;
}

/**
 * What our CAP says for a level unless the person writing the warning changes it. Level 4 and 5 are the
 * decision's "very high" and "catastrophic": Extreme and Immediate, so a consumer's emergency rule fires.
 * A warning is a forecast, so certainty is Likely; a person sets Observed when it is happening.
 */
export const RISK_LEVEL_CAP: Readonly<Record<RiskLevel, CapSuggestion>> = {
  1: { severity: 'Minor', urgency: 'Expected', certainty: 'Likely' },
  2: { severity: 'Moderate', urgency: 'Expected', certainty: 'Likely' },
  3: { severity: 'Severe', urgency: 'Expected', certainty: 'Likely' },
  4: { severity: 'Extreme', urgency: 'Immediate', certainty: 'Likely' },
  5: { severity: 'Extreme', urgency: 'Immediate', certainty: 'Likely' },
};

/** The groups of Article 3 (items 1–10) and the Chapter II section that sets their bulletins. */
export type DisasterGroup =
  | 'tropical-cyclone' // Art. 3 item 1; Chapter II Mục 1
  | 'rain-flood' // item 2; Mục 2
  | 'heat-drought' // item 3; Mục 3
  | 'sea-wind-fog' // item 4; Mục 4
  | 'surge' // item 5; Mục 1 and 4
  | 'local-severe' // item 6 (lốc, sét, mưa đá, rét hại, sương muối); Mục 5
  | 'forest-fire' // item 7; Mục 6
  | 'earthquake' // items 8–9; Mục 7
  | 'tsunami'; // item 10; Mục 7

export interface DisasterKind {
  id: DisasterKindId;
  /** The decision's name, as a bulletin's title uses it ("bản tin dự báo bão"). */
  vi: string;
  en: string;
  group: DisasterGroup;
  /** Section (Mục) of Chapter II that sets this kind's bulletins. */
  section: string;
  capCategory: CapCategory;
  /** Other written forms a CAP `event` or an operator may use for it, besides `vi` and `en`. */
  aliases: readonly string[];
}

export const DISASTER_KIND_IDS = [
  'tropical-depression', 'storm', 'storm-surge',
  'heavy-rain', 'flood', 'inundation', 'flash-flood', 'landslide', 'land-subsidence',
  'heat', 'drought', 'saltwater-intrusion',
  'strong-wind-at-sea', 'fog',
  'tornado', 'lightning', 'hail', 'cold', 'frost',
  'forest-fire', 'earthquake', 'tsunami',
] as const;
export type DisasterKindId = (typeof DISASTER_KIND_IDS)[number];

const k = (id: DisasterKindId, vi: string, en: string, group: DisasterGroup, section: string, capCategory: CapCategory, aliases: string[] = []): DisasterKind => ({ id, vi, en, group, section, capCategory, aliases });

/** Article 3 of Decision 18/2021/QĐ-TTg, one entry per disaster it names. */
export const DISASTER_KINDS: Readonly<Record<DisasterKindId, DisasterKind>> = {
  'tropical-depression': k('tropical-depression', 'áp thấp nhiệt đới', 'tropical depression', 'tropical-cyclone', 'Chương II Mục 1', 'Met', ['ATNĐ']),
  storm: k('storm', 'bão', 'storm', 'tropical-cyclone', 'Chương II Mục 1', 'Met', ['typhoon', 'tropical storm', 'siêu bão']),
  'storm-surge': k('storm-surge', 'nước dâng', 'storm surge', 'surge', 'Chương II Mục 1, Mục 4', 'Met', ['nước dâng do bão', 'triều cường']),
  'heavy-rain': k('heavy-rain', 'mưa lớn', 'heavy rain', 'rain-flood', 'Chương II Mục 2', 'Met', ['mưa to']),
  flood: k('flood', 'lũ', 'flood', 'rain-flood', 'Chương II Mục 2', 'Met', ['lũ lụt', 'river flood']),
  inundation: k('inundation', 'ngập lụt', 'inundation', 'rain-flood', 'Chương II Mục 2', 'Met', ['ngập úng']),
  'flash-flood': k('flash-flood', 'lũ quét', 'flash flood', 'rain-flood', 'Chương II Mục 2', 'Met'),
  landslide: k('landslide', 'sạt lở đất', 'landslide', 'rain-flood', 'Chương II Mục 2, Mục 3', 'Geo', ['sạt lở', 'lở đất']),
  'land-subsidence': k('land-subsidence', 'sụt lún đất', 'land subsidence', 'rain-flood', 'Chương II Mục 2, Mục 3', 'Geo', ['sụt lún']),
  heat: k('heat', 'nắng nóng', 'heat wave', 'heat-drought', 'Chương II Mục 3', 'Met', ['heat', 'nắng nóng gay gắt']),
  drought: k('drought', 'hạn hán', 'drought', 'heat-drought', 'Chương II Mục 3', 'Met'),
  'saltwater-intrusion': k('saltwater-intrusion', 'xâm nhập mặn', 'saltwater intrusion', 'heat-drought', 'Chương II Mục 3', 'Env', ['mặn']),
  'strong-wind-at-sea': k('strong-wind-at-sea', 'gió mạnh trên biển', 'strong wind at sea', 'sea-wind-fog', 'Chương II Mục 4', 'Met', ['gió mạnh', 'gió mùa đông bắc mạnh']),
  fog: k('fog', 'sương mù', 'fog', 'sea-wind-fog', 'Chương II Mục 4', 'Met'),
  tornado: k('tornado', 'lốc', 'whirlwind', 'local-severe', 'Chương II Mục 5', 'Met', ['lốc xoáy', 'tornado', 'dông lốc']),
  lightning: k('lightning', 'sét', 'lightning', 'local-severe', 'Chương II Mục 5', 'Met', ['dông sét', 'thunderstorm']),
  hail: k('hail', 'mưa đá', 'hail', 'local-severe', 'Chương II Mục 5', 'Met'),
  cold: k('cold', 'rét hại', 'damaging cold', 'local-severe', 'Chương II Mục 5', 'Met', ['rét đậm, rét hại', 'rét đậm', 'cold wave']),
  frost: k('frost', 'sương muối', 'hoarfrost', 'local-severe', 'Chương II Mục 5', 'Met', ['frost']),
  'forest-fire': k('forest-fire', 'cháy rừng do tự nhiên', 'natural forest fire', 'forest-fire', 'Chương II Mục 6', 'Fire', ['cháy rừng', 'forest fire', 'wildfire']),
  earthquake: k('earthquake', 'động đất', 'earthquake', 'earthquake', 'Chương II Mục 7', 'Geo'),
  tsunami: k('tsunami', 'sóng thần', 'tsunami', 'tsunami', 'Chương II Mục 7', 'Geo'),
};

/**
 * How our CAP carries what CAP 1.2 has no element for. These names are ours (CAP leaves eventCode and
 * parameter names to "the originator's" conventions, §3.2.2); a source that uses other names is mapped by
 * its settings.
 */
export const CAP_EVENT_CODE_KIND = 'VN-QD18-2021';
export const CAP_PARAMETER_RISK_LEVEL = 'VN-QD18-2021-CapDoRuiRo';

/** Lowercase, no diacritics, đ → d, single spaces: for comparing names people type in different ways. */
export function foldVietnamese(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const KIND_BY_NAME: ReadonlyMap<string, DisasterKindId> = (() => {
  const m = new Map<string, DisasterKindId>();
  for (const kind of Object.values(DISASTER_KINDS)) {
    for (const name of [kind.id, kind.vi, kind.en, ...kind.aliases]) m.set(foldVietnamese(name), kind.id);
  }
  return m;
})();

/** The kind a name (a CAP `event`, an eventCode value, an operator's word) stands for, or null. */
export function disasterKindOf(name: string): DisasterKindId | null {
  return KIND_BY_NAME.get(foldVietnamese(name)) ?? null; // a Map: "constructor" finds nothing
}

/** A risk level written as a parameter value ("3", "cấp 3", "cấp độ 3"), or null. */
export function parseRiskLevel(value: string): RiskLevel | null {
  const m = /^\s*(?:c[aấ]p(?:\s+đ[oộ])?\s*)?([1-5])\s*$/iu.exec(value);
  return m ? (Number(m[1]) as RiskLevel) : null;
}

/**
 * The standard Vietnamese announcement of a disaster warning, as a commune announcer reads it: what is
 * coming (the kind of Decision 18/2021/QĐ-TTg), the risk level with its colour and meaning (Article 4
 * clause 3), the agency's own text, the communes it concerns, what people should do, and until when the
 * warning holds.
 *
 * The output is written text, not the spoken form: numbers, times and dates are written the way the
 * reading normalizer (shared/src/vi, design/vi-reading.md) reads best ("17 giờ 30 phút ngày 07/12/2026"),
 * and the abbreviations warnings use are in WARNING_DICTIONARY, to be passed to the normalizer (or added
 * to the province's dictionary) with the text. test/warnings/announcement.test.ts reads every kind's
 * announcement through the normalizer and requires nothing left unread.
 *
 * The templates are data: one frame for all kinds and, per kind, a headline and the advice. A province may
 * edit them; `renderTemplate` refuses a placeholder it does not know, so a typo shows at once.
 */
import { DISASTER_KINDS, RISK_LEVEL_INFO, type DisasterKindId, type RiskLevel } from '@loaxa/shared';

export interface WarningAnnouncementInput {
  kind: DisasterKindId;
  /** The level the agency's bulletin states; null when it states none. */
  riskLevel: RiskLevel | null;
  /** The agency that issued the bulletin ("Đài Khí tượng Thủy văn tỉnh Lào Cai"). */
  agency: string;
  /** The agency's text, as published. */
  agencyText: string;
  /** The communes (and provinces) concerned, as they are announced ("xã Tân Lập"). */
  areas: readonly string[];
  /** When the warning stops holding (ms since the epoch); null when the bulletin gives no end. */
  validUntil: number | null;
}

export interface KindTemplate {
  /** The sentence that names the warning ("Tin cảnh báo lũ quét, sạt lở đất"). */
  headline: string;
  /** What people should do. */
  advice: string;
}

export interface AnnouncementTemplates {
  /**
   * The frame every kind shares. Placeholders: {title} {headline} {agency} {agencyText} {level} {areas}
   * {advice} {until}; each is a whole sentence or empty.
   */
  frame: string;
  kinds: Record<DisasterKindId, KindTemplate>;
}

const PLACEHOLDERS = ['title', 'headline', 'agency', 'agencyText', 'level', 'areas', 'advice', 'until'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Abbreviations of hydro-meteorological bulletins the shipped dictionary does not hold (it has PCTT, TKCN,
 * UBND). Without them "ATNĐ" is spelt letter by letter.
 */
export const WARNING_DICTIONARY: Readonly<Record<string, string>> = Object.freeze({
  ATNĐ: 'áp thấp nhiệt đới',
  KTTV: 'khí tượng thủy văn',
  KTTVQG: 'khí tượng thủy văn quốc gia',
  BCH: 'ban chỉ huy',
  PCTT: 'phòng chống thiên tai',
  'PCTT-TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  'PCTT&TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  'PCTT và TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  KKL: 'không khí lạnh',
  GMĐB: 'gió mùa đông bắc',
  BĐKH: 'biến đổi khí hậu',
});

const EVACUATE_READY = 'Người dân ở nơi nguy hiểm sẵn sàng sơ tán khi có lệnh của chính quyền.';
const FOLLOW = 'Bà con theo dõi các bản tin tiếp theo trên hệ thống truyền thanh của xã.';

const kind = (headline: string, advice: string): KindTemplate => ({ headline, advice });

/** The shipped templates. The advice follows the usual wording of commune and provincial steering committees' notices. */
export const DEFAULT_ANNOUNCEMENT_TEMPLATES: Readonly<AnnouncementTemplates> = Object.freeze({
  frame: '{title}. {headline}. {agency} cho biết: {agencyText} {level} {areas} {advice} {until}',
  kinds: {
    'tropical-depression': kind('Tin cảnh báo áp thấp nhiệt đới', `Tàu thuyền không ra khơi, khẩn trương vào nơi tránh trú an toàn. Bà con chằng chống nhà cửa, bảo vệ tài sản. ${EVACUATE_READY}`),
    storm: kind('Tin cảnh báo bão', `Tàu thuyền không ra khơi, khẩn trương vào nơi tránh trú an toàn. Bà con chằng chống nhà cửa, thu hoạch sớm hoa màu. ${EVACUATE_READY}`),
    'storm-surge': kind('Tin cảnh báo nước dâng', `Bà con ở ven biển, cửa sông không ra bãi biển, không đi lại trên đê kè. ${EVACUATE_READY}`),
    'heavy-rain': kind('Tin cảnh báo mưa lớn', `Bà con không đi qua ngầm tràn, sông suối khi nước chảy xiết. Người dân ở vùng trũng thấp, ven sông suối, sườn đồi dốc đề phòng lũ quét, sạt lở đất. ${FOLLOW}`),
    flood: kind('Tin cảnh báo lũ', `Bà con kê cao đồ đạc, di chuyển tài sản, vật nuôi lên nơi cao. Không đi qua ngầm tràn, không vớt củi trên sông. ${EVACUATE_READY}`),
    inundation: kind('Tin cảnh báo ngập lụt', `Bà con kê cao đồ đạc, di chuyển tài sản, vật nuôi lên nơi cao, không cho trẻ em chơi gần nơi nước ngập. ${EVACUATE_READY}`),
    'flash-flood': kind('Tin cảnh báo lũ quét', `Người dân ở ven sông suối, vùng trũng thấp, sườn đồi núi dốc khẩn trương di chuyển đến nơi an toàn. Không đi qua ngầm tràn, sông suối. ${FOLLOW}`),
    landslide: kind('Tin cảnh báo sạt lở đất', `Người dân ở chân đồi, sườn núi dốc, ven sông suối khẩn trương di chuyển đến nơi an toàn khi thấy đất đá nứt, lún, nước đục chảy ra từ sườn đồi. ${FOLLOW}`),
    'land-subsidence': kind('Tin cảnh báo sụt lún đất', `Bà con tránh xa khu vực đất nứt, lún; báo ngay cho chính quyền khi phát hiện. ${FOLLOW}`),
    heat: kind('Tin cảnh báo nắng nóng', `Bà con hạn chế ra ngoài và làm việc ngoài trời vào buổi trưa, uống đủ nước, chú ý người già và trẻ nhỏ; đề phòng cháy nổ. ${FOLLOW}`),
    drought: kind('Tin cảnh báo hạn hán', `Bà con sử dụng nước tiết kiệm, trữ nước sinh hoạt, chủ động lịch thời vụ. ${FOLLOW}`),
    'saltwater-intrusion': kind('Tin cảnh báo xâm nhập mặn', `Bà con theo dõi độ mặn trước khi lấy nước, trữ nước ngọt cho sinh hoạt và sản xuất. ${FOLLOW}`),
    'strong-wind-at-sea': kind('Tin cảnh báo gió mạnh trên biển', `Tàu thuyền hoạt động trên biển chủ động phòng tránh, không ra khơi khi sóng to gió lớn. ${FOLLOW}`),
    fog: kind('Tin cảnh báo sương mù', `Bà con đi lại chậm, bật đèn khi tham gia giao thông; tàu thuyền chú ý tầm nhìn xa. ${FOLLOW}`),
    tornado: kind('Tin cảnh báo lốc', `Bà con chằng chống nhà cửa, không trú dưới gốc cây to, cột điện, biển quảng cáo. ${FOLLOW}`),
    lightning: kind('Tin cảnh báo sét', `Bà con không làm việc ngoài đồng, không trú dưới gốc cây khi có dông; ngắt các thiết bị điện. ${FOLLOW}`),
    hail: kind('Tin cảnh báo mưa đá', `Bà con chằng chống mái nhà, che chắn cây trồng, không ra ngoài khi có mưa đá. ${FOLLOW}`),
    cold: kind('Tin cảnh báo rét hại', `Bà con giữ ấm cho người già và trẻ nhỏ, che chắn chuồng trại, không sưởi bằng than trong phòng kín. ${FOLLOW}`),
    frost: kind('Tin cảnh báo sương muối', `Bà con che phủ cây trồng, giữ ấm cho vật nuôi. ${FOLLOW}`),
    'forest-fire': kind('Tin cảnh báo cháy rừng', `Bà con không đốt nương, không dùng lửa trong rừng; phát hiện cháy báo ngay cho chính quyền và kiểm lâm. ${FOLLOW}`),
    earthquake: kind('Tin báo động đất', `Bà con tránh xa nhà yếu, tường cao, cột điện; ra khoảng trống an toàn khi có rung lắc. ${FOLLOW}`),
    tsunami: kind('Tin cảnh báo sóng thần', `Người dân ở ven biển khẩn trương di chuyển lên vùng đất cao, ra xa bờ biển ngay. Tàu thuyền không vào gần bờ.`),
  },
});

/** Replaces {placeholders}; refuses one it does not know. Empty pieces leave no double spaces. */
export function renderTemplate(frame: string, values: Readonly<Record<Placeholder, string>>): string {
  const out = frame.replace(/\{([^{}]*)\}/g, (_, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`unknown placeholder {${name}} in the announcement template`);
    return values[name as Placeholder];
  });
  return out.replace(/[ \t]+/g, ' ').replace(/ ([.,;:])/g, '$1').trim();
}

/** A sentence ends with a pause mark; text ending with none gets a full stop. */
function sentence(s: string): string {
  const t = s.trim();
  return t === '' || /[.!?…]$/.test(t) ? t : `${t}.`;
}

/**
 * The agency's text as read: one line per sentence (a line without an end mark gets one), list bullets
 * dropped, runs of white space made one, and the rainfall rate of hydro-meteorological bulletins
 * ("100-200 mm/24h") written as it is said ("100-200 mm trong 24 giờ"): the normalizer leaves a "/" after
 * a unit unread.
 */
export function readableAgencyText(text: string): string {
  return text
    .replace(/(\d)\s*(mm|cm|m)\s*\/\s*(\d+)\s*(?:h|giờ)(?![\p{L}\d])/gu, '$1 $2 trong $3 giờ')
    .split(/\r?\n/)
    .map((line) => line.replace(/^\s*(?:[-+*•–]\s+)/, '').trim())
    .filter((line) => line !== '')
    .map((line) => sentence(line.replace(/:$/, '.')))
    .join(' ');
}

/** "xã A", "xã A và xã B", "xã A, xã B và phường C". */
export function joinVietnamese(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} và ${items[items.length - 1]}`;
}

/** Vietnam keeps one offset all year (UTC+7, no daylight saving). */
const VIETNAM_OFFSET_MS = 7 * 3600_000;

/** "17 giờ 30 phút ngày 07/12/2026" (or "17 giờ ngày …" on the hour), in Vietnam time. */
export function announcementTime(ms: number): string {
  const t = new Date(ms + VIETNAM_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  const minutes = t.getUTCMinutes();
  return `${t.getUTCHours()} giờ${minutes ? ` ${minutes} phút` : ''} ngày ${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}`;
}

/** The announcement text of a warning, with the province's templates or the shipped ones. */
export function buildAnnouncement(w: WarningAnnouncementInput, templates: AnnouncementTemplates = DEFAULT_ANNOUNCEMENT_TEMPLATES): string {
  // Own properties only: a kind that came from JSON as "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(DISASTER_KINDS, w.kind) || !Object.hasOwn(templates.kinds, w.kind)) throw new Error(`no announcement template for kind ${w.kind}`);
  if (w.riskLevel !== null && !Object.hasOwn(RISK_LEVEL_INFO, w.riskLevel)) throw new Error(`no risk level ${w.riskLevel} (Decision 18/2021/QĐ-TTg has 1–5)`);
  const k = DISASTER_KINDS[w.kind];
  const t = templates.kinds[w.kind];
  const level = w.riskLevel === null ? null : RISK_LEVEL_INFO[w.riskLevel];
  return renderTemplate(templates.frame, {
    // Level 3 and above are "large" risk or worse (Article 4 clause 3): announced as urgent.
    title: level && level.level >= 3 ? 'Thông báo khẩn' : 'Thông báo',
    headline: t.headline,
    agency: w.agency.trim(),
    agencyText: readableAgencyText(w.agencyText),
    level: level ? `Cấp độ rủi ro thiên tai do ${k.vi}: cấp ${level.level}, màu ${level.colourVi}, ${level.meaningVi}.` : '',
    areas: w.areas.length > 0 ? `Khu vực chịu ảnh hưởng: ${joinVietnamese(w.areas)}.` : '',
    advice: sentence(t.advice),
    until: w.validUntil === null ? '' : `Cảnh báo này có hiệu lực đến ${announcementTime(w.validUntil)}.`,
  });
}

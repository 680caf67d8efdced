/**
 * The pure parts of the disaster-warning page (issue 18): risk levels and their colours (Decision 18/2021/
 * QĐ-TTg Article 4 clause 3), kinds in Vietnamese, states, reach, the list's order, the "valid until" fields
 * in Vietnamese date and 24-hour time, the form's body and its errors, and the server's refusals in words.
 * Unit-tested in test/web/warnings.test.ts.
 */
import { DISASTER_KIND_IDS, DISASTER_KINDS, RISK_LEVEL_INFO, type DisasterKindId, type RiskLevel } from '@loaxa/shared/warnings';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { t } from '../../i18n/vi.js';
import { tw } from './warnings-vi.js';
import type { Warning, WarningFormBody, WarningState } from './warnings-api.js';

export type { DisasterKindId, RiskLevel };
export const KIND_IDS: readonly DisasterKindId[] = DISASTER_KIND_IDS;
export const LEVELS: readonly RiskLevel[] = [1, 2, 3, 4, 5];
export type WarningPriority = 'emergency' | 'priority';
/** WARNING_STATES of the contract, in the filter's order (a copy: the contract's module carries its schemas). */
export const STATES = ['pending', 'airing', 'held', 'unmatched', 'expired', 'cancelled', 'rejected'] as const satisfies readonly WarningState[];

const VN_OFFSET_MS = 7 * 3600_000;

/** "Lũ quét": the decision's name of the kind, capitalised for a label. */
export function kindName(kind: string | null): string {
  if (!kind || !(kind in DISASTER_KINDS)) return kind ?? '—';
  const vi = DISASTER_KINDS[kind as DisasterKindId].vi;
  return vi.charAt(0).toLocaleUpperCase('vi-VN') + vi.slice(1);
}

/** "Cấp 3 · rủi ro lớn", or that the level is not known. */
export function riskLabel(level: number | null): string {
  if (level === null || !(level in RISK_LEVEL_INFO)) return tw.noRisk;
  return tw.risk(level, RISK_LEVEL_INFO[level as RiskLevel].meaningVi);
}

/** The level's colour (a rendering of the decision's named colour) and a text colour readable on it. */
export function riskColours(level: number | null): { background: string; color: string } {
  if (level === null || !(level in RISK_LEVEL_INFO)) return { background: '#e6eaee', color: '#1d2329' };
  const background = RISK_LEVEL_INFO[level as RiskLevel].hex;
  return { background, color: textOn(background) };
}

/** Black or white, whichever contrasts more with `hex` (WCAG relative luminance). */
export function textOn(hex: string): '#000000' | '#ffffff' {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return '#000000';
  const n = parseInt(m[1]!, 16);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  // Contrast with black (l + 0.05) / 0.05 against white 1.05 / (l + 0.05).
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

export function stateLabel(state: WarningState): string {
  return tw.states[state] ?? state;
}

/** The badge tone of a state (the app's badge classes). */
export function stateTone(state: WarningState): string {
  switch (state) {
    case 'pending':
      return 'pending';
    case 'airing':
      return 'emergency';
    case 'rejected':
      return 'rejected';
    case 'held':
    case 'unmatched':
      return 'priority';
    default:
      return 'expired';
  }
}

/** "3/7 loa đã phát". */
export function reachText(reach: Warning['reach']): string {
  return tw.reach(reach.aired, reach.targeted);
}

/** The share of boxes that aired it, 0–100. */
export function reachPct(reach: Warning['reach']): number {
  return reach.targeted > 0 ? Math.min(100, (reach.aired / reach.targeted) * 100) : 0;
}

/** Pending warnings first (they wait for a person), each group newest first; one entry per id. */
export function pendingFirst<W extends Pick<Warning, 'id' | 'state' | 'updatedAt'>>(items: readonly W[]): W[] {
  const seen = new Set<string>();
  const unique = items.filter((w) => !seen.has(w.id) && seen.add(w.id));
  const rank = (w: W) => (w.state === 'pending' ? 0 : 1);
  return unique.sort((a, b) => rank(a) - rank(b) || Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
}

/** Whether a warning's page should keep refreshing (its reach changes while it airs or waits). */
export function isLive(state: WarningState): boolean {
  return state === 'airing';
}

/** 2026-12-07T10:30:00Z → "07/12/2026 17:30" in Vietnam time (UTC+7 all year), whatever the browser's zone. */
export function fmtVn(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const { date, time } = vnParts(ms);
  return `${date} ${time}`;
}

/** An instant as the form's fields: "dd/mm/yyyy" and "HH:mm" in Vietnam time. */
export function vnParts(ms: number): { date: string; time: string } {
  const s = new Date(ms + VN_OFFSET_MS).toISOString();
  return { date: `${s.slice(8, 10)}/${s.slice(5, 7)}/${s.slice(0, 4)}`, time: s.slice(11, 16) };
}

/** "7/12/2026" or "07/12/2026" (also with "-" or ".") → "2026-12-07"; null unless a real calendar date. */
export function parseVnDate(input: string): string | null {
  const m = /^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$/.exec(input);
  if (!m) return null;
  const iso = `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/** "17:30", "7:05", "17h30", "17g30" → "17:30"; null when not a 24-hour time. */
export function parseVnTime(input: string): string | null {
  const m = /^\s*(\d{1,2})\s*[:hg.]\s*(\d{2})\s*$/i.exec(input);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return `${String(h).padStart(2, '0')}:${m[2]}`;
}

/** `hours` from now, rounded up to the next half hour, as the form's fields. */
export function defaultValidUntil(now: number, hours: number): { date: string; time: string } {
  const half = 30 * 60_000;
  return vnParts(Math.ceil((now + hours * 3600_000) / half) * half);
}

/** The priority a level airs at unless the person changes it: level 3 and above interrupt everything. */
export function defaultPriority(level: number | null): WarningPriority {
  return level !== null && level >= 3 ? 'emergency' : 'priority';
}

export interface WarningForm {
  kind: DisasterKindId;
  riskLevel: RiskLevel;
  agency: string;
  agencyText: string;
  areaCodes: string[];
  validDate: string;
  validTime: string;
  repeatMinutes: string;
  attention: boolean;
  priority: WarningPriority;
}

export type WarningFormField = 'agency' | 'agencyText' | 'areas' | 'date' | 'time' | 'past' | 'repeat';

export function emptyWarningForm(now: number): WarningForm {
  const until = defaultValidUntil(now, 6);
  return { kind: 'heavy-rain', riskLevel: 3, agency: '', agencyText: '', areaCodes: [], validDate: until.date, validTime: until.time, repeatMinutes: '30', attention: true, priority: defaultPriority(3) };
}

export type FormResult = { ok: true; body: WarningFormBody } | { ok: false; errors: WarningFormField[] };

/** The form as the body of `POST /api/v1/warnings(/preview)`, or what is wrong with it. */
export function formToBody(form: WarningForm, now: number): FormResult {
  const errors: WarningFormField[] = [];
  if (!form.agency.trim()) errors.push('agency');
  if (!form.agencyText.trim()) errors.push('agencyText');
  if (!form.areaCodes.length) errors.push('areas');
  const date = parseVnDate(form.validDate);
  const time = parseVnTime(form.validTime);
  if (!date) errors.push('date');
  if (!time) errors.push('time');
  const validUntil = date && time ? `${date}T${time}:00+07:00` : null;
  if (validUntil && Date.parse(validUntil) <= now) errors.push('past');
  const repeat = form.repeatMinutes.trim() === '' ? 0 : Number(form.repeatMinutes);
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > 1440) errors.push('repeat');
  if (errors.length || !validUntil) return { ok: false, errors };
  return {
    ok: true,
    body: {
      kind: form.kind,
      riskLevel: form.riskLevel,
      agency: form.agency.trim(),
      agencyText: form.agencyText.trim(),
      areaCodes: [...form.areaCodes],
      validUntil,
      priority: form.priority,
      repeatMinutes: repeat,
      attention: form.attention,
    },
  };
}

/** What is allowed on a warning in its state, for a person who may act on warnings at all. */
export function actionsFor(state: WarningState, mayAct: boolean): { approve: boolean; reject: boolean; cancel: boolean } {
  if (!mayAct) return { approve: false, reject: false, cancel: false };
  return { approve: state === 'pending' || state === 'held', reject: state === 'pending', cancel: state === 'pending' || state === 'airing' || state === 'held' };
}

/** A short name of a warning for a question: "Lũ quét · Cấp 4 · rủi ro rất lớn". */
export function warningName(w: Pick<Warning, 'kind' | 'riskLevel' | 'event' | 'headline'>): string {
  const what = w.kind ? kindName(w.kind) : w.headline || w.event;
  return w.riskLevel ? `${what} · ${riskLabel(w.riskLevel)}` : what;
}

/** A field path of a 400 answer, named as the form names it. */
function fieldName(path: string): string {
  const head = path.split(/[.[]/)[0] ?? path;
  return tw.fields[head] ?? path;
}

/**
 * The server's refusal on these routes in words: an emergency without a recent login (401), reading spans
 * left unchecked (409), a field the form named wrong (400), a warning outside the user's area (403/404).
 */
export function warningError(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.status === 401 && /emergency|khẩn cấp|log in again|recent/i.test(err.message)) return tw.form.errors.reauth;
    if (err.status === 409 && /reading|checked|cách đọc|span/i.test(err.message)) return tw.form.errors.reading;
    if (err.status === 400 && err.fields.length) return `${t.errors.invalid} ${err.fields.map((f) => `${fieldName(f.path)}: ${f.message}`).join('; ')}`;
    if (err.status === 403) return tw.errors.forbidden;
    if (err.status === 404) return /^no route /.test(err.message) ? tw.errors.missing : tw.errors.notFound;
    if ((err.status === 400 || err.status === 409) && /[^ -~]/.test(err.message)) return err.status === 400 ? `${t.errors.invalid} ${err.message}` : err.message;
  }
  return errorMessage(err);
}

/**
 * The calendar's arithmetic in Vietnam time (UTC+7, no daylight saving), whatever the phone's own zone:
 * the week's Monday, day labels "Thứ Hai 07/12", dd/mm/yyyy and HH:mm in and out.
 */
import { DAY_NAMES } from './calendar-vi.js';

export const DAY_MS = 86_400_000;
const VN = 7 * 3_600_000;

/** The local day number (days since 1970-01-01 in Vietnam) of an instant. */
export const vnDay = (ms: number) => Math.floor((ms + VN) / DAY_MS);
/** The instant a local day begins. */
export const dayStart = (day: number) => day * DAY_MS - VN;
/** The Monday 00:00 (Vietnam) of the week holding `ms`. */
export function weekStart(ms: number): number {
  const day = vnDay(ms);
  const weekday = (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // 0 = Monday
  return dayStart(day - weekday);
}

const two = (n: number) => String(n).padStart(2, '0');
const civil = (ms: number) => new Date(ms + VN);

/** "Thứ Hai 07/12" */
export function dayLabel(dayStartMs: number): string {
  const d = civil(dayStartMs);
  return `${DAY_NAMES[(d.getUTCDay() + 6) % 7]} ${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}`;
}
/** "07/12/2026" */
export function fmtDate(ms: number): string {
  const d = civil(ms);
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}
/** "07:30" */
export function fmtHm(ms: number): string {
  const d = civil(ms);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}
/** Minutes after local midnight. */
export const minuteOfDay = (ms: number) => Math.floor((ms - dayStart(vnDay(ms))) / 60_000);
/** "07:30 Thứ Hai 07/12" */
export const fmtWhen = (ms: number) => `${fmtHm(ms)} ${dayLabel(ms)}`;

/** dd/mm/yyyy → the local day's start, or null. */
export function parseDate(text: string): number | null {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const back = new Date(utc);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return null;
  return utc - VN;
}
/** HH:mm → minutes after midnight, or null. */
export function parseTime(text: string): number | null {
  const m = /^\s*([01]?\d|2[0-3])[:h.]([0-5]\d)\s*$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
/** minutes → "HH:mm" */
export const hm = (minutes: number) => `${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;

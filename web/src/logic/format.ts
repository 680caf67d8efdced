/** Dates, times, durations and percentages the way Vietnamese readers expect them, always in Vietnam's time. */
import { LOCALE, TIME_ZONE } from '../i18n/vi.js';

const dateTime = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
const timeOnly = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dayMonth = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit' });
const number = new Intl.NumberFormat(LOCALE);
const pct = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });

/** "22/11/2026, 20:29" style, or an em dash for null. */
export function fmtDateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

export function fmtTime(iso: string | number | Date): string {
  return timeOnly.format(new Date(iso));
}

/** "06/12" (Intl's vi-VN writes "06-12" for a day and month without the year). */
export function fmtDayMonth(iso: string | number): string {
  const parts = dayMonth.formatToParts(new Date(iso));
  return `${parts.find((p) => p.type === 'day')?.value ?? ''}/${parts.find((p) => p.type === 'month')?.value ?? ''}`;
}

export function fmtNumber(n: number): string {
  return number.format(n);
}

/** 0–100 → "87,5%". */
export function fmtPct(n: number): string {
  return `${pct.format(Number.isFinite(n) ? n : 0)}%`;
}

/** 754000 → "12:34"; over an hour "1:02:03". */
export function fmtDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

const oneDecimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });

/** 2_516_582 → "2,4 MB" (binary units, the way file pickers show sizes). */
export function fmtBytes(bytes: number): string {
  if (bytes < 1024) return `${number.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${oneDecimal.format(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${oneDecimal.format(bytes / (1024 * 1024))} MB`;
  return `${oneDecimal.format(bytes / (1024 * 1024 * 1024))} GB`;
}

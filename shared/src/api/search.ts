/**
 * What the search pages share (issue 20, "search and filters for bulletins, broadcasts, boxes and the audit
 * log"): a day range in Vietnam's calendar (the dates people type, UTC+7, no daylight saving) and free-text
 * words. Messages are Vietnamese: the web app shows them as they come (a link someone edited by hand).
 */
import { z } from 'zod';

const VN_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` → the UTC instant its Vietnam day starts, or null for a date the calendar does not have (2026-02-30). */
export function vnDayStart(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const back = new Date(utc);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return utc - VN_OFFSET_MS;
}

export const localDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'ngày phải có dạng năm-tháng-ngày, ví dụ 2026-12-07')
  .refine((s) => vnDayStart(s) !== null, 'lịch không có ngày này');

/** `from`/`to`: whole Vietnam days, both included. */
export const dayRangeShape = { from: localDateSchema.optional(), to: localDateSchema.optional() };
export const dayRangeOrdered = (q: { from?: string | undefined; to?: string | undefined }) => !q.from || !q.to || q.from <= q.to;
export const DAY_RANGE_MESSAGE = { message: 'ngày kết thúc phải sau ngày bắt đầu', path: ['to'] };

/** The half-open instant range `[fromMs, toMs)` of a day range; null ends are open. */
export function dayRangeMs(q: { from?: string | undefined; to?: string | undefined }): { fromMs: number | null; toMs: number | null } {
  const from = q.from ? vnDayStart(q.from) : null;
  const to = q.to ? vnDayStart(q.to) : null;
  return { fromMs: from, toMs: to === null ? null : to + DAY_MS };
}

/** Free text: at most 100 characters, split into words that must all be found (any case). */
export const searchTextSchema = z.string().trim().max(100, 'tìm tối đa 100 ký tự');

/** The words of a search, case folded the Vietnamese way and NFC-normalized (a phone may type decomposed marks). */
export function searchWords(q: string | undefined): string[] {
  return q ? q.normalize('NFC').toLocaleLowerCase('vi').split(/\s+/).filter(Boolean).slice(0, 8) : [];
}

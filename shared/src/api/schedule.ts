/**
 * The `schedule` of a broadcast, exactly as CONTRACTS.md § Schedules writes it, and the instants of the API.
 * The scheduling domain (`server/src/scheduling/schedule.ts`) re-exports these.
 */
import { z } from 'zod';

/** True for a `YYYY-MM-DD` string naming a real calendar date (no 30 February). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const back = new Date(Date.UTC(y, mo - 1, d));
  return back.getUTCFullYear() === y && back.getUTCMonth() + 1 === mo && back.getUTCDate() === d;
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (local time, Asia/Ho_Chi_Minh)');
const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a local date YYYY-MM-DD')
  .refine(isCalendarDate, 'must be a date the calendar has (no 30 February)');
const times = z.array(hhmm).min(1).max(48);
const range = { from: localDate.optional(), until: localDate.optional() };
export const repeatSchema = z.object({ times: z.number().int().min(1).max(10), gapSeconds: z.number().int().min(0).max(7200) });
const repeat = repeatSchema.optional();
/** The longest an `every` schedule runs. */
export const EVERY_MAX_SPAN_MS = 31 * 86_400_000;
export const instantSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with offset, e.g. 2026-12-15T10:00:00Z' });

export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('once'), at: instantSchema, repeat }),
  z.object({ kind: z.literal('daily'), times, ...range, repeat }),
  z.object({ kind: z.literal('weekly'), weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7), times, ...range, repeat }),
  z.object({ kind: z.literal('monthly'), days: z.array(z.number().int().min(1).max(31)).min(1).max(31), times, ...range, repeat }),
  z.object({ kind: z.literal('monthly-count'), count: z.number().int().min(1).max(31), weekdays: z.array(z.number().int().min(1).max(7)).optional(), times, ...range, repeat }),
  // Every N minutes from one instant until another (issue 18: a disaster warning is aired again every N minutes
  // until it expires). At most 31 days: a warning that holds longer is sent again by its source. A minute at the
  // least (a short drill); a dense schedule over a long span is refused by the per-broadcast occurrence cap.
  z
    .object({ kind: z.literal('every'), from: instantSchema, until: instantSchema, minutes: z.number().int().min(1).max(1440) })
    .refine((s) => Date.parse(s.until) > Date.parse(s.from), { message: 'until must be after from', path: ['until'] })
    .refine((s) => Date.parse(s.until) - Date.parse(s.from) <= EVERY_MAX_SPAN_MS, { message: 'an "every" schedule spans at most 31 days', path: ['until'] }),
]);
export type Schedule = z.infer<typeof scheduleSchema>;
export type Repeat = z.infer<typeof repeatSchema>;

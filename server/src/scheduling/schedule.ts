/**
 * The `schedule` of a broadcast, exactly as CONTRACTS.md § Schedules writes it, plus the per-occurrence
 * overrides (cancel or move one occurrence of a recurring broadcast without touching the others, issue 4).
 * `routes/schedule-schema.ts` re-exports these, so the HTTP layer and the domain share one definition.
 */
import { z } from 'zod';
import { isCalendarDate } from './local-time.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (local time, Asia/Ho_Chi_Minh)');
const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a local date YYYY-MM-DD')
  .refine(isCalendarDate, 'must be a date the calendar has (no 30 February)');
const times = z.array(hhmm).min(1).max(48);
const range = { from: localDate.optional(), until: localDate.optional() };
const repeat = z.object({ times: z.number().int().min(1).max(10), gapSeconds: z.number().int().min(0).max(7200) }).optional();
export const instantSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with offset, e.g. 2026-12-15T10:00:00Z' });

export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('once'), at: instantSchema, repeat }),
  z.object({ kind: z.literal('daily'), times, ...range, repeat }),
  z.object({ kind: z.literal('weekly'), weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7), times, ...range, repeat }),
  z.object({ kind: z.literal('monthly'), days: z.array(z.number().int().min(1).max(31)).min(1).max(31), times, ...range, repeat }),
  z.object({ kind: z.literal('monthly-count'), count: z.number().int().min(1).max(31), weekdays: z.array(z.number().int().min(1).max(7)).optional(), times, ...range, repeat }),
]);
export type Schedule = z.infer<typeof scheduleSchema>;

const epochMs = z.number().int().nonnegative();
export const occurrenceExceptionSchema = z.discriminatedUnion('action', [
  z.object({ occurrenceAt: epochMs, action: z.literal('cancel') }),
  z.object({ occurrenceAt: epochMs, action: z.literal('move'), to: epochMs }),
]);
export type OccurrenceException = z.infer<typeof occurrenceExceptionSchema>;

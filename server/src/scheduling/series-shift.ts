/**
 * Moving a whole series (issue 20: "cancel or move one airing or the whole series"): one time of day of a
 * recurring broadcast becomes another, from the next local day on which it has not aired yet. Pure: the
 * service (calendar-service.ts) writes the result, rewrites the exceptions and tells the boxes.
 */
import type { Schedule } from './schedule.js';
import { civilOf, localDayOf, parseHHmm, parseLocalDate, MINUTE_MS, instantOf } from './local-time.js';

/** Kinds whose airings sit at `times` of their days. monthly-count is not one: its airings are spread over the month's slots from `from`, and a new `from` would move them to other days. */
const SHIFTABLE = new Set(['daily', 'weekly', 'monthly']);

export type SeriesShiftRefusal = 'not-a-series' | 'no-such-time' | 'time-taken' | 'ended';
export type SeriesShiftToday = { action: 'cancel'; occurrenceAt: number } | { action: 'move'; occurrenceAt: number; to: number } | null;
export type SeriesShift = { ok: true; schedule: Schedule; fromDay: number; today: SeriesShiftToday } | { ok: false; reason: SeriesShiftRefusal };

const localDate = (day: number): string => {
  const c = civilOf(day);
  return `${c.year}-${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}`;
};

/** The HH:mm (Vietnam time) of an instant. */
export function localTimeOf(instant: number): string {
  const minute = Math.floor((instant - instantOf(localDayOf(instant), 0)) / MINUTE_MS);
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** Whether the series can be shifted at all, and the time of day `instant` takes in it (null: not one of its times). */
export function seriesTimeOf(schedule: Schedule | null, instant: number): string | null {
  if (!schedule || !SHIFTABLE.has(schedule.kind) || !('times' in schedule)) return null;
  const hhmm = localTimeOf(instant);
  return schedule.times.includes(hhmm) ? hhmm : null;
}

/**
 * The schedule with `time` replaced by `to`, from the local day of `now` on (a `from` already later is kept).
 * Earlier days keep what they aired (their deliveries). Today is settled by `today`: when today's airing at
 * `time` has begun, today's airing at `to` must not air it a second time (cancel it); when it has not but
 * `to` has passed today, it stays at its old time today (move it back) rather than vanish.
 */
export function shiftSeriesTime(schedule: Schedule | null, time: string, to: string, now: number): SeriesShift {
  if (!schedule || !SHIFTABLE.has(schedule.kind) || !('times' in schedule)) return { ok: false, reason: 'not-a-series' };
  if (!schedule.times.includes(time)) return { ok: false, reason: 'no-such-time' };
  if (schedule.times.includes(to)) return { ok: false, reason: 'time-taken' };
  const today = localDayOf(now);
  let fromDay = today;
  if (schedule.from !== undefined) fromDay = Math.max(fromDay, parseLocalDate(schedule.from));
  if (schedule.until !== undefined && parseLocalDate(schedule.until) < fromDay) return { ok: false, reason: 'ended' };
  const times = schedule.times.map((x) => (x === time ? to : x)).sort();
  const shifted = { ...schedule, times, from: localDate(fromDay) } as Schedule;
  const oldToday = instantOf(today, parseHHmm(time));
  const newToday = instantOf(today, parseHHmm(to));
  let todayFix: SeriesShiftToday = null;
  if (fromDay === today && oldToday <= now) todayFix = { action: 'cancel', occurrenceAt: newToday };
  else if (fromDay === today && newToday <= now) todayFix = { action: 'move', occurrenceAt: newToday, to: oldToday };
  return { ok: true, schedule: shifted, fromDay, today: todayFix };
}

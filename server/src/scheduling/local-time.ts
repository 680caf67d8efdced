/**
 * Local civil time of Asia/Ho_Chi_Minh, the zone every `schedule` is written in (CONTRACTS.md § Schedules).
 *
 * Why a fixed offset instead of Intl: Vietnam has kept UTC+7 with no daylight saving since 13 June 1975
 * (the south moved from UTC+8 then; tzdata agrees). A fixed offset makes the expansion deterministic
 * whatever ICU/tzdata the Node build ships (small-icu builds know no zones at all), needs no iterative
 * local→UTC search, and is fast enough to expand 10,000 occurrences per call. Instants before 1975-06-13
 * are therefore off by one hour; no schedule of this system reaches back there. If Vietnam ever changes its
 * offset, this one function is the place to change (and the test cross-checks it against Intl).
 *
 * Days are "local day numbers": whole days since 1970-01-01 in local civil time.
 */
export const VN_UTC_OFFSET_MS = 7 * 3600_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** The one place that knows the offset of Asia/Ho_Chi_Minh at an instant (see above). */
export function vnOffsetMs(_instant: number): number {
  return VN_UTC_OFFSET_MS;
}

/** The local day number an instant falls on. */
export function localDayOf(instant: number): number {
  return Math.floor((instant + vnOffsetMs(instant)) / DAY_MS);
}

/** The UTC instant of a local wall-clock minute (0–1439) on a local day. */
export function instantOf(localDay: number, minuteOfDay: number): number {
  const wall = localDay * DAY_MS + minuteOfDay * MINUTE_MS;
  return wall - vnOffsetMs(wall);
}

export interface CivilDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday (CONTRACTS.md `weekly`). */
  weekday: number;
}

/** Calendar fields of a local day number (proleptic Gregorian, via UTC arithmetic — no zone involved). */
export function civilOf(localDay: number): CivilDate {
  const d = new Date(localDay * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: ((d.getUTCDay() + 6) % 7) + 1 };
}

/** Local day number of a calendar date; `null` when the date does not exist (31 April, 29 February 2027). */
export function dayOfCivil(year: number, month: number, day: number): number | null {
  const n = Date.UTC(year, month - 1, day) / DAY_MS;
  const back = civilOf(n);
  return back.year === year && back.month === month && back.day === day ? n : null;
}

/** Number of days in a month (1–12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `YYYY-MM-DD` → local day number; throws a RangeError for a date the calendar does not have. */
export function parseLocalDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const n = m ? dayOfCivil(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (n === null) throw new RangeError(`"${text}" is not a calendar date (YYYY-MM-DD)`);
  return n;
}

/** True for a `YYYY-MM-DD` string naming a real calendar date: the rule `schedule` dates are checked with (`@loaxa/shared`). */
export { isCalendarDate } from '@loaxa/shared';

/** `HH:mm` → minute of the day. */
export function parseHHmm(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a local time HH:mm`);
  return Number(m[1]) * 60 + Number(m[2]);
}

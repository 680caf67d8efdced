/**
 * Occurrence expansion: which instants a `schedule` (CONTRACTS.md § Schedules) airs at inside a window.
 * Pure: the caller passes the window; recurrence is evaluated in Asia/Ho_Chi_Minh local time
 * (local-time.ts) and the results are UTC epoch milliseconds (issue 4: "times stored as UTC instants").
 */
import type { OccurrenceException, Schedule } from './schedule.js';
import { civilOf, dayOfCivil, daysInMonth, instantOf, localDayOf, parseHHmm, parseLocalDate } from './local-time.js';

export type { OccurrenceException } from './schedule.js';

/** At most this many occurrences per call: a wide window over a dense schedule is a caller bug, not a plan. */
export const MAX_OCCURRENCES_PER_CALL = 10_000;
/** At most this many local days are walked per call (about 50 years), whatever the schedule yields. */
export const MAX_SPAN_DAYS = 366 * 50;

export class OccurrenceCapError extends RangeError {
  readonly code = 'OCCURRENCE_CAP';
  constructor(message: string) {
    super(message);
    this.name = 'OccurrenceCapError';
  }
}

export interface ExpansionWindow {
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, exclusive */
  to: number;
}

export interface ExpandOptions {
  /** Cancel or move single occurrences; an exception naming no occurrence of the schedule is ignored. */
  exceptions?: OccurrenceException[];
  /**
   * Length of the audio. A `repeat` airing starts when the previous airing has ended plus `gapSeconds`,
   * i.e. every `durationMs + gapSeconds·1000` after its base occurrence. Without it, the gap is start to start.
   */
  durationMs?: number;
  /** Lower the cap (never raise it above MAX_OCCURRENCES_PER_CALL). */
  cap?: number;
}

/**
 * Sorted, de-duplicated instants of `schedule` in `[window.from, window.to)`.
 * `repeat {times, gapSeconds}` adds `times` further airings after each base occurrence (so times: 2 → 3 airings);
 * each of those is an occurrence of its own, which an exception may cancel or move.
 * Throws OccurrenceCapError beyond the cap, RangeError for a bad window or a date the calendar lacks.
 */
export function expandOccurrences(schedule: Schedule, window: ExpansionWindow, opts: ExpandOptions = {}): number[] {
  const { from, to } = window;
  if (Number.isNaN(from) || Number.isNaN(to) || from > to) throw new RangeError(`bad window [${from}, ${to})`);
  const cap = Math.min(opts.cap ?? MAX_OCCURRENCES_PER_CALL, MAX_OCCURRENCES_PER_CALL);
  const durationMs = opts.durationMs ?? 0;
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new RangeError(`bad durationMs ${durationMs}`);
  const repeat = 'repeat' in schedule ? schedule.repeat : undefined;
  const repeats = repeat?.times ?? 0;
  const step = durationMs + (repeat?.gapSeconds ?? 0) * 1000;

  const found = new Set<number>();
  const add = (t: number): void => {
    if (t < from || t >= to || found.has(t)) return;
    if (found.size >= cap) {
      throw new OccurrenceCapError(`schedule yields more than ${cap} occurrences in the window; ask for a narrower window`);
    }
    found.add(t);
  };
  // A base occurrence up to `repeats·step` before the window can still put repeated airings inside it.
  forEachBase(schedule, from - repeats * step, to, (base) => {
    for (let k = 0; k <= repeats; k++) add(base + k * step);
  });
  if (!opts.exceptions?.length) return [...found].sort((a, b) => a - b);

  const byAt = new Map<number, OccurrenceException>();
  for (const e of opts.exceptions) byAt.set(e.occurrenceAt, e); // the last word on an occurrence wins
  const result = new Set<number>();
  for (const t of found) if (!byAt.has(t)) result.add(t);
  for (const e of byAt.values()) {
    if (e.action !== 'move' || e.to < from || e.to >= to) continue;
    const exists = e.occurrenceAt >= from && e.occurrenceAt < to
      ? found.has(e.occurrenceAt)
      : expandOccurrences(schedule, { from: e.occurrenceAt, to: e.occurrenceAt + 1 }, { durationMs }).length === 1;
    if (exists) result.add(e.to);
  }
  if (result.size > cap) throw new OccurrenceCapError(`more than ${cap} occurrences in the window after exceptions`);
  return [...result].sort((a, b) => a - b);
}

/** Calls `emit` for base occurrences (before `repeat`) in `[lo, hi)`, in no particular order. */
function forEachBase(schedule: Schedule, lo: number, hi: number, emit: (t: number) => void): void {
  if (schedule.kind === 'once') {
    const t = Date.parse(schedule.at);
    if (Number.isNaN(t)) throw new RangeError(`"${schedule.at}" is not an instant`);
    if (t >= lo && t < hi) emit(t);
    return;
  }
  if (schedule.kind === 'every') {
    // `until` is exclusive, like a window's end: an airing at the expiry instant would air an expired warning.
    const start = Date.parse(schedule.from);
    const end = Date.parse(schedule.until);
    if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError('an "every" schedule needs two instants');
    const step = schedule.minutes * 60_000;
    const first = lo <= start ? start : start + Math.ceil((lo - start) / step) * step;
    for (let t = first; t < Math.min(end, hi); t += step) emit(t);
    return;
  }
  const minutes = [...new Set(schedule.times.map(parseHHmm))].sort((a, b) => a - b);
  const fromDay = schedule.from === undefined ? -Infinity : parseLocalDate(schedule.from);
  const untilDay = schedule.until === undefined ? Infinity : parseLocalDate(schedule.until);
  const firstDay = Math.max(localDayOf(lo), fromDay);
  const lastDay = Math.min(localDayOf(hi), untilDay);
  if (firstDay > lastDay) return;
  if (lastDay - firstDay > MAX_SPAN_DAYS) {
    throw new OccurrenceCapError(`window spans more than ${MAX_SPAN_DAYS} local days; ask for a narrower window`);
  }
  const inRange = (t: number): void => {
    if (t >= lo && t < hi) emit(t);
  };

  if (schedule.kind === 'monthly-count') {
    const allowed = dayFilter(schedule.weekdays);
    let { year, month } = civilOf(firstDay);
    const last = civilOf(lastDay);
    while (year < last.year || (year === last.year && month <= last.month)) {
      // Slots are counted over the whole month (clipped only by from/until), not just the window,
      // so the same month always picks the same slots whichever window asks.
      const monthFirst = dayOfCivil(year, month, 1) as number;
      const slots: number[] = [];
      for (let day = monthFirst; day < monthFirst + daysInMonth(year, month); day++) {
        if (day < fromDay || day > untilDay || !allowed(day)) continue;
        for (const m of minutes) slots.push(instantOf(day, m));
      }
      for (const i of spreadIndices(slots.length, schedule.count)) inRange(slots[i] as number);
      if (month === 12) {
        year += 1;
        month = 1;
      } else month += 1;
    }
    return;
  }

  const matches =
    schedule.kind === 'daily' ? () => true
    : schedule.kind === 'weekly' ? dayFilter(schedule.weekdays)
    : (day: number) => schedule.days.includes(civilOf(day).day); // 31 in April: no day has it, so it is skipped
  for (let day = firstDay; day <= lastDay; day++) {
    if (!matches(day)) continue;
    for (const m of minutes) inRange(instantOf(day, m));
  }
}

/** A local day predicate for ISO weekdays (1 = Monday … 7 = Sunday); every day when none are given. */
function dayFilter(weekdays: number[] | undefined): (day: number) => boolean {
  if (!weekdays?.length) return () => true;
  const set = new Set(weekdays);
  return (day) => set.has(civilOf(day).weekday);
}

/**
 * "Spread evenly" for monthly-count (mỗi tháng phát N lần): cut the month's `n` allowed slots, in time
 * order, into `count` equal parts and take the slot holding the centre of each part:
 *   index_i = floor((i + 0.5) · n / count),  i = 0 … count−1.
 * E.g. 3 airings over 30 slots → indices 5, 15, 25 (the 6th, 16th and 26th day of a one-slot-a-day month).
 * The indices are distinct because consecutive ones differ by n/count ≥ 1. When count ≥ n every slot airs once.
 */
export function spreadIndices(n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));
}

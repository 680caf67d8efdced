/**
 * The schedule form as the operator fills it, and its translation into the broadcast body of
 * CONTRACTS.md § Schedules. Pure, so every rule is unit-tested without a browser.
 * Vietnam keeps UTC+07:00 all year (no daylight saving), so a local date and time is an instant at +07:00.
 */
import type { BroadcastDraft, Priority, Repeat, Schedule } from '../api/types.js';

export const SCHEDULE_KINDS = ['now', 'once', 'daily', 'weekly', 'monthly', 'monthly-count'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const VN_OFFSET = '+07:00';
const VN_OFFSET_MS = 7 * 3600_000;

export interface ScheduleForm {
  kind: ScheduleKind;
  /** `once`: local date YYYY-MM-DD and time HH:mm. */
  date: string;
  time: string;
  /** Recurring kinds: local times HH:mm. */
  times: string[];
  /** 1 = Monday … 7 = Sunday. */
  weekdays: number[];
  /** `monthly`: days as typed ("1, 15, 30"). */
  days: string;
  /** `monthly-count`, optionally only on some weekdays (empty: any day). */
  count: number;
  countWeekdays: number[];
  from: string;
  until: string;
  /** How many times the bulletin is read back to back in one airing, and the pause between (minutes). */
  repeatTimes: number;
  repeatGapMinutes: number;
  priority: Priority;
  areaCodes: string[];
  deviceIds: string[];
}

export type FormField = 'kind' | 'date' | 'time' | 'times' | 'weekdays' | 'days' | 'count' | 'range' | 'repeat' | 'targets';
export interface FormError {
  field: FormField;
  /** A key of `t.schedule.errors`, with its argument when it takes one. */
  key: 'noTargets' | 'badTime' | 'noTimes' | 'noDate' | 'past' | 'noWeekdays' | 'noDays' | 'badDay' | 'badCount' | 'badRange' | 'badRepeat';
  arg?: string;
}

export type DraftResult = { ok: true; draft: BroadcastDraft } | { ok: false; errors: FormError[] };

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today's date in Vietnam (YYYY-MM-DD). */
export function localToday(now = Date.now()): string {
  return new Date(now + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** The local time in Vietnam (HH:mm), `plusMinutes` ahead. */
export function localTimeIn(plusMinutes: number, now = Date.now()): string {
  return new Date(now + VN_OFFSET_MS + plusMinutes * 60_000).toISOString().slice(11, 16);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isCalendarDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** A local date and time in Vietnam as an ISO 8601 instant with offset. */
export function localInstant(date: string, time: string): string {
  return `${date}T${time}:00${VN_OFFSET}`;
}

export function emptyForm(now = Date.now()): ScheduleForm {
  const today = localToday(now);
  return {
    kind: 'now',
    date: today,
    time: localTimeIn(10, now),
    times: ['06:00', '17:00'],
    weekdays: [1],
    days: '1',
    count: 4,
    countWeekdays: [],
    from: today,
    until: '',
    repeatTimes: 1,
    repeatGapMinutes: 0,
    priority: 'normal',
    areaCodes: [],
    deviceIds: [],
  };
}

/** Parses "1, 15,30" into sorted unique days; answers the first bad token otherwise. */
export function parseDays(input: string): { days: number[] } | { bad: string } {
  const tokens = input.split(/[\s,;]+/).filter(Boolean);
  const days = new Set<number>();
  for (const tok of tokens) {
    const n = Number(tok);
    if (!/^\d{1,2}$/.test(tok) || n < 1 || n > 31) return { bad: tok };
    days.add(n);
  }
  return { days: [...days].sort((a, b) => a - b) };
}

function cleanTimes(times: readonly string[], errors: FormError[]): string[] {
  const out = new Set<string>();
  for (const raw of times) {
    const v = raw.trim();
    if (!v) continue;
    if (!HHMM.test(v)) errors.push({ field: 'times', key: 'badTime', arg: v });
    else out.add(v);
  }
  if (out.size === 0 && !errors.some((e) => e.field === 'times')) errors.push({ field: 'times', key: 'noTimes' });
  return [...out].sort();
}

/** Turns the form into the body of `POST /api/v1/broadcasts` (and `/check`), or the errors to show. */
export function formToDraft(form: ScheduleForm, bulletinId: string, now = Date.now()): DraftResult {
  const errors: FormError[] = [];
  const target: BroadcastDraft['target'] = {};
  const areaCodes = [...new Set(form.areaCodes)];
  const deviceIds = [...new Set(form.deviceIds)];
  if (areaCodes.length) target.areaCodes = areaCodes;
  if (deviceIds.length) target.deviceIds = deviceIds;
  if (!areaCodes.length && !deviceIds.length) errors.push({ field: 'targets', key: 'noTargets' });

  let repeat: Repeat | undefined;
  if (form.repeatTimes !== 1 || form.repeatGapMinutes !== 0) {
    const ok = Number.isInteger(form.repeatTimes) && form.repeatTimes >= 1 && form.repeatTimes <= 10 && form.repeatGapMinutes >= 0 && form.repeatGapMinutes <= 120;
    if (!ok) errors.push({ field: 'repeat', key: 'badRepeat' });
    else if (form.repeatTimes > 1) repeat = { times: form.repeatTimes, gapSeconds: Math.round(form.repeatGapMinutes * 60) };
  }

  const range: { from?: string; until?: string } = {};
  if (form.kind !== 'now' && form.kind !== 'once') {
    if (form.from) range.from = form.from;
    if (form.until) range.until = form.until;
    if ((form.from && !isCalendarDate(form.from)) || (form.until && !isCalendarDate(form.until)) || (form.from && form.until && form.until < form.from)) {
      errors.push({ field: 'range', key: 'badRange' });
    }
  }
  const withRange = <T extends object>(s: T) => ({ ...s, ...range, ...(repeat ? { repeat } : {}) });

  let schedule: Schedule | undefined;
  switch (form.kind) {
    case 'now':
      break;
    case 'once': {
      if (!isCalendarDate(form.date)) errors.push({ field: 'date', key: 'noDate' });
      else if (!HHMM.test(form.time)) errors.push({ field: 'time', key: 'badTime', arg: form.time });
      else if (Date.parse(localInstant(form.date, form.time)) < now - 60_000) errors.push({ field: 'time', key: 'past' });
      schedule = { kind: 'once', at: localInstant(form.date, form.time), ...(repeat ? { repeat } : {}) };
      break;
    }
    case 'daily':
      schedule = withRange({ kind: 'daily' as const, times: cleanTimes(form.times, errors) });
      break;
    case 'weekly': {
      const weekdays = [...new Set(form.weekdays)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
      if (!weekdays.length) errors.push({ field: 'weekdays', key: 'noWeekdays' });
      schedule = withRange({ kind: 'weekly' as const, weekdays, times: cleanTimes(form.times, errors) });
      break;
    }
    case 'monthly': {
      const parsed = parseDays(form.days);
      let days: number[] = [];
      if ('bad' in parsed) errors.push({ field: 'days', key: 'badDay', arg: parsed.bad });
      else if (!parsed.days.length) errors.push({ field: 'days', key: 'noDays' });
      else days = parsed.days;
      schedule = withRange({ kind: 'monthly' as const, days, times: cleanTimes(form.times, errors) });
      break;
    }
    case 'monthly-count': {
      if (!Number.isInteger(form.count) || form.count < 1 || form.count > 31) errors.push({ field: 'count', key: 'badCount' });
      const weekdays = [...new Set(form.countWeekdays)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
      schedule = withRange({ kind: 'monthly-count' as const, count: form.count, ...(weekdays.length ? { weekdays } : {}), times: cleanTimes(form.times, errors) });
      break;
    }
  }
  if (errors.length) return { ok: false, errors };
  const draft: BroadcastDraft = { bulletinId, priority: form.priority, target };
  if (schedule) draft.schedule = schedule;
  return { ok: true, draft };
}

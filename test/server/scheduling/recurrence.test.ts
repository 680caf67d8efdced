import t from 'tap';
import {
  expandOccurrences, OccurrenceCapError, spreadIndices, MAX_OCCURRENCES_PER_CALL,
} from '../../../server/src/scheduling/recurrence.js';
import { scheduleSchema, type Schedule } from '../../../server/src/routes/schedule-schema.js';

/** A local Vietnamese wall-clock time, written independently of the code under test. */
const vn = (local: string): number => Date.parse(`${local}:00+07:00`);
const iso = (ms: number[]): string[] => ms.map((x) => new Date(x).toISOString());
const localDays = (ms: number[]): string[] => ms.map((x) => new Date(x + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' '));
const month = (y: number, m: number) => ({ from: vn(`${y}-${String(m).padStart(2, '0')}-01T00:00`), to: vn(m === 12 ? `${y + 1}-01-01T00:00` : `${y}-${String(m + 1).padStart(2, '0')}-01T00:00`) });
const parse = (s: unknown): Schedule => scheduleSchema.parse(s);

t.test('daily: local 05:00 is stored as 22:00 UTC of the previous day', async (t) => {
  const s = parse({ kind: 'daily', times: ['17:00', '05:00'] });
  const got = expandOccurrences(s, { from: vn('2026-03-10T00:00'), to: vn('2026-03-11T00:00') });
  t.same(iso(got), ['2026-03-09T22:00:00.000Z', '2026-03-10T10:00:00.000Z']);
});

t.test('midnight in Vietnam vs UTC', async (t) => {
  const s = parse({ kind: 'daily', times: ['00:00'] });
  // A UTC day holds the local midnight that starts the *next* local day (17:00Z), not its own.
  const got = expandOccurrences(s, { from: Date.parse('2026-03-10T00:00:00Z'), to: Date.parse('2026-03-11T00:00:00Z') });
  t.same(iso(got), ['2026-03-10T17:00:00.000Z']);
  t.same(localDays(got), ['2026-03-11 00:00']);
});

t.test('the window is half-open', async (t) => {
  const s = parse({ kind: 'daily', times: ['05:00'] });
  t.same(expandOccurrences(s, { from: vn('2026-03-10T05:00'), to: vn('2026-03-11T05:00') }), [vn('2026-03-10T05:00')]);
  t.same(expandOccurrences(s, { from: vn('2026-03-10T05:00'), to: vn('2026-03-10T05:00') }), [], 'empty window');
  t.throws(() => expandOccurrences(s, { from: 10, to: 5 }), RangeError);
});

t.test('weekly uses the local weekday, not the UTC one', async (t) => {
  // Monday 2026-03-09, 05:00 local = Sunday 22:00 UTC.
  const mon = expandOccurrences(parse({ kind: 'weekly', weekdays: [1], times: ['05:00'] }), { from: vn('2026-03-08T00:00'), to: vn('2026-03-15T00:00') });
  t.same(iso(mon), ['2026-03-08T22:00:00.000Z']);
  t.equal(new Date(mon[0]!).getUTCDay(), 0, 'a Sunday in UTC');
  // Sunday (7) 23:30 local is still Sunday 16:30 UTC; Monday 00:15 local is Sunday 17:15 UTC.
  const sun = expandOccurrences(parse({ kind: 'weekly', weekdays: [7], times: ['23:30'] }), { from: vn('2026-03-09T00:00'), to: vn('2026-03-16T00:00') });
  t.same(iso(sun), ['2026-03-15T16:30:00.000Z']);
  const monEarly = expandOccurrences(parse({ kind: 'weekly', weekdays: [1], times: ['00:15'] }), { from: vn('2026-03-09T00:00'), to: vn('2026-03-16T00:00') });
  t.same(localDays(monEarly), ['2026-03-09 00:15']);
  // The commune's classic slots: Monday to Saturday, 5:00 and 17:00.
  const week = expandOccurrences(parse({ kind: 'weekly', weekdays: [1, 2, 3, 4, 5, 6], times: ['05:00', '17:00'] }), { from: vn('2026-03-09T00:00'), to: vn('2026-03-16T00:00') });
  t.equal(week.length, 12);
  t.notOk(localDays(week).some((d) => d.startsWith('2026-03-15')), 'nothing on Sunday');
});

t.test('monthly: a missing day is skipped, leap years are honoured', async (t) => {
  const y2026 = { from: vn('2026-01-01T00:00'), to: vn('2027-01-01T00:00') };
  const d31 = expandOccurrences(parse({ kind: 'monthly', days: [31], times: ['05:00'] }), y2026);
  t.same(localDays(d31).map((d) => d.slice(0, 10)), ['2026-01-31', '2026-03-31', '2026-05-31', '2026-07-31', '2026-08-31', '2026-10-31', '2026-12-31']);
  const april = expandOccurrences(parse({ kind: 'monthly', days: [30, 31], times: ['05:00'] }), month(2026, 4));
  t.same(localDays(april), ['2026-04-30 05:00'], 'the 31st in a 30-day month is skipped, not moved');
  const feb29 = parse({ kind: 'monthly', days: [29], times: ['05:00'] });
  t.same(localDays(expandOccurrences(feb29, month(2028, 2))), ['2028-02-29 05:00'], '29 February 2028 exists');
  t.same(expandOccurrences(feb29, month(2027, 2)), [], 'and 2027 has none');
  const dailyLeap = expandOccurrences(parse({ kind: 'daily', times: ['05:00'], from: '2028-02-28', until: '2028-03-01' }), { from: 0, to: vn('2030-01-01T00:00') });
  t.same(localDays(dailyLeap), ['2028-02-28 05:00', '2028-02-29 05:00', '2028-03-01 05:00']);
});

t.test('from and until are local dates, both inclusive', async (t) => {
  const s = parse({ kind: 'daily', times: ['05:00', '23:59'], from: '2026-03-10', until: '2026-03-12' });
  const got = expandOccurrences(s, { from: vn('2026-01-01T00:00'), to: vn('2027-01-01T00:00') });
  t.same(localDays(got), ['2026-03-10 05:00', '2026-03-10 23:59', '2026-03-11 05:00', '2026-03-11 23:59', '2026-03-12 05:00', '2026-03-12 23:59']);
  t.equal(iso(got)[0], '2026-03-09T22:00:00.000Z', 'the first airing is on 9 March in UTC, yet inside from');
  t.same(expandOccurrences(parse({ kind: 'daily', times: ['05:00'], from: '2026-03-10', until: '2026-03-10' }), { from: 0, to: vn('2027-01-01T00:00') }), [vn('2026-03-10T05:00')]);
  t.same(expandOccurrences(parse({ kind: 'daily', times: ['05:00'], from: '2026-03-11', until: '2026-03-10' }), { from: 0, to: vn('2027-01-01T00:00') }), [], 'until before from');
});

t.test('once, with repeats and gaps', async (t) => {
  const at = '2026-03-10T05:00:00+07:00';
  const w = { from: vn('2026-03-10T00:00'), to: vn('2026-03-11T00:00') };
  t.same(expandOccurrences(parse({ kind: 'once', at }), w), [vn('2026-03-10T05:00')]);
  t.same(expandOccurrences(parse({ kind: 'once', at: '2026-03-09T22:00:00Z' }), w), [vn('2026-03-10T05:00')], 'any offset names the same instant');
  const rep = parse({ kind: 'once', at, repeat: { times: 2, gapSeconds: 600 } });
  t.same(localDays(expandOccurrences(rep, w)), ['2026-03-10 05:00', '2026-03-10 05:10', '2026-03-10 05:20'], 'without a duration the gap is start to start');
  t.same(localDays(expandOccurrences(rep, w, { durationMs: 120_000 })), ['2026-03-10 05:00', '2026-03-10 05:12', '2026-03-10 05:24'], 'the gap follows the end of each airing');
  t.same(localDays(expandOccurrences(parse({ kind: 'once', at, repeat: { times: 1, gapSeconds: 0 } }), w, { durationMs: 300_000 })), ['2026-03-10 05:00', '2026-03-10 05:05'], 'back to back');
  t.same(localDays(expandOccurrences(rep, { from: vn('2026-03-10T05:01'), to: w.to })), ['2026-03-10 05:10', '2026-03-10 05:20'], 'repeats of a base before the window still count');
  const daily = parse({ kind: 'daily', times: ['05:00', '17:00'], repeat: { times: 1, gapSeconds: 1800 } });
  t.same(localDays(expandOccurrences(daily, w)), ['2026-03-10 05:00', '2026-03-10 05:30', '2026-03-10 17:00', '2026-03-10 17:30']);
  t.same(expandOccurrences(parse({ kind: 'daily', times: ['05:00', '05:00'] }), w), [vn('2026-03-10T05:00')], 'duplicates collapse');
});

t.test('exceptions cancel or move one occurrence and leave the others alone', async (t) => {
  const s = parse({ kind: 'daily', times: ['05:00'] });
  const w = { from: vn('2026-03-10T00:00'), to: vn('2026-03-14T00:00') };
  const all = expandOccurrences(s, w);
  t.equal(all.length, 4);
  t.same(expandOccurrences(s, w, { exceptions: [{ occurrenceAt: vn('2026-03-11T05:00'), action: 'cancel' }] }), all.filter((x) => x !== vn('2026-03-11T05:00')));
  const moved = expandOccurrences(s, w, { exceptions: [{ occurrenceAt: vn('2026-03-11T05:00'), action: 'move', to: vn('2026-03-11T06:30') }] });
  t.same(localDays(moved), ['2026-03-10 05:00', '2026-03-11 06:30', '2026-03-12 05:00', '2026-03-13 05:00']);
  const inFromOutside = expandOccurrences(s, w, { exceptions: [{ occurrenceAt: vn('2026-03-15T05:00'), action: 'move', to: vn('2026-03-13T18:00') }] });
  t.same(localDays(inFromOutside).at(-1), '2026-03-13 18:00', 'moved into the window from an occurrence outside it');
  const outOf = expandOccurrences(s, w, { exceptions: [{ occurrenceAt: vn('2026-03-13T05:00'), action: 'move', to: vn('2026-03-20T05:00') }] });
  t.same(outOf, all.slice(0, 3), 'moved out of the window');
  const stale = expandOccurrences(s, w, { exceptions: [{ occurrenceAt: vn('2026-03-11T07:00'), action: 'move', to: vn('2026-03-11T08:00') }, { occurrenceAt: vn('2026-03-12T07:00'), action: 'cancel' }] });
  t.same(stale, all, 'exceptions naming no occurrence are ignored');
  const rep = parse({ kind: 'once', at: '2026-03-10T05:00:00+07:00', repeat: { times: 2, gapSeconds: 600 } });
  t.same(localDays(expandOccurrences(rep, w, { exceptions: [{ occurrenceAt: vn('2026-03-10T05:10'), action: 'cancel' }] })), ['2026-03-10 05:00', '2026-03-10 05:20'], 'a repeated airing is an occurrence of its own');
});

t.test('monthly-count spreads airings evenly: index floor((i + 0.5)·n/count)', async (t) => {
  t.same(spreadIndices(30, 3), [5, 15, 25]);
  t.same(spreadIndices(31, 3), [5, 15, 25]);
  t.same(spreadIndices(52, 4), [6, 19, 32, 45]);
  t.same(spreadIndices(3, 5), [0, 1, 2], 'more airings than slots: every slot once');
  t.same(spreadIndices(1, 1), [0]);
  for (let n = 1; n <= 80; n++) {
    for (let c = 1; c <= 31; c++) {
      const idx = spreadIndices(n, c);
      if (idx.length !== Math.min(n, c) || idx.some((v, i) => v < 0 || v >= n || (i > 0 && v <= idx[i - 1]!))) t.fail(`n=${n} count=${c}`);
    }
  }
  const three = parse({ kind: 'monthly-count', count: 3, times: ['05:00'] });
  t.same(localDays(expandOccurrences(three, month(2026, 4))), ['2026-04-06 05:00', '2026-04-16 05:00', '2026-04-26 05:00'], '3 airings over April’s 30 slots');
  // Monday–Saturday at 05:00 and 17:00 in April 2026: 26 days × 2 = 52 slots → indices 6, 19, 32, 45.
  const monSat = parse({ kind: 'monthly-count', count: 4, weekdays: [1, 2, 3, 4, 5, 6], times: ['05:00', '17:00'] });
  t.same(localDays(expandOccurrences(monSat, month(2026, 4))), ['2026-04-04 05:00', '2026-04-11 17:00', '2026-04-20 05:00', '2026-04-27 17:00']);
  const fromMid = parse({ kind: 'monthly-count', count: 3, times: ['05:00'], from: '2026-04-16' });
  t.same(localDays(expandOccurrences(fromMid, month(2026, 4))), ['2026-04-18 05:00', '2026-04-23 05:00', '2026-04-28 05:00'], 'slots are clipped by from');
  const tiny = parse({ kind: 'monthly-count', count: 5, times: ['05:00'], from: '2026-04-10', until: '2026-04-12' });
  t.equal(expandOccurrences(tiny, month(2026, 4)).length, 3, 'fewer slots than airings');
  const part = expandOccurrences(three, { from: vn('2026-04-10T00:00'), to: vn('2026-04-20T00:00') });
  t.same(localDays(part), ['2026-04-16 05:00'], 'a partial window sees the same picks as the whole month');
  const yearEnd = expandOccurrences(parse({ kind: 'monthly-count', count: 1, times: ['05:00'] }), { from: vn('2026-12-01T00:00'), to: vn('2027-02-01T00:00') });
  t.same(localDays(yearEnd), ['2026-12-16 05:00', '2027-01-16 05:00'], 'across the new year');
  const feb = expandOccurrences(parse({ kind: 'monthly-count', count: 2, times: ['05:00'] }), month(2028, 2));
  t.same(localDays(feb), ['2028-02-08 05:00', '2028-02-22 05:00'], 'leap February: 29 slots → indices 7 and 21');
});

t.test('unbounded expansion is refused with a clear error', async (t) => {
  const dense = parse({ kind: 'daily', times: Array.from({ length: 48 }, (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`) });
  t.throws(() => expandOccurrences(dense, { from: vn('2026-01-01T00:00'), to: vn('2027-01-01T00:00') }), { name: 'OccurrenceCapError', message: /more than 10000 occurrences/ });
  const oneADay = parse({ kind: 'daily', times: ['05:00'] });
  const start = vn('2026-01-01T00:00');
  t.equal(expandOccurrences(oneADay, { from: start, to: start + MAX_OCCURRENCES_PER_CALL * 86_400_000 }).length, MAX_OCCURRENCES_PER_CALL, 'exactly the cap is fine');
  t.throws(() => expandOccurrences(oneADay, { from: start, to: start + (MAX_OCCURRENCES_PER_CALL + 1) * 86_400_000 }), OccurrenceCapError);
  t.throws(() => expandOccurrences(oneADay, { from: 0, to: Infinity }), OccurrenceCapError, 'an endless window');
  t.throws(() => expandOccurrences(oneADay, { from: start, to: start + 10 * 86_400_000 }, { cap: 5 }), OccurrenceCapError, 'a lower cap');
  const bounded = parse({ kind: 'monthly', days: [31], times: ['05:00'], from: '2026-01-01', until: '2026-12-31' });
  t.equal(expandOccurrences(bounded, { from: -Infinity, to: Infinity }).length, 7, 'from/until bound an endless window');
});

t.test('the schema refuses dates the calendar lacks', async (t) => {
  t.notOk(scheduleSchema.safeParse({ kind: 'daily', times: ['05:00'], from: '2026-02-30' }).success);
  t.ok(scheduleSchema.safeParse({ kind: 'daily', times: ['05:00'], from: '2028-02-29' }).success);
  t.throws(() => expandOccurrences({ kind: 'daily', times: ['05:00'], from: '2026-04-31' }, { from: 0, to: 1 }), RangeError);
});

t.test("every: N minutes from one instant until another, the end excluded (issue 18: a warning's repeats until it expires)", async (t) => {
  const s = parse({ kind: 'every', from: '2026-12-07T10:00:00+07:00', until: '2026-12-07T11:00:00+07:00', minutes: 15 });
  const all = expandOccurrences(s, { from: vn('2026-12-07T00:00'), to: vn('2026-12-08T00:00') });
  t.same(localDays(all), ['2026-12-07 10:00', '2026-12-07 10:15', '2026-12-07 10:30', '2026-12-07 10:45'], 'the expiry instant itself does not air');
  // A window that starts between two airings finds the next one on the same grid, not one shifted to the window.
  t.same(localDays(expandOccurrences(s, { from: vn('2026-12-07T10:20'), to: vn('2026-12-07T10:40') })), ['2026-12-07 10:30']);
  t.same(expandOccurrences(s, { from: vn('2026-12-07T11:00'), to: vn('2026-12-07T12:00') }), [], 'nothing after the end');
  t.same(expandOccurrences(s, { from: vn('2026-12-07T10:45'), to: vn('2026-12-07T10:46') }), [vn('2026-12-07T10:45')], 'the window start is inclusive');
  // Exceptions work on its airings as on any other schedule's.
  t.same(localDays(expandOccurrences(s, { from: vn('2026-12-07T00:00'), to: vn('2026-12-08T00:00') }, { exceptions: [{ occurrenceAt: vn('2026-12-07T10:15'), action: 'cancel' }] })), ['2026-12-07 10:00', '2026-12-07 10:30', '2026-12-07 10:45']);
});

t.test('every: refused when it runs backwards, longer than 31 days, or more often than every minute', async (t) => {
  const ok = { kind: 'every', from: '2026-12-07T10:00:00+07:00', until: '2026-12-07T11:00:00+07:00', minutes: 5 };
  t.ok(scheduleSchema.safeParse(ok).success);
  t.notOk(scheduleSchema.safeParse({ ...ok, until: ok.from }).success, 'until must be after from');
  t.notOk(scheduleSchema.safeParse({ ...ok, until: '2027-01-08T10:00:01+07:00' }).success, 'at most 31 days');
  t.ok(scheduleSchema.safeParse({ ...ok, until: '2027-01-07T10:00:00+07:00' }).success, '31 days exactly');
  t.notOk(scheduleSchema.safeParse({ ...ok, minutes: 0 }).success);
  t.notOk(scheduleSchema.safeParse({ ...ok, minutes: 1.5 }).success);
  t.notOk(scheduleSchema.safeParse({ ...ok, minutes: 1441 }).success);
  // Every 5 minutes for 31 days stays under the per-call cap; every minute for 31 days is refused by it
  // (POST /broadcasts answers 400 naming the schedule), which is why a warning's form offers 5 minutes and up.
  const dense = parse({ ...ok, until: '2027-01-07T10:00:00+07:00' });
  t.equal(expandOccurrences(dense, { from: vn('2026-12-01T00:00'), to: vn('2027-02-01T00:00') }).length, 31 * 24 * 12);
  t.throws(() => expandOccurrences(parse({ ...ok, minutes: 1, until: '2027-01-07T10:00:00+07:00' }), { from: vn('2026-12-01T00:00'), to: vn('2027-02-01T00:00') }), OccurrenceCapError);
});

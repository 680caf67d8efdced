/**
 * The series move's rule (series-shift.ts, pure): which schedules can move a time of day, from which day,
 * and what happens to today's airing so that no day airs twice and none loses its airing.
 */
import t from 'tap';
import { localTimeOf, seriesTimeOf, shiftSeriesTime } from '../../server/src/scheduling/series-shift.js';
import { expandOccurrences } from '../../server/src/scheduling/recurrence.js';

const at = (iso: string) => Date.parse(iso);

t.test('a daily series moves one of its times from today on', async (t) => {
  // 10:00 in Hà Nội on Monday 14/12/2026 (03:00 UTC): 08:00 has aired today, 17:00 has not.
  const now = at('2026-12-14T03:00:00Z');
  const daily = { kind: 'daily' as const, times: ['08:00', '17:00'] };
  const r = shiftSeriesTime(daily, '17:00', '18:30', now);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.schedule, { kind: 'daily', times: ['08:00', '18:30'], from: '2026-12-14' });
  t.equal(r.today, null, 'today’s 17:00 has not aired: today airs at 18:30');
  const week = expandOccurrences(r.schedule, { from: now, to: now + 2 * 86_400_000 }).map(localTimeOf);
  t.same(week, ['18:30', '08:00', '18:30', '08:00'], 'and the days after, 08:00 untouched');

  const early = shiftSeriesTime(daily, '08:00', '09:00', now);
  t.ok(early.ok && early.today?.action === 'cancel' && early.today.occurrenceAt === at('2026-12-14T02:00:00Z'), 'today’s 08:00 aired already: 09:00 today is not aired again');
  const back = shiftSeriesTime(daily, '17:00', '07:00', now);
  t.same(back.ok && back.today, { action: 'move', occurrenceAt: at('2026-12-14T00:00:00Z'), to: at('2026-12-14T10:00:00Z') }, '07:00 has passed today: today still airs at 17:00');
});

t.test('what cannot be moved as a series', async (t) => {
  const now = at('2026-12-14T03:00:00Z');
  t.same(shiftSeriesTime(null, '08:00', '09:00', now), { ok: false, reason: 'not-a-series' }, 'a one-off');
  t.same(shiftSeriesTime({ kind: 'every', from: '2026-12-14T00:00:00Z', until: '2026-12-15T00:00:00Z', minutes: 30 }, '08:00', '09:00', now), { ok: false, reason: 'not-a-series' }, 'a warning repeated every N minutes');
  t.same(shiftSeriesTime({ kind: 'monthly-count', count: 3, times: ['08:00'] }, '08:00', '09:00', now), { ok: false, reason: 'not-a-series' }, 'N times a month (its days would change)');
  t.same(shiftSeriesTime({ kind: 'daily', times: ['08:00'] }, '07:00', '09:00', now), { ok: false, reason: 'no-such-time' });
  t.same(shiftSeriesTime({ kind: 'daily', times: ['08:00', '09:00'] }, '08:00', '09:00', now), { ok: false, reason: 'time-taken' });
  t.same(shiftSeriesTime({ kind: 'daily', times: ['08:00'], until: '2026-12-10' }, '08:00', '09:00', now), { ok: false, reason: 'ended' });
  const later = shiftSeriesTime({ kind: 'weekly', weekdays: [3], times: ['08:00'], from: '2027-01-06' }, '08:00', '09:00', now);
  t.same(later.ok && later.schedule, { kind: 'weekly', weekdays: [3], times: ['09:00'], from: '2027-01-06' }, 'a later start is kept');
  t.equal(later.ok && later.today, null, 'and today is none of its business');
});

t.test('an airing’s series time', async (t) => {
  t.equal(seriesTimeOf({ kind: 'weekly', weekdays: [1], times: ['05:30'] }, at('2026-12-13T22:30:00Z')), '05:30', '05:30 in Hà Nội is 22:30 UTC the day before');
  t.equal(seriesTimeOf({ kind: 'daily', times: ['05:30'], repeat: { times: 1, gapSeconds: 600 } }, at('2026-12-13T22:40:00Z')), null, 'a repeat airing is not at one of the times');
  t.equal(seriesTimeOf(null, at('2026-12-13T22:30:00Z')), null);
});

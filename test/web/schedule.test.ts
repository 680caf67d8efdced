import t from 'tap';
import { emptyForm, formToDraft, localInstant, localToday, parseDays, type ScheduleForm } from '../../web/src/logic/schedule.js';

const NOW = Date.parse('2026-12-15T01:00:00Z'); // 08:00 in Vietnam
const form = (patch: Partial<ScheduleForm>): ScheduleForm => ({ ...emptyForm(NOW), areaCodes: ['99003'], ...patch });

t.test('now: no schedule and no startAt; targets and priority as chosen', async (t) => {
  const r = formToDraft(form({ priority: 'priority', deviceIds: ['spk-a', 'spk-a'] }), 'bt-1', NOW);
  t.ok(r.ok);
  if (r.ok) t.same(r.draft, { bulletinId: 'bt-1', priority: 'priority', target: { areaCodes: ['99003'], deviceIds: ['spk-a'] } });
});

t.test('once: a local date and time in Vietnam is an instant at +07:00, with repeats', async (t) => {
  const r = formToDraft(form({ kind: 'once', date: '2026-12-15', time: '17:30', repeatTimes: 2, repeatGapMinutes: 5 }), 'bt-1', NOW);
  t.ok(r.ok);
  if (r.ok) t.same(r.draft.schedule, { kind: 'once', at: '2026-12-15T17:30:00+07:00', repeat: { times: 2, gapSeconds: 300 } });
  t.equal(Date.parse(localInstant('2026-12-15', '17:30')), Date.parse('2026-12-15T10:30:00Z'));
  t.equal(localToday(Date.parse('2026-12-15T18:00:00Z')), '2026-12-16', 'after 17:00 UTC it is already tomorrow in Vietnam');
  const past = formToDraft(form({ kind: 'once', date: '2026-12-15', time: '07:00' }), 'bt-1', NOW);
  t.same(past.ok ? [] : past.errors.map((e) => e.key), ['past']);
});

t.test('daily and weekly: times cleaned, sorted and deduplicated; weekdays 1–7; date range', async (t) => {
  const daily = formToDraft(form({ kind: 'daily', times: ['17:00', '05:30', '17:00', ' '], from: '2026-12-16', until: '2026-12-31' }), 'bt-1', NOW);
  t.ok(daily.ok);
  if (daily.ok) t.same(daily.draft.schedule, { kind: 'daily', times: ['05:30', '17:00'], from: '2026-12-16', until: '2026-12-31' });
  const weekly = formToDraft(form({ kind: 'weekly', weekdays: [7, 1, 3, 1], times: ['06:00'], from: '', until: '' }), 'bt-1', NOW);
  if (weekly.ok) t.same(weekly.draft.schedule, { kind: 'weekly', weekdays: [1, 3, 7], times: ['06:00'] });
  else t.fail('weekly should be valid');
});

t.test('monthly by days and N times per month', async (t) => {
  const monthly = formToDraft(form({ kind: 'monthly', days: '15, 1 31;1', times: ['07:00'], from: '' }), 'bt-1', NOW);
  if (monthly.ok) t.same(monthly.draft.schedule, { kind: 'monthly', days: [1, 15, 31], times: ['07:00'] });
  else t.fail('monthly should be valid');
  const count = formToDraft(form({ kind: 'monthly-count', count: 4, countWeekdays: [6, 7], times: ['19:00'], from: '2026-12-01' }), 'bt-1', NOW);
  if (count.ok) t.same(count.draft.schedule, { kind: 'monthly-count', count: 4, weekdays: [6, 7], times: ['19:00'], from: '2026-12-01' });
  else t.fail('monthly-count should be valid');
  const anyDay = formToDraft(form({ kind: 'monthly-count', count: 2, countWeekdays: [], times: ['19:00'], from: '' }), 'bt-1', NOW);
  if (anyDay.ok) t.same(anyDay.draft.schedule, { kind: 'monthly-count', count: 2, times: ['19:00'] }, 'no weekdays means any day');
  t.same(parseDays('1,x'), { bad: 'x' });
  t.same(parseDays('32'), { bad: '32' });
});

t.test('every mistake is reported at once, by field', async (t) => {
  const r = formToDraft(form({ kind: 'monthly', areaCodes: [], days: '0', times: ['25:00'], from: '2026-12-10', until: '2026-12-01', repeatTimes: 11 }), 'bt-1', NOW);
  t.notOk(r.ok);
  if (!r.ok) {
    t.same(r.errors.map((e) => `${e.field}:${e.key}`).sort(), ['days:badDay', 'range:badRange', 'repeat:badRepeat', 'targets:noTargets', 'times:badTime'].sort());
    t.equal(r.errors.find((e) => e.key === 'badTime')!.arg, '25:00');
  }
  const noTimes = formToDraft(form({ kind: 'daily', times: [] }), 'bt-1', NOW);
  t.same(noTimes.ok ? [] : noTimes.errors.map((e) => e.key), ['noTimes']);
  const noDays = formToDraft(form({ kind: 'weekly', weekdays: [] }), 'bt-1', NOW);
  t.same(noDays.ok ? [] : noDays.errors.map((e) => e.key), ['noWeekdays']);
  const badDate = formToDraft(form({ kind: 'daily', from: '2026-02-30' }), 'bt-1', NOW);
  t.same(badDate.ok ? [] : badDate.errors.map((e) => e.key), ['badRange'], '30 February is not a date');
});

/**
 * A schedule that came down (LichPhat, NgayBatDau–NgayKetThuc, CheDoPhat) in our schedule kinds (issue 17):
 * the four KieuLich, times in minutes, the window as local dates (Asia/Ho_Chi_Minh), and the refusals.
 */
import t from 'tap';
import { mapSchedule, ScheduleRefusal, dateNumber, localDate } from '../../server/src/national/downlink/schedule.js';

const now = Date.parse('2026-12-07T03:00:00Z'); // 10:00 in Vietnam
const window = { startDate: Date.parse('2026-12-06T17:00:00Z'), endDate: Date.parse('2026-12-20T16:59:59Z') }; // 7–20 December, local

t.test('each KieuLich maps to our schedule kinds', async (t) => {
  t.same(mapSchedule({ ...window, playMode: 'now', schedule: { kind: 'daily', starts: ['07:00:00'], ends: [], days: [] } }, now), { kind: 'now' });
  t.same(mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'daily', starts: ['17:30:15', '06:00:00', '06:00:59'], ends: ['18:00:00'], days: [] } }, now), {
    kind: 'scheduled',
    schedules: [{ kind: 'daily', times: ['06:00', '17:30'], from: '2026-12-07', until: '2026-12-20' }],
  }, 'times in minutes, sorted, once each; the window as local dates');
  t.same((mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'weekly', starts: ['07:00:00'], ends: [], days: [7, 1, 1] } }, now) as any).schedules, [
    { kind: 'weekly', weekdays: [1, 7], times: ['07:00'], from: '2026-12-07', until: '2026-12-20' },
  ], 'ISO weekdays both sides: 1 Monday … 7 Sunday');
  t.same((mapSchedule({ ...window, playMode: 'commune-decides', schedule: { kind: 'monthly', starts: ['07:00:00'], ends: [], days: [15, 1] } }, now) as any).schedules, [
    { kind: 'monthly', days: [1, 15], times: ['07:00'], from: '2026-12-07', until: '2026-12-20' },
  ]);
  // Listed dates: one daily schedule bounded to each date, dates outside the window dropped.
  t.same((mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'dates', starts: ['07:00:00', '19:00:00'], ends: [], days: [20261225, 20261210, 20261208] } }, now) as any).schedules, [
    { kind: 'daily', times: ['07:00', '19:00'], from: '2026-12-08', until: '2026-12-08' },
    { kind: 'daily', times: ['07:00', '19:00'], from: '2026-12-10', until: '2026-12-10' },
  ]);
});

t.test('impossible schedules are refused naming the field', async (t) => {
  const refusal = (fn: () => unknown, field: string) => {
    try {
      fn();
      t.fail(`expected a refusal of ${field}`);
    } catch (err) {
      t.ok(err instanceof ScheduleRefusal, String(err));
      t.equal((err as ScheduleRefusal).field, field);
    }
  };
  refusal(() => mapSchedule({ startDate: window.endDate, endDate: window.startDate, playMode: 'scheduled', schedule: { kind: 'daily', starts: ['07:00:00'], ends: [], days: [] } }, now), 'endDate');
  refusal(() => mapSchedule({ startDate: now - 30 * 86_400_000, endDate: now - 10 * 86_400_000, playMode: 'scheduled', schedule: { kind: 'daily', starts: ['07:00:00'], ends: [], days: [] } }, now), 'endDate');
  refusal(() => mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'weekly', starts: ['07:00:00'], ends: [], days: [0, 8] } }, now), 'schedule.days');
  refusal(() => mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'monthly', starts: ['07:00:00'], ends: [], days: [] } }, now), 'schedule.days');
  refusal(() => mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'dates', starts: ['07:00:00'], ends: [], days: [20261331] } }, now), 'schedule.days');
  refusal(() => mapSchedule({ ...window, playMode: 'scheduled', schedule: { kind: 'dates', starts: ['07:00:00'], ends: [], days: [20270101] } }, now), 'schedule.days');
  t.equal(dateNumber(20240229), '2024-02-29');
  t.equal(dateNumber(20230229), null);
  t.equal(localDate(Date.parse('2026-12-07T17:30:00Z')), '2026-12-08', 'past 17:00 UTC is the next day in Vietnam');
});

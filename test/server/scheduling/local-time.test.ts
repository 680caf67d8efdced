import t from 'tap';
import {
  civilOf, dayOfCivil, daysInMonth, instantOf, isCalendarDate, localDayOf, parseHHmm, parseLocalDate, vnOffsetMs,
} from '../../../server/src/scheduling/local-time.js';

t.test('the fixed UTC+7 agrees with the tz database from 1976 to 2100', async (t) => {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Ho_Chi_Minh', timeZoneName: 'longOffset' });
  for (let y = 1976; y <= 2100; y += 1) {
    for (const m of [0, 3, 6, 9]) {
      const at = Date.UTC(y, m, 15, 12);
      t.match(fmt.format(new Date(at)), /GMT\+07:00$/, `${y}-${m + 1}`);
      t.equal(vnOffsetMs(at), 7 * 3600_000);
    }
  }
});

t.test('05:00 in Vietnam is 22:00 UTC the previous day', async (t) => {
  const day = parseLocalDate('2026-03-10');
  t.equal(new Date(instantOf(day, 5 * 60)).toISOString(), '2026-03-09T22:00:00.000Z');
  t.equal(new Date(instantOf(day, 0)).toISOString(), '2026-03-09T17:00:00.000Z', 'local midnight');
  t.equal(localDayOf(Date.parse('2026-03-09T17:00:00Z')), day, '17:00Z is already the next local day');
  t.equal(localDayOf(Date.parse('2026-03-09T16:59:59.999Z')), day - 1);
});

t.test('calendar fields and weekdays (1 = Monday … 7 = Sunday)', async (t) => {
  t.same(civilOf(parseLocalDate('2026-03-09')), { year: 2026, month: 3, day: 9, weekday: 1 });
  t.same(civilOf(parseLocalDate('2026-03-15')), { year: 2026, month: 3, day: 15, weekday: 7 });
  t.same(civilOf(parseLocalDate('2028-02-29')), { year: 2028, month: 2, day: 29, weekday: 2 });
  t.equal(daysInMonth(2028, 2), 29);
  t.equal(daysInMonth(2027, 2), 28);
  t.equal(daysInMonth(2100, 2), 28, 'century years are not leap unless divisible by 400');
  t.equal(daysInMonth(2000, 2), 29);
  t.equal(daysInMonth(2026, 4), 30);
  t.equal(dayOfCivil(2026, 4, 31), null, '31 April does not exist');
  t.equal(dayOfCivil(2027, 2, 29), null);
});

t.test('parsing refuses what the calendar or the clock lacks', async (t) => {
  t.ok(isCalendarDate('2028-02-29'));
  t.notOk(isCalendarDate('2027-02-29'));
  t.notOk(isCalendarDate('2026-02-30'));
  t.notOk(isCalendarDate('2026-13-01'));
  t.throws(() => parseLocalDate('2026-04-31'), RangeError);
  t.equal(parseHHmm('00:00'), 0);
  t.equal(parseHHmm('23:59'), 1439);
  t.throws(() => parseHHmm('24:00'), RangeError);
  t.throws(() => parseHHmm('5:00'), RangeError);
});

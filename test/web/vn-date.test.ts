/** The Vietnamese date and time fields' parsing and shaping (issue 20, broken 11), without a browser. */
import t from 'tap';
import { isoToVnDate, shapeDate, shapeTime, vnDateToIso, vnTimeToValue } from '../../web/src/logic/vn-date.js';

t.test('days typed as dd/mm/yyyy become yyyy-mm-dd; impossible days do not', async (t) => {
  t.equal(vnDateToIso('08/12/2026'), '2026-12-08');
  t.equal(vnDateToIso('8/12/2026'), '2026-12-08');
  t.equal(vnDateToIso('08-12-2026'), '2026-12-08');
  t.equal(vnDateToIso('08122026'), '2026-12-08');
  t.equal(vnDateToIso('2026-12-08'), '2026-12-08', 'a pasted ISO day');
  t.equal(vnDateToIso('12/31/2026'), null, 'the US order is not a day (month 31)');
  t.equal(vnDateToIso('31/04/2026'), null, 'April has 30 days');
  t.equal(vnDateToIso('29/02/2027'), null, 'not a leap year');
  t.equal(vnDateToIso('29/02/2028'), '2028-02-29');
  t.equal(vnDateToIso('08/12'), null, 'no year');
  t.equal(isoToVnDate('2026-12-08'), '08/12/2026');
});

t.test('times are 24-hour', async (t) => {
  t.equal(vnTimeToValue('17:30'), '17:30');
  t.equal(vnTimeToValue('17h30'), '17:30');
  t.equal(vnTimeToValue('7:05'), '07:05');
  t.equal(vnTimeToValue('1730'), '17:30');
  t.equal(vnTimeToValue('24:00'), null);
  t.equal(vnTimeToValue('5:30 PM'), null, 'no AM/PM');
});

t.test('separators are added as digits are typed, never while deleting', async (t) => {
  t.equal(shapeDate('081', '08'), '08/1');
  t.equal(shapeDate('08/122', '08/12'), '08/12/2');
  t.equal(shapeDate('08122026', ''), '08/12/2026', 'pasted digits');
  t.equal(shapeDate('7/6/2026', '7/6/202'), '7/6/2026', 'slashes typed by hand are kept');
  t.equal(shapeDate('08/1', '08/12'), '08/1', 'deleting');
  t.equal(shapeTime('173', '17'), '17:3');
  t.equal(shapeTime('730', '73'), '7:30', 'no hour 73');
  t.equal(shapeTime('17:3', '17:30'), '17:3', 'deleting');
});

/**
 * The search pages' day fields (issue 20): days typed the Vietnamese way (dd/mm/yyyy) become the API's
 * `YYYY-MM-DD`; impossible dates are refused; a range that ends before it starts is not asked for; the
 * address keeps the filters and no others are lost.
 */
import t from 'tap';
import { dayRangeQuery, parseVnDate, showVnDate } from '../../web/src/logic/day-range.js';
import { readQuery, writeQuery } from '../../web/src/logic/query.js';

t.test('dd/mm/yyyy in, YYYY-MM-DD out', async (t) => {
  t.equal(parseVnDate('07/12/2026'), '2026-12-07');
  t.equal(parseVnDate('7/1/2027'), '2027-01-07', 'one-digit day and month');
  t.equal(parseVnDate(' 07-12-2026 '), '2026-12-07', 'dashes, spaces');
  t.equal(parseVnDate('2026-12-07'), '2026-12-07', 'already ISO');
  t.equal(parseVnDate(''), '', 'cleared');
  t.equal(parseVnDate('30/02/2026'), null, 'no 30 February');
  t.equal(parseVnDate('12/07'), null, 'no year');
  t.equal(parseVnDate('12/31/2026'), null, 'not the US order');
  t.equal(showVnDate('2026-12-07'), '07/12/2026');
  t.same(dayRangeQuery('2026-12-07', '2026-12-01'), {}, 'a reversed range is not asked for');
  t.same(dayRangeQuery('2026-12-01', ''), { from: '2026-12-01' });
});

t.test('the address keeps the filters, and only sets what has a value', async (t) => {
  const keys = ['q', 'loai', 'tu'] as const;
  t.same(readQuery(keys, '?q=v%E1%BA%AFc-xin&loai=text&khac=1'), { q: 'vắc-xin', loai: 'text', tu: '' });
  const next = writeQuery({ q: 'họp thôn', loai: '', tu: '2026-12-07' }, '?loai=text&khac=1');
  t.same(Object.fromEntries(new URLSearchParams(next)), { khac: '1', q: 'họp thôn', tu: '2026-12-07' }, 'emptied keys leave, other keys stay');
});

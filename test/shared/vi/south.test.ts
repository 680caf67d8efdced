/**
 * The `south` style: the bracketed differences of vi-reading.md — hai mươi bốn, lẻ, ngàn.
 */
import t from 'tap';
import { normalizeVietnamese, readNumber } from '../../../shared/src/vi/index.js';
import { checkTable, wordsOf } from './reading-table.js';

const SOUTH = { style: 'south' } as const;

t.test('readNumber in the south style', async (t) => {
  const rows: [number, string][] = [
    [24, 'hai mươi bốn'], [14, 'mười bốn'], [15, 'mười lăm'], [21, 'hai mươi mốt'], [25, 'hai mươi lăm'],
    [44, 'bốn mươi bốn'], [101, 'một trăm lẻ một'], [105, 'một trăm lẻ năm'], [110, 'một trăm mười'],
    [1000, 'một ngàn'], [1001, 'một ngàn không trăm lẻ một'], [2020, 'hai ngàn không trăm hai mươi'],
    [2024, 'hai ngàn không trăm hai mươi bốn'], [2025, 'hai ngàn không trăm hai mươi lăm'],
    [1500000, 'một triệu năm trăm ngàn'], [3000000000, 'ba tỷ'],
  ];
  for (const [n, words] of rows) t.equal(readNumber(n, 'south'), words, String(n));
});

t.test('the spec rows with Southern differences', async (t) => {
  checkTable(
    t,
    [
      ['21, 24, 25, 55', 'hai mươi mốt, hai mươi bốn, hai mươi lăm, năm mươi lăm'],
      ['101, 105, 110', 'một trăm lẻ một, một trăm lẻ năm, một trăm mười'],
      ['1000, 1001, 2020, 2025', 'một ngàn, một ngàn không trăm lẻ một, hai ngàn không trăm hai mươi, hai ngàn không trăm hai mươi lăm'],
      ['10.599', 'mười ngàn năm trăm chín mươi chín'],
      ['1.500.000, 3 tỷ', 'một triệu năm trăm ngàn, ba tỷ'],
      ['94,24%', 'chín mươi bốn phẩy hai mươi bốn phần trăm'],
      ['50.000đ', 'năm mươi ngàn đồng'],
      ['08/4/2024', 'ngày tám tháng tư năm hai ngàn không trăm hai mươi bốn'],
      ['tháng 4', 'tháng tư'],
      ['thứ 4', 'thứ tư'],
      ['thứ 24', 'thứ hai mươi bốn'],
      ['24:00', 'hai mươi bốn giờ'],
      ['85/2016/NĐ-CP', 'tám mươi lăm năm hai ngàn không trăm mười sáu nghị định chính phủ'],
      ['0912 345 678', 'không chín một hai ba bốn năm sáu bảy tám'],
    ],
    SOUTH,
  );
});

t.test('the styles differ only where the spec says', async (t) => {
  const text = 'Ngày 27-9, xã có 1.024 hộ, 105 người; tổng đài 1022.';
  const north = wordsOf(normalizeVietnamese(text).text);
  const south = wordsOf(normalizeVietnamese(text, SOUTH).text);
  t.equal(north, 'ngày hai mươi bảy tháng chín xã có một nghìn không trăm hai mươi tư hộ một trăm linh năm người tổng đài một không hai hai');
  t.equal(south, 'ngày hai mươi bảy tháng chín xã có một ngàn không trăm hai mươi bốn hộ một trăm lẻ năm người tổng đài một không hai hai');
  t.equal(wordsOf(normalizeVietnamese(text, { style: 'north' }).text), north, 'north is the default');
});

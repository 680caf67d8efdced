/**
 * vi-reading.md "Numbers": cardinals, thousands dots, decimal commas, percent, the "chấm" rule.
 * Expected readings are written by hand from the spec's rules.
 */
import t from 'tap';
import { readNumber } from '../../../shared/src/vi/index.js';
import { checkTable, zipCells, type Row } from './reading-table.js';

t.test('the spec table, row by row', async (t) => {
  const rows: Row[] = [
    ...zipCells('0, 5, 10, 14, 15', 'không, năm, mười, mười bốn, mười lăm'),
    ...zipCells('21, 24, 25, 55', 'hai mươi mốt, hai mươi tư, hai mươi lăm, năm mươi lăm'),
    ...zipCells('101, 105, 110', 'một trăm linh một, một trăm linh năm, một trăm mười'),
    ...zipCells(
      '1000, 1001, 2020, 2025',
      'một nghìn, một nghìn không trăm linh một, hai nghìn không trăm hai mươi, hai nghìn không trăm hai mươi lăm',
    ),
    ['10.599', 'mười nghìn năm trăm chín mươi chín'],
    ['1.500.000', 'một triệu năm trăm nghìn'],
    ['3 tỷ', 'ba tỷ'],
    ['91,4', 'chín mươi mốt phẩy bốn'],
    ['100%', 'một trăm phần trăm'],
    ['94,45%', 'chín mươi tư phẩy bốn mươi lăm phần trăm'],
    ['1.1200', 'một chấm một hai không không'],
    ['2.5', 'hai chấm năm'],
    // the whole cells, as one text
    ['0, 5, 10, 14, 15', 'không, năm, mười, mười bốn, mười lăm'],
    ['1.500.000, 3 tỷ', 'một triệu năm trăm nghìn, ba tỷ'],
    ['100%, 94,45%', 'một trăm phần trăm, chín mươi tư phẩy bốn mươi lăm phần trăm'],
  ];
  checkTable(t, rows);
});

const CARDINALS: [number | bigint, string][] = [
  [0, 'không'], [1, 'một'], [2, 'hai'], [3, 'ba'], [4, 'bốn'], [5, 'năm'], [6, 'sáu'], [7, 'bảy'], [8, 'tám'],
  [9, 'chín'], [10, 'mười'], [11, 'mười một'], [12, 'mười hai'], [13, 'mười ba'], [14, 'mười bốn'],
  [15, 'mười lăm'], [16, 'mười sáu'], [17, 'mười bảy'], [18, 'mười tám'], [19, 'mười chín'], [20, 'hai mươi'],
  [21, 'hai mươi mốt'], [22, 'hai mươi hai'], [24, 'hai mươi tư'], [25, 'hai mươi lăm'], [30, 'ba mươi'],
  [31, 'ba mươi mốt'], [34, 'ba mươi tư'], [41, 'bốn mươi mốt'], [44, 'bốn mươi tư'], [45, 'bốn mươi lăm'],
  [50, 'năm mươi'], [55, 'năm mươi lăm'], [61, 'sáu mươi mốt'], [75, 'bảy mươi lăm'], [90, 'chín mươi'],
  [99, 'chín mươi chín'], [100, 'một trăm'], [101, 'một trăm linh một'], [102, 'một trăm linh hai'],
  [104, 'một trăm linh bốn'], [105, 'một trăm linh năm'], [109, 'một trăm linh chín'], [110, 'một trăm mười'],
  [111, 'một trăm mười một'], [114, 'một trăm mười bốn'], [115, 'một trăm mười lăm'],
  [121, 'một trăm hai mươi mốt'], [124, 'một trăm hai mươi tư'], [125, 'một trăm hai mươi lăm'],
  [200, 'hai trăm'], [305, 'ba trăm linh năm'], [450, 'bốn trăm năm mươi'], [999, 'chín trăm chín mươi chín'],
  [1000, 'một nghìn'], [1001, 'một nghìn không trăm linh một'], [1005, 'một nghìn không trăm linh năm'],
  [1010, 'một nghìn không trăm mười'], [1015, 'một nghìn không trăm mười lăm'],
  [1021, 'một nghìn không trăm hai mươi mốt'], [1100, 'một nghìn một trăm'],
  [1234, 'một nghìn hai trăm ba mươi tư'], [1975, 'một nghìn chín trăm bảy mươi lăm'],
  [2000, 'hai nghìn'], [2020, 'hai nghìn không trăm hai mươi'], [2021, 'hai nghìn không trăm hai mươi mốt'],
  [2024, 'hai nghìn không trăm hai mươi tư'], [2025, 'hai nghìn không trăm hai mươi lăm'],
  [10000, 'mười nghìn'], [10599, 'mười nghìn năm trăm chín mươi chín'], [15000, 'mười lăm nghìn'],
  [21000, 'hai mươi mốt nghìn'], [24500, 'hai mươi tư nghìn năm trăm'], [100000, 'một trăm nghìn'],
  [105000, 'một trăm linh năm nghìn'], [1000000, 'một triệu'], [1500000, 'một triệu năm trăm nghìn'],
  [1000050, 'một triệu không trăm năm mươi'], [1005000, 'một triệu không trăm linh năm nghìn'],
  [12345678, 'mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám'],
  [428000000, 'bốn trăm hai mươi tám triệu'], [1000000000, 'một tỷ'], [3000000000, 'ba tỷ'],
  [1000000001, 'một tỷ không trăm linh một'], [1050000000, 'một tỷ không trăm năm mươi triệu'],
  [2500000000, 'hai tỷ năm trăm triệu'], [1000000000000n, 'một nghìn tỷ'],
  [15000000000000n, 'mười lăm nghìn tỷ'],
];

t.test('readNumber: cardinals derived from the rules (linh, mốt, tư, lăm, không trăm)', async (t) => {
  for (const [n, words] of CARDINALS) t.equal(readNumber(n), words, String(n));
});

t.test('readNumber: bigint and number agree; negatives read âm; fractions refused', async (t) => {
  t.equal(readNumber(2025n), readNumber(2025));
  t.equal(readNumber(-5), 'âm năm');
  t.throws(() => readNumber(1.5), RangeError);
  t.throws(() => readNumber(Number.NaN), RangeError);
});

t.test('the same cardinals inside text', async (t) => {
  const rows: Row[] = CARDINALS.filter(([n]) => BigInt(n) < 1_000_000n).map(([n, w]) => [`có ${n} người`, `có ${w} người`]);
  checkTable(t, rows);
});

t.test('a dot groups thousands only when every later group has three digits', async (t) => {
  checkTable(t, [
    ['1.000', 'một nghìn'],
    ['10.000', 'mười nghìn'],
    ['999.999', 'chín trăm chín mươi chín nghìn chín trăm chín mươi chín'],
    ['1.000.000.000', 'một tỷ'],
    ['2.500.000.000 đồng', 'hai tỷ năm trăm triệu đồng'],
    ['15.000 người', 'mười lăm nghìn người'],
    ['1.2.3', 'một chấm hai chấm ba'],
    ['1.500.00', 'một chấm năm không không chấm không không'],
    ['1234.567', 'một nghìn hai trăm ba mươi tư chấm năm sáu bảy'],
    ['12.34567', 'mười hai chấm ba bốn năm sáu bảy'],
    ['0.5', 'không chấm năm'],
    ['Phiên bản 2.10', 'phiên bản hai chấm một không'],
    ['Mục 1.1200 và 2.5', 'mục một chấm một hai không không và hai chấm năm'],
    // at the end of a sentence the dot is a pause, not "chấm"
    ['Năm 2020.', 'năm hai nghìn không trăm hai mươi'],
    ['Có 1.500 hộ.', 'có một nghìn năm trăm hộ'],
  ]);
});

t.test('the comma is the decimal mark', async (t) => {
  checkTable(t, [
    ['0,5', 'không phẩy năm'],
    ['3,05', 'ba phẩy không năm'],
    ['2,50', 'hai phẩy năm mươi'],
    ['0,125', 'không phẩy một trăm hai mươi lăm'],
    ['3,14159', 'ba phẩy một bốn một năm chín'],
    ['1,5 triệu', 'một phẩy năm triệu'],
    ['10.000,50', 'mười nghìn phẩy năm mươi'],
    ['1.234,5', 'một nghìn hai trăm ba mươi tư phẩy năm'],
    ['lượng mưa 91,4 mm', 'lượng mưa chín mươi mốt phẩy bốn mi li mét'],
    // a comma followed by a space is a pause between numbers
    ['1, 2, 3', 'một, hai, ba'],
  ]);
});

t.test('percent', async (t) => {
  checkTable(t, [
    ['50%', 'năm mươi phần trăm'],
    ['0%', 'không phần trăm'],
    ['12,5%', 'mười hai phẩy năm phần trăm'],
    ['100 %', 'một trăm phần trăm'],
    ['đạt 99,9% kế hoạch', 'đạt chín mươi chín phẩy chín phần trăm kế hoạch'],
    ['tăng 2.5%', 'tăng hai chấm năm phần trăm'],
  ]);
});

t.test('leading zeros and very long numbers', async (t) => {
  checkTable(t, [
    ['có 05 hộ', 'có năm hộ'],
    ['có 02 trường hợp', 'có hai trường hợp'],
    ['số 007', 'số bảy'],
    ['mã 0123', 'mã không một hai ba'],
    ['123456789012345678901', 'một hai ba bốn năm sáu bảy tám chín không một hai ba bốn năm sáu bảy tám chín không một'],
    ['1500000', 'một triệu năm trăm nghìn'],
  ]);
});

t.test('fractions: a/b that is neither a symbol nor a date', async (t) => {
  checkTable(t, [
    ['3/5', 'ba phần năm'],
    ['1/2 số hộ', 'một phần hai số hộ'],
    ['2/3 diện tích', 'hai phần ba diện tích'],
    ['ngày 32/1', 'ngày ba mươi hai phần một'], // not a valid calendar date
  ]);
});

/**
 * vi-reading.md "Ranges, ordinals, Roman numerals".
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable, zipCells, type Row } from './reading-table.js';

const Y2021 = 'hai nghìn không trăm hai mươi mốt';
const Y2025 = 'hai nghìn không trăm hai mươi lăm';

t.test('the spec table, row by row', async (t) => {
  const rows: Row[] = [
    ['giai đoạn 2021- 2025', `giai đoạn ${Y2021} đến ${Y2025}`],
    ...zipCells('2-3 mô hình, 10 -15 phút', 'hai đến ba mô hình, mười đến mười lăm phút'),
    ['2-3 mô hình, 10 -15 phút', 'hai đến ba mô hình, mười đến mười lăm phút'],
    ...zipCells('thứ 2, thứ 7, lần thứ 4, thứ 1', 'thứ hai, thứ bảy, lần thứ tư, thứ nhất'),
    ['thứ 2, thứ 7, lần thứ 4, thứ 1', 'thứ hai, thứ bảy, lần thứ tư, thứ nhất'],
    ...zipCells('quý II, khóa XV, thế kỷ XXI', 'quý hai, khóa mười lăm, thế kỷ hai mươi mốt'),
    ['quý II, khóa XV, thế kỷ XXI', 'quý hai, khóa mười lăm, thế kỷ hai mươi mốt'],
  ];
  checkTable(t, rows);
});

t.test('ranges between numbers, with any spacing and dash', async (t) => {
  checkTable(t, [
    ['2021-2025', `${Y2021} đến ${Y2025}`],
    ['2021 - 2025', `${Y2021} đến ${Y2025}`],
    ['giai đoạn 2021–2025', `giai đoạn ${Y2021} đến ${Y2025}`],
    ['từ 20 – 25 người', 'từ hai mươi đến hai mươi lăm người'],
    ['5-7 km', 'năm đến bảy ki lô mét'],
    ['10%-15%', 'mười phần trăm đến mười lăm phần trăm'],
    ['2,5-3 m', 'hai phẩy năm đến ba mét'],
    ['1.000-2.000 con', 'một nghìn đến hai nghìn con'],
    ['3-4 ngày', 'ba đến bốn ngày'],
    ['tháng 10-12', 'tháng mười đến mười hai'],
  ]);
});

t.test('a dash that is not between numbers', async (t) => {
  checkTable(t, [
    ['Hà Nội - Hải Phòng', 'hà nội, hải phòng'],
    ['Điều 5 - Trách nhiệm', 'điều năm, trách nhiệm'],
    ['- Mục một', 'mục một'],
    ['ki-lô-gam', 'ki lô gam'],
    ['COVID-19', 'cô vít mười chín'],
    ['nhiệt độ -2 độ', 'nhiệt độ âm hai độ'],
    ['-5°C', 'âm năm độ xê'],
  ]);
});

t.test('ordinals after thứ', async (t) => {
  checkTable(t, [
    ['thứ 3', 'thứ ba'],
    ['Thứ 5', 'thứ năm'],
    ['thứ 6', 'thứ sáu'],
    ['Thứ 2 tuần sau', 'thứ hai tuần sau'],
    ['lần thứ 2', 'lần thứ hai'],
    ['lần thứ 10', 'lần thứ mười'],
    ['thứ 14', 'thứ mười bốn'],
    ['thứ 24', 'thứ hai mươi tư'],
    ['kỳ họp thứ 7', 'kỳ họp thứ bảy'],
    ['hạng 1', 'hạng một'], // only "thứ" makes an ordinal
  ]);
});

t.test('Roman numerals only after quý, khóa, thế kỷ, chương, phần, mục, kỳ, đại hội, lần thứ, thứ', async (t) => {
  checkTable(t, [
    ['quý I', 'quý một'],
    ['quý IV', 'quý bốn'],
    ['Quý III', 'quý ba'],
    ['khoá XIV', 'khoá mười bốn'],
    ['Khóa XV', 'khóa mười lăm'],
    ['thế kỉ XX', 'thế kỉ hai mươi'],
    ['thế kỷ XIX', 'thế kỷ mười chín'],
    ['chương III', 'chương ba'],
    ['Chương IX', 'chương chín'],
    ['phần IX', 'phần chín'],
    ['mục V', 'mục năm'],
    ['kỳ II', 'kỳ hai'],
    ['kì VI', 'kì sáu'],
    ['Đại hội XIII', 'đại hội mười ba'],
    ['đại hội XII', 'đại hội mười hai'],
    ['lần thứ XIII', 'lần thứ mười ba'],
    ['kỳ họp thứ VII', 'kỳ họp thứ bảy'],
    ['thứ IV', 'thứ tư'],
    ['thứ I', 'thứ nhất'],
    ['CHƯƠNG II', 'chương hai'],
    ['Đại hội Đảng bộ lần thứ XX', 'đại hội đảng bộ lần thứ hai mươi'],
  ]);
});

t.test('"CV", "MC", "CD" are letters outside the listed contexts', async (t) => {
  checkTable(t, [
    ['CV', 'xê vê'],
    ['MC', 'em mờ xê'],
    ['CD', 'xê dê'],
    ['nộp CV xin việc', 'nộp xê vê xin việc'],
    ['MC dẫn chương trình', 'em mờ xê dẫn chương trình'],
    ['đĩa CD', 'đĩa xê dê'],
    ['XV', 'ích vê'],
    ['khu C', 'khu xê'],
    ['I. MỤC ĐÍCH', 'i. mục đích'],
  ]);
  for (const text of ['nộp CV', 'MC', 'đĩa CD']) {
    t.notMatch(normalizeVietnamese(text).text, /trăm|nghìn/u, text);
  }
});

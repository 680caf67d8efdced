/**
 * Issue 19, "Pauses": numbers that follow one another, a closing quote and a list item are kept apart by a
 * pause mark (vi-reading.md "Output": the marks are what every engine is given, see output.ts).
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';

t.test('a date followed by a time, and two numbers in a row, are kept apart', async (t) => {
  t.equal(
    normalizeVietnamese('Thứ tư, 31/08/2022 01:20').text,
    'thứ tư, ngày ba mươi mốt tháng tám năm hai nghìn không trăm hai mươi hai, một giờ hai mươi phút',
  );
  t.equal(normalizeVietnamese('Cập nhật 03/6/2024 7h30').text, 'cập nhật ngày ba tháng sáu năm hai nghìn không trăm hai mươi tư, bảy giờ ba mươi phút');
  t.equal(normalizeVietnamese('Tổng: 1.245 1.300').text, 'tổng: một nghìn hai trăm bốn mươi lăm, một nghìn ba trăm');
});

t.test('a closing quote is a pause: "2022 - 2025” năm 2023" is not heard as "… lăm năm"', async (t) => {
  t.equal(
    normalizeVietnamese('Chương trình “Giai đoạn 2022 - 2025” năm 2023').text,
    'chương trình giai đoạn hai nghìn không trăm hai mươi hai đến hai nghìn không trăm hai mươi lăm, năm hai nghìn không trăm hai mươi ba',
  );
  t.equal(
    normalizeVietnamese('phong trào "Ngày thứ bảy tình nguyện" năm 2024').text,
    'phong trào ngày thứ bảy tình nguyện, năm hai nghìn không trăm hai mươi tư',
  );
  // No pause where none is heard: an opening quote, an apostrophe, a quote before a mark.
  t.equal(normalizeVietnamese('gọi là “Tết”.').text, 'gọi là tết.');
  t.equal(normalizeVietnamese('“Toàn dân” (ATGT) tham gia').text, 'toàn dân, an toàn giao thông, tham gia');
});

t.test('the pauses that were there stay, and none is added inside one numeric reading', async (t) => {
  for (const [written, spoken] of [
    ['từ 18-65 tuổi', 'từ mười tám đến sáu mươi lăm tuổi'],
    ['ngày 25-27/9', 'ngày hai mươi lăm đến hai mươi bảy tháng chín'],
    ['giai đoạn 2021- 2025', 'giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm'],
    ['lúc 7h30 ngày 03/6', 'lúc bảy giờ ba mươi phút ngày ba tháng sáu'],
    ['gọi 0912 345 678', 'gọi không chín một hai ba bốn năm sáu bảy tám'],
    ['tỷ số 2-1', 'tỷ số hai một'],
    ['COVID-19', 'cô vít mười chín'],
  ] as const) {
    t.equal(normalizeVietnamese(written).text, spoken, written);
  }
});

t.test('list items are separated: bullets and line breaks', async (t) => {
  t.same(normalizeVietnamese('Gồm:\n- Thôn 1\n- Thôn 2\n+ Thôn 3').sentences, ['gồm.', 'thôn một.', 'thôn hai.', 'thôn ba']);
  t.equal(normalizeVietnamese('gồm: + Tổ 1; + Tổ 2').text, 'gồm: tổ một; tổ hai');
  t.equal(normalizeVietnamese('Việc cần làm + Họp dân').text, 'việc cần làm + họp dân', 'a plus inside a line is no bullet');
});

/**
 * vi-reading.md "Dates and times": dates need a year or one of the listed words before them, and must be
 * valid; "ngày" is never said twice; month 4 is "tư"; times with ":" or "h".
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable, zipCells, wordsOf, type Row } from './reading-table.js';

const Y2020 = 'hai nghìn không trăm hai mươi';
const Y2021 = 'hai nghìn không trăm hai mươi mốt';
const Y2022 = 'hai nghìn không trăm hai mươi hai';
const Y2023 = 'hai nghìn không trăm hai mươi ba';
const Y2024 = 'hai nghìn không trăm hai mươi tư';

t.test('the spec table, row by row', async (t) => {
  const rows: Row[] = [
    ['03/6/2020', `ngày ba tháng sáu năm ${Y2020}`],
    ['Ngày 27-9', 'ngày hai mươi bảy tháng chín'],
    ['08/4/2021', `ngày tám tháng tư năm ${Y2021}`],
    ['tháng 10-2021', `tháng mười năm ${Y2021}`],
    ['tháng 12/2022', `tháng mười hai năm ${Y2022}`],
    ['tháng 10-2021, tháng 12/2022', `tháng mười năm ${Y2021}, tháng mười hai năm ${Y2022}`],
    ['năm 2025', 'năm hai nghìn không trăm hai mươi lăm'],
    ...zipCells('08:10, 17h30, 5h, 20h00', 'tám giờ mười phút, mười bảy giờ ba mươi phút, năm giờ, hai mươi giờ'),
    ['08:10, 17h30, 5h, 20h00', 'tám giờ mười phút, mười bảy giờ ba mươi phút, năm giờ, hai mươi giờ'],
    ['Thứ tư, 31/08/2022 01:20', `thứ tư, ngày ba mươi mốt tháng tám năm ${Y2022}, một giờ hai mươi phút`],
  ];
  checkTable(t, rows);
});

t.test('"Ngày 27-9" never gives "ngày ngày"', async (t) => {
  for (const text of ['Ngày 27-9', 'ngày 27/9', 'NGÀY 27.9', 'ngày 03/6/2020', 'ngày mồng 3/6', 'từ ngày 1/6/2024']) {
    t.notMatch(normalizeVietnamese(text).text, /ngày ngày|mồng ngày/u, text);
  }
});

t.test('a year makes a day/month pair a date wherever it stands', async (t) => {
  checkTable(t, [
    ['ngày 03/6/2020', `ngày ba tháng sáu năm ${Y2020}`],
    ['Ngày 01/01/2024', `ngày một tháng một năm ${Y2024}`],
    ['27-9-2021', `ngày hai mươi bảy tháng chín năm ${Y2021}`],
    ['03.6.2020', `ngày ba tháng sáu năm ${Y2020}`],
    ['29/2/2024', `ngày hai mươi chín tháng hai năm ${Y2024}`],
    ['30/04/1975', 'ngày ba mươi tháng tư năm một nghìn chín trăm bảy mươi lăm'],
    ['Hà Nội, 15/8/2023', `hà nội, ngày mười lăm tháng tám năm ${Y2023}`],
    ['ban hành 10/10/2021.', `ban hành ngày mười tháng mười năm ${Y2021}`],
    ['ngày 25-27/9/2023', `ngày hai mươi lăm đến hai mươi bảy tháng chín năm ${Y2023}`],
  ]);
});

t.test('without a year, only after ngày, sáng, trưa, chiều, tối, đêm, hôm, rạng sáng, từ/đến ngày', async (t) => {
  checkTable(t, [
    ['ngày 2/9', 'ngày hai tháng chín'],
    ['Ngày 27-9', 'ngày hai mươi bảy tháng chín'],
    ['ngày 2.9', 'ngày hai tháng chín'],
    ['sáng 27/9', 'sáng ngày hai mươi bảy tháng chín'],
    ['Sáng 27/9', 'sáng ngày hai mươi bảy tháng chín'],
    ['trưa 1/5', 'trưa ngày một tháng năm'],
    ['chiều 2.9', 'chiều ngày hai tháng chín'],
    ['tối 30/4', 'tối ngày ba mươi tháng tư'],
    ['đêm 31-12', 'đêm ngày ba mươi mốt tháng mười hai'],
    ['hôm 15/8', 'hôm mười lăm tháng tám'],
    ['rạng sáng 3/6', 'rạng sáng ngày ba tháng sáu'],
    ['từ ngày 1/6 đến ngày 15/6', 'từ ngày một tháng sáu đến ngày mười lăm tháng sáu'],
    ['ngày mồng 3/6', 'ngày mồng ba tháng sáu'],
    ['ngày 29/2', 'ngày hai mươi chín tháng hai'],
    ['ngày 25-27/9', 'ngày hai mươi lăm đến hai mươi bảy tháng chín'],
    ['ngày 1/6 - 15/6', 'ngày một tháng sáu đến ngày mười lăm tháng sáu'],
    ['từ ngày 1/6 đến 15/6', 'từ ngày một tháng sáu đến ngày mười lăm tháng sáu'],
  ]);
});

t.test('otherwise a-b is a range and a/b a fraction; invalid dates are not dates', async (t) => {
  checkTable(t, [
    ['27-9', 'hai mươi bảy đến chín'],
    ['3/5', 'ba phần năm'],
    ['khoảng 27/9', 'khoảng hai mươi bảy phần chín'],
    ['ngày 32/1', 'ngày ba mươi hai phần một'],
    ['ngày 15/13', 'ngày mười lăm phần mười ba'],
    ['ngày 30-2', 'ngày ba mươi đến hai'],
    ['tháng 10-12', 'tháng mười đến mười hai'],
    ['1.1200', 'một chấm một hai không không'],
    ['12/2021/NĐ-CP', `mười hai năm ${Y2021} nghị định chính phủ`],
  ]);
  for (const text of ['29/2/2023', '31/4/2022', '32/1/2020']) {
    const r = normalizeVietnamese(text);
    t.equal(r.text, text, `${text} is left as written`);
    t.same(r.unread.map((s) => s.rule), ['invalid-date'], `${text} is reported`);
  }
});

t.test('month and year; month 4 is tư, month 1 is một', async (t) => {
  checkTable(t, [
    ['tháng 4', 'tháng tư'],
    ['tháng 1', 'tháng một'],
    ['Tháng 4/2021', `tháng tư năm ${Y2021}`],
    ['tháng 1-2022', `tháng một năm ${Y2022}`],
    ['tháng 6.2023', `tháng sáu năm ${Y2023}`],
    ['tháng 13', 'tháng mười ba'],
    ['đến 6/2025', 'đến tháng sáu năm hai nghìn không trăm hai mươi lăm'],
    ['quý 3/2023', `quý ba năm ${Y2023}`],
    ['quý II/2023', `quý hai năm ${Y2023}`],
    ['năm học 2023/2024', `năm học ${Y2023} đến ${Y2024}`],
  ]);
});

t.test('times', async (t) => {
  checkTable(t, [
    ['00:00', 'không giờ'],
    ['24:00', 'hai mươi tư giờ'],
    ['08:05', 'tám giờ năm phút'],
    ['8h05', 'tám giờ năm phút'],
    ['7g30', 'bảy giờ ba mươi phút'],
    ['07:30:15', 'bảy giờ ba mươi phút mười lăm giây'],
    ['17h', 'mười bảy giờ'],
    ['lúc 14:00', 'lúc mười bốn giờ'],
    ['lúc 14h30 chiều nay', 'lúc mười bốn giờ ba mươi phút chiều nay'],
    ['từ 7h30 đến 11h', 'từ bảy giờ ba mươi phút đến mười một giờ'],
    ['8h-11h', 'tám giờ đến mười một giờ'],
    ['13h30-17h', 'mười ba giờ ba mươi phút đến mười bảy giờ'],
    ['5h sáng', 'năm giờ sáng'],
  ]);
});

t.test('scores and ratios are never dates, times or ranges', async (t) => {
  checkTable(t, [
    ['tỷ số 2-1', 'tỷ số hai một'],
    ['thắng 3-0', 'thắng ba không'],
    ['hòa 1:1', 'hòa một một'],
    ['tỷ lệ 1:500', 'tỷ lệ một trên năm trăm'],
  ]);
  t.notMatch(normalizeVietnamese('tỷ số 2-1').text, /ngày|tháng|đến/u);
});

t.test('a date reading is the same with any separator', async (t) => {
  const want = wordsOf(normalizeVietnamese('ngày 5/9/2021').text);
  for (const sep of ['-', '.']) t.equal(wordsOf(normalizeVietnamese(`ngày 5${sep}9${sep}2021`).text), want, sep);
});

t.test('a bare Southern hour "10g" after a time and "đến" is giờ; alone it stays grams (issue 19 bench)', async (t) => {
  t.equal(normalizeVietnamese('Chợ họp từ 6g30 đến 10g.').text, 'chợ họp từ sáu giờ ba mươi phút đến mười giờ.');
  t.equal(normalizeVietnamese('cân 10g muối').text, 'cân mười gam muối');
  t.equal(normalizeVietnamese('từ 5 đến 10g').text, 'từ năm đến mười gam');
});

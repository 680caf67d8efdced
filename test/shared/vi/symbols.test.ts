/**
 * vi-reading.md "Legal document symbols": the number is a cardinal, a year part is "năm …", each code is
 * expanded from the dictionary, `/` and `-` are silent; never a date, a fraction or a range.
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable, wordsOf } from './reading-table.js';

const Y2020 = 'hai nghìn không trăm hai mươi';

t.test('the spec example and the other shapes', async (t) => {
  checkTable(t, [
    [
      'Quyết định số 749/QĐ-TTg ngày 03/6/2020',
      'quyết định số bảy trăm bốn mươi chín quyết định thủ tướng chính phủ ngày ba tháng sáu năm hai nghìn không trăm hai mươi',
    ],
    ['39/2020/TT-BTTTT', `ba mươi chín năm ${Y2020} thông tư bộ thông tin và truyền thông`],
    ['198/KH-UBND', 'một trăm chín mươi tám kế hoạch ủy ban nhân dân'],
    ['85/2016/NĐ-CP', 'tám mươi lăm năm hai nghìn không trăm mười sáu nghị định chính phủ'],
    ['1457/KH-UBND', 'một nghìn bốn trăm năm mươi bảy kế hoạch ủy ban nhân dân'],
  ]);
});

t.test('more symbols', async (t) => {
  checkTable(t, [
    ['12/2021/NĐ-CP', 'mười hai năm hai nghìn không trăm hai mươi mốt nghị định chính phủ'],
    ['Chỉ thị 05/CT-TTg', 'chỉ thị năm chỉ thị thủ tướng chính phủ'],
    ['Nghị quyết 01/NQ-CP', 'nghị quyết một nghị quyết chính phủ'],
    ['Luật số 59/2020/QH14', `luật số năm mươi chín năm ${Y2020} quốc hội mười bốn`],
    ['Công văn 123/UBND-VP', 'công văn một trăm hai mươi ba ủy ban nhân dân văn phòng'],
    ['Thông báo 45/TB-UBND', 'thông báo bốn mươi lăm thông báo ủy ban nhân dân'],
    ['56/CV-UBND', 'năm mươi sáu công văn ủy ban nhân dân'],
    ['15/2023/TT-BYT', 'mười lăm năm hai nghìn không trăm hai mươi ba thông tư bộ y tế'],
    ['Số: 45/KH-UBND', 'số bốn mươi lăm kế hoạch ủy ban nhân dân'],
    ['QUYẾT ĐỊNH SỐ 749/QĐ-TTG', 'quyết định số bảy trăm bốn mươi chín quyết định thủ tướng chính phủ'],
    ['10/2022/TT-BTTTT ngày 29/7/2022',
      'mười năm hai nghìn không trăm hai mươi hai thông tư bộ thông tin và truyền thông ngày hai mươi chín tháng bảy năm hai nghìn không trăm hai mươi hai'],
    ['88/KH-BCĐ', 'tám mươi tám kế hoạch ban chỉ đạo'],
    ['12/KH-XYZ', 'mười hai kế hoạch ích i dài dét'], // unknown code: spelled
    ['07/CTr-UBND', 'bảy chương trình ủy ban nhân dân'],
  ]);
});

t.test('never a date, a fraction or a range inside a symbol', async (t) => {
  for (const symbol of ['749/QĐ-TTg', '12/2021/NĐ-CP', '39/2020/TT-BTTTT', '3/TB-UBND', '12/5/QĐ']) {
    const reading = wordsOf(normalizeVietnamese(symbol).text);
    t.notMatch(reading, /\b(ngày|tháng|trên|phần|đến|chấm)\b/u, symbol);
  }
});

t.test('TT is thông tư only inside a symbol', async (t) => {
  checkTable(t, [
    ['01/2024/TT-BTC', 'một năm hai nghìn không trăm hai mươi tư thông tư bộ tài chính'],
    ['TT', 'tê tê'],
    ['BTC giải', 'bê tê xê giải'],
  ]);
});

t.test('operator entries reach symbols too', async (t) => {
  const r = normalizeVietnamese('12/KH-XYZ', { dictionary: { XYZ: 'xã yên thành' } });
  t.equal(wordsOf(r.text), 'mười hai kế hoạch xã yên thành');
  const symbol = r.rewritten.find((s) => s.rule === 'symbol');
  t.same(symbol && { start: symbol.start, end: symbol.end, text: symbol.text }, { start: 0, end: 9, text: '12/KH-XYZ' });
});

t.test('symbol-only codes differ from the same letters in running text', async (t) => {
  checkTable(t, [
    ['1234/UBND-VX', 'một nghìn hai trăm ba mươi tư ủy ban nhân dân văn xã'],
    ['56/UBND-TP', 'năm mươi sáu ủy ban nhân dân tư pháp'],
    ['TP Vinh', 'thành phố vinh'],
    ['15/BC-UBND', 'mười lăm báo cáo ủy ban nhân dân'],
    ['BC', 'bê xê'],
  ]);
});

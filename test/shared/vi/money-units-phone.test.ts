/**
 * vi-reading.md "Money, units, phone numbers". The phone rule comes before the thousands-separator rule.
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable, zipCells, type Row } from './reading-table.js';

t.test('the spec table, row by row', async (t) => {
  const rows: Row[] = [
    ...zipCells(
      '428 triệu đồng, 50.000đ, 1.500.000 VNĐ',
      'bốn trăm hai mươi tám triệu đồng, năm mươi nghìn đồng, một triệu năm trăm nghìn đồng',
    ),
    ...zipCells(
      '5 km, 120 mm, 30 kg, 2 ha, 37°C, 60 km/h, 25 m2',
      'năm ki lô mét, một trăm hai mươi mi li mét, ba mươi ki lô gam, hai héc ta, ba mươi bảy độ xê, ' +
        'sáu mươi ki lô mét trên giờ, hai mươi lăm mét vuông',
    ),
    ...zipCells(
      'tổng đài 1022, đường dây nóng 113, 0912 345 678',
      'tổng đài một không hai hai, đường dây nóng một một ba, không chín một hai ba bốn năm sáu bảy tám',
    ),
    ['5 km, 120 mm, 30 kg, 2 ha, 37°C, 60 km/h, 25 m2',
      'năm ki lô mét, một trăm hai mươi mi li mét, ba mươi ki lô gam, hai héc ta, ba mươi bảy độ xê, sáu mươi ki lô mét trên giờ, hai mươi lăm mét vuông'],
  ];
  checkTable(t, rows);
});

t.test('money', async (t) => {
  checkTable(t, [
    ['50.000 đ', 'năm mươi nghìn đồng'],
    ['200.000 đồng', 'hai trăm nghìn đồng'],
    ['50.000đồng', 'năm mươi nghìn đồng'],
    ['1.500.000VND', 'một triệu năm trăm nghìn đồng'],
    ['1.500.000 VND', 'một triệu năm trăm nghìn đồng'],
    ['2,5 tỷ đồng', 'hai phẩy năm tỷ đồng'],
    ['100 USD', 'một trăm đô la mỹ'],
    ['$100', 'một trăm đô la'],
    ['25.000 đồng/kg', 'hai mươi lăm nghìn đồng một ki lô gam'],
    ['500.000 đồng/người', 'năm trăm nghìn đồng một người'],
    ['mức hỗ trợ 10.000,50 đồng', 'mức hỗ trợ mười nghìn phẩy năm mươi đồng'],
    ['5 tỷ 200 triệu', 'năm tỷ hai trăm triệu'],
    ['VNĐ', 'việt nam đồng'],
    // an exchange rate is never a date
    ['tỷ giá 1 USD = 24.500 đồng', 'tỷ giá một đô la mỹ bằng hai mươi tư nghìn năm trăm đồng'],
    ['tỷ giá ngày 24.10: 1 USD = 25.000,5 đồng', 'tỷ giá ngày hai mươi tư tháng mười một đô la mỹ bằng hai mươi lăm nghìn phẩy năm đồng'],
  ]);
});

t.test('units', async (t) => {
  checkTable(t, [
    ['2km', 'hai ki lô mét'],
    ['100m', 'một trăm mét'],
    ['15 cm', 'mười lăm xen ti mét'],
    ['500 g', 'năm trăm gam'],
    ['5g', 'năm gam'],
    ['3 m3', 'ba mét khối'],
    ['100 m²', 'một trăm mét vuông'],
    ['10 km²', 'mười ki lô mét vuông'],
    ['36,5°C', 'ba mươi sáu phẩy năm độ xê'],
    ['37 °C', 'ba mươi bảy độ xê'],
    ['37oC', 'ba mươi bảy độ xê'],
    ['220 V', 'hai trăm hai mươi vôn'],
    ['5 kW', 'năm ki lô oát'],
    ['100 kWh', 'một trăm ki lô oát giờ'],
    ['20 m/s', 'hai mươi mét trên giây'],
    ['150 mm/h', 'một trăm năm mươi mi li mét trên giờ'],
    ['lượng mưa 120 mm', 'lượng mưa một trăm hai mươi mi li mét'],
    // a unit ends the word: these are not units
    ['5 mô hình', 'năm mô hình'],
    ['2 hay 3', 'hai hay ba'],
    ['3 gia đình', 'ba gia đình'],
  ]);
});

t.test('phone numbers: digit by digit after the listed words', async (t) => {
  checkTable(t, [
    ['tổng đài 1022', 'tổng đài một không hai hai'],
    ['Tổng đài 1022', 'tổng đài một không hai hai'],
    ['đường dây nóng 113', 'đường dây nóng một một ba'],
    ['Đường dây nóng: 114', 'đường dây nóng một một bốn'],
    ['hotline 1900 1234', 'hót lai một chín không không một hai ba bốn'],
    ['Hotline: 1900.1234', 'hót lai một chín không không một hai ba bốn'],
    ['số điện thoại 3822115', 'số điện thoại ba tám hai hai một một năm'],
    ['điện thoại: 113', 'điện thoại một một ba'],
    ['điện thoại số 115', 'điện thoại số một một năm'],
    ['SĐT: 0987654321', 'số điện thoại không chín tám bảy sáu năm bốn ba hai một'],
    ['fax 0243 123 456', 'phắc không hai bốn ba một hai ba bốn năm sáu'],
    ['số điện thoại là 0912 345 678', 'số điện thoại là không chín một hai ba bốn năm sáu bảy tám'],
  ]);
});

t.test('numbers to dial after "gọi", "liên hệ": three digits or more, ending the clause or followed by what the call is for', async (t) => {
  checkTable(t, [
    ['Khi có cháy, gọi ngay 114.', 'khi có cháy, gọi ngay một một bốn.'],
    ['Gọi ngay 114 để được hỗ trợ.', 'gọi ngay một một bốn để được hỗ trợ.'],
    ['gọi 112 khi gặp nạn', 'gọi một một hai khi gặp nạn'],
    ['liên hệ 1022', 'liên hệ một không hai hai'],
    // Counts stay counts: fewer than three digits, or a word after that counts something.
    ['gọi 2 lần', 'gọi hai lần'],
    ['Gọi 100 người đến họp.', 'gọi một trăm người đến họp.'],
    ['liên hệ 300 hộ dân', 'liên hệ ba trăm hộ dân'],
    ['gọi về 2.345 hộ', 'gọi về hai nghìn ba trăm bốn mươi lăm hộ'],
    ['Có 114 hộ bị ngập.', 'có một trăm mười bốn hộ bị ngập.'],
  ]);
});

t.test('1800 and 1900 service lines anywhere, with their 4 or 6 digits', async (t) => {
  checkTable(t, [
    ['hoặc 1900 1234', 'hoặc một chín không không một hai ba bốn'],
    ['miễn phí 1800.6789', 'miễn phí một tám không không sáu bảy tám chín'],
    ['số 19001234', 'số một chín không không một hai ba bốn'],
    ['1800 123 456', 'một tám không không một hai ba bốn năm sáu'],
    // Years stay years.
    ['từ năm 1800 đến 1900.', 'từ năm một nghìn tám trăm đến một nghìn chín trăm.'],
  ]);
});

t.test('phone numbers: 9–11 digits starting with 0, in one piece or groups', async (t) => {
  checkTable(t, [
    ['0912 345 678', 'không chín một hai ba bốn năm sáu bảy tám'],
    ['0912.345.678', 'không chín một hai ba bốn năm sáu bảy tám'],
    ['0214-3822-115', 'không hai một bốn ba tám hai hai một một năm'],
    ['0912345678', 'không chín một hai ba bốn năm sáu bảy tám'],
    ['024 3822 1155', 'không hai bốn ba tám hai hai một một năm năm'],
    ['gọi 0987.654.321 ngay', 'gọi không chín tám bảy sáu năm bốn ba hai một ngay'],
    ['+84 912 345 678', 'cộng tám bốn chín một hai ba bốn năm sáu bảy tám'],
    // not phone numbers: too short, or not starting with 0 and no phone word before ("gọi 114" is one since
    // issue 19: a number to dial after "gọi"; see the test above)
    ['có 114', 'có một trăm mười bốn'],
    ['0912', 'không chín một hai'],
    ['912.345.678', 'chín trăm mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám'],
  ]);
  t.notMatch(normalizeVietnamese('0912.345.678').text, /triệu|nghìn|chấm/u, 'phone before thousands');
});

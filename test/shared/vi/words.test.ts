/**
 * vi-reading.md "Abbreviations and loanwords": the dictionary, capital headings, letter names, web
 * addresses, unknown words.
 */
import t from 'tap';
import { DEFAULT_DICTIONARY, SYMBOL_DICTIONARY, LETTER_NAMES, normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable, wordsOf, type Row } from './reading-table.js';

/** The starting dictionary exactly as the spec lists it. */
const SPEC_DICTIONARY: Row[] = [
  ['UBND', 'ủy ban nhân dân'], ['HĐND', 'hội đồng nhân dân'], ['MTTQ', 'mặt trận tổ quốc'], ['TW', 'trung ương'],
  ['CNTT', 'công nghệ thông tin'], ['CNTT-VT', 'công nghệ thông tin viễn thông'],
  ['TT&TT', 'thông tin và truyền thông'], ['BTTTT', 'bộ thông tin và truyền thông'], ['QĐ', 'quyết định'],
  ['TTg', 'thủ tướng chính phủ'], ['KH', 'kế hoạch'], ['NĐ-CP', 'nghị định chính phủ'], ['TP.', 'thành phố'],
  ['THCS', 'trung học cơ sở'], ['THPT', 'trung học phổ thông'], ['BHYT', 'bảo hiểm y tế'],
  ['BHXH', 'bảo hiểm xã hội'], ['CCCD', 'căn cước công dân'], ['PCCC', 'phòng cháy chữa cháy'],
  ['ATTP', 'an toàn thực phẩm'], ['ATGT', 'an toàn giao thông'], ['PCTT', 'phòng chống thiên tai'],
  ['TKCN', 'tìm kiếm cứu nạn'], ['HTX', 'hợp tác xã'], ['KT-XH', 'kinh tế xã hội'], ['CCVC', 'công chức viên chức'],
  ['NLĐ', 'người lao động'], ['TTCS', 'thông tin cơ sở'], ['AI', 'ây ai'], ['facebook', 'phây búc'],
  ['zalo', 'da lô'], ['video', 'vi đê ô'], ['clip', 'clíp'], ['wifi', 'oai phai'], ['online', 'on lai'],
  ['internet', 'in tơ nét'], ['email', 'i meo'], ['website', 'oép sai'], ['4G', 'bốn gờ'], ['5G', 'năm gờ'],
  ['COVID', 'cô vít'],
];

t.test('the shipped dictionary holds every entry the spec lists', async (t) => {
  for (const [key, reading] of SPEC_DICTIONARY) t.equal(DEFAULT_DICTIONARY[key], reading, key);
  t.equal(SYMBOL_DICTIONARY['TT'], 'thông tư', 'TT (in a symbol)');
  t.ok(Object.isFrozen(DEFAULT_DICTIONARY));
});

t.test('each entry is read in running text', async (t) => {
  checkTable(t, SPEC_DICTIONARY.map(([key, reading]) => [`có ${key} mới`, `có ${reading} mới`] as const));
});

t.test('case variants of dictionary entries', async (t) => {
  checkTable(t, [
    ['Facebook', 'phây búc'],
    ['ZALO', 'da lô'],
    ['Video', 'vi đê ô'],
    ['Email', 'i meo'],
    ['Online', 'on lai'],
    ['COVID-19', 'cô vít mười chín'],
    ['Covid-19', 'cô vít mười chín'],
    ['Tp. Hồ Chí Minh', 'thành phố hồ chí minh'],
    ['TP. Hà Nội', 'thành phố hà nội'],
    ['UBND xã', 'ủy ban nhân dân xã'],
    ['Sở TT&TT', 'sở thông tin và truyền thông'],
    ['mạng 4G và 5G', 'mạng bốn gờ và năm gờ'],
  ]);
});

t.test('the word "ai" is never the acronym AI', async (t) => {
  checkTable(t, [
    ['Ai cũng phải đi tiêm', 'ai cũng phải đi tiêm'],
    ['không ai vắng mặt', 'không ai vắng mặt'],
    ['ứng dụng AI', 'ứng dụng ây ai'],
  ]);
});

t.test('capital headings read as words when their tokens are Vietnamese syllables', async (t) => {
  checkTable(t, [
    ['THÔNG BÁO KHẨN', 'thông báo khẩn'],
    ['AI CŨNG PHẢI ĐI TIÊM', 'ai cũng phải đi tiêm'],
    ['UBND XÃ AN BÌNH', 'ủy ban nhân dân xã an bình'],
    ['HĐND HUYỆN', 'hội đồng nhân dân huyện'],
    ['THÔNG BÁO VỀ COVID-19', 'thông báo về cô vít mười chín'],
    ['Tin KHẨN', 'tin khẩn'],
    ['LỊCH TIÊM VẮC XIN', 'lịch tiêm vắc xin'],
    ['ĐẮK LẮK', 'đắk lắk'],
    ['CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'cộng hòa xã hội chủ nghĩa việt nam'],
    ['ĐỘC LẬP - TỰ DO - HẠNH PHÚC', 'độc lập, tự do, hạnh phúc'],
  ]);
});

t.test('other capital strings are spelled with the spec letter names', async (t) => {
  checkTable(t, [
    ['HIV', 'hát i vê'],
    ['WHO', 'vê kép hát o'],
    ['OTP', 'o tê pê'],
    ['SMS', 'ét em mờ ét'],
    ['USB', 'u ét bê'],
    ['GPS', 'giê pê ét'],
    ['ĐBSCL', 'đê bê ét xê e lờ'],
    ['JQZ', 'gi cu dét'],
    ['F0', 'ép không'],
    ['F1', 'ép một'],
    ['U23', 'u hai mươi ba'],
    ['H5N1', 'hát năm en nờ một'],
    ['lớp 12A', 'lớp mười hai a'],
    ['khu B', 'khu bê'],
    ['điểm b khoản 1', 'điểm bê khoản một'],
    ['điểm đ', 'điểm đê'],
  ]);
  const letters = 'A Ă Â B C D Đ E Ê F G H I J K L M N O Ô Ơ P Q R S T U Ư V W X Y Z'.split(' ');
  const names = 'a, á, ớ, bê, xê, dê, đê, e, ê, ép, giê, hát, i, gi, ca, e lờ, em mờ, en nờ, o, ô, ơ, pê, cu, e rờ, ét, tê, u, ư, vê, vê kép, ích, i dài, dét';
  t.same(letters.map((l) => LETTER_NAMES[l]), names.split(', '), 'letter names as listed');
});

t.test('web and e-mail addresses read "chấm" for dots', async (t) => {
  checkTable(t, [
    ['www.dichvucong.gov.vn', 'vê kép vê kép vê kép chấm dich vu cong chấm giê o vê chấm vê en nờ'],
    ['baochinhphu.vn', 'bao chinh phu chấm vê en nờ'],
    ['https://baochinhphu.vn', 'bao chinh phu chấm vê en nờ'],
    ['facebook.com/ubnd', 'phây búc chấm com gạch chéo ủy ban nhân dân'],
    ['ubnd@hanoi.gov.vn', 'ủy ban nhân dân a còng ha noi chấm giê o vê chấm vê en nờ'],
    ['Xem tại zalo.vn.', 'xem tại da lô chấm vê en nờ'],
  ]);
});

t.test('operator dictionary entries apply over the shipped ones', async (t) => {
  const dictionary = { Krông: 'crông', UBND: 'ủy ban', 'Ea Súp': 'e a súp' };
  checkTable(
    t,
    [
      ['huyện Krông Pắc', 'huyện crông pắc'],
      ['UBND xã', 'ủy ban xã'],
      ['huyện Ea Súp', 'huyện e a súp'],
      ['HĐND xã', 'hội đồng nhân dân xã'],
    ],
    { dictionary },
  );
  t.equal(wordsOf(normalizeVietnamese('UBND xã').text), 'ủy ban nhân dân xã', 'no leak between calls');
});

t.test('a foreign word neither dictionary knows is guessed by letter-to-sound rules and reported', async (t) => {
  const r = normalizeVietnamese('Ông Lenin nói');
  t.equal(r.text, 'ông le nin nói');
  t.same(r.guessed, [{ start: 4, end: 9, text: 'Lenin', rule: 'loanword-guess', label: 'từ nước ngoài, đoán cách đọc', reading: 'le nin' }]);
  t.same(r.unread, []);
});

t.test('a word that is no syllable and no guess is left as written and reported', async (t) => {
  // A misplaced tone mark ("qúa" for "quá") is neither Vietnamese nor a foreign spelling.
  const r = normalizeVietnamese('Ông Qúa nói');
  t.equal(r.text, 'ông Qúa nói');
  t.same(r.unread, [{ start: 4, end: 7, text: 'Qúa', rule: 'unknown-word', label: 'từ không đọc được' }]);
});

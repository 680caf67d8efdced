/**
 * Issue 19, "Loanwords" (vi-reading.md "Abbreviations and loanwords"): Latin-script words are read the
 * way announcers say them — from the shipped lexicon, from the area list for names written together, and
 * by letter-to-sound rules for the rest, which are reported as guesses.
 */
import t from 'tap';
import { LOANWORDS, normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { isSyllable } from '../../../shared/src/vi/syllable.js';
import { checkTable } from './reading-table.js';

t.test('the words the issue names, as announcers say them', async (t) => {
  checkTable(t, [
    ['Đăng trên fanpage của xã', 'đăng trên phan pết của xã'],
    ['Tải dữ liệu (data) về máy', 'tải dữ liệu, đa ta, về máy'],
    ['Họp online qua Zalo', 'họp on lai qua da lô'],
    ['Nền tảng Telehealth', 'nền tảng te le heo'],
    ['Ứng dụng AgriConnect', 'ứng dụng a gờ ri con néc'],
    ['Ứng dụng Big Data trong nông nghiệp', 'ứng dụng bích đa ta trong nông nghiệp'],
    ['Phần mềm Qoffice', 'phần mềm cu ô phít'],
    ['Xem trên YouTube, TikTok và Facebook', 'xem trên diu túp, tích tốc và phây búc'],
    ['Ứng dụng VNeID', 'ứng dụng vê en e i đi'],
    ['Sản phẩm OCOP 3 sao', 'sản phẩm ô cốp ba sao'],
    ['Sản xuất theo VietGAP', 'sản xuất theo việt gáp'],
    ['Lọt top 10', 'lọt tốp mười'],
    ['Hội chợ có 300 gian hàng livestream', 'hội chợ có ba trăm gian hàng lai xờ trim'],
    ['Giá gas tăng', 'giá ga tăng'],
    ['gen di truyền, 5 gram', 'gien di truyền, năm gam'],
    ['huyện Krông Pắc, huyện Ea Súp', 'huyện cờ rông pắc, huyện e a súp'],
  ]);
  const r = normalizeVietnamese('Nền tảng Telehealth');
  t.same(r.rewritten.map((s) => [s.text, s.rule, s.label]), [['Telehealth', 'loanword', 'từ mượn, theo từ điển']]);
});

t.test('the lexicon shadows no Vietnamese word, and every reading is Vietnamese syllables', async (t) => {
  const keys = Object.keys(LOANWORDS);
  t.ok(keys.length >= 250, `${keys.length} entries`);
  t.same(keys.filter((k) => !/[\s\-/]/u.test(k) && isSyllable(k)), [], 'no single-word key is a syllable');
  const bad = Object.entries(LOANWORDS).filter(([, reading]) => reading.split(' ').some((w) => !isSyllable(w)));
  t.same(bad, [], 'no reading holds a foreign spelling');
});

t.test('the operator dictionary and the abbreviations win over the loanwords', async (t) => {
  checkTable(t, [['họp qua Zoom', 'họp qua zum']], { dictionary: { zoom: 'zum' } });
  // "AI" stays the abbreviation (ây ai), and "Tư" in "tháng Tư" the word, not the abbreviation TƯ.
  checkTable(t, [['ứng dụng AI', 'ứng dụng ây ai'], ['tháng Tư', 'tháng tư'], ['Ban Chấp hành TƯ', 'ban chấp hành trung ương']]);
});

t.test('names written together are read from the area list, with their tones', async (t) => {
  const places = ['Quảng Nam', 'Đà Nẵng', 'Tân Phong'];
  const r = normalizeVietnamese('Tỉnh QuangNam và TP DaNang', { places });
  t.equal(r.text, 'tỉnh quảng nam và thành phố đà nẵng');
  t.same(r.rewritten.filter((s) => s.rule === 'place-name').map((s) => [s.text, s.reading, s.label]), [
    ['QuangNam', 'quảng nam', 'địa danh viết liền hoặc thiếu dấu'],
    ['DaNang', 'đà nẵng', 'địa danh viết liền hoặc thiếu dấu'],
  ]);
  t.same(r.guessed, []);
  // Provinces and big cities are known without any list; a commune the list lacks keeps its syllables,
  // toneless, and the operator is told it is a guess.
  t.equal(normalizeVietnamese('Tỉnh QuangNam, TP HaNoi').text, 'tỉnh quảng nam, thành phố hà nội');
  const g = normalizeVietnamese('xã TanPhong');
  t.equal(g.text, 'xã tan phong');
  t.same(g.guessed.map((s) => [s.text, s.rule]), [['TanPhong', 'place-name']]);
  // A spelling two places share is no answer.
  const twin = normalizeVietnamese('xã TanPhong', { places: ['Tân Phong', 'Tân Phòng'] });
  t.same(twin.guessed.map((s) => s.text), ['TanPhong']);
});

t.test('other foreign words are guessed by letter-to-sound rules and reported as guesses', async (t) => {
  const r = normalizeVietnamese('Ông Putin và hệ thống SmartCity, bản Washington');
  t.equal(r.text, 'ông pu tin và hệ thống xờ mát xi ti, bản oa sinh ton');
  t.same(r.guessed.map((s) => [s.text, s.reading, s.label]), [
    ['Putin', 'pu tin', 'từ nước ngoài, đoán cách đọc'],
    ['SmartCity', 'xờ mát xi ti', 'từ nước ngoài, đoán cách đọc'],
    ['Washington', 'oa sinh ton', 'từ nước ngoài, đoán cách đọc'],
  ]);
  for (const s of r.guessed) t.ok(s.reading!.split(' ').every(isSyllable), `${s.text}: only syllables reach the engine`);
});

t.test('an abbreviation typed in lower case is the abbreviation, not a foreign word', async (t) => {
  const r = normalizeVietnamese('ubnd xã và hđnd huyện');
  t.equal(r.text, 'ủy ban nhân dân xã và hội đồng nhân dân huyện');
  t.same(r.rewritten.map((s) => [s.text, s.rule]), [['ubnd', 'dictionary'], ['hđnd', 'dictionary']]);
  t.same(r.guessed, []);
});

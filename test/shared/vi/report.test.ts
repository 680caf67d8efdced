/**
 * vi-reading.md "Reports" and "Output": rewritten spans with rule names and code point offsets in the NFC
 * text, unread spans left as written, lowercase words with single spaces and pause marks, sentences.
 */
import t from 'tap';
import { formatReport, normalizeVietnamese, RULE_LABELS } from '../../../shared/src/vi/index.js';

t.test('rewritten spans carry the rule, code point offsets, the written text and the reading', async (t) => {
  const r = normalizeVietnamese('Quyết định số 749/QĐ-TTg ngày 03/6/2020');
  t.same(r.rewritten, [
    { start: 14, end: 24, text: '749/QĐ-TTg', rule: 'symbol', label: 'số, ký hiệu văn bản', reading: 'bảy trăm bốn mươi chín quyết định thủ tướng chính phủ' },
    { start: 30, end: 39, text: '03/6/2020', rule: 'date', label: 'ngày tháng', reading: 'ba tháng sáu năm hai nghìn không trăm hai mươi' },
  ]);
  t.same(r.guessed, []);
  t.same(r.unread, []);
});

t.test('one rule name per kind of rewrite', async (t) => {
  const cases: [string, string, string][] = [
    ['có 15 hộ', '15', 'number'],
    ['91,4', '91,4', 'decimal'],
    ['1.1200', '1.1200', 'dotted'],
    ['mã 0123', '0123', 'digits'],
    ['đạt 94,45%', '94,45%', 'percent'],
    ['giá 50.000đ', '50.000đ', 'money'],
    ['dài 5 km', '5 km', 'unit'],
    ['2-3 mô hình', '-', 'range'],
    ['-5°C', '-', 'negative'],
    ['3/5', '3/5', 'fraction'],
    ['tỷ lệ 1:500', '1:500', 'ratio'],
    ['tỷ số 2-1', '2-1', 'score'],
    ['thứ 2', '2', 'ordinal'],
    ['quý II', 'II', 'roman'],
    ['Ngày 27-9', '27-9', 'date'],
    ['lúc 17h30', '17h30', 'time'],
    ['gọi 0912 345 678', '0912 345 678', 'phone'],
    ['198/KH-UBND', '198/KH-UBND', 'symbol'],
    ['UBND xã', 'UBND', 'dictionary'],
    ['nộp CV', 'CV', 'letters'],
    ['xem baochinhphu.vn', 'baochinhphu.vn', 'web'],
    ['ỨNG DỤNG AI', 'AI', 'heading'],
    ['Sở A & B', '&', 'ampersand'],
  ];
  for (const [input, text, rule] of cases) {
    const spans = normalizeVietnamese(input).rewritten.filter((s) => s.text === text);
    t.same(spans.map((s) => s.rule), [rule], `${input}: ${text} → ${rule}`);
  }
});

t.test('ordinary words are not reported', async (t) => {
  const r = normalizeVietnamese('Thông báo của xã về lịch tiêm. THÔNG BÁO KHẨN');
  t.same(r.rewritten, []);
  t.same(r.guessed, []);
  t.same(r.unread, []);
});

t.test('offsets count code points of the NFC text, not UTF-16 units or NFD characters', async (t) => {
  // An emoji is two UTF-16 units but one code point.
  const r = normalizeVietnamese('👍 Ngày 27-9');
  t.same(r.unread, [{ start: 0, end: 1, text: '👍', rule: 'unknown-symbol', label: 'ký hiệu không đọc được' }]);
  t.same(r.rewritten.map((s) => [s.start, s.end, s.text]), [[7, 11, '27-9']]);

  // "ngày" typed in NFD (a + combining grave) is five code points; NFC makes it four.
  const nfd = 'nga\u0300y 27-9';
  t.equal(nfd.length, 10);
  const n = normalizeVietnamese(nfd);
  t.same(n.rewritten.map((s) => [s.start, s.end, s.text]), [[5, 9, '27-9']]);
  t.equal(n.text, 'ngày hai mươi bảy tháng chín');

  const cps = Array.from('Gọi 📞 0912 345 678');
  const p = normalizeVietnamese('Gọi 📞 0912 345 678').rewritten[0]!;
  t.equal(cps.slice(p.start, p.end).join(''), '0912 345 678');
});

t.test('unread: emoji and stray symbols are left as written and reported', async (t) => {
  const r = normalizeVietnamese('Ứng dụng AI 👍 trong # xã @ * ~');
  t.equal(r.text, 'ứng dụng ây ai 👍 trong # xã @ * ~');
  t.same(
    r.unread.map((s) => [s.start, s.end, s.text, s.rule]),
    [
      [12, 13, '👍', 'unknown-symbol'],
      [20, 21, '#', 'unknown-symbol'],
      [25, 26, '@', 'unknown-symbol'],
      [27, 28, '*', 'unknown-symbol'],
      [29, 30, '~', 'unknown-symbol'],
    ],
  );
  const family = normalizeVietnamese('Chúc mừng 👨‍👩‍👧🎉!');
  t.same(family.unread.map((s) => s.text), ['👨‍👩‍👧🎉'], 'an emoji sequence is one span');
  t.same(normalizeVietnamese('31/2/2020').unread.map((s) => s.rule), ['invalid-date']);
});

t.test('output: lowercase words, single spaces, pause marks kept', async (t) => {
  const r = normalizeVietnamese('  Xin   chào!  Bạn khỏe không?   Tốt...  ');
  t.equal(r.text, 'xin chào! bạn khỏe không? tốt.');
  t.same(r.sentences, ['xin chào!', 'bạn khỏe không?', 'tốt.']);
  t.equal(normalizeVietnamese('“Toàn dân” (ATGT) tham gia; nhanh: gọn').text, 'toàn dân, an toàn giao thông, tham gia; nhanh: gọn');
  t.equal(normalizeVietnamese('Hết giờ?!').text, 'hết giờ?');
  t.equal(normalizeVietnamese('').text, '');
  t.same(normalizeVietnamese('').sentences, []);
  for (const input of ['THÔNG BÁO KHẨN\nUBND xã An Bình thông báo: từ 7h30 ngày 03/6/2020, 100% hộ dân...']) {
    const text = normalizeVietnamese(input).text;
    t.notMatch(text, /\s{2}|\p{Lu}/u, 'no double spaces, no capitals');
    t.match(text, /^[\p{Ll}\s.,;:!?]+$/u, 'only lowercase words and pause marks');
  }
});

t.test('sentences split at . ! ? and at line breaks', async (t) => {
  const r = normalizeVietnamese('THÔNG BÁO\nNgày 27-9, xã tổ chức tiêm. Mời bà con đến đúng giờ!\n\nTrân trọng');
  t.same(r.sentences, [
    'thông báo.',
    'ngày hai mươi bảy tháng chín, xã tổ chức tiêm.',
    'mời bà con đến đúng giờ!',
    'trân trọng',
  ]);
  t.equal(r.text, r.sentences.join(' '));
  // The dots of "TP." and of numbers do not end sentences.
  t.same(normalizeVietnamese('TP. Vinh có 1.500 hộ. Hết.').sentences, ['thành phố vinh có một nghìn năm trăm hộ.', 'hết.']);
});

t.test('a full bulletin reads end to end', async (t) => {
  const input =
    'THÔNG BÁO\n' +
    'Thực hiện Kế hoạch số 198/KH-UBND ngày 08/4/2021 của UBND huyện, sáng 27/9 tại nhà văn hóa thôn 2 ' +
    'sẽ tiêm vắc xin COVID-19 cho 1.500 người từ 18-65 tuổi, bắt đầu từ 7h30. Mọi thắc mắc liên hệ ' +
    'đường dây nóng 0912.345.678.';
  const r = normalizeVietnamese(input);
  t.same(r.unread, []);
  t.equal(
    r.text,
    'thông báo. thực hiện kế hoạch số một trăm chín mươi tám kế hoạch ủy ban nhân dân ngày tám tháng tư năm ' +
      'hai nghìn không trăm hai mươi mốt của ủy ban nhân dân huyện, sáng ngày hai mươi bảy tháng chín tại nhà ' +
      'văn hóa thôn hai sẽ tiêm vắc xin cô vít mười chín cho một nghìn năm trăm người từ mười tám đến sáu mươi ' +
      'lăm tuổi, bắt đầu từ bảy giờ ba mươi phút. mọi thắc mắc liên hệ đường dây nóng không chín một hai ba ' +
      'bốn năm sáu bảy tám.',
  );
});

t.test('any input terminates, and every span points at its text in code points', async (t) => {
  // Deterministic pseudo-random texts built from the pieces bulletins are made of.
  const pieces = [
    '0', '1', '9', '12', '2020', '.', ',', '/', '-', ':', '%', 'h', 'g', ' ', ' ', '\n', 'ngày', 'Thứ', 'quý',
    'II', 'UBND', 'QĐ', 'TTg', 'AI', 'CV', 'km', '°C', 'đ', '👍', '#', '@', '&', '(', ')', '"', '+', '$', '…',
    'Lenin', 'tổng đài', 'www', 'vn', 'e\u0301', '–', 'x', 'Đ',
  ];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let failures = 0;
  for (let round = 0; round < 400; round++) {
    let input = '';
    const len = 1 + (next() % 25);
    for (let i = 0; i < len; i++) input += pieces[next() % pieces.length];
    const r = normalizeVietnamese(input);
    const cps = Array.from(input.normalize('NFC'));
    for (const span of [...r.rewritten, ...r.guessed, ...r.unread]) {
      if (cps.slice(span.start, span.end).join('') !== span.text) failures++;
    }
    if (/ {2}/u.test(r.text) || r.text !== r.text.trim() || r.text !== r.sentences.join(' ')) failures++;
  }
  t.equal(failures, 0);
});

t.test('every span, rewritten, guessed or unread, carries its rule and the rule’s Vietnamese name', async (t) => {
  const r = normalizeVietnamese(
    'Ngày 03/6/2024 7h30, UBND xã đăng 1 số/tháng trên fanpage, Telegram và SmartCity; hoat động # hết./.',
  );
  const spans = [...r.rewritten, ...r.guessed, ...r.unread];
  t.ok(spans.length >= 9);
  for (const s of spans) t.equal(s.label, RULE_LABELS[s.rule], `${s.text}: ${s.rule}`);
  t.same(r.guessed.map((s) => [s.text, s.label]), [
    ['SmartCity', 'từ nước ngoài, đoán cách đọc'],
    ['hoat', 'từ nước ngoài, đoán cách đọc'],
  ]);
  t.same(r.unread.map((s) => [s.text, s.label]), [['#', 'ký hiệu không đọc được']]);
  // Labels are distinct, so an operator can tell the rules apart.
  t.equal(new Set(Object.values(RULE_LABELS)).size, Object.keys(RULE_LABELS).length);
});

t.test('the report as printed by the command line: the worst first, each span with offsets and rule', async (t) => {
  const r = normalizeVietnamese('Nền tảng SmartCity # ngày 03/6/2024./.');
  t.same(formatReport(r), [
    'báo cáo đọc: 1 đoạn chưa đọc được, 1 đoạn đoán, 2 đoạn viết lại',
    '  chưa đọc 19-20 "#" (ký hiệu không đọc được)',
    '  đoán     9-18 "SmartCity" → "xờ mát xi ti" (từ nước ngoài, đoán cách đọc)',
    '  viết lại 26-35 "03/6/2024" → "ba tháng sáu năm hai nghìn không trăm hai mươi tư" (ngày tháng)',
    '  viết lại 35-38 "./." → "" (dấu kết thúc bài, bỏ qua)',
  ]);
});

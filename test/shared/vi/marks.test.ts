/**
 * Issue 19, "Symbols in context": `/`, `+`, the end mark `./.`, and "3,4" after words that number
 * levels or articles. Each reading is what a listener hears; the old readings around them must not move.
 */
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { checkTable } from './reading-table.js';

t.test('a slash between words: "mỗi" after a count, "trên" before a unit, "một" after money, else "hoặc"', async (t) => {
  checkTable(t, [
    ['Phát hành 1 số/tháng', 'phát hành một số mỗi tháng'],
    ['đăng 2 tin/tuần', 'đăng hai tin mỗi tuần'],
    ['hỗ trợ 2 người/hộ', 'hỗ trợ hai người mỗi hộ'],
    ['năng suất 68,5 tạ/ha', 'năng suất sáu mươi tám phẩy năm tạ trên héc ta'],
    ['giá 5 triệu đồng/m2', 'giá năm triệu đồng một mét vuông'],
    ['sản xuất các phóng sự/chương trình', 'sản xuất các phóng sự hoặc chương trình'],
    ['giới tính Nam/nữ', 'giới tính nam hoặc nữ'],
    // A slash between words without a count before it is "or": "tin/bài" → tin hoặc bài.
    ['gửi tin/bài về đài', 'gửi tin hoặc bài về đài'],
  ]);
  const r = normalizeVietnamese('1 số/tháng, phóng sự/chương trình');
  t.same(r.rewritten.filter((s) => s.text === '/').map((s) => [s.rule, s.reading]), [['per', 'mỗi'], ['or', 'hoặc']]);
});

t.test('the slash readings that existed stay as they were', async (t) => {
  checkTable(t, [
    ['60 km/h', 'sáu mươi ki lô mét trên giờ'],
    ['25.000 đồng/kg', 'hai mươi lăm nghìn đồng một ki lô gam'],
    ['Quyết định số 749/QĐ-TTg', 'quyết định số bảy trăm bốn mươi chín quyết định thủ tướng chính phủ'],
    ['ngày 03/6/2020', 'ngày ba tháng sáu năm hai nghìn không trăm hai mươi'],
    ['năm học 2023/2024', 'năm học hai nghìn không trăm hai mươi ba đến hai nghìn không trăm hai mươi tư'],
    ['xem facebook.com/ubnd', 'xem phây búc chấm com gạch chéo ủy ban nhân dân'],
  ]);
});

t.test('a fraction of counted things is "trên", a share of a whole stays "phần"', async (t) => {
  checkTable(t, [
    ['đạt 17/19 tiêu chí', 'đạt mười bảy trên mười chín tiêu chí'],
    ['3/5 xã đã hoàn thành', 'ba trên năm xã đã hoàn thành'],
    ['3/5 diện tích', 'ba phần năm diện tích'],
    ['1/2 số hộ', 'một phần hai số hộ'],
    ['đạt 3/5', 'đạt ba phần năm'],
    ['đã có 2.150/2.300 hộ đăng ký', 'đã có hai nghìn một trăm năm mươi trên hai nghìn ba trăm hộ đăng ký'],
    ['trực 24/24 giờ, 7/7 ngày', 'trực hai mươi tư trên hai mươi tư giờ bảy trên bảy ngày'],
  ]);
});

t.test('"+" opening a list item is silent, between numbers it is "cộng"; other "+" stays reported', async (t) => {
  const r = normalizeVietnamese('Nội dung:\n+ Tổ chức họp dân;\n+ Ra quân vệ sinh.');
  t.equal(r.text, 'nội dung. tổ chức họp dân. ra quân vệ sinh.');
  t.same(r.rewritten.map((s) => [s.text, s.rule, s.reading]), [['+', 'bullet', ''], ['+', 'bullet', '']]);
  checkTable(t, [
    ['gồm: + Tổ 1; + Tổ 2', 'gồm tổ một tổ hai'],
    ['2 + 3 = 5', 'hai cộng ba bằng năm'],
    ['gọi +84 912 345 678', 'gọi cộng tám bốn chín một hai ba bốn năm sáu bảy tám'],
  ]);
  t.same(normalizeVietnamese('a+b').unread.map((s) => s.text), ['+']);
});

t.test('the end-of-article mark "./." is a sentence end and is reported as dropped', async (t) => {
  const r = normalizeVietnamese('Đề nghị các thôn thực hiện./.');
  t.equal(r.text, 'đề nghị các thôn thực hiện.');
  t.same(r.unread, []);
  t.same(r.rewritten.map((s) => [s.text, s.rule, s.reading, s.label]), [['./.', 'end-mark', '', 'dấu kết thúc bài, bỏ qua']]);
  t.equal(normalizeVietnamese('Kế hoạch số 12/KH-UBND./.').text, 'kế hoạch số mười hai kế hoạch ủy ban nhân dân.');
});

t.test('"3,4" after a word that numbers levels or articles is a list; elsewhere a decimal', async (t) => {
  checkTable(t, [
    ['dịch vụ công 3,4', 'dịch vụ công ba và bốn'],
    ['dịch vụ công trực tuyến mức độ 3,4', 'dịch vụ công trực tuyến mức độ ba và bốn'],
    ['dịch vụ công mức độ 3, 4', 'dịch vụ công mức độ ba và bốn'],
    ['khoản 1,2 Điều 5', 'khoản một và hai điều năm'],
    ['Điều 3,4,5', 'điều ba bốn và năm'],
    ['cấp độ 3,4', 'cấp độ ba và bốn'],
    ['Tỉnh có 1.200 dịch vụ công 3,4.', 'tỉnh có một nghìn hai trăm dịch vụ công ba và bốn'],
    // Decimals stay decimals: an amount follows, the numbers do not count up, or no listing word precedes.
    ['mức 3,5 triệu đồng', 'mức ba phẩy năm triệu đồng'],
    ['mức 3,5 kg', 'mức ba phẩy năm ki lô gam'],
    ['mức 3,1', 'mức ba phẩy một'],
    ['đạt 3,4', 'đạt ba phẩy bốn'],
    ['điểm trung bình 8,5', 'điểm trung bình tám phẩy năm'],
  ]);
  t.same(normalizeVietnamese('dịch vụ công 3,4').rewritten.map((s) => [s.text, s.rule]), [['3,4', 'list']]);
});

/**
 * Issue 19, "A larger abbreviation table" (vi-reading.md "Abbreviations and loanwords"): press, Party,
 * state and mass-organisation bodies, document types and units, in running text and in symbols.
 */
import t from 'tap';
import { DEFAULT_DICTIONARY, SYMBOL_DICTIONARY } from '../../../shared/src/vi/index.js';
import { checkTable } from './reading-table.js';

t.test('bodies and documents the web review heard spelled are read as words', async (t) => {
  checkTable(t, [
    ['Theo TTXVN, bão đã suy yếu', 'theo thông tấn xã việt nam, bão đã suy yếu'],
    ['Theo Đài VOV', 'theo đài vê ô vê'],
    ['UBKT Huyện ủy', 'ủy ban kiểm tra huyện ủy'],
    ['Ban Chấp hành TƯ', 'ban chấp hành trung ương'],
    ['Hội LHPN xã', 'hội liên hiệp phụ nữ xã'],
    ['CLB dân ca', 'câu lạc bộ dân ca'],
    ['vay vốn NHCSXH', 'vay vốn ngân hàng chính sách xã hội'],
    ['cấp GCN QSDĐ', 'cấp giấy chứng nhận quyền sử dụng đất'],
    ['nộp qua DVCTT', 'nộp qua dịch vụ công trực tuyến'],
    ['theo TTLT số 5', 'theo thông tư liên tịch số năm'],
    ['ĐVT: m2', 'đơn vị tính: mét vuông'],
    ['ĐVT: triệu đồng', 'đơn vị tính: triệu đồng'],
    ['Diện tích (m2)', 'diện tích, mét vuông'],
    ['Khối lượng (m3)', 'khối lượng, mét khối'],
    ['rộng 2 km2', 'rộng hai ki lô mét vuông'],
    ['Kế hoạch 12/KH-BTG', 'kế hoạch mười hai kế hoạch ban tuyên giáo'],
    ['Quy chế 3/QC-UB', 'quy chế ba quy chế ủy ban'],
    ['Nơi nhận:\n- UBND huyện;\n- Lưu VP.', 'nơi nhận ủy ban nhân dân huyện lưu văn phòng'],
    ['sóng FM 98 MHz', 'sóng ép em chín mươi tám mê ga héc'],
  ]);
});

t.test('codes read as words only in a symbol are still spelled outside one', async (t) => {
  checkTable(t, [['nộp CV', 'nộp xê vê'], ['biên bản 2/BB-UBND', 'biên bản hai biên bản ủy ban nhân dân']]);
  t.equal(DEFAULT_DICTIONARY['BB'], undefined);
  t.equal(SYMBOL_DICTIONARY['BB'], 'biên bản');
});

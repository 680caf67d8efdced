/**
 * The pure parts of the disaster-warning page (issue 18, web/src/views/warnings/*-logic.ts): risk chips in the
 * decision's colours and words, the list's order, Vietnam-time dates and the form's 24-hour fields, the form's
 * body and errors, what each state allows, the server's refusals in Vietnamese, and the source form's copies
 * of the contract's lists and default policy.
 */
import t from 'tap';
import { DEFAULT_WARNING_POLICY } from '@loaxa/shared/api';
import { CAP_CERTAINTIES, CAP_SEVERITIES, CAP_URGENCIES, DISASTER_KIND_IDS, RISK_LEVEL_INFO } from '@loaxa/shared/warnings';
import { ApiFailure } from '../../web/src/api/client.js';
import { canOpen, navFor, can } from '../../web/src/logic/roles.js';
import { matchPath, PATHS, warningPath } from '../../web/src/logic/routes.js';
import {
  actionsFor,
  defaultPriority,
  defaultValidUntil,
  emptyWarningForm,
  fmtVn,
  formToBody,
  kindName,
  parseVnDate,
  parseVnTime,
  pendingFirst,
  reachPct,
  reachText,
  riskColours,
  riskLabel,
  STATES,
  stateLabel,
  textOn,
  warningError,
  warningName,
  vnParts,
} from '../../web/src/views/warnings/warnings-logic.js';
import { CERTAINTIES, DEFAULT_POLICY, policySummary, SEVERITIES, sourceDraft, toggle, URGENCIES } from '../../web/src/views/warnings/sources-logic.js';
import { WARNING_STATES } from '@loaxa/shared/api';

const NOW = Date.parse('2026-12-07T10:00:00Z'); // 17:00 in Vietnam

t.test('risk levels: the decision’s words and colours, readable text on each', async (t) => {
  t.equal(riskLabel(3), 'Cấp 3 · rủi ro lớn');
  t.equal(riskLabel(5), 'Cấp 5 · thảm họa');
  t.equal(riskLabel(null), 'Chưa rõ cấp độ rủi ro');
  for (const l of [1, 2, 3, 4, 5] as const) t.equal(riskColours(l).background, RISK_LEVEL_INFO[l].hex);
  t.equal(riskColours(1).color, '#000000', 'black on light blue');
  t.equal(riskColours(2).color, '#000000', 'black on light yellow');
  t.equal(riskColours(3).color, '#000000', 'black on orange');
  t.equal(riskColours(5).color, '#ffffff', 'white on purple');
  t.equal(textOn('#000000'), '#ffffff');
  t.equal(textOn('#ffffff'), '#000000');
  t.equal(textOn('not a colour'), '#000000');
});

t.test('kinds in Vietnamese, capitalised; states in Vietnamese', async (t) => {
  t.equal(kindName('flash-flood'), 'Lũ quét');
  t.equal(kindName('tropical-depression'), 'Áp thấp nhiệt đới');
  t.equal(kindName(null), '—');
  t.equal(kindName('unknown-kind'), 'unknown-kind');
  for (const k of DISASTER_KIND_IDS) t.notMatch(kindName(k), /^[a-z]/, `${k} starts with a capital`);
  t.same([...STATES].sort(), [...WARNING_STATES].sort(), 'the filter lists every state of the contract');
  t.equal(stateLabel('pending'), 'Chờ duyệt');
  t.equal(stateLabel('airing'), 'Đang phát');
  t.equal(stateLabel('expired'), 'Hết hiệu lực');
  t.equal(stateLabel('cancelled'), 'Đã hủy');
  t.equal(stateLabel('rejected'), 'Đã từ chối');
  t.equal(stateLabel('held'), 'Chỉ lưu (không phát)');
  t.equal(stateLabel('unmatched'), 'Không trùng địa bàn');
  t.equal(warningName({ kind: 'flash-flood', riskLevel: 4, event: 'x', headline: null }), 'Lũ quét · Cấp 4 · rủi ro rất lớn');
  t.equal(warningName({ kind: null, riskLevel: null, event: 'Flood', headline: 'Lũ trên sông Hồng' }), 'Lũ trên sông Hồng');
});

t.test('reach in words and as a share', async (t) => {
  t.equal(reachText({ targeted: 7, aired: 3, playing: 2, failed: 0 }), '3/7 loa đã phát');
  t.equal(reachPct({ targeted: 4, aired: 1, playing: 0, failed: 0 }), 25);
  t.equal(reachPct({ targeted: 0, aired: 0, playing: 0, failed: 0 }), 0, 'no division by zero');
  t.equal(reachPct({ targeted: 2, aired: 3, playing: 0, failed: 0 }), 100, 'never above 100');
});

t.test('pending first, each group newest first, no duplicates', async (t) => {
  const w = (id: string, state: 'pending' | 'airing' | 'expired', updatedAt: string) => ({ id, state, updatedAt });
  const out = pendingFirst([w('a', 'airing', '2026-12-07T10:00:00Z'), w('b', 'pending', '2026-12-07T08:00:00Z'), w('c', 'expired', '2026-12-07T11:00:00Z'), w('d', 'pending', '2026-12-07T09:00:00Z'), w('b', 'pending', '2026-12-07T08:00:00Z')]);
  t.same(out.map((x) => x.id), ['d', 'b', 'c', 'a']);
});

t.test('dates and times in Vietnam time, day first, 24 hours', async (t) => {
  t.equal(fmtVn('2026-12-07T10:30:00Z'), '07/12/2026 17:30');
  t.equal(fmtVn('2026-12-31T17:05:00Z'), '01/01/2027 00:05', 'past midnight in Vietnam is the next day');
  t.equal(fmtVn(null), '—');
  t.equal(fmtVn('nonsense'), '—');
  t.same(vnParts(NOW), { date: '07/12/2026', time: '17:00' });
  t.equal(parseVnDate('07/12/2026'), '2026-12-07');
  t.equal(parseVnDate('7/1/2027'), '2027-01-07', 'day first, not month first');
  t.equal(parseVnDate('7-1-2027'), '2027-01-07');
  t.equal(parseVnDate('31/02/2026'), null, 'not a calendar date');
  t.equal(parseVnDate('2026-12-07'), null);
  t.equal(parseVnDate('12/31/2026'), null, 'a US date is refused');
  t.equal(parseVnTime('17:30'), '17:30');
  t.equal(parseVnTime('7:05'), '07:05');
  t.equal(parseVnTime('17h30'), '17:30');
  t.equal(parseVnTime('24:00'), null);
  t.equal(parseVnTime('5:30 PM'), null, 'no AM/PM');
  t.same(defaultValidUntil(NOW, 6), { date: '07/12/2026', time: '23:00' });
  t.same(defaultValidUntil(NOW + 60_000, 6), { date: '07/12/2026', time: '23:30' }, 'rounded up to the next half hour');
});

t.test('priority by level: 3 and above interrupt everything', async (t) => {
  t.equal(defaultPriority(1), 'priority');
  t.equal(defaultPriority(2), 'priority');
  t.equal(defaultPriority(3), 'emergency');
  t.equal(defaultPriority(5), 'emergency');
  t.equal(defaultPriority(null), 'priority');
});

t.test('the form becomes the contract’s body, or says what is missing', async (t) => {
  const empty = emptyWarningForm(NOW);
  t.equal(empty.priority, 'emergency', 'the default level 3 airs as an emergency');
  t.equal(empty.attention, true, 'the attention signal is on');
  const bad = formToBody(empty, NOW);
  t.same(bad.ok ? [] : bad.errors, ['agency', 'agencyText', 'areas']);
  const form = { ...empty, kind: 'flash-flood' as const, riskLevel: 4 as const, agency: ' Đài KTTV tỉnh ', agencyText: ' Mưa lớn gây lũ quét. ', areaCodes: ['99003', '99004'], validDate: '8/12/2026', validTime: '6:00', repeatMinutes: '0' };
  const ok = formToBody(form, NOW);
  t.ok(ok.ok);
  if (ok.ok)
    t.same(ok.body, {
      kind: 'flash-flood',
      riskLevel: 4,
      agency: 'Đài KTTV tỉnh',
      agencyText: 'Mưa lớn gây lũ quét.',
      areaCodes: ['99003', '99004'],
      validUntil: '2026-12-08T06:00:00+07:00',
      priority: 'emergency',
      repeatMinutes: 0,
      attention: true,
    });
  const past = formToBody({ ...form, validDate: '07/12/2026', validTime: '16:59' }, NOW);
  t.same(past.ok ? [] : past.errors, ['past'], 'a time already gone');
  const wrong = formToBody({ ...form, validDate: '12/31/2026', validTime: '5 PM', repeatMinutes: '2000' }, NOW);
  t.same(wrong.ok ? [] : wrong.errors, ['date', 'time', 'repeat']);
});

t.test('what each state allows, and only to those who may act', async (t) => {
  t.same(actionsFor('pending', true), { approve: true, reject: true, cancel: true });
  t.same(actionsFor('airing', true), { approve: false, reject: false, cancel: true });
  t.same(actionsFor('cancelled', true), { approve: false, reject: false, cancel: false });
  t.same(actionsFor('expired', true), { approve: false, reject: false, cancel: false });
  t.same(actionsFor('pending', false), { approve: false, reject: false, cancel: false });
});

t.test('the server’s refusals in Vietnamese', async (t) => {
  t.match(warningError(new ApiFailure(401, 'UNAUTHORIZED', 'an emergency broadcast needs a login from the last 15 minutes: log in again')), /đăng nhập lại/);
  t.match(warningError(new ApiFailure(409, 'CONFLICT', 'reading spans not checked')), /Đã kiểm tra cách đọc/);
  t.match(warningError(new ApiFailure(400, 'VALIDATION', 'bad', [{ path: 'validUntil', message: 'must be in the future' }])), /Hiệu lực đến: must be in the future/);
  t.match(warningError(new ApiFailure(403, 'FORBIDDEN', 'outside your area')), /không được thực hiện/);
  t.match(warningError(new ApiFailure(404, 'NOT_FOUND', 'no route POST /api/v1/warnings')), /chưa có chức năng cảnh báo/);
  t.match(warningError(new ApiFailure(404, 'NOT_FOUND', 'warning not found')), /Không tìm thấy cảnh báo/);
  t.match(warningError(new ApiFailure(409, 'CONFLICT', 'cảnh báo đã hết hiệu lực')), /^cảnh báo đã hết hiệu lực$/, 'a Vietnamese refusal as it is');
  t.match(warningError(new ApiFailure(0, 'NETWORK', 'x')), /Không kết nối được/);
});

t.test('the source form: its copies match the contract; drafts; the policy in words', async (t) => {
  t.same(SEVERITIES, [...CAP_SEVERITIES]);
  t.same(URGENCIES, [...CAP_URGENCIES]);
  t.same(CERTAINTIES, [...CAP_CERTAINTIES]);
  t.same(DEFAULT_POLICY, DEFAULT_WARNING_POLICY);
  const fresh = sourceDraft(null);
  t.equal(fresh.kind, 'push');
  fresh.policy.atOnce.severities.push('Minor');
  t.same(DEFAULT_POLICY.atOnce.severities, ['Extreme', 'Severe'], 'a draft never changes the defaults');
  t.same(toggle(['a'], 'b', true), ['a', 'b']);
  t.same(toggle(['a', 'b'], 'b', true), ['a', 'b']);
  t.same(toggle(['a', 'b'], 'a', false), ['b']);
  t.equal(policySummary(DEFAULT_POLICY), 'Phát ngay: Cực kỳ nghiêm trọng/Nghiêm trọng + Ngay lập tức/Sắp xảy ra + Đã xảy ra/Nhiều khả năng, hoặc từ cấp 4. Tin khác: Chờ người duyệt.');
});

t.test('the page: its path, its menu entry, who writes and who manages sources', async (t) => {
  t.equal(PATHS.warnings, '/canh-bao');
  t.same(matchPath('/canh-bao'), { route: 'warnings', params: {} });
  t.equal(warningPath('w-1'), '/canh-bao?ma=w-1');
  for (const role of ['province-admin', 'approver', 'operator', 'viewer'] as const) {
    t.ok(canOpen(role, 'warnings'), `${role} reads the list`);
    t.ok(navFor(role).includes('warnings'), `${role} has it in the menu`);
  }
  t.same((['province-admin', 'approver', 'operator', 'viewer'] as const).filter((r) => can(r, 'issue-warning')), ['province-admin', 'approver']);
  t.same((['province-admin', 'approver', 'operator', 'viewer'] as const).filter((r) => can(r, 'manage-warning-sources')), ['province-admin']);
});

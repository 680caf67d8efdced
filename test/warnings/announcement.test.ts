/**
 * Decision 18/2021/QĐ-TTg data (shared/src/warnings/decision18.ts) and the standard announcement
 * (server/src/warnings/announcement.ts), read through the Vietnamese normalizer as the speakers will say it.
 */
import t from 'tap';
import {
  CAP_SEVERITIES, DISASTER_KIND_IDS, DISASTER_KINDS, RISK_LEVEL_CAP, RISK_LEVEL_INFO, RISK_LEVELS,
  disasterKindOf, normalizeVietnamese, parseRiskLevel, raiseRiskLevel,
} from '@loaxa/shared';
import {
  announcementTime, buildAnnouncement, DEFAULT_ANNOUNCEMENT_TEMPLATES, joinVietnamese, readableAgencyText, renderTemplate, WARNING_DICTIONARY,
  type AnnouncementTemplates, type WarningAnnouncementInput,
} from '../../server/src/warnings/announcement.js';

const read = (text: string) => normalizeVietnamese(text, { dictionary: { ...WARNING_DICTIONARY } });
const Y2026 = 'hai nghìn không trăm hai mươi sáu';

const flashFlood: WarningAnnouncementInput = {
  kind: 'flash-flood',
  riskLevel: 3,
  agency: 'Đài Khí tượng Thủy văn tỉnh Mẫu',
  agencyText: 'Hồi 13h00 ngày 07/12/2026, ATNĐ đã mạnh lên thành bão.\n- Lượng mưa 100-200 mm/24h\n- Nguy cơ lũ quét cao tại các xã vùng núi:',
  areas: ['xã Tân Lập', 'xã Hưng Đạo', 'phường Hòa Bình'],
  validUntil: Date.UTC(2026, 11, 8, 0, 0), // 07:00 on 8 December in Vietnam
};

t.test('Decision 18: the five levels and their colours (Article 4 clause 3)', async (t) => {
  t.same(RISK_LEVELS.map((l) => RISK_LEVEL_INFO[l].colourVi), ['xanh dương nhạt', 'vàng nhạt', 'da cam', 'đỏ', 'tím']);
  t.same(RISK_LEVELS.map((l) => RISK_LEVEL_INFO[l].meaningVi), ['rủi ro thấp', 'rủi ro trung bình', 'rủi ro lớn', 'rủi ro rất lớn', 'thảm họa']);
  t.same([raiseRiskLevel(2, 1), raiseRiskLevel(3, 2), raiseRiskLevel(4, 2), raiseRiskLevel(5, 1)], [3, 5, 5, 5], 'clause 4: raised by one or two, never above 5');
  const rank = (s: string) => CAP_SEVERITIES.length - CAP_SEVERITIES.indexOf(s as never);
  for (const l of [1, 2, 3, 4] as const) t.ok(rank(RISK_LEVEL_CAP[(l + 1) as 2].severity) >= rank(RISK_LEVEL_CAP[l].severity), `level ${l + 1} is at least as severe as level ${l} in CAP`);
  t.equal(RISK_LEVEL_CAP[4].urgency, 'Immediate');
});

t.test('Decision 18: kinds, names and how they are recognised', async (t) => {
  t.equal(DISASTER_KIND_IDS.length, Object.keys(DISASTER_KINDS).length);
  for (const id of DISASTER_KIND_IDS) {
    const k = DISASTER_KINDS[id];
    t.equal(k.id, id);
    t.equal(disasterKindOf(k.vi), id, `${k.vi} by its Vietnamese name`);
    t.equal(disasterKindOf(k.en), id, `${k.en} by its English name`);
    t.equal(disasterKindOf(id), id);
  }
  t.equal(disasterKindOf('LU QUET'), 'flash-flood', 'without diacritics, any case');
  t.equal(disasterKindOf('ATNĐ'), 'tropical-depression');
  t.equal(disasterKindOf('mưa rào'), null);
  t.same(['3', 'cấp 3', 'Cấp độ 4', ' 5 '].map(parseRiskLevel), [3, 3, 4, 5]);
  t.same(['0', '6', 'ba', 'cấp 3a'].map(parseRiskLevel), [null, null, null, null]);
});

t.test('the announcement of a flash-flood warning, as written and as read', async (t) => {
  const text = buildAnnouncement(flashFlood);
  t.equal(
    text,
    'Thông báo khẩn. Tin cảnh báo lũ quét. Đài Khí tượng Thủy văn tỉnh Mẫu cho biết: Hồi 13h00 ngày 07/12/2026, ATNĐ đã mạnh lên thành bão. ' +
      'Lượng mưa 100-200 mm trong 24 giờ. Nguy cơ lũ quét cao tại các xã vùng núi. Cấp độ rủi ro thiên tai do lũ quét: cấp 3, màu da cam, rủi ro lớn. ' +
      'Khu vực chịu ảnh hưởng: xã Tân Lập, xã Hưng Đạo và phường Hòa Bình. Người dân ở ven sông suối, vùng trũng thấp, sườn đồi núi dốc khẩn trương di chuyển đến nơi an toàn. ' +
      'Không đi qua ngầm tràn, sông suối. Bà con theo dõi các bản tin tiếp theo trên hệ thống truyền thanh của xã. Cảnh báo này có hiệu lực đến 7 giờ ngày 08/12/2026.',
  );
  const r = read(text);
  t.same(r.unread, [], 'nothing left unread');
  t.match(r.text, `hồi mười ba giờ ngày bảy tháng mười hai năm ${Y2026}, áp thấp nhiệt đới đã mạnh lên thành bão.`);
  t.match(r.text, 'lượng mưa một trăm đến hai trăm mi li mét trong hai mươi tư giờ.');
  t.match(r.text, 'cấp độ rủi ro thiên tai do lũ quét: cấp ba, màu da cam, rủi ro lớn.');
  t.match(r.text, `có hiệu lực đến bảy giờ ngày tám tháng mười hai năm ${Y2026}.`);
});

t.test('every kind at every level reads with nothing unread', async (t) => {
  for (const kind of DISASTER_KIND_IDS) {
    for (const riskLevel of [null, ...RISK_LEVELS]) {
      const text = buildAnnouncement({ ...flashFlood, kind, riskLevel, agency: 'Trung tâm Dự báo KTTV quốc gia', agencyText: 'Sức gió mạnh nhất cấp 8 (62-74 km/h), giật cấp 10.' });
      const r = read(text);
      if (r.unread.length > 0) {
        t.fail(`${kind} level ${riskLevel}: ${JSON.stringify(r.unread)}`);
        return;
      }
      if (riskLevel !== null && !text.includes(`do ${DISASTER_KINDS[kind].vi}: cấp ${riskLevel}, màu ${RISK_LEVEL_INFO[riskLevel].colourVi}`)) t.fail(`${kind}: level sentence`);
      if ((riskLevel !== null && riskLevel >= 3) !== text.startsWith('Thông báo khẩn.')) t.fail(`${kind} ${riskLevel}: title`);
    }
  }
  t.pass(`${DISASTER_KIND_IDS.length} kinds × 6 levels`);
});

t.test('pieces: times in Vietnam, lists, agency text, optional parts', async (t) => {
  t.equal(announcementTime(Date.UTC(2026, 11, 7, 10, 30)), '17 giờ 30 phút ngày 07/12/2026');
  t.equal(announcementTime(Date.UTC(2026, 11, 7, 17, 0)), '0 giờ ngày 08/12/2026', 'past midnight in Vietnam is the next day');
  t.equal(read(`đến ${announcementTime(Date.UTC(2026, 11, 7, 17, 5))}`).text, `đến không giờ năm phút ngày tám tháng mười hai năm ${Y2026}`);
  t.same([joinVietnamese([]), joinVietnamese(['a']), joinVietnamese(['a', 'b']), joinVietnamese(['a', 'b', 'c'])], ['', 'a', 'a và b', 'a, b và c']);
  t.equal(readableAgencyText('  Dòng một\n\n+ Dòng hai!\r\n* Dòng ba:  '), 'Dòng một. Dòng hai! Dòng ba.');
  const bare = buildAnnouncement({ ...flashFlood, riskLevel: null, areas: [], validUntil: null });
  t.notMatch(bare, /Cấp độ|Khu vực|hiệu lực/, 'no level, areas or end: those sentences are left out');
  t.notMatch(bare, / {2}| \./, 'and leave no gaps');
  t.ok(bare.startsWith('Thông báo. Tin cảnh báo lũ quét.'));
});

t.test('templates are data a province can edit; a wrong placeholder is refused', async (t) => {
  const templates: AnnouncementTemplates = structuredClone<AnnouncementTemplates>(DEFAULT_ANNOUNCEMENT_TEMPLATES);
  templates.frame = '{title}. {headline}. {areas} {agencyText} {advice} {until} Xin nhắc lại: {headline}.';
  templates.kinds['flash-flood'] = { headline: 'Tin khẩn về lũ quét', advice: 'Bà con ở ven suối Nậm Mu di chuyển ngay' };
  const text = buildAnnouncement(flashFlood, templates);
  t.ok(text.startsWith('Thông báo khẩn. Tin khẩn về lũ quét. Khu vực chịu ảnh hưởng:'));
  t.match(text, 'Bà con ở ven suối Nậm Mu di chuyển ngay. Cảnh báo này');
  t.ok(text.endsWith('Xin nhắc lại: Tin khẩn về lũ quét.'));
  t.throws(() => renderTemplate('{title} {tittle}', { title: 'a', headline: '', agency: '', agencyText: '', level: '', areas: '', advice: '', until: '' }), /unknown placeholder \{tittle\}/);
  for (const kind of DISASTER_KIND_IDS) t.ok(DEFAULT_ANNOUNCEMENT_TEMPLATES.kinds[kind].advice.length > 0, `${kind} has advice`);
  t.throws(() => buildAnnouncement({ ...flashFlood, kind: 'constructor' as never }), /no announcement template/, 'a kind from JSON is looked up as data only');
  t.throws(() => buildAnnouncement({ ...flashFlood, riskLevel: 6 as never }), /no risk level 6/);
});

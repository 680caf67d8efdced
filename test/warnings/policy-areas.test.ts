/**
 * A source's policy (issue 18): at once as an emergency, waiting for a person, or only recorded; the risk
 * level rule; a message without Vietnamese waits whatever its severity. And its areas: what lies outside
 * the source's areas is left out (unmatched), geometry reaches boxes by their coordinates, and the
 * source's preview shows all of it without storing anything.
 */
import t from 'tap';
import { alert, refOf, warningServer, xmlOf } from './server-helpers.js';

t.test('the policy decides: at once, wait, ignore; risk level; no Vietnamese waits', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ policy: { others: 'wait', atOnce: { severities: ['Extreme'], urgencies: ['Immediate'], certainties: ['Observed', 'Likely'], minRiskLevel: 4 } } });
  const ignoring = await s.addSource({ name: 'Nguồn chỉ ghi nhận', policy: { others: 'ignore', atOnce: { minRiskLevel: null } } });

  const cases: Array<{ name: string; token: string; info: Record<string, unknown>; state: string; reason: RegExp }> = [
    { name: 'Extreme/Immediate/Likely airs at once', token: src.token, info: {}, state: 'airing', reason: /phát ngay/ },
    { name: 'Moderate waits for a person', token: src.token, info: { severity: 'Moderate', parameter: [] }, state: 'pending', reason: /chờ duyệt: mức độ Moderate/ },
    { name: 'Moderate but risk level 4 airs at once', token: src.token, info: { severity: 'Moderate', parameter: [{ valueName: 'VN-QD18-2021-CapDoRuiRo', value: 'cấp 4' }] }, state: 'airing', reason: /cấp độ rủi ro 4/ },
    { name: 'English only waits even when severe', token: src.token, info: { language: 'en-US' }, state: 'pending', reason: /tiếng Việt/ },
    { name: 'others: ignore records only', token: ignoring.token, info: { severity: 'Minor', parameter: [] }, state: 'held', reason: /chỉ ghi nhận/ },
  ];
  for (const c of cases) {
    const before = s.count('broadcasts');
    const r = await s.push(xmlOf(alert({}, c.info)), c.token);
    t.equal(r.status, 200, c.name);
    const w = (await s.api('GET', `/api/v1/warnings/${r.body.warningId}`, undefined, s.token)).body;
    t.equal(w.state, c.state, c.name);
    t.match(w.reason, c.reason, `${c.name}: ${w.reason}`);
    t.equal(s.count('broadcasts') - before, c.state === 'airing' ? 1 : 0, `${c.name}: broadcasts`);
  }
  // With Vietnamese and English infos, the Vietnamese one is announced.
  const two = alert();
  two.info = [{ ...(alert().info![0] as object), language: 'en-US', headline: 'Flash flood warning', description: 'Heavy rain.' } as never, two.info![0]!];
  const r = await s.push(xmlOf(two), src.token);
  const w = (await s.api('GET', `/api/v1/warnings/${r.body.warningId}`, undefined, s.token)).body;
  t.equal(w.state, 'airing');
  t.match(w.announcement, /Mưa lớn/);
  t.notMatch(w.announcement, /Heavy rain/);
});

t.test('areas: outside the source is unmatched; geometry reaches boxes; the preview stores nothing', async (t) => {
  const s = await warningServer(t);
  // The source may warn Tân Lập and Hưng Đạo only.
  const src = await s.addSource({ areaCodes: ['99003', '99004'] });

  // Quang Trung (99005) and commune 98001 lie outside: left out and listed.
  const r = await s.push(
    xmlOf(alert({}, { area: [{ areaDesc: 'xã Tân Lập, xã Quang Trung', geocode: [{ valueName: 'MaDVHC', value: '99003' }, { valueName: 'MaDVHC', value: '99005' }, { valueName: 'MaDVHC', value: '98001' }, { valueName: 'MaDVHC', value: '12345' }] }] })),
    src.token,
  );
  const w = (await s.api('GET', `/api/v1/warnings/${r.body.warningId}`, undefined, s.token)).body;
  t.equal(w.state, 'airing');
  t.same(w.communes.map((c: { code: string }) => c.code), ['99003']);
  t.match(w.unmatched, [{ what: 'geocode', value: 'MaDVHC=12345' }]);
  t.ok(w.unmatched.some((u: { what: string; value: string }) => u.what === 'outside' && u.value.startsWith('99005')), 'Quang Trung is outside the source');
  t.ok(w.unmatched.some((u: { what: string; value: string }) => u.what === 'outside' && u.value.startsWith('98001')), '98001 is outside the source');
  t.same(s.server.ctx.broadcasts.get(w.versions[0].broadcastId)!.target, { areaCodes: ['99003'] });

  // Nothing inside the source's areas: unmatched, nothing airs.
  const before = s.count('broadcasts');
  const none = await s.push(xmlOf(alert({}, { area: [{ areaDesc: 'xã Quang Trung', geocode: [{ valueName: 'MaDVHC', value: '99005' }] }] })), src.token);
  t.equal(none.body.state, 'unmatched');
  t.equal(s.count('broadcasts'), before);

  // A circle around one box of Tân Lập (and one of province 98, outside): that box alone, as a device target.
  const circle = await s.push(xmlOf(alert({}, { area: [{ areaDesc: 'Lưu vực suối Nậm Mu', circle: [{ center: [21.55, 103.95], radiusKm: 3 }] }] })), src.token);
  const wc = (await s.api('GET', `/api/v1/warnings/${circle.body.warningId}`, undefined, s.token)).body;
  t.equal(wc.state, 'airing');
  t.same(wc.communes.map((c: { code: string }) => c.code), ['99003']);
  t.equal(wc.boxes, 1);
  t.same(s.server.ctx.broadcasts.get(wc.versions[0].broadcastId)!.target, { deviceIds: ['box-tl-1'] });

  // The source's preview: the same answer, nothing stored.
  const versions = s.count('warning_versions');
  const res = await fetch(`${s.base}/api/v1/warning-sources/${src.id}/preview`, {
    method: 'POST',
    headers: { 'content-type': 'application/cap+xml', authorization: `Bearer ${s.token}` },
    body: xmlOf(alert({}, { severity: 'Minor', parameter: [], area: [{ areaDesc: 'xã Hưng Đạo, Tỉnh Mẫu', polygon: [[[21, 103], [22, 103], [22, 104], [21, 104], [21, 103]]] }] })),
  });
  const p = (await res.json()) as any;
  t.equal(res.status, 200, JSON.stringify(p));
  t.equal(p.decision, 'wait');
  t.match(p.reason, /chờ duyệt/);
  t.same(p.communes.map((c: { code: string }) => c.code), ['99003', '99004'], 'the polygon reaches boxes of both communes (98001 is outside the source)');
  t.equal(p.boxesWithoutCoordinates, 0, 'the box without coordinates lies outside the source');
  t.equal(s.count('warning_versions'), versions, 'the preview stores nothing');
});

t.test('people: approve, reject, cancel and who may', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ policy: { atOnce: { minRiskLevel: null, severities: [] } } });
  const pending = async (area = '99003') => {
    const r = await s.push(xmlOf(alert({}, { area: [{ areaDesc: 'x', geocode: [{ valueName: 'MaDVHC', value: area }] }] })), src.token);
    t.equal(r.body.state, 'pending');
    return r.body.warningId as string;
  };
  const operator = await s.login('operator', '99003');
  const viewer = await s.login('viewer', '99003');
  const approverHere = await s.login('approver', '99003');
  const approverThere = await s.login('approver', '99004');
  const approverOther = await s.login('approver', '98');

  const id = await pending();
  // Reading: the commune's viewer sees it; another commune's approver does not (404).
  t.equal((await s.api('GET', `/api/v1/warnings/${id}`, undefined, viewer.token)).status, 200);
  t.equal((await s.api('GET', `/api/v1/warnings/${id}`, undefined, approverThere.token)).status, 404);
  t.equal((await s.api('GET', '/api/v1/warnings', undefined, approverOther.token)).body.total, 0, 'a list is scoped to the caller');
  t.ok((await s.api('GET', '/api/v1/warnings?state=pending', undefined, viewer.token)).body.items.some((w: { id: string }) => w.id === id));

  const approve = (token: string, body: object = { priority: 'emergency', checked: true }) => s.api('POST', `/api/v1/warnings/${id}/approve`, body, token);
  t.equal((await approve(operator.token)).status, 403, 'an operator cannot approve');
  t.equal((await approve(viewer.token)).status, 403, 'nor a viewer');
  t.equal((await approve(approverThere.token)).status, 404, "another commune's approver: not found");
  t.equal((await approve(approverOther.token)).status, 404, "another province's approver: not found");
  t.equal(s.count('broadcasts'), 0);
  const ok = await approve(approverHere.token);
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  t.match(ok.body, { state: 'airing', priority: 'emergency', decidedBy: approverHere.id });
  t.equal(s.count('broadcasts'), 1);
  t.equal((await approve(approverHere.token)).status, 409, 'approved once');

  // A warning reaching two communes: an approver of one of them cannot act on it (403).
  const wide = await s.push(xmlOf(alert({}, { area: [{ areaDesc: 'x', geocode: [{ valueName: 'MaDVHC', value: '99003' }, { valueName: 'MaDVHC', value: '99004' }] }] })), src.token);
  t.equal((await s.api('POST', `/api/v1/warnings/${wide.body.warningId}/reject`, { reason: 'không đúng' }, approverHere.token)).status, 403);
  const rej = await s.api('POST', `/api/v1/warnings/${wide.body.warningId}/reject`, { reason: 'không đúng' }, s.token);
  t.match(rej.body, { state: 'rejected', reason: /không đúng/ });

  // A person's cancel stops it and publishes a CAP Cancel.
  t.equal((await s.api('POST', `/api/v1/warnings/${id}/cancel`, { reason: 'hết nguy cơ' }, operator.token)).status, 403);
  const c = await s.api('POST', `/api/v1/warnings/${id}/cancel`, { reason: 'hết nguy cơ' }, approverHere.token);
  t.equal(c.status, 200, JSON.stringify(c.body));
  t.match(c.body, { state: 'cancelled', version: 2 });
  t.equal(c.body.versions.at(-1).msgType, 'Cancel');
  t.equal(s.server.ctx.broadcasts.get(c.body.versions[0].broadcastId)!.status, 'cancelled');
  t.equal((await s.api('POST', `/api/v1/warnings/${id}/cancel`, { reason: 'lần nữa' }, approverHere.token)).status, 409);
});

t.test('Updates of a waiting warning wait; once a person put it on air, its Updates air', async (t) => {
  const s = await warningServer(t);
  const src = await s.addSource({ policy: { atOnce: { minRiskLevel: null, severities: ['Extreme'] } } });
  const v1 = alert({}, { severity: 'Moderate' });
  const r1 = await s.push(xmlOf(v1), src.token);
  t.equal(r1.body.state, 'pending');
  const v2 = alert({ msgType: 'Update', references: [refOf(v1)] }, { severity: 'Moderate', description: 'Mưa tiếp tục.' });
  const r2 = await s.push(xmlOf(v2), src.token);
  t.match(r2.body, { warningId: r1.body.warningId, state: 'pending' });
  t.equal(s.count('broadcasts'), 0);
  const ok = await s.api('POST', `/api/v1/warnings/${r1.body.warningId}/approve`, { priority: 'priority', checked: true }, s.token);
  t.match(ok.body, { state: 'airing', priority: 'priority', version: 2 });
  const first = s.server.warnings.warnings.get(r1.body.warningId)!.broadcastId!;
  t.match(s.server.ctx.broadcasts.get(first), { priority: 'priority', status: 'approved' });
  const v3 = alert({ msgType: 'Update', references: [refOf(v2)] }, { severity: 'Moderate', description: 'Nước lên nhanh.' });
  const r3 = await s.push(xmlOf(v3), src.token);
  t.match(r3.body, { state: 'airing' });
  const w = s.server.warnings.warnings.get(r1.body.warningId)!;
  t.equal(w.version, 3);
  t.equal(w.priority, 'priority', 'at the priority the person chose');
  t.not(w.broadcastId, first);
  t.equal(s.server.ctx.broadcasts.get(first)!.status, 'cancelled');
  t.match(w.announcement, /Nước lên nhanh/);
});

/**
 * Issue 15 review (hostile): a programme's edit is checked against the editor only — its items must be visible
 * to the editor and the editor must hold the programme's area — never against the airings it already has.
 * Every pending airing plays the current version, so an edit reaches boxes the editor could never target:
 * - a commune approver (who needs no approval, so the edit rule does not apply) rewrites a programme the
 *   province broadcast to the whole province: the commune's words air in every other commune;
 * - relay segments added by an edit escape the rule that a commune's source airs only inside that commune
 *   (issue 15 review (4), enforced only when the broadcast is made: relay-rules.ts checkProgrammeSources).
 */
import t from 'tap';
import { securityServer } from './helpers.js';

t.test('a commune user’s edit reaches the province-wide airing of its programme', async (t) => {
  const { api, login } = await securityServer(t, { sourceCheckSeconds: 0 });
  const commune = await login('approver', '99003');
  const province = await login('province-admin', '99');
  const mine = (await api('POST', '/api/v1/bulletins', { title: 'Tin xã Tân Lập', text: 'Thông báo của xã Tân Lập.' }, commune.token)).body;
  t.equal(mine.status, 'ready');
  const p = await api('POST', '/api/v1/programmes', { title: 'Chương trình xã', items: [{ kind: 'chime', bell: 'intro' }] }, commune.token);
  t.equal(p.status, 201, JSON.stringify(p.body));
  // The province airs the commune's (harmless) programme on every box of the province, every evening.
  const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: p.body.id, target: { areaCodes: ['99'] }, schedule: { kind: 'daily', times: ['19:00'] } }, province.token);
  t.equal(bc.status, 201, JSON.stringify(bc.body));
  t.equal(bc.body.status, 'approved');
  // The commune approver could not target the province itself...
  const direct = await api('POST', '/api/v1/broadcasts', { bulletinId: mine.id, target: { areaCodes: ['99'] } }, commune.token);
  t.not(direct.status, 201, 'a commune user cannot broadcast to the whole province');
  // ...but by editing the programme it changes what the whole province airs.
  const edit = await api('PUT', `/api/v1/programmes/${p.body.id}`, { title: 'Chương trình xã', items: [{ kind: 'bulletin', bulletinId: mine.id }] }, commune.token);
  t.not(edit.status, 200, `an edit that changes airings outside the editor's area is refused (got ${edit.status}, version ${edit.body.version})`);
});

t.test('a relay segment added by an edit airs outside its source’s area', async (t) => {
  const { api, token } = await securityServer(t, { sourceCheckSeconds: 0 });
  const source = await api('POST', '/api/v1/sources', { name: 'FM Hưng Đạo', urls: ['http://radio.example/hd.mp3'], areaCode: '99004' }, token);
  t.equal(source.status, 201, JSON.stringify(source.body));
  const p = (await api('POST', '/api/v1/programmes', { title: 'Chương trình Tân Lập', items: [{ kind: 'chime', bell: 'intro' }] }, token)).body;
  const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['19:00'] } }, token);
  t.equal(bc.status, 201, JSON.stringify(bc.body));
  // Made directly, the same programme is refused for 99003 (the existing rule).
  const withRelay = { title: 'Chương trình Tân Lập', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'relay', sourceId: source.body.id, durationMs: 600_000 }] };
  const direct = (await api('POST', '/api/v1/programmes', withRelay, token)).body;
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: direct.id, target: { areaCodes: ['99003'] } }, token)).status, 400, 'a 99004 source does not air in 99003');
  // Through an edit of an already-broadcast programme it does.
  const edit = await api('PUT', `/api/v1/programmes/${p.id}`, withRelay, token);
  t.equal(edit.status, 400, `the edit is checked against the targets of its pending airings (got ${edit.status}: ${JSON.stringify(edit.body).slice(0, 200)})`);
});

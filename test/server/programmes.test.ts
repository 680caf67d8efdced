/**
 * Programmes (issue 15), through the HTTP API of a real server: create, read, list, versions; every invalid
 * item refused with a 400 naming it and nothing stored; another commune's bulletins and sources refused; the
 * edit rule that keeps approval meaningful, and a new version reaching a connected box with its agenda.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { userToken } from '../helpers/programmes.js';

t.test('create, read, list and version a programme; invalid items change nothing', async (t) => {
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const op = await userToken(api, token, 'vh-tanlap', 'operator', '99003');
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Tin sáng', text: 'Sáng nay xã tổ chức tiêm phòng cho đàn gia súc.' }, op)).body;
  const notice = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Mời bà con dự họp thôn tối nay.' }, op)).body;
  t.equal(news.status, 'ready');
  const vov = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/vov1.mp3'], areaCode: null }, token)).body;

  const draft = {
    title: 'Chương trình sáng thứ Hai',
    category: 'general',
    items: [
      { kind: 'chime', bell: 'intro' },
      { kind: 'bulletin', bulletinId: news.id },
      { kind: 'pause', durationMs: 2000 },
      { kind: 'relay', sourceId: vov.id, durationMs: 600_000 },
      { kind: 'bulletin', bulletinId: notice.id },
      { kind: 'chime', bell: 'outro' },
    ],
  };
  const made = await api('POST', '/api/v1/programmes', draft, op);
  t.equal(made.status, 201, JSON.stringify(made.body));
  const p = made.body;
  t.equal(p.version, 1, 'the first save is version 1');
  t.same(p.items.map((i: { kind: string }) => i.kind), ['chime', 'bulletin', 'pause', 'relay', 'bulletin', 'chime']);
  t.equal(p.items[1].title, 'Tin sáng');
  t.equal(p.items[3].title, 'VOV1');
  t.ok(p.items[0].durationMs > 1000, 'the bell is a real file with a length');
  t.equal(p.durationMs, p.items.reduce((n: number, i: { durationMs: number }) => n + i.durationMs, 0), 'the programme lasts the sum of its items');
  t.equal(p.openEnded, false);

  const read = await api('GET', `/api/v1/programmes/${p.id}`, undefined, op);
  t.same(read.body, p, 'read back as saved');
  const asBulletin = await api('GET', `/api/v1/bulletins/${p.id}`, undefined, op);
  t.same(asBulletin.body.programme, { version: 1, itemCount: 6, durationMs: p.durationMs, openEnded: false }, 'a programme is a bulletin, with its summary');
  t.equal((await api('GET', `/api/v1/programmes/${news.id}`, undefined, op)).status, 404, 'a plain bulletin is no programme');

  // Each invalid item: a 400 naming it, and nothing stored.
  const bad: Array<[unknown[], string]> = [
    [[{ kind: 'bulletin', bulletinId: 'bt-nope' }], 'items.0.bulletinId'],
    [[{ kind: 'pause', durationMs: 1000 }, { kind: 'bulletin', bulletinId: p.id }], 'items.1.bulletinId'],
    [[{ kind: 'relay', sourceId: 'src-nope', durationMs: 600_000 }], 'items.0.sourceId'],
    [[{ kind: 'relay', sourceId: vov.id, durationMs: 600_000, until: '18:30' }], 'items.0.durationMs'],
    [[{ kind: 'pause', durationMs: 100 }], 'items.0.durationMs'],
    [[{ kind: 'chime' }], 'items.0.bulletinId'],
    [[{ kind: 'music', musicBulletinId: news.id, speechBulletinId: 'bt-nope' }], 'items.0.speechBulletinId'],
    [[], 'items'],
  ];
  for (const [items, path] of bad) {
    const res = await api('POST', '/api/v1/programmes', { title: 'Hỏng', items }, op);
    t.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
    t.ok(res.body.error.fields?.some((f: { path: string }) => f.path === path), `the error names ${path}: ${JSON.stringify(res.body.error)}`);
  }
  const list = await api('GET', '/api/v1/programmes', undefined, op);
  t.equal(list.body.total, 1, 'no invalid programme was stored');
  t.same(list.body.items[0], { ...Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'items')), itemCount: 6 });

  // An edit is version 2; a bad edit changes nothing.
  t.equal((await api('PUT', `/api/v1/programmes/${p.id}`, { title: 'x', items: [{ kind: 'bulletin', bulletinId: 'bt-nope' }] }, op)).status, 400);
  const edited = await api('PUT', `/api/v1/programmes/${p.id}`, { title: 'Chương trình sáng (sửa)', items: [{ kind: 'bulletin', bulletinId: notice.id }, { kind: 'relay', sourceId: vov.id, until: '18:30' }] }, op);
  t.equal(edited.status, 200, JSON.stringify(edited.body));
  t.equal(edited.body.version, 2);
  t.equal(edited.body.openEnded, true, 'a relay until a time of day has no fixed length');
  t.equal(edited.body.items[1].durationMs, null);
  const versions = (await api('GET', `/api/v1/programmes/${p.id}/versions`, undefined, op)).body.items;
  t.same(versions.map((v: { version: number; itemCount: number }) => [v.version, v.itemCount]), [[2, 2], [1, 6]], 'both versions kept, newest first');
  const v1 = await api('GET', `/api/v1/programmes/${p.id}/versions/1`, undefined, op);
  t.equal(v1.body.title, 'Chương trình sáng (sửa)', 'the title is the programme’s');
  t.equal(v1.body.items.length, 6, 'version 1 keeps its items');
  t.equal((await api('GET', `/api/v1/programmes/${p.id}/versions/3`, undefined, op)).status, 404);
});

t.test('another commune’s bulletins, sources and programmes are unknown; viewers cannot write', async (t) => {
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const op = await userToken(api, token, 'vh-tanlap', 'operator', '99003');
  const neighbour = await userToken(api, token, 'qtv-hungdao', 'province-admin', '99004');
  const viewer = await userToken(api, token, 'xem', 'viewer', '99003');
  const theirs = (await api('POST', '/api/v1/bulletins', { title: 'Tin Hưng Đạo', text: 'Thông báo của xã Hưng Đạo.' }, neighbour)).body;
  const theirSource = (await api('POST', '/api/v1/sources', { name: 'FM Hưng Đạo', urls: ['http://radio.example/hd.mp3'] }, neighbour)).body;
  const mine = (await api('POST', '/api/v1/bulletins', { title: 'Tin Tân Lập', text: 'Thông báo của xã Tân Lập.' }, op)).body;

  const a = await api('POST', '/api/v1/programmes', { title: 'x', items: [{ kind: 'bulletin', bulletinId: theirs.id }] }, op);
  t.equal(a.status, 400);
  t.match(a.body.error, { fields: [{ path: 'items.0.bulletinId', message: 'unknown bulletin' }] }, 'answered as unknown, not as forbidden');
  const b = await api('POST', '/api/v1/programmes', { title: 'x', items: [{ kind: 'bulletin', bulletinId: mine.id }, { kind: 'relay', sourceId: theirSource.id, durationMs: 600_000 }] }, op);
  t.equal(b.status, 400);
  t.match(b.body.error, { fields: [{ path: 'items.1.sourceId', message: 'unknown source' }] });

  const theirProgramme = (await api('POST', '/api/v1/programmes', { title: 'Của Hưng Đạo', items: [{ kind: 'bulletin', bulletinId: theirs.id }] }, neighbour)).body;
  t.equal((await api('GET', `/api/v1/programmes/${theirProgramme.id}`, undefined, op)).status, 404, 'another commune’s programme cannot be read');
  t.equal((await api('PUT', `/api/v1/programmes/${theirProgramme.id}`, { title: 'x', items: [{ kind: 'bulletin', bulletinId: mine.id }] }, op)).status, 404, 'nor edited');
  t.equal((await api('GET', '/api/v1/programmes', undefined, op)).body.total, 0, 'nor listed');
  t.equal((await api('POST', '/api/v1/programmes', { title: 'x', items: [{ kind: 'bulletin', bulletinId: mine.id }] }, viewer)).status, 403, 'viewers do not write programmes');
  t.equal((await api('POST', '/api/v1/programmes/preview', { items: [{ kind: 'bulletin', bulletinId: mine.id }] }, viewer)).status, 403, 'nor preview them');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: theirProgramme.id, target: { areaCodes: ['99003'] } }, op)).status, 400, 'nor broadcast them');

  // A programme relaying a commune's own source airs only inside that commune, whoever sends it.
  const wide = (await api('POST', '/api/v1/programmes', { title: 'Tiếp sóng FM Hưng Đạo', items: [{ kind: 'relay', sourceId: theirSource.id, durationMs: 600_000 }] }, token)).body;
  const outside = await api('POST', '/api/v1/broadcasts', { bulletinId: wide.id, target: { areaCodes: ['99003'] } }, token);
  t.equal(outside.status, 400, JSON.stringify(outside.body));
  t.match(outside.body.error.message, /serves only area 99004/);
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: wide.id, target: { areaCodes: ['99004'] } }, token)).status, 201, 'inside it, it airs');

  const openapi = (await api('GET', '/openapi.json')).body;
  for (const path of ['/api/v1/programmes', '/api/v1/programmes/{id}', '/api/v1/programmes/{id}/versions', '/api/v1/programmes/{id}/versions/{version}', '/api/v1/programmes/preview']) {
    t.ok(openapi.paths[path], `${path} is in the published OpenAPI`);
  }
});

t.test('the edit rule: approved airings ahead need an approver’s edit, whose new version reaches the box', async (t) => {
  const { api, token, urls } = await startTestServer(t, { sourceCheckSeconds: 0, operatorsNeedApproval: true });
  await importSampleAreas(api, token);
  const op = await userToken(api, token, 'vh-tanlap', 'operator', '99003');
  const approver = await userToken(api, token, 'duyet', 'approver', '99');
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Tin sáng', text: 'Sáng nay xã tổ chức tiêm phòng.' }, op)).body;
  const notice = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Mời bà con dự họp.' }, op)).body;

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const agendas: Array<Payload<'sync-agenda'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['sync-agenda']);
    if (m.ok) agendas.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);

  const p = (await api('POST', '/api/v1/programmes', { title: 'Chương trình tối', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'bulletin', bulletinId: news.id }] }, op)).body;
  // Before any broadcast an operator edits freely.
  t.equal((await api('PUT', `/api/v1/programmes/${p.id}`, { title: 'Chương trình tối', items: [{ kind: 'bulletin', bulletinId: news.id }] }, op)).body.version, 2);
  const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['19:00'] } }, op);
  t.equal(bc.body.status, 'submitted', 'an operator’s programme waits for approval like any broadcast');
  t.equal((await api('PUT', `/api/v1/programmes/${p.id}`, { title: 'Chương trình tối', items: [{ kind: 'bulletin', bulletinId: news.id }, { kind: 'bulletin', bulletinId: notice.id }] }, op)).body.version, 3, 'a submitted broadcast does not lock it');
  t.equal((await api('POST', `/api/v1/broadcasts/${bc.body.id}/approve`, {}, approver)).body.status, 'approved');
  const held = await waitFor('the programme in the box’s agenda', () => agendas.at(-1)!.items.find((i) => i.broadcastId === bc.body.id) ?? null, 5000);
  t.equal(held.programme?.version, 3);
  t.same(held.programme?.items.map((i) => i.title), ['Tin sáng', 'Thông báo']);
  const agendaVersion = agendas.at(-1)!.version;

  const change = { title: 'Chương trình tối', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'bulletin', bulletinId: notice.id }] };
  const refused = await api('PUT', `/api/v1/programmes/${p.id}`, change, op);
  t.equal(refused.status, 409, 'the approved programme is not changed behind the approver’s back');
  t.match(refused.body.error.message, /approver.*copy/);
  t.equal((await api('GET', `/api/v1/programmes/${p.id}`, undefined, op)).body.version, 3, 'nothing changed');

  const ok = await api('PUT', `/api/v1/programmes/${p.id}`, change, approver);
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  t.equal(ok.body.version, 4);
  const next = await waitFor('the agenda with the new version', () => {
    const a = agendas.at(-1)!;
    const items = a.items.filter((i) => i.broadcastId === bc.body.id);
    return items.length && items.every((i) => i.programme?.version === 4) ? a : null;
  }, 5000);
  t.ok(next.version > agendaVersion, 'a new agenda version, so the box takes it');
  const item = next.items.find((i) => i.broadcastId === bc.body.id)!;
  t.same(item.programme?.items.map((i) => i.kind), ['chime', 'bulletin']);
  t.match(item.programme?.items[0]!.media?.url, /\/media\/[0-9a-f]{64}$/, 'the bell travels as a file the box fetches');
  t.equal(item.media, undefined, 'a programme play has no media of its own');
});

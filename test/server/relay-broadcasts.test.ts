/**
 * A relay bulletin broadcast like any other (issue 15): what a box receives over MQTT is the source's URLs in
 * order, the relay's duration and the source's fallback file; an edited source reaches the boxes with their
 * agenda; approval and schedules are unchanged.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { createHash } from 'node:crypto';
import { agendaHash } from '../../server/src/scheduling/agenda.js';

t.test('agenda hashes: a file item hashes as before relays existed; a relay’s URLs are part of its hash', async (t) => {
  const file = { commandId: '6f1c1f0e-1b1a-5c3d-8e8f-0a0b0c0d0e0f', broadcastId: 'bc-1', occurrenceAt: 1_000, priority: 'normal' as const, startAt: 1_000, windowMs: 300_000, title: 'Tin sáng', media: { sha256: 'a'.repeat(64), url: 'http://s/media/a', durationMs: 60_000, bytes: 1234 }, resume: 'restart' as const };
  // The canonical form as it was written before issue 15: upgrading the server must not bump every box's agenda.
  const before = createHash('sha256').update(JSON.stringify([[file.commandId, file.broadcastId, file.occurrenceAt, file.priority, file.startAt, file.windowMs, file.title, file.media.sha256, file.media.url, file.media.durationMs, file.media.bytes, file.resume]])).digest('hex');
  t.equal(agendaHash([file]), before);
  const { media: _media, ...bare } = file;
  const relay = { ...bare, stream: { sourceId: 'src-1', urls: ['http://a/x.mp3', 'http://b/x.mp3'], durationMs: 1_800_000 } };
  const moved = { ...relay, stream: { ...relay.stream, urls: ['http://b/x.mp3', 'http://a/x.mp3'] } };
  t.not(agendaHash([relay]), agendaHash([moved]), 'reordered URLs make a new agenda');
  t.not(agendaHash([relay]), agendaHash([{ ...relay, media: file.media }]), 'so does a fallback file');
});

t.test('a box receives a relay’s stream and its fallback, now and in its agenda, and an edited source’s new URLs', async (t) => {
  const { api, token, urls } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const fallback = (await api('POST', '/api/v1/bulletins', { title: 'Mất sóng', text: 'Buổi tiếp sóng tạm gián đoạn, mời bà con nghe lại sau.' }, token)).body;
  t.equal(fallback.status, 'ready');

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  const agendas: Array<Payload<'sync-agenda'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play', 'sync-agenda']);
    if (!m.ok) return;
    if (m.value.type === 'play') plays.push(m.value.payload as Payload<'play'>);
    else agendas.push(m.value.payload as Payload<'sync-agenda'>);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);

  const vov = ['https://stream.vov.vn/vov1/playlist.m3u8', 'http://icecast.vov.vn:8000/vov1.mp3', 'http://icecast.vov.vn:8000/vov1.aac'];
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: vov, fallbackBulletinId: fallback.id, areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự VOV', sourceId: src.id, durationMs: 1_800_000 }, token)).body;

  const now = await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token);
  t.equal(now.status, 201);
  const play = await waitFor('the relay’s play', () => plays.find((p) => p.broadcastId === now.body.id) ?? null, 5000);
  t.same(play.stream, { sourceId: src.id, urls: vov, durationMs: 1_800_000 }, 'the box pulls the source itself, URLs in order of preference');
  t.equal(play.windowMs, 1_800_000, 'a box that comes back mid-relay may still join it: the window is the relay’s length');
  t.equal(play.media?.sha256, fallback.audio.sha256, 'the fallback file comes as the media');
  t.match(play.media?.url, new RegExp(`/media/${fallback.audio.sha256}$`));
  t.equal(play.title, 'Thời sự VOV');
  t.equal(play.priority, 'normal');

  // Daily at 18:00: the week's occurrences travel in the agenda with the stream.
  const daily = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['18:00'] } }, token)).body;
  const week = await waitFor('the agenda with the daily relay', () => {
    const a = agendas.at(-1)!;
    const items = a.items.filter((i) => i.broadcastId === daily.id);
    return items.length >= 7 ? items : null;
  }, 5000);
  t.ok(week.every((i) => i.stream?.urls.join() === vov.join() && i.media?.sha256 === fallback.audio.sha256), 'every occurrence carries the stream and the fallback');

  // The province moves VOV to a new address and drops the fallback: the boxes' agendas follow.
  const moved = ['https://cdn.vov.vn/vov1/index.m3u8', 'http://icecast.vov.vn:8000/vov1.mp3'];
  t.equal((await api('PATCH', `/api/v1/sources/${src.id}`, { urls: moved, fallbackBulletinId: null }, token)).status, 200);
  const updated = await waitFor('the agenda with the new URLs', () => {
    const items = agendas.at(-1)!.items.filter((i) => i.broadcastId === daily.id);
    return items.length && items.every((i) => i.stream?.urls.join() === moved.join()) ? items : null;
  }, 5000);
  t.ok(updated.every((i) => i.media === undefined), 'without a fallback the relay carries no file (it stops cleanly when every URL fails)');
});

t.test('relays keep approval, priorities and area rules', async (t) => {
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const login = async (username: string, role: string, areaCode: string | null) => {
    await api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, token);
    return (await api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
  };
  const op = await login('vh-tanlap', 'operator', '99003');
  const approver = await login('duyet', 'approver', '99');
  const communeAdmin = await login('qtv-hungdao', 'province-admin', '99004');
  await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token);
  const provincial = (await api('POST', '/api/v1/sources', { name: 'Đài tỉnh', urls: ['http://radio.example/tinh.mp3'], areaCode: '99' }, token)).body;
  const hungDao = (await api('POST', '/api/v1/sources', { name: 'FM Hưng Đạo', urls: ['http://radio.example/hd.mp3'] }, communeAdmin)).body;
  t.equal(hungDao.areaCode, '99004');

  const relay = await api('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng đài tỉnh', sourceId: provincial.id, durationMs: 1_800_000 }, op);
  t.equal(relay.status, 201, 'a commune operator relays its province’s station');
  t.equal((await api('POST', '/api/v1/bulletins/relay', { title: 'x', sourceId: hungDao.id, durationMs: 600_000 }, op)).status, 400, 'but not a neighbouring commune’s own source');

  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const b = await api('POST', '/api/v1/broadcasts', { bulletinId: relay.body.id, target: { areaCodes: ['99003'] }, startAt }, op);
  t.equal(b.body.status, 'submitted', 'an operator’s relay waits for approval like any broadcast');
  t.same(b.body.conflicts, []);
  const ok = await api('POST', `/api/v1/broadcasts/${b.body.id}/approve`, {}, approver);
  t.equal(ok.body.status, 'approved');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: relay.body.id, target: { areaCodes: ['99004'] }, startAt }, op)).status, 403, 'targets outside the operator’s area are refused');

  // A relay lasts its duration: a bulletin aired during it is reported as an overlap.
  const notice = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Thông báo của xã.' }, op)).body;
  const overlap = await api('POST', '/api/v1/broadcasts/check', { bulletinId: notice.id, priority: 'priority', target: { areaCodes: ['99003'] }, startAt: new Date(Date.parse(startAt) + 600_000).toISOString() }, op);
  t.equal(overlap.body.conflicts.length, 1, 'ten minutes into a 30-minute relay');
  t.equal(overlap.body.conflicts[0].outcome, 'interrupts', 'a higher priority interrupts the relay (Circular 39)');
});

t.test('issue 15 review (4): a relay goes only inside its source’s area, whoever sends it', async (t) => {
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/users', { username: 'tinh-op', password: 'a-long-password', role: 'operator', areaCode: '99' }, token);
  const provinceOp = (await api('POST', '/api/v1/auth/login', { username: 'tinh-op', password: 'a-long-password' })).body.token as string;
  const inside = (await api('POST', '/api/v1/devices', { name: 'loa Hưng Đạo', areaCode: '99004' }, token)).body;
  const outside = (await api('POST', '/api/v1/devices', { name: 'loa Tân Lập', areaCode: '99003' }, token)).body;
  const commune = (await api('POST', '/api/v1/sources', { name: 'FM Hưng Đạo', urls: ['http://radio.example/hd.mp3'], areaCode: '99004' }, token)).body;
  const wide = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/vov1.mp3'], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'FM Hưng Đạo', sourceId: commune.id, durationMs: 600_000 }, provinceOp)).body;
  const vov = (await api('POST', '/api/v1/bulletins/relay', { title: 'VOV1', sourceId: wide.id, durationMs: 600_000 }, provinceOp)).body;
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const send = (bulletinId: string, target: object) => api('POST', '/api/v1/broadcasts', { bulletinId, target, startAt }, provinceOp);

  const province = await send(relay.id, { areaCodes: ['99'] });
  t.equal(province.status, 400, 'a commune’s source is not sent to the whole province');
  t.match(province.body.error.message, /serves only area 99004/, 'the answer names the source’s area');
  t.equal((await send(relay.id, { areaCodes: ['99003'] })).status, 400, 'nor to another commune');
  const box = await send(relay.id, { deviceIds: [outside.id] });
  t.equal(box.status, 400, 'nor to a box of another commune');
  t.equal(box.body.error.fields[0].path, 'target.deviceIds.0');
  t.equal((await send(relay.id, { areaCodes: ['99004'], deviceIds: [inside.id] })).status, 201, 'inside its area it goes');
  t.equal((await send(vov.id, { areaCodes: ['99'] })).status, 201, 'an installation-wide source goes anywhere');
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { areaCodes: ['99'] }, startAt }, token)).status, 400, 'not even the installation admin sends it outside');
});

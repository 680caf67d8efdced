/**
 * Play logs to the province (issue 17; CV 1273): a box's `playing` becomes the play log at the airing's start and
 * its `played` the completion record (GiaTri 1), in that order, through a real server, broker and box connection;
 * a relay goes up as FM (LoaiBanTin 6) with TiepAm 1 and the station's name and the seconds it really aired; a
 * repeated report is not a second record; a `failed` airing is a failure record (GiaTri 0) with the reason.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { SHIPPED_MAPPINGS, decodeMessage, encodeMessage, topics } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startProvince } from './upstream-province.js';

const CREDS = { username: 'xa-tan-lap', password: 'mật-khẩu-tỉnh' };

t.test('a relayed airing goes up as a start record, then its completion, in order and once', async (t) => {
  const province = await startProvince(SHIPPED_MAPPINGS.vi, CREDS);
  t.teardown(() => province.close());
  const national = {
    url: province.url,
    mapping: 'vi',
    ...CREDS,
    passwordFile: undefined,
    sourceId: 'H99',
    sourceName: 'Tỉnh Mẫu — Xã Tân Lập',
    vendorCode: 'LOAXA',
    vendorName: 'Loa Xã',
    // No status round during the test: only the play logs are looked at.
    statusSeconds: 3600,
    timeoutMs: 2000,
    maxAnswerBytes: 65_536,
  };
  const { api, token, urls, server } = await startTestServer(t, { sourceCheckSeconds: 0, national });
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).body;
  server.ctx.db.prepare('UPDATE devices SET national_id = ? WHERE id = ?').run('356938035643809', dev.id);
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['https://stream.vov.vn/vov1.m3u8'], areaCode: null }, token)).body;
  const relay = (await api('POST', '/api/v1/bulletins/relay', { title: 'Thời sự VOV', sourceId: src.id, durationMs: 60_000, category: 'general' }, token)).body;

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: string[] = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok) plays.push(m.value.payload.broadcastId);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box online', async () => ((await api('GET', `/api/v1/devices/${dev.id}`, undefined, token)).body.state === 'online' ? true : null), 5000);

  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, priority: 'priority', target: { deviceIds: [dev.id] } }, token)).body;
  const occurrenceAt = Date.parse(b.startAt);
  await waitFor('the play', () => (plays.includes(b.id) ? true : null), 5000);
  // A box stamps its reports with its own clock, and the server caps times in the future (device-ingest.ts).
  await waitFor('the airing under way', () => (Date.now() > occurrenceAt + 1500 ? true : null), 10_000, 50);
  const delivery = (state: string, at: number, extra: Record<string, unknown> = {}) =>
    c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId: b.id, occurrenceAt, state: state as 'played', at, ...extra }), { qos: 1 });
  await delivery('acknowledged', occurrenceAt + 20);
  await delivery('playing', occurrenceAt + 100);
  await delivery('playing', occurrenceAt + 100); // a QoS 1 redelivery
  await delivery('played', occurrenceAt + 1400, { airedMs: 1300 });
  await delivery('played', occurrenceAt + 1400, { airedMs: 1300 });

  const got = await waitFor('the start and end records', () => (province.received.length >= 2 ? province.received : null), 5000, 20);
  await new Promise((r) => setTimeout(r, 200));
  t.same(got.map((r) => r.kind), ['airing-start', 'airing-end'], 'start then end, once each');
  const [start, end] = got as [(typeof got)[0], (typeof got)[0]];
  t.match(start.body, {
    NguonID: 'H99',
    CumLoaID: '356938035643809',
    TenThietBi: 'Loa chợ',
    DichID: '99003',
    BanTinID: relay.id,
    TieuDe: 'Thời sự VOV',
    LoaiBanTin: 6,
    MucDoUuTien: 2,
    LoaiLinhVuc: 1,
    ThoiLuong: 60,
    TiepAm: 1,
    NguonTiepAm: 'VOV1',
    LoaiNhatKy: 1,
    ThoiDiemBatDau: Math.floor((occurrenceAt + 100) / 1000),
  });
  t.match(end.body, { NguonId: 'H99', BanTinId: relay.id, LoaiNhatKy: 2, GiaTri: 1, ThoiLuongDaPhat: 1, TiepAm: 1, NguonTiepAm: 'VOV1', ThoiDiemBatDau: Math.floor((occurrenceAt + 100) / 1000) });
  t.equal(start.body.PhienPhatID, end.body.PhienPhatID, 'the province pairs them by the airing’s id');
  t.ok(typeof end.body.ThoiDiemGui === 'number');

  // Another airing that fails on the box: a failure record with the reason.
  const b2 = (await api('POST', '/api/v1/broadcasts', { bulletinId: relay.id, target: { deviceIds: [dev.id] } }, token)).body;
  const at2 = Date.parse(b2.startAt);
  await waitFor('the second play', () => (plays.includes(b2.id) ? true : null), 5000);
  await waitFor('its start', () => (Date.now() > at2 + 500 ? true : null), 10_000, 50);
  await c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId: b2.id, occurrenceAt: at2, state: 'playing', at: at2 + 50 }), { qos: 1 });
  await c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'delivery', broadcastId: b2.id, occurrenceAt: at2, state: 'failed', at: at2 + 300, reason: 'stream unreachable' }), { qos: 1 });
  const more = await waitFor('the failure record', () => (province.received.length >= 4 ? province.received : null), 5000, 20);
  t.same(more.slice(2).map((r) => r.kind), ['airing-start', 'airing-end']);
  t.match(more[3]!.body, { GiaTri: 0, MoTa: 'stream unreachable', MucDoUuTien: 3, ThoiLuongDaPhat: 0 });
  const outbox = (await api('GET', '/api/v1/national/outbox?state=sent', undefined, token)).body.items as Array<{ kind: string }>;
  t.same(outbox.map((i) => i.kind), ['airing-end', 'airing-start', 'airing-end', 'airing-start'], 'the outbox holds each once, newest first');
});

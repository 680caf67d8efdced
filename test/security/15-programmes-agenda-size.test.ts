/**
 * Issue 15 review (hostile): a programme travels whole inside every occurrence of the box's agenda (7 days
 * ahead), up to 100 items with a title and a media URL each, while the codec refuses any message over
 * MAX_MESSAGE_BYTES (4 MB: "an agenda of 10,000 items fits" — items of one file each). One operator's
 * programme of 100 chimes scheduled 48 times a day for a week (allowed: ~340 occurrences, far below the
 * 10,000 a broadcast may have) makes the box's agenda ~8 MB: the box cannot decode it, so it gets no agenda at all any
 * more — not even the province's broadcasts made afterwards.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, MAX_MESSAGE_BYTES, type Payload } from '@loaxa/shared';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('a programme’s occurrences cannot make the box’s agenda undecodable', async (t) => {
  const { api, token, urls, login } = await securityServer(t, { sourceCheckSeconds: 0, operatorsNeedApproval: false });
  const op = await login('operator', '99003');
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const agendas: Array<Payload<'sync-agenda'>> = [];
  let largest = 0;
  let refused = 0;
  c.on('message', (_topic, payload) => {
    largest = Math.max(largest, payload.length);
    const m = decodeMessage(payload, ['sync-agenda']);
    if (m.ok) agendas.push(m.value.payload);
    else if (payload.length > MAX_MESSAGE_BYTES) refused++;
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);

  const items = Array.from({ length: 100 }, (_, i) => ({ kind: 'chime', bell: i % 2 ? 'outro' : 'intro' }));
  const p = await api('POST', '/api/v1/programmes', { title: 'Chuông', items }, op.token);
  t.equal(p.status, 201, JSON.stringify(p.body).slice(0, 200));
  const times = Array.from({ length: 48 }, (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
  const heavy = await api('POST', '/api/v1/broadcasts', { bulletinId: p.body.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times, until: new Date(Date.now() + 7 * 3600_000 + 8 * 86_400_000).toISOString().slice(0, 10) } }, op.token);
  t.equal(heavy.status, 201, JSON.stringify(heavy.body).slice(0, 200));
  await new Promise((r) => setTimeout(r, 1500));

  // Afterwards the province airs a notice on the box: the box must still learn of it.
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo tỉnh', text: 'Mời bà con dự họp.' }, token)).body;
  const later = new Date(Date.now() + 3 * 3600_000).toISOString();
  const notice = (await api('POST', '/api/v1/broadcasts', { bulletinId: news.id, target: { deviceIds: [dev.id] }, startAt: later }, token)).body;
  const got = await waitFor('an agenda the box can read, with the notice', () => (agendas.some((a) => a.items.some((i) => i.broadcastId === notice.id)) ? true : null), 5000).catch(() => false);
  t.comment(`largest message to the box: ${(largest / 1e6).toFixed(1)} MB; ${refused} over the ${MAX_MESSAGE_BYTES / 1e6} MB the codec reads`);
  t.ok(got, 'the box still gets (and can decode) its agenda');
  t.ok(largest <= MAX_MESSAGE_BYTES, `no message to the box is over the codec’s limit (largest ${largest} bytes)`);
});

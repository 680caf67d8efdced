/**
 * Issue 15 review (hostile): a relay segment "until HH:MM" had no upper bound. A relay bulletin lasts at most
 * 12 hours (RELAY_MAX_DURATION_MS) and a relay segment with `durationMs` too, but `until` is made the first
 * HH:MM at or after the programme's start: a programme aired at 19:00 relaying "until 18:00" (a slip of the
 * operator's, or on purpose) holds every box's speaker for 23 hours. The server counts that segment as 0 ms
 * (duration_ms, `openEnded`), so the broadcasts it blocks were not even reported as conflicts. Now such a
 * broadcast is refused, and the segment's real length counts in the conflicts.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload, RELAY_MAX_DURATION_MS } from '@loaxa/shared';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('a relay segment until a time of day lasts no longer than a relay may', async (t) => {
  const { api, token, urls } = await securityServer(t, { sourceCheckSeconds: 0 });
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
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

  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/vov1.mp3'], areaCode: null }, token)).body;
  const made = await api('POST', '/api/v1/programmes', { title: 'Thời sự tối', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'relay', sourceId: src.id, until: '18:00' }] }, token);
  t.equal(made.status, 201, 'saved: nothing compares "until" with anything');
  // Broadcast at 19:00 daily, "until 18:00" would run 23 hours: refused, naming the item and the limit.
  const refused = await api('POST', '/api/v1/broadcasts', { bulletinId: made.body.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['19:00'] } }, token);
  t.equal(refused.status, 400, 'a relay segment that would outlast a relay is refused when broadcast');
  t.match(refused.body.error.message, /item 2 relays until 18:00, 23 hours .* at most 12 hours/);
  t.notOk(agendas.some((a) => a.items.length > 0), 'and nothing reached the box');

  // At 17:00 daily the same programme relays one hour: it airs, and the hour counts in its conflicts (a
  // bulletin at 17:30 on the same box is inside it).
  const news = (await api('POST', '/api/v1/bulletins', { title: 'Tin tối', text: 'Mời bà con dự họp.' }, token)).body;
  await waitFor('the bulletin', async () => ((await api('GET', `/api/v1/bulletins/${news.id}`, undefined, token)).body.status === 'ready' ? true : null), 30_000);
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: news.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['17:30'] } }, token)).status, 201);
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: made.body.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['17:00'] } }, token);
  t.equal(cast.status, 201);
  t.ok(cast.body.conflicts?.length > 0, `the bulletin inside the relay's hour is reported as a conflict (conflicts: ${cast.body.conflicts?.length})`);
  const held = await waitFor('the programme in the agenda', () => agendas.at(-1)?.items.find((i) => i.broadcastId === cast.body.id) ?? null, 5000);
  const endsAt = held.programme!.items[1]!.stream!.endsAt!;
  t.ok(endsAt - held.startAt <= RELAY_MAX_DURATION_MS, `the segment ends ${((endsAt - held.startAt) / 3600_000).toFixed(1)} h after the programme starts`);
});

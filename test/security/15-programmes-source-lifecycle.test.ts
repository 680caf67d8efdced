/**
 * Issue 15 review (hostile): the sources routes know relays only through `bulletins.relay_source_id`, which a
 * programme's row never has (its segments live in programme_versions). So a source a programme still relays
 * - is deleted without the 409 a relay broadcast gets: the approved programme then silently loses its
 *   segment on every box (play-book.ts leaves a segment of a deleted source out);
 * - is edited (new URLs) without the boxes holding the programme getting their agenda again: they keep the
 *   old URLs (ProgrammeRepository.devicesRelaying exists and is never called).
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type Payload } from '@loaxa/shared';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('a source relayed by an approved programme cannot be deleted', async (t) => {
  const { api, token } = await securityServer(t, { sourceCheckSeconds: 0 });
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/vov1.mp3'], areaCode: null }, token)).body;
  const p = (await api('POST', '/api/v1/programmes', { title: 'Thời sự tối', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'relay', sourceId: src.id, durationMs: 600_000 }] }, token)).body;
  const bc = await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['19:00'] } }, token);
  t.equal(bc.status, 201, JSON.stringify(bc.body));
  t.equal(bc.body.status, 'approved');
  const del = await api('DELETE', `/api/v1/sources/${src.id}`, undefined, token);
  t.equal(del.status, 409, `a source an approved programme still relays is kept, as for a relay broadcast (got ${del.status})`);
});

t.test('a source’s new URLs reach the boxes holding a programme that relays it', async (t) => {
  const { api, token, urls } = await securityServer(t, { sourceCheckSeconds: 0 });
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/old.mp3'], areaCode: null }, token)).body;
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

  const p = (await api('POST', '/api/v1/programmes', { title: 'Thời sự tối', items: [{ kind: 'chime', bell: 'intro' }, { kind: 'relay', sourceId: src.id, durationMs: 600_000 }] }, token)).body;
  const bc = (await api('POST', '/api/v1/broadcasts', { bulletinId: p.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['19:00'] } }, token)).body;
  const held = await waitFor('the programme in the agenda', () => agendas.at(-1)!.items.find((i) => i.broadcastId === bc.id) ?? null, 5000);
  t.same(held.programme?.items[1]?.stream?.urls, ['http://radio.example/old.mp3']);

  const patched = await api('PATCH', `/api/v1/sources/${src.id}`, { urls: ['http://radio.example/new.mp3'] }, token);
  t.equal(patched.status, 200, JSON.stringify(patched.body));
  const fresh = await waitFor(
    'an agenda with the new URL',
    () => (agendas.at(-1)!.items.find((i) => i.broadcastId === bc.id)?.programme?.items[1]?.stream?.urls[0] === 'http://radio.example/new.mp3' ? true : null),
    3000,
  ).catch(() => false);
  t.ok(fresh, 'the box gets the source’s new URLs for the programme’s relay segment');
});

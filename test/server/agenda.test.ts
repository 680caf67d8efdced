import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('each box gets its week’s agenda when it connects and whenever it changes, and only then', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Sáng', text: 'Chương trình phát thanh buổi sáng.' }, token)).body;
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const agendas: Array<{ version: number; items: Array<{ commandId: string; occurrenceAt: number; media?: { sha256: string } }> }> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['sync-agenda']);
    if (m.ok) agendas.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the first agenda', () => (agendas.length ? true : null), 5000);
  t.same(agendas[0]!.items, [], 'an empty agenda on first contact');

  const b = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['05:30', '17:00'] } }, token)).body;
  const week = await waitFor('the agenda with the new broadcast', () => (agendas.length >= 2 ? agendas.at(-1)! : null), 5000);
  t.equal(week.version, 2);
  t.equal(week.items.length, 14, 'two a day for seven days');
  t.ok(week.items.every((i) => i.media?.sha256 === bulletin.audio.sha256));
  const occ = week.items[3]!.occurrenceAt;

  await api('POST', `/api/v1/broadcasts/${b.id}/cancel`, { occurrenceAt: new Date(occ).toISOString() }, token);
  const after = await waitFor('the agenda without the cancelled occurrence', () => (agendas.length >= 3 ? agendas.at(-1)! : null), 5000);
  t.equal(after.version, 3);
  t.equal(after.items.length, 13);
  t.notOk(after.items.some((i) => i.occurrenceAt === occ), 'the cancelled occurrence is gone');

  await server.ctx.scheduler.tick();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(agendas.length, 3, 'an unchanged agenda is not sent again');
  const row = server.ctx.db.prepare('SELECT version, items FROM device_agendas WHERE device_id = ?').get(dev.id);
  t.same(row, { version: 3, items: 13 });
});

import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

t.test('coverage of the province and its communes follows what the boxes report', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const a = (await api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, token)).body;
  const v = (await api('POST', '/api/v1/devices', { name: 'village', areaCode: '9900301' }, token)).body;
  await api('POST', '/api/v1/devices', { name: 'silent', areaCode: '99004' }, token);

  let cov = (await api('GET', '/api/v1/coverage?area=99', undefined, token)).body;
  t.same(cov.area, { code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh' });
  t.same(cov.communes, { total: 6, installed: 2, working: 0 }, 'a box in a village counts for its commune');
  t.equal(cov.installedPct, 33.33);
  t.equal(cov.children.length, 6);

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(a.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('the box to be heard', () => (server.ctx.devices.get(a.id)!.online ? true : null), 5000, 20);
  cov = (await api('GET', '/api/v1/coverage?area=99', undefined, token)).body;
  t.same(cov.communes, { total: 6, installed: 2, working: 1 });
  t.same(cov.notCovered.find((n: { code: string }) => n.code === '99004'), { code: '99004', name: 'Xã Hưng Đạo', reason: 'offline' });
  t.same(cov.notCovered.find((n: { code: string }) => n.code === '99001'), { code: '99001', name: 'Phường Hòa Bình', reason: 'no-device' });

  await c.publishAsync(topics.deviceEvent(a.id), encodeMessage('event', { kind: 'fault', fault: 'amplifier', active: true, at: Date.now() }), { qos: 1 });
  await waitFor('the fault', async () => ((await api('GET', '/api/v1/coverage?area=99003', undefined, token)).body.workingPct === 0 ? true : null), 5000);
  const commune = (await api('GET', '/api/v1/coverage?area=99003', undefined, token)).body;
  t.same(commune.notCovered, [{ code: '99003', name: 'Xã Tân Lập', reason: 'fault:amplifier' }]);
  t.same(commune.devices, { total: 2, online: 1, faulty: 1, playing: 0 });
  t.equal(v.areaCode, '9900301');

  t.equal(server.ctx.coverage.snapshot(), 1, 'one province snapshot');
  const trend = (await api('GET', '/api/v1/coverage/trend?area=99003&days=30', undefined, token)).body;
  t.equal(trend.area, '99', 'a commune’s trend is its province’s');
  t.ok(trend.items.length >= 1);
  t.equal(trend.items.at(-1).workingPct, 0);
  t.equal((await api('GET', '/api/v1/coverage?area=12', undefined, token)).status, 404);
  const me = (await api('GET', '/api/v1/me', undefined, token)).body;
  t.same(me.can, { write: true, approve: true, manageUsers: true, importAreas: true });
  t.equal((await api('POST', '/api/v1/auth/logout', undefined, token)).status, 204);
  t.equal((await api('GET', '/api/v1/me', undefined, token)).status, 401, 'the token stops working at once');
});

/**
 * Issue 8 § connect storm: the broker authenticates boxes from memory (DeviceCredentialCache, shared with
 * the media route) and AreaRepository remembers ancestries. Both must still follow every change at once:
 * a rotated or revoked secret is refused at the next MQTT connect, a box moved to another area gets that
 * area's ACL at its next connect, and an area moved in the tree changes the ancestry answered.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { topics } from '@loaxa/shared';
import { openDatabase } from '../../server/src/db/database.js';
import { AreaRepository } from '../../server/src/repos/areas.js';
import { DeviceRepository } from '../../server/src/repos/devices.js';
import { DeviceCredentialCache } from '../../server/src/auth/device-credentials.js';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';

type Api = Awaited<ReturnType<typeof startTestServer>>;

async function connect(urls: Api['urls'], id: string, password: string) {
  return mqtt.connectAsync(urls.mqttUrl, { clientId: id, username: id, password, reconnectPeriod: 0 });
}

/** The QoS granted per area topic (128: refused). */
async function areaGrants(c: mqtt.MqttClient, codes: string[]): Promise<Record<string, number>> {
  // mqtt.js rejects a SUBACK that holds a refusal (0x80) but keeps the packet with every return code.
  const granted = await c.subscribeAsync(codes.map((code) => topics.areaCmd(code)), { qos: 1 }).then(
    (g) => g.map((x) => x.qos),
    (e: { packet?: { granted: number[] } }) => e.packet?.granted ?? [],
  );
  return Object.fromEntries(granted.map((qos, i) => [codes[i]!, qos]));
}

t.test('a box whose secret was rotated (claimed) is refused with the old one at the next MQTT connect', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const first = await connect(urls, dev.id, dev.mqtt.password);
  await first.endAsync();
  t.ok(server.ctx.deviceCredentials.size >= 1, 'its credentials are remembered');

  const code = (await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token)).body.code;
  const claimed = (await api('POST', '/api/v1/claim', { code })).body;
  t.not(claimed.mqtt.password, dev.mqtt.password);
  await t.rejects(connect(urls, dev.id, dev.mqtt.password), /Bad username or password/, 'the old secret is refused');
  const c = await connect(urls, dev.id, claimed.mqtt.password);
  t.pass('the new secret connects');
  await c.endAsync();
});

t.test('a revoked box is refused at its next MQTT connect, whoever revoked it', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  await (await connect(urls, dev.id, dev.mqtt.password)).endAsync();
  // Not through the route: the repository alone (DeviceRepository.revoke tells the cache, not the route).
  t.ok(server.ctx.devices.revoke(dev.id));
  await t.rejects(connect(urls, dev.id, dev.mqtt.password), /Bad username or password/);
});

// The server has no way to move a box (its area is set at registration), so the one move there is is an
// edit of the database while the server is stopped; the cache is filled afresh at the next start.
t.test('a box moved to another area gets that area’s ACL at its next connect', async (t) => {
  const { api, token, urls, server, dataDir } = await startTestServer(t);
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const before = await connect(urls, dev.id, dev.mqtt.password);
  t.same(await areaGrants(before, ['99003', '99004', '99']), { '99003': 1, '99004': 128, '99': 1 });
  await before.endAsync();

  await server.stop();
  const db = openDatabase(join(dataDir, 'loaxa.sqlite'));
  db.prepare('UPDATE devices SET area_code = ? WHERE id = ?').run('99004', dev.id);
  db.close();
  const again = await startTestServer(t, { dataDir });
  const after = await connect(again.urls, dev.id, dev.mqtt.password);
  t.teardown(() => after.endAsync(true));
  t.same(await areaGrants(after, ['99003', '99004', '99']), { '99003': 128, '99004': 1, '99': 1 }, 'the new commune, not the old one');
});

t.test('the credential cache: filled at registration, forgotten on change, never holds unknown ids', async (t) => {
  const db = openDatabase(join(await tempDir(t), 'x.sqlite'));
  t.teardown(() => db.close());
  new AreaRepository(db).upsertMany([
    { code: '99', parentCode: null, name: 'Tỉnh', type: 'tỉnh', level: 'province', validFrom: null, validUntil: null },
    { code: '99001', parentCode: '99', name: 'Xã A', type: 'xã', level: 'commune', validFrom: null, validUntil: null },
    { code: '99002', parentCode: '99', name: 'Xã B', type: 'xã', level: 'commune', validFrom: null, validUntil: null },
  ]);
  const devices = new DeviceRepository(db);
  let reads = 0;
  const cache = new DeviceCredentialCache({ authInfo: (id) => (reads++, devices.authInfo(id)), watchCredentials: (w) => devices.watchCredentials(w) });
  // A second cache on the same repository is told too.
  const other = new DeviceCredentialCache(devices);
  const row = (id: string) => ({ id, name: id, areaCode: '99001', lat: null, lon: null, secretHash: 'a'.repeat(64), createdAt: 1 });
  devices.insertMany([row('spk-1'), row('spk-2')]);
  t.same(cache.get('spk-1'), { secretHash: 'a'.repeat(64), revoked: false, areaCode: '99001' });
  t.equal(reads, 0, 'registered boxes are known without a read');

  // Rows inserted inside a caller's transaction that rolls back are never remembered.
  t.throws(() => db.transaction(() => {
    devices.insert(row('spk-3'));
    throw new Error('rolled back');
  })());
  t.equal(cache.get('spk-3'), null);
  t.equal(cache.get('nope'), null);
  t.equal(cache.size, 2, 'unknown ids are not remembered');

  t.ok(other.get('spk-2'));
  t.ok(devices.rotateSecret('spk-2', 'b'.repeat(64)));
  t.equal(cache.get('spk-2')!.secretHash, 'b'.repeat(64), 'a new secret is read again');
  t.equal(other.get('spk-2')!.secretHash, 'b'.repeat(64), 'by every cache on the repository');
  devices.revoke('spk-1');
  t.equal(cache.get('spk-1')!.revoked, true, 'a revocation is read again');
  const before = reads;
  devices.setStatus('spk-1', true, 5, null);
  devices.flushPending();
  cache.get('spk-1');
  t.equal(reads, before, 'presence writes do not forget anything');
  devices.deleteUnregistered(['spk-1']);
  t.equal(cache.get('spk-1'), null, 'a deleted box is forgotten');
});

t.test('ancestries are remembered and follow every import of the area tree', async (t) => {
  const db = openDatabase(join(await tempDir(t), 'x.sqlite'));
  t.teardown(() => db.close());
  const areas = new AreaRepository(db);
  const area = (code: string, parentCode: string | null) => ({ code, parentCode, name: code, type: 'x', level: parentCode ? ('commune' as const) : ('province' as const), validFrom: null, validUntil: null });
  areas.upsertMany([area('99', null), area('98', null), area('99001', '99')]);
  t.same(areas.ancestry('99001'), ['99001', '99']);
  areas.ancestry('99001').push('changed by a caller');
  t.same(areas.ancestry('99001'), ['99001', '99'], 'callers get their own copy');
  areas.upsertMany([area('99001', '98')]);
  t.same(areas.ancestry('99001'), ['99001', '98'], 'an import that moves an area');
  t.same(areas.ancestry('99002'), []);
  areas.upsertMany([area('99002', '98')]);
  t.same(areas.ancestry('99002'), ['99002', '98'], 'an unknown code is not remembered as unknown');
});

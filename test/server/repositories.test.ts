import t from 'tap';
import { join } from 'node:path';
import { openDatabase, migrate } from '../../server/src/db/database.js';
import { migrations } from '../../server/src/db/migrations.js';
import { AreaRepository } from '../../server/src/repos/areas.js';
import { DeviceRepository } from '../../server/src/repos/devices.js';
import { BroadcastRepository } from '../../server/src/repos/broadcasts.js';
import { BulletinRepository } from '../../server/src/repos/bulletins.js';
import { tempDir } from '../helpers/server.js';

async function db(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const d = openDatabase(join(dir, 'x.sqlite'));
  t.teardown(() => d.close());
  return { d, dir };
}

t.test('migrations run once, in WAL mode, and refuse a newer schema', async (t) => {
  const { d, dir } = await db(t);
  t.equal(d.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(d.pragma('user_version', { simple: true }), migrations.length);
  t.equal(migrate(d, migrations), 0, 'nothing pending on a second run');
  d.pragma('user_version = 999');
  t.throws(() => migrate(d, migrations), /newer than this server knows/);
  d.pragma(`user_version = ${migrations.length}`);
  const reopened = openDatabase(join(dir, 'x.sqlite'));
  t.equal(reopened.pragma('user_version', { simple: true }), migrations.length);
  reopened.close();
});

t.test('a failing migration leaves the previous schema intact', async (t) => {
  const { d } = await db(t);
  const broken = [...migrations, { version: migrations.length + 1, name: 'broken', sql: 'CREATE TABLE ok_table (x); THIS IS NOT SQL;' }];
  t.throws(() => migrate(d, broken));
  t.equal(d.pragma('user_version', { simple: true }), migrations.length);
  t.equal((d.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'ok_table'").get() as { n: number }).n, 0, 'rolled back whole');
});

const AREAS = [
  { code: '99', parentCode: null, name: 'P', type: 'tỉnh', level: 'province' as const, validFrom: null, validUntil: null },
  { code: '99001', parentCode: '99', name: 'A', type: 'xã', level: 'commune' as const, validFrom: null, validUntil: null },
  { code: '99002', parentCode: '99', name: 'B', type: 'xã', level: 'commune' as const, validFrom: null, validUntil: null },
  { code: '9900101', parentCode: '99001', name: 'V', type: 'thôn', level: 'village' as const, validFrom: null, validUntil: null },
];

t.test('areas: subtree, ancestry and tree', async (t) => {
  const { d } = await db(t);
  const areas = new AreaRepository(d);
  areas.upsertMany(AREAS);
  t.same(areas.subtree('99').sort(), ['99', '99001', '9900101', '99002']);
  t.same(areas.subtree('99001').sort(), ['99001', '9900101']);
  t.same(areas.ancestry('9900101'), ['9900101', '99001', '99']);
  t.same(areas.ancestry('nope'), []);
  const tree = areas.tree();
  t.equal(tree[0]!.children.length, 2);
  areas.upsertMany([{ ...AREAS[1]!, name: 'A renamed' }]);
  t.equal(areas.get('99001')!.name, 'A renamed', 'import updates in place');
});

t.test('deliveries: transitions are logged and overdue ones are found', async (t) => {
  const { d } = await db(t);
  new AreaRepository(d).upsertMany(AREAS);
  const devices = new DeviceRepository(d);
  devices.insert({ id: 'spk-1', name: '1', areaCode: '99001', lat: null, lon: null, secretHash: 'a'.repeat(64), createdAt: 1 });
  devices.insert({ id: 'spk-2', name: '2', areaCode: '99002', lat: null, lon: null, secretHash: 'b'.repeat(64), createdAt: 1 });
  t.same(devices.idsInAreas(['99001', '9900101']), ['spk-1']);
  const bulletins = new BulletinRepository(d);
  bulletins.insert({ id: 'bt-1', title: 't', text: 'x', category: null, voice: 'vi', speed: 1, createdBy: null, areaCode: null });
  t.same(bulletins.interrupted().map((b) => b.id), ['bt-1'], 'a bulletin left synthesizing is found for resumption');
  const repo = new BroadcastRepository(d);
  repo.insertWithDeliveries(
    { id: 'bc-1', bulletinId: 'bt-1', priority: 'normal', target: { areaCodes: ['99'] }, schedule: null, startAt: 1000, windowMs: 500, status: 'approved', mediaBaseUrl: 'http://x', createdBy: null, createdAt: 900, resumeMode: 'restart', decidedBy: null, decidedAt: null, decisionReason: null, materializedUntil: 0 },
    [
      { deviceId: 'spk-1', occurrenceAt: 1000, commandId: '3b241101-e2bb-4255-8caf-4136c566a962' },
      { deviceId: 'spk-2', occurrenceAt: 1000, commandId: '3b241101-e2bb-4255-8caf-4136c566a963' },
    ],
  );
  t.same(repo.deliveries('bc-1', 1000).map((x) => x.state), ['queued', 'queued']);
  repo.transition({ broadcastId: 'bc-1', deviceId: 'spk-1', occurrenceAt: 1000, state: 'played', at: 1200, reason: null });
  t.equal(repo.delivery('bc-1', 'spk-1', 1000)!.state, 'played');
  t.equal(repo.byCommand('3b241101-e2bb-4255-8caf-4136c566a963', 'spk-2')!.deviceId, 'spk-2');
  t.equal(repo.byCommand('3b241101-e2bb-4255-8caf-4136c566a963', 'spk-1'), null, 'a command id is only found for its own device');
  t.same(repo.overdue(1400).map((x) => x.deviceId), [], 'within the window');
  t.same(repo.overdue(1600).map((x) => x.deviceId), ['spk-2'], 'past the window, only the one never delivered');
  t.same(repo.pendingForDevice('spk-2').map((x) => x.broadcastId), ['bc-1']);
  t.equal(repo.currentOccurrence('bc-1', 0), 1000);
  t.equal(repo.currentOccurrence('bc-1', 5000), 1000, 'after the last occurrence, the last one');
  const log = d.prepare('SELECT state, at FROM delivery_events').all();
  t.same(log, [{ state: 'played', at: 1200 }], 'the as-run log keeps the device time');
});

/**
 * Issue 20, the box page: the 15-minute health history each fold of heartbeat_log adds to (migration 26,
 * repos/device-health.ts), on a real SQLite file, with heartbeats stamped on a hand-moved clock.
 */
import t from 'tap';
import { join } from 'node:path';
import { HEALTH_BUCKET_MS, type Payload } from '@loaxa/shared';
import { heartbeatReadings } from '../../server/src/repos/device-health.js';
import { openDatabase } from '../../server/src/db/database.js';
import { DeviceRepository, type Telemetry } from '../../server/src/repos/devices.js';
import { tempDir } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';

const AREA = { code: '99', parentCode: null, name: 'P', type: 'tỉnh', level: 'province', valid_from: null, valid_until: null };

async function setup(t: Parameters<typeof tempDir>[0], boxes: number) {
  const dir = await tempDir(t, 'loaxa-health-');
  const db = openDatabase(join(dir, 'x.sqlite'));
  db.prepare("INSERT INTO areas (code, parent_code, name, type, level, imported_at) VALUES (@code, @parentCode, @name, @type, @level, 0)").run(AREA);
  const devices = new DeviceRepository(db);
  // Write-behind on, as in the server (device-ingest.ts): heartbeats wait in the log until a fold is asked for.
  devices.presence.start({ flushMs: 3600_000, maxBatch: 1_000_000, now: () => 0 });
  t.teardown(() => {
    devices.presence.stop();
    db.close();
  });
  const ids = Array.from({ length: boxes }, (_, i) => `spk-h${String(i).padStart(5, '0')}`);
  devices.insertMany(ids.map((id) => ({ id, name: id, areaCode: '99', lat: null, lon: null, secretHash: 'x', createdAt: 0 })));
  return { db, devices, ids };
}

/** A heartbeat as a simulated box sends it (firmware-sim), with the readings given. */
function beat(at: number, r: { temp?: number; signal?: number; volume?: number; clockOffsetMs?: number; diskFree?: number }): Telemetry {
  const payload = {
    uptimeS: 1000,
    volume: r.volume ?? 70,
    cacheBytes: 5_000_000,
    cacheItems: 3,
    clockOffsetMs: r.clockOffsetMs ?? 4,
    health: {
      cpuTempC: r.temp,
      load1: 0.3,
      diskFreeBytes: r.diskFree ?? 8e9,
      diskTotalBytes: 16e9,
      network: { type: 'cellular', signalPct: r.signal, operator: 'Viettel' },
      clockSynced: true,
    },
  };
  return { at, volume: payload.volume, cacheBytes: payload.cacheBytes, uptimeS: payload.uptimeS, agentVersion: '1.0.0', healthJson: JSON.stringify(payload), readings: heartbeatReadings(payload as Payload<'telemetry'>) };
}

t.test('each fold adds its heartbeats to the box’s 15-minute bucket: min, average and max survive several folds', async (t) => {
  const { devices, ids } = await setup(t, 2);
  const clock = fakeClock(Date.UTC(2026, 11, 7, 1, 0, 0));
  const [a, b] = ids as [string, string];
  devices.recordTelemetry(a, beat(clock.now(), { temp: 50, signal: 60, volume: 70 }));
  clock.advance(30_000);
  devices.recordTelemetry(a, beat(clock.now(), { temp: 54, signal: 80, volume: 70 }));
  devices.flushPending(true);
  clock.advance(30_000);
  // A second fold into the same bucket, and a heartbeat of another box.
  devices.recordTelemetry(a, beat(clock.now(), { temp: 58, volume: 40 }));
  devices.recordTelemetry(b, beat(clock.now(), { temp: 40 }));
  devices.flushPending(true);
  const history = devices.presence.history;
  const pa = history.read(a, clock.now() - 3600_000, clock.now() + 1);
  t.equal(pa.length, 1, 'one bucket for the quarter hour');
  t.equal(pa[0]!.at, new Date(Date.UTC(2026, 11, 7, 1, 0, 0)).toISOString(), 'the bucket starts on the quarter hour');
  t.equal(pa[0]!.samples, 3, 'three heartbeats heard');
  t.same(pa[0]!.readings.temp, { min: 50, avg: 54, max: 58 });
  t.same(pa[0]!.readings.signal, { min: 60, avg: 70, max: 80 }, 'a heartbeat without signal does not pull the average down');
  t.same(pa[0]!.readings.volume, { min: 40, avg: 60, max: 70 });
  t.same(pa[0]!.readings.diskFree, { min: 50, avg: 50, max: 50 }, 'free disk as a share of the card');
  t.equal(history.read(b, clock.now() - 3600_000, clock.now() + 1)[0]!.samples, 1, 'each box its own row');

  // The next quarter: a new bucket; a heartbeat without hardware readings (an older agent) still counts as heard.
  clock.advance(HEALTH_BUCKET_MS);
  const { readings: _none, ...bare } = beat(clock.now(), { temp: 99 });
  devices.recordTelemetry(a, bare);
  devices.flushPending(true);
  const two = history.read(a, clock.now() - 3600_000, clock.now() + 1);
  t.equal(two.length, 2);
  t.equal(two[1]!.samples, 1);
  t.equal(two[1]!.readings.temp, undefined, 'no temperature where none was sent');
  t.same(two[1]!.readings.volume, { min: 70, avg: 70, max: 70 }, 'the checked volume column counts');
  t.same(history.read(a, clock.now() + HEALTH_BUCKET_MS, clock.now() + 2 * HEALTH_BUCKET_MS), [], 'nothing after');
});

t.test('buckets older than 30 days are pruned at the next fold', async (t) => {
  const { db, devices, ids } = await setup(t, 1);
  const clock = fakeClock(Date.UTC(2026, 10, 1, 0, 0, 0));
  const id = ids[0]!;
  devices.recordTelemetry(id, beat(clock.now(), { temp: 45 }));
  devices.flushPending(true);
  clock.advance(29 * 86_400_000);
  devices.recordTelemetry(id, beat(clock.now(), { temp: 46 }));
  devices.flushPending(true);
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM device_health_history').get() as { n: number }).n;
  t.equal(count(), 2, 'kept within 30 days');
  clock.advance(2 * 86_400_000);
  devices.recordTelemetry(id, beat(clock.now(), { temp: 47 }));
  devices.flushPending(true);
  t.equal(count(), 2, 'the first bucket is gone, the newer two stay');
  t.same(
    devices.presence.history.read(id, clock.now() - 30 * 86_400_000, clock.now() + 1).map((p) => p.readings.temp?.max),
    [46, 47],
  );
});

t.test('quarters older than two days are merged into one row per hour, min, average and max kept', async (t) => {
  const { db, devices, ids } = await setup(t, 1);
  const id = ids[0]!;
  const start = Date.UTC(2026, 10, 1, 3, 0, 0);
  const clock = fakeClock(start);
  // Four quarters of 03:00, a heartbeat in each, then 04:00's first quarter; a fold after each, as every minute.
  for (const [i, temp] of [40, 50, 60, 70, 80].entries()) {
    devices.recordTelemetry(id, beat(clock.now(), { temp }));
    devices.flushPending(true);
    if (i < 4) clock.advance(HEALTH_BUCKET_MS);
  }
  const rows = () => (db.prepare('SELECT COUNT(*) AS n FROM device_health_history').get() as { n: number }).n;
  t.equal(rows(), 5, 'within two days every quarter is its own row');
  // Two days and an hour and a half later, heartbeats go on being folded: 03:00 is past the fine window, 04:00 not yet whole.
  clock.advance(2 * 86_400_000 + 90 * 60_000);
  devices.recordTelemetry(id, beat(clock.now(), { temp: 45 }));
  devices.flushPending(true);
  const old = devices.presence.history.read(id, start, start + 2 * 3600_000);
  t.same(old.map((p) => p.at), [new Date(start).toISOString(), new Date(start + 3600_000).toISOString()], '03:00 is one row; 04:00 keeps its quarter');
  t.equal(old[0]!.samples, 4, 'the hour counts every heartbeat of its quarters');
  t.same(old[0]!.readings.temp, { min: 40, avg: 55, max: 70 });
  t.equal(rows(), 3, 'the merged quarters are gone');
  // A later fold merges nothing twice.
  devices.recordTelemetry(id, beat(clock.now() + 1000, { temp: 46 }));
  devices.flushPending(true);
  t.same(devices.presence.history.read(id, start, start + 3600_000)[0]!.readings.temp, { min: 40, avg: 55, max: 70 }, 'the hour is unchanged by later folds');
});

t.test('a fold of 10,000 boxes’ heartbeats adds one row per box and bucket, whatever the number of heartbeats', async (t) => {
  const { db, devices, ids } = await setup(t, 10_000);
  const clock = fakeClock(Date.UTC(2026, 11, 7, 2, 0, 0));
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM device_health_history').get() as { n: number }).n;
  const round = () => {
    for (const [i, id] of ids.entries()) devices.recordTelemetry(id, beat(clock.now() + (i % 30) * 1000, { temp: 40 + (i % 20), signal: i % 100 }));
    devices.flushPending();
    // CPU time, not wall time: the figure should not depend on what else the machine runs.
    const c0 = process.cpuUsage();
    devices.flushPending(true);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const ms1 = round();
  t.equal(count(), 10_000, 'one row per box');
  clock.advance(60_000);
  const ms2 = round();
  t.equal(count(), 10_000, 'a second minute in the same quarter hour adds no rows');
  t.equal((db.prepare('SELECT SUM(samples) AS n FROM device_health_history').get() as { n: number }).n, 20_000, 'every heartbeat counted');
  clock.advance(HEALTH_BUCKET_MS);
  round();
  t.equal(count(), 20_000, 'the next quarter hour adds one row per box');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM heartbeat_log').get() as { n: number }).n, 0, 'the log is emptied as before');
  t.comment(`fold of 10,000 heartbeats with the history: ${ms1.toFixed(0)} ms CPU (new rows), ${ms2.toFixed(0)} ms CPU (merged into existing rows)`);
});

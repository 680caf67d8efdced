/**
 * Issue 8 § Make it fast: heartbeats, statuses and delivery reports are written in batches, the emergency
 * fan-out goes to the area topics before per-device work, and the per-device part is one query and one
 * transaction per thousand devices. These tests drive the delivery service directly with a recording bus.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeMessage, decodeMessage, topics } from '@loaxa/shared';
import { openDatabase } from '../../server/src/db/database.js';
import { AreaRepository } from '../../server/src/repos/areas.js';
import { DeviceRepository } from '../../server/src/repos/devices.js';
import { BroadcastRepository, type Broadcast, type Transition } from '../../server/src/repos/broadcasts.js';
import { BulletinRepository } from '../../server/src/repos/bulletins.js';
import { DeliveryService } from '../../server/src/services/delivery-service.js';
import { AgendaService } from '../../server/src/services/agenda-service.js';
import { Scheduler } from '../../server/src/services/scheduler.js';
import { ServerEvents, Coalescer } from '../../server/src/services/events.js';
import { tempDir } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import { waitFor } from '../helpers/wait.js';

type Test = Parameters<typeof tempDir>[0];

async function setup(t: Test, n: number, opts: { ingestFlushMs?: number; ingestMaxBatch?: number; foldEveryMs?: number; file?: string; now?: () => number } = {}) {
  const file = opts.file ?? join(await tempDir(t), 'x.sqlite');
  const db = openDatabase(file);
  const areas = new AreaRepository(db);
  areas.upsertMany([
    { code: '99', parentCode: null, name: 'Tỉnh', type: 'tỉnh', level: 'province', validFrom: null, validUntil: null },
    { code: '99001', parentCode: '99', name: 'Xã A', type: 'xã', level: 'commune', validFrom: null, validUntil: null },
    { code: '99002', parentCode: '99', name: 'Xã B', type: 'xã', level: 'commune', validFrom: null, validUntil: null },
  ]);
  const devices = new DeviceRepository(db, opts.foldEveryMs);
  const ids = Array.from({ length: n }, (_, i) => `spk-${String(i).padStart(4, '0')}`);
  if (!opts.file) devices.insertMany(ids.map((id, i) => ({ id, name: id, areaCode: i % 2 ? '99002' : '99001', lat: null, lon: null, secretHash: 'x', createdAt: 1 })));
  const bulletins = new BulletinRepository(db);
  bulletins.insert({ id: 'bt-1', title: 'Báo động', text: 'x', category: null, voice: 'vi', speed: 1, createdBy: null, areaCode: null });
  bulletins.markReady('bt-1', { sha256: 'a'.repeat(64), bytes: 1000, durationMs: 5000, engine: 'test', lufs: null, truePeakDb: null });
  const broadcasts = new BroadcastRepository(db);
  const published: Array<{ topic: string; payload: string }> = [];
  const bus = { publish: async (topic: string, payload: string) => void published.push({ topic, payload }), subscribe: async () => undefined };
  const events = new ServerEvents();
  const emitted: string[] = [];
  events.on('delivery', (e) => emitted.push(`${e.deviceId}:${e.state}`));
  const logger = pino({ level: 'silent' });
  const delivery = new DeliveryService({ bus, broadcasts, bulletins, devices, events, logger, ingestFlushMs: opts.ingestFlushMs ?? 60_000, ingestMaxBatch: opts.ingestMaxBatch ?? 10_000, ...(opts.now ? { now: opts.now } : {}) });
  const agenda = new AgendaService({ db, bus, broadcasts, devices, delivery, logger });
  delivery.onReconciled = (deviceIds, held) => agenda.syncReconnected(deviceIds, held);
  const scheduler = new Scheduler({ broadcasts, devices, areas, delivery, logger, agenda });
  await delivery.start();
  t.teardown(() => {
    delivery.stop();
    db.close();
  });
  // Every transitionMany call is one transaction: record their sizes.
  const transactions: number[] = [];
  const original = broadcasts.transitionMany.bind(broadcasts);
  broadcasts.transitionMany = (list: readonly Transition[], receivedAt?: number) => {
    transactions.push(list.length);
    original(list, receivedAt);
  };
  const raw = (id: string) => db.prepare('SELECT online, volume, heartbeats, last_seen_at, agent_version FROM devices WHERE id = ?').get(id) as { online: number; volume: number | null; heartbeats: number; last_seen_at: number | null; agent_version: string | null };
  // Heartbeats in the database for a device: folded into its row, or appended to the log.
  const stored = (id: string) => raw(id).heartbeats + (db.prepare('SELECT COUNT(*) AS n FROM heartbeat_log WHERE device_id = ?').get(id) as { n: number }).n;
  const logRows = () => (db.prepare('SELECT COUNT(*) AS n FROM heartbeat_log').get() as { n: number }).n;
  return { db, file, devices, broadcasts, delivery, agenda, scheduler, ids, published, emitted, transactions, raw, stored, logRows };
}

const heartbeat = (volume: number, agentVersion?: string) =>
  Buffer.from(encodeMessage('telemetry', { uptimeS: 10, volume, cacheBytes: 0, cacheItems: 0, ...(agentVersion ? { agentVersion } : {}) }));
const status = (state: 'online' | 'offline', agentVersion?: string) => Buffer.from(encodeMessage('status', { state, ...(agentVersion ? { agentVersion } : {}) }));

function emergency(now: number): Broadcast {
  return {
    id: 'bc-alarm', bulletinId: 'bt-1', priority: 'emergency', target: { areaCodes: ['99'] }, schedule: null, startAt: now, windowMs: 300_000, status: 'approved',
    mediaBaseUrl: 'http://127.0.0.1:8080', createdBy: null, createdAt: now, resumeMode: 'restart', decidedBy: null, decidedAt: null, decisionReason: null, materializedUntil: 0,
  };
}

t.test('batched heartbeats: every one is stored and counted, and reads see them before the batch is written', async (t) => {
  const { delivery, devices, ids, stored, logRows, raw } = await setup(t, 200);
  for (let round = 1; round <= 3; round++) for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(40 + round));
  t.equal(stored(ids[7]!), 0, 'nothing written yet: the batch waits for its timer');
  t.equal(devices.pendingCount(), 600, 'every heartbeat waits to be appended');
  delivery.flush();
  t.equal(devices.pendingCount(), 0);
  t.equal(logRows(), 600, 'the batch appended them to the log, one row each');
  t.equal(raw(ids[7]!).heartbeats, 0, 'not folded into the devices yet');
  t.equal(devices.heartbeatTotal(), 600);
  for (let round = 4; round <= 5; round++) for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(40 + round));
  const seen = devices.get(ids[7]!)!;
  t.equal(seen.heartbeats, 5, 'a read of a device writes and folds what waits first');
  t.equal(seen.volume, 45, 'the latest heartbeat’s readings');
  t.ok(seen.lastSeenAt, 'heard from');
  t.equal(logRows(), 0, 'the folded rows are gone from the log');
  t.equal(devices.pendingCount(), 0);
  t.equal(raw(ids[8]!).heartbeats, 5, 'one fold takes every device');
  t.equal((devices.list({ limit: 1000 }).items.filter((d) => d.heartbeats === 5 && d.volume === 45)).length, 200, '5 per device');
  t.equal(devices.heartbeatTotal(), 1000, 'each counted once');
  const m = delivery.metrics.snapshot();
  t.equal(m.heartbeats.received, 1000);
  t.equal(m.heartbeats.stored, 1000);
  t.equal(m.heartbeats.pending, 0);
  t.equal(m.heartbeats.writeLatency.count, 1000, 'a write latency for every heartbeat');
  t.type(m.heartbeats.writeLatency.p99Ms, 'number');
  t.equal(m.batches.presence.count, 2, 'one transaction for each of the two batches');
});

t.test('statuses and heartbeats of one device within one batch add up as if written one by one', async (t) => {
  const clock = fakeClock();
  const { delivery, devices, ids, raw, stored } = await setup(t, 1, { now: clock.now });
  const id = ids[0]!;
  // A few milliseconds apart: the fold tells "before" from "after" by the server's clock.
  const tick = async () => void clock.advance(3);
  delivery.onDeviceMessage(topics.deviceStatus(id), status('online', '1.0.0'));
  await tick();
  delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(30));
  delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(31, '1.0.1'));
  await tick();
  delivery.onDeviceMessage(topics.deviceStatus(id), status('offline'));
  await tick();
  delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(32));
  t.equal(stored(id), 0);
  t.notOk(devices.isOnline(id), 'presence answers from what is pending, without writing it');
  delivery.flush();
  t.equal(stored(id), 3, 'appended');
  t.same(raw(id), { online: 0, volume: null, heartbeats: 0, last_seen_at: raw(id).last_seen_at, agent_version: '1.0.0' }, 'the statuses written, the heartbeats not folded yet');
  devices.list({ limit: 10 });
  // The version: the latest one given, by a heartbeat or a status (the offline status gave none).
  t.same(raw(id), { online: 0, volume: 32, heartbeats: 3, last_seen_at: raw(id).last_seen_at, agent_version: '1.0.1' }, 'the fold');
  t.ok(raw(id).last_seen_at! > 0);

  // An update: the box restarts on 1.0.2 and says so in its status; a heartbeat of the old version sent
  // before it, still to be folded, must not take the version back; a later one gives the version again.
  await tick();
  delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(33, '1.0.1'));
  await tick();
  delivery.onDeviceMessage(topics.deviceStatus(id), status('online', '1.0.2'));
  t.equal(devices.get(id)!.agentVersion, '1.0.2');
  t.same(raw(id), { online: 1, volume: 33, heartbeats: 4, last_seen_at: raw(id).last_seen_at, agent_version: '1.0.2' });
  await tick();
  delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(34, '1.0.3'));
  t.equal(devices.get(id)!.agentVersion, '1.0.3');
});

t.test('heartbeats are folded into the devices about once per interval, not at every batch', async (t) => {
  // The fold interval is on a fake clock; the flush timer stays real (10 ms), and is waited for.
  const clock = fakeClock();
  const { delivery, ids, raw, logRows } = await setup(t, 3, { ingestFlushMs: 10, foldEveryMs: 500, now: clock.now });
  for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(20));
  await waitFor('the timer’s batch', () => (logRows() > 0 ? true : null), 2000, 5);
  t.equal(logRows(), 3, 'the timer appended them');
  t.equal(raw(ids[0]!).heartbeats, 0);
  clock.advance(500);
  for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(21));
  await waitFor('the next timer’s batch', () => (raw(ids[0]!).heartbeats > 0 ? true : null), 2000, 5);
  t.equal(logRows(), 0, 'the first batch past the interval folded the log');
  t.same(ids.map((id) => [raw(id).heartbeats, raw(id).volume]), ids.map(() => [2, 21]));
});

t.test('a heartbeat with a key twice is stored with the readings that were checked', async (t) => {
  const { delivery, devices, ids, raw } = await setup(t, 1);
  const id = ids[0]!;
  const text = encodeMessage('telemetry', { uptimeS: 10, volume: 50, cacheBytes: 0, cacheItems: 0, agentVersion: '1.0.0' }).toString();
  // JSON.parse keeps the last of two equal keys, SQLite's json_extract the first: the check saw 50 and 1.0.0.
  const twice = text.replace('"volume":50', '"volume":"loud","volume":50').replace('"agentVersion":"1.0.0"', '"agentVersion":{"a":1},"agentVersion":"1.0.0"');
  t.not(twice, text);
  delivery.onDeviceMessage(topics.deviceTelemetry(id), Buffer.from(twice));
  const d = devices.get(id)!;
  t.same([d.heartbeats, d.volume, d.agentVersion], [1, 50, '1.0.0']);
  t.same([raw(id).volume, raw(id).agent_version], [50, '1.0.0']);
});

t.test('a fold that fails loses nothing: the heartbeats wait in the log and the next fold counts each once', async (t) => {
  const { delivery, devices, db, ids, raw, logRows } = await setup(t, 2);
  for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(70));
  db.exec(`CREATE TEMP TRIGGER no_fold BEFORE DELETE ON heartbeat_log BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
  t.throws(() => devices.list({ limit: 10 }), /disk trouble/);
  t.equal(logRows(), 2, 'appended before the fold was tried');
  t.equal(raw(ids[0]!).heartbeats, 0, 'the failed fold left the rows as they were');
  for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(71));
  db.exec('DROP TRIGGER no_fold');
  t.same(devices.list({ limit: 10 }).items.map((d) => [d.heartbeats, d.volume]), [[2, 71], [2, 71]]);
  t.equal(logRows(), 0);
  t.equal(devices.heartbeatTotal(), 4);
});

t.test('heartbeats a crash left in the log are folded at the next start, and none is counted twice', async (t) => {
  // Started a minute back, so that the damaged row written below at Date.now() is the latest.
  const clock = fakeClock(Date.now() - 60_000);
  const first = await setup(t, 2, { ingestFlushMs: 60_000, now: clock.now });
  const [a, b] = first.ids as [string, string];
  first.delivery.onDeviceMessage(topics.deviceStatus(a), status('online', '2.0.0'));
  clock.advance(3);
  first.delivery.onDeviceMessage(topics.deviceTelemetry(a), heartbeat(10, '2.0.0'));
  first.delivery.onDeviceMessage(topics.deviceTelemetry(b), heartbeat(11, '1.9.0'));
  first.devices.list({ limit: 10 }); // folded: a has 1 in its row
  first.delivery.onDeviceMessage(topics.deviceTelemetry(a), heartbeat(12, '2.0.0'));
  first.delivery.onDeviceMessage(topics.deviceTelemetry(b), heartbeat(13, '1.9.0'));
  first.delivery.onDeviceMessage(topics.deviceTelemetry(b), heartbeat(14, '1.9.0'));
  clock.advance(5);
  first.delivery.onDeviceMessage(topics.deviceStatus(b), status('online', '2.0.0')); // b updated after its heartbeats
  first.devices.flushPending(); // appended, not folded: then the process dies
  first.db.prepare(`INSERT INTO heartbeat_log (device_id, at, health_json) VALUES (?, ?, 'not json')`).run(a, Date.now());
  t.equal(first.logRows(), 4);
  t.equal(first.devices.heartbeatTotal(), 6);

  const again = new DeviceRepository(first.db);
  t.equal(again.recoverLog(), 4, 'the four rows of the log');
  t.equal(first.logRows(), 0);
  t.equal(again.heartbeatTotal(), 6, 'every heartbeat counted once, the damaged one too');
  t.same([first.raw(a).heartbeats, first.raw(a).volume, first.raw(a).agent_version], [3, 10, '2.0.0'], 'the damaged row, the latest, counts; the readings stay those last folded');
  t.same(first.devices.get(a)!.health, { uptimeS: 10, volume: 10, cacheBytes: 0, cacheItems: 0, agentVersion: '2.0.0' }, 'and the health too');
  t.same([first.raw(b).heartbeats, first.raw(b).volume, first.raw(b).agent_version], [3, 14, '2.0.0'], 'a status after the heartbeats keeps its version');
  t.equal(again.recoverLog(), 0, 'nothing left to recover');
});

t.test('a full batch is written at once, and stop() writes what waits and then writes through', async (t) => {
  const { delivery, ids, raw, stored, logRows } = await setup(t, 30, { ingestMaxBatch: 10 });
  for (const id of ids.slice(0, 25)) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(50));
  t.equal(stored(ids[0]!), 1, 'the first ten were written when the batch filled');
  t.equal(logRows(), 20, 'two batches of ten');
  t.equal(stored(ids[24]!), 0, 'the last five wait');
  delivery.stop();
  t.equal(raw(ids[24]!).heartbeats, 1, 'stop() wrote them and folded them all');
  t.equal(logRows(), 0);
  delivery.onDeviceMessage(topics.deviceTelemetry(ids[29]!), heartbeat(51));
  t.equal(raw(ids[29]!).heartbeats, 1, 'after stop every heartbeat is written as it arrives');
});

t.test('the timer writes a batch within the flush interval', async (t) => {
  const { delivery, ids, stored } = await setup(t, 5, { ingestFlushMs: 30 });
  for (const id of ids) delivery.onDeviceMessage(topics.deviceTelemetry(id), heartbeat(60));
  t.equal(stored(ids[0]!), 0);
  // The timer is real (DeliveryService takes no timer to hand on to presence): waited for, up to 2 s.
  await waitFor('the timer’s batch', () => (stored(ids[4]!) > 0 ? true : null), 2000, 5);
  t.equal(stored(ids[4]!), 1);
  t.equal(delivery.metrics.snapshot().heartbeats.stored, 5);
});

t.test('an emergency reaches the area topic first; every online box is marked sent in one transaction', async (t) => {
  const { delivery, devices, broadcasts, scheduler, agenda, ids, published, emitted, transactions, db } = await setup(t, 300);
  const online = ids.filter((_, i) => i % 3 !== 0); // 200 online, 100 offline
  for (const id of online) devices.setStatus(id, true, Date.now(), null);
  delivery.flush();
  const b = emergency(Date.now());
  broadcasts.insertWithDeliveries(b, []);
  await delivery.fanOutFirst(b);
  t.equal(published.length, 1, 'the area topic before any delivery exists');
  t.equal(published[0]!.topic, topics.areaCmd('99'));
  t.equal(scheduler.materialize(broadcasts.get(b.id)!), 300, 'one delivery per box, in one transaction');
  t.equal(await delivery.dispatchDue(), 200);
  t.equal(published.filter((p) => p.topic === topics.areaCmd('99')).length, 1, 'the area is not sent twice');
  const perDevice = published.filter((p) => p.topic.endsWith('/cmd') && p.topic !== topics.areaCmd('99'));
  t.equal(perDevice.length, 200, 'one play per online box');
  const play = decodeMessage(perDevice[0]!.payload, ['play']);
  t.ok(play.ok, 'each per-device command passes its schema on the way in');
  t.same(transactions, [200], 'all 200 `sent` states in one transaction');
  t.equal(emitted.filter((e) => e.endsWith(':sent')).length, 200);
  const states = db.prepare('SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state ORDER BY state').all();
  t.same(states, [{ state: 'queued', n: 100 }, { state: 'sent', n: 200 }], 'offline boxes wait for their reconnect');
  t.equal((db.prepare("SELECT COUNT(*) AS n FROM delivery_events WHERE state = 'sent'").get() as { n: number }).n, 200, 'the as-run log has every one');

  // 200 boxes acknowledge at once (plus a QoS 1 redelivery): one batch, one transaction, nothing lost.
  transactions.length = 0;
  const ack = (_id: string) => Buffer.from(encodeMessage('event', { kind: 'delivery', broadcastId: b.id, occurrenceAt: b.startAt, state: 'acknowledged', at: Date.now() }));
  for (const id of online) delivery.onDeviceMessage(topics.deviceEvent(id), ack(id));
  delivery.onDeviceMessage(topics.deviceEvent(online[0]!), ack(online[0]!));
  t.equal(broadcasts.delivery(b.id, online[5]!, b.startAt)!.state, 'sent', 'reports wait a few ms for their batch');
  await waitFor('the batch of reports', () => (transactions.length > 0 ? true : null), 2000, 5);
  t.same(transactions, [200]);
  t.equal(broadcasts.delivery(b.id, online[5]!, b.startAt)!.state, 'acknowledged');
  const m = delivery.metrics.snapshot().deliveryReports;
  t.same({ received: m.received, stored: m.stored, ignored: m.ignored }, { received: 201, stored: 201, ignored: 1 }, 'the repeat is counted as ignored');

  // The offline boxes come online together: one reconcile for all of them, each gets its play and its agenda.
  published.length = 0;
  for (const id of ids.filter((_, i) => i % 3 === 0)) delivery.onDeviceMessage(topics.deviceStatus(id), status('online'));
  await waitFor('the reconcile', () => (published.filter((p) => p.payload.includes('"type":"sync-agenda"')).length >= 100 ? true : null), 2000, 5);
  t.equal(published.filter((p) => p.payload.includes('"type":"play"')).length, 100, 'the pending play re-sent to each');
  t.equal(published.filter((p) => p.payload.includes('"type":"sync-agenda"')).length, 100, 'and its agenda');
  t.equal((db.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'sent'").get() as { n: number }).n, 100);
  t.equal(await agenda.flush(), 200, 'the agendas of the boxes online at the broadcast, built together');
});

t.test('a scheduler pass writes only new occurrences: nothing when nothing changed, everything for a new box', async (t) => {
  const { scheduler, broadcasts, devices } = await setup(t, 20);
  const written: number[] = [];
  const insert = broadcasts.insertDeliveries.bind(broadcasts);
  broadcasts.insertDeliveries = (id, rows, now) => {
    written.push(rows.length);
    return insert(id, rows, now);
  };
  const b: Broadcast = { ...emergency(Date.now()), id: 'bc-daily', priority: 'normal', schedule: { kind: 'daily', times: ['05:30', '17:00'] } };
  broadcasts.insertWithDeliveries(b, []);
  const first = scheduler.materialize(b);
  t.ok(first >= 20 * 14, `a week of twice-daily items for 20 boxes (${first})`);
  t.equal(scheduler.materialize(b), 0);
  t.equal(written.at(-1), 0, 'the second pass wrote no row at all');
  devices.insert({ id: 'spk-new', name: 'mới', areaCode: '99001', lat: null, lon: null, secretHash: 'x', createdAt: 2 });
  t.equal(scheduler.materialize(b), first / 20, 'a box installed since joins every occurrence already written');
  t.equal(scheduler.materialize(b), 0);
});

t.test('live events are coalesced: one hand-over per interval, the latest per key, in order', async (t) => {
  const got: string[][] = [];
  const clock = fakeClock();
  const c = new Coalescer<{ k: string; v: number }>((x) => x.k, (items) => got.push(items.map((i) => `${i.k}=${i.v}`)), 20, clock.schedule);
  c.push({ k: 'a', v: 1 });
  c.push({ k: 'b', v: 1 });
  clock.advance(19);
  c.push({ k: 'a', v: 2 });
  t.same(got, [], 'nothing sent at once, nor before the interval');
  clock.advance(1);
  t.same(got, [['b=1', 'a=2']]);
  c.push({ k: 'c', v: 1 });
  c.close();
  clock.advance(60);
  t.equal(got.length, 1, 'a closed stream sends nothing more');
  t.equal(clock.pending(), 0, 'and keeps no timer');
});

t.test('a report the database refuses costs only itself, not the rest of its batch', async (t) => {
  const { delivery, devices, broadcasts, scheduler, ids, db } = await setup(t, 4);
  for (const id of ids) devices.setStatus(id, true, Date.now(), null);
  delivery.flush();
  const b = emergency(Date.now());
  broadcasts.insertWithDeliveries(b, []);
  scheduler.materialize(broadcasts.get(b.id)!);
  await delivery.dispatchDue();
  // A database that refuses one row (a full disk page, a constraint): the others must still land.
  db.exec(`CREATE TRIGGER refuse_one BEFORE INSERT ON delivery_events WHEN NEW.device_id = '${ids[1]}' AND NEW.state = 'acknowledged' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
  for (const id of ids) delivery.onDeviceMessage(topics.deviceEvent(id), Buffer.from(encodeMessage('event', { kind: 'delivery', broadcastId: b.id, occurrenceAt: b.startAt, state: 'acknowledged', at: Date.now() })));
  await waitFor('the batch of reports', () => (broadcasts.delivery(b.id, ids[0]!, b.startAt)!.state === 'acknowledged' ? true : null), 2000, 5);
  t.same(ids.map((id) => broadcasts.delivery(b.id, id, b.startAt)!.state), ['acknowledged', 'sent', 'acknowledged', 'acknowledged'], 'three of four stored');
  const m = delivery.metrics.snapshot().deliveryReports;
  t.same({ received: m.received, stored: m.stored, lost: m.lost }, { received: 4, stored: 3, lost: 1 }, 'and counted as such');
});

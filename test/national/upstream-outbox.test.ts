/**
 * The upstream link's outbox (server/src/national/link/outbox.ts) on a real SQLite file: a status round of
 * 10,000 boxes is one transaction and, while the province is away, each box keeps only its newest status
 * waiting (a week offline must not queue 200 million stale statuses ahead of the play logs); play logs and acks
 * are never coalesced and a repeated airing record is queued once; the order is the order of appending; what is
 * sent or refused keeps its answer; pruning forgets only what is done and old. And the event source: what a
 * heartbeat says becomes TrangThaiKetNoi, TrangThaiHoatDong and the device readings.
 */
import t from 'tap';
import { join } from 'node:path';
import type { BoxStatusEvent, UpstreamEvent } from '@loaxa/shared';
import { openDatabase } from '../../server/src/db/database.js';
import { NationalOutboxRepository } from '../../server/src/national/link/outbox.js';
import { airingEvent, connectionText, statusEvent } from '../../server/src/national/link/event-source.js';
import type { BoxReading } from '../../server/src/national/link/readings.js';
import { tempDir } from '../helpers/server.js';

const source = { id: '99003', name: 'Xã Tân Lập' };
const vendor = { code: 'LOAXA', name: 'Loa Xã' };
const reading = (i: number, over: Partial<BoxReading> = {}): BoxReading => ({
  id: `spk_${i}`,
  nationalId: null,
  name: `Loa ${i}`,
  areaCode: '99003',
  areaName: 'Xã Tân Lập',
  lat: null,
  lon: null,
  online: true,
  volume: 70,
  agentVersion: '0.3.1',
  faulty: false,
  cpuTempC: null,
  diskFreeBytes: null,
  diskTotalBytes: null,
  networkType: 'ethernet',
  accessTech: null,
  signalPct: null,
  playingTitle: null,
  ...over,
});

t.test('10,000 statuses a round in one transaction, one waiting per box; airing records never dropped, once each', async (t) => {
  const dir = await tempDir(t);
  const db = openDatabase(join(dir, 'loaxa.sqlite'));
  t.teardown(() => db.close());
  const outbox = new NationalOutboxRepository(db);
  const round = (at: number) => Array.from({ length: 10_000 }, (_, i) => ({ event: statusEvent(reading(i), at, source, vendor) }));
  const t0 = performance.now();
  t.equal(outbox.append(round(1_800_000_000_000), 1_800_000_000_000), 10_000);
  const first = performance.now() - t0;
  const ack: UpstreamEvent = { kind: 'schedule-ack', at: 1_800_000_010_000, source, bulletinId: 'BT-1', accepted: true, detail: 'inbox' };
  outbox.append([{ event: ack }], 1_800_000_010_000);
  const t1 = performance.now();
  outbox.append(round(1_800_000_030_000), 1_800_000_030_000);
  const second = performance.now() - t1;
  t.comment(`10,000 statuses appended in ${first.toFixed(0)} ms, a second round replacing them in ${second.toFixed(0)} ms`);
  t.ok(second < 5000, 'a round takes seconds at most, not minutes');
  const c = outbox.counts();
  t.equal(c.pending, 10_001, 'each box’s newer status replaced the older one; the ack stays');
  const first0 = outbox.head()!;
  t.equal(first0.seq, 1, 'in the older one’s place: a box late in the order is not pushed back at every round');
  t.equal((first0.event as BoxStatusEvent).at, 1_800_000_030_000, 'holding the newest status');
  t.same(outbox.list({ state: 'pending', limit: 1 })[0]!.event, ack, 'the ack behind them');

  // A status replaced while it was being sent is not marked sent for the older one.
  outbox.append([{ event: statusEvent(reading(0), 1_800_000_031_000, source, vendor) }], 1_800_000_031_000);
  outbox.markSent(first0, '{"TrangThaiGui":0}', 1_800_000_031_500);
  t.match(outbox.head(), { seq: 1, state: 'pending', event: { at: 1_800_000_031_000 } }, 'the newer one still goes');
  outbox.markSent(outbox.head()!, '{"TrangThaiGui":0}', 1_800_000_032_000);
  db.transaction(() => {
    for (let seq = 2; seq <= 10_000; seq++) outbox.markSent(outbox.head()!, '{"TrangThaiGui":0}', 1_800_000_032_000);
  })();
  const head = outbox.head()!;
  t.same(head.event, ack, 'the statuses sent, the ack is next');

  // A play log queued twice (a box's report delivered again) is one record.
  const start = airingEvent(
    { broadcastId: 'bc_1', deviceId: 'spk_1', occurrenceAt: 1_800_000_000_000, state: 'playing', at: 1_800_000_000_100, reason: null },
    { box: statusEvent(reading(1), 0, source, vendor).box, facts: { priority: 'emergency', bulletinId: 'bu_1', upstreamId: 'BT-9', title: 'Bão số 3', text: 'Bão số 3 đang vào bờ.', category: 'unscheduled-news', durationMs: 61_400, createdAt: 1_799_999_000_000, source: 'text', relaySourceName: null }, startedAt: null, source, author: source.name, now: 1_800_000_000_200 },
  )!;
  t.match(start, { kind: 'airing-start', priority: 'emergency', startedAt: 1_800_000_000_100, relay: null, bulletin: { id: 'BT-9', contentType: 'audio', durationS: 61, summary: 'Bão số 3 đang vào bờ.', category: 'unscheduled-news' } }, 'a bulletin from the province goes up under its BanTinId');
  t.equal(outbox.append([{ event: start, dedupeKey: `airing-start:${start.kind === 'airing-start' ? start.airingId : ''}` }], 1), 1);
  t.equal(outbox.append([{ event: start, dedupeKey: `airing-start:${start.kind === 'airing-start' ? start.airingId : ''}` }], 2), 0, 'queued once');

  // Done and refused keep their answers; pruning forgets old sent statuses first, never what waits.
  outbox.markSent(head, '{"TrangThaiGui":0,"MoTa":""}', 1_800_000_040_000);
  t.equal(outbox.append([{ event: statusEvent(reading(5), 1_800_000_045_000, source, vendor) }], 1_800_000_045_000), 1, 'a box whose status was sent queues its next one');
  t.equal(outbox.append([{ event: statusEvent(reading(6), 1_800_000_045_000, source, vendor) }], 1_800_000_045_000), 1);
  t.equal(outbox.list({ state: 'sent', limit: 20_000 }).length, 10_001, 'and the sent ones stay sent');
  outbox.markRefused(outbox.head()!, '{"TrangThaiGui":1,"MoTa":"Sai"}', 'Sai', 1_800_000_040_000);
  outbox.markFailed(outbox.head()!.seq, 'Quá thời gian chờ', 1_800_000_050_000);
  t.match(outbox.head(), { attempts: 1, lastError: 'Quá thời gian chờ', nextAttemptAt: 1_800_000_050_000 });
  t.match(outbox.list({ state: 'refused', limit: 10 }), [{ answer: /Sai/, lastError: 'Sai' }]);
  t.equal(outbox.prune(1_800_000_032_000 + 3600_001, 3600_000, 30 * 86_400_000), 10_000, 'sent statuses go after an hour; the sent ack and the refusal stay');
  t.equal(outbox.prune(1_800_000_040_000 + 31 * 86_400_000, 3600_000, 30 * 86_400_000), 2, 'they go after 30 days');
  t.equal(outbox.counts().pending, 0 + 1 + 1, 'what waits is never pruned (a status, the play log)');
});

t.test('what a heartbeat says becomes the national status', async (t) => {
  t.equal(connectionText({ online: true, networkType: 'cellular', accessTech: 'lte', signalPct: 70 }), '4G,70%');
  t.equal(connectionText({ online: true, networkType: 'cellular', accessTech: 'umts', signalPct: null }), '3G');
  t.equal(connectionText({ online: true, networkType: 'wifi', accessTech: null, signalPct: 80 }), 'WIFI,80%');
  t.equal(connectionText({ online: true, networkType: 'ethernet', accessTech: null, signalPct: null }), 'ETHERNET');
  t.equal(connectionText({ online: false, networkType: 'wifi', accessTech: null, signalPct: 80 }), 'OFFLINE');
  t.equal(statusEvent(reading(1, { faulty: true }), 0, source, vendor).operating, 'fault');
  t.equal(statusEvent(reading(1, { playingTitle: 'Bản tin trưa' }), 0, source, vendor).operating, 'playing');
  t.equal(statusEvent(reading(1, { online: false, playingTitle: 'Bản tin trưa' }), 0, source, vendor).nowPlaying, '', 'an offline box plays nothing we know of');
  t.match(statusEvent(reading(1, { nationalId: '356938035643809', diskFreeBytes: 1, diskTotalBytes: 3, volume: null }), 0, source, vendor), { box: { nationalId: '356938035643809' }, storageUsedPct: 66.7, volume: 0 });
});

import t from 'tap';
import { syncAgendaPayloadSchema } from '@loaxa/shared';
import { agendaCommandId, agendaVersion, assembleAgenda, buildAgenda, type AgendaBroadcast } from '../../../server/src/scheduling/agenda.js';

const MIN = 60_000;
const vn = (local: string): number => Date.parse(`${local}:00+07:00`);
const sha = (c: string): string => c.repeat(64);
const media = (c: string) => ({ sha256: sha(c), url: `http://server.test/media/${sha(c)}`, durationMs: 3 * MIN });
const morningEvening: AgendaBroadcast = { broadcastId: 'news', priority: 'normal', schedule: { kind: 'daily', times: ['05:00', '17:00'] }, media: media('a'), title: 'Bản tin' };
const storm: AgendaBroadcast = { broadcastId: 'storm', priority: 'emergency', schedule: { kind: 'once', at: '2026-03-10T17:00:00+07:00' }, media: media('b') };
const NOW = vn('2026-03-10T04:00');

t.test('seven days of occurrences as valid sync-agenda items', async (t) => {
  const a = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening, storm], now: NOW });
  t.equal(a.items.length, 15, '7 days × 2 slots + 1 emergency');
  t.equal(a.items[0]!.startAt, vn('2026-03-10T05:00'));
  t.equal(a.items.at(-1)!.startAt, vn('2026-03-16T17:00'), 'nothing at or past now + 7 days');
  t.same(a.items.slice(1, 3).map((i) => i.broadcastId), ['storm', 'news'], 'same start: the emergency first');
  for (const i of a.items) t.equal(i.startAt, i.occurrenceAt, 'all devices start at the occurrence instant');
  t.equal(a.items[0]!.windowMs, 5 * MIN, 'default window');
  t.equal(a.items[0]!.title, 'Bản tin');
  t.equal(a.version, 1);
  t.equal(a.generatedAt, NOW);
  t.notOk(a.truncated);
  const payload = syncAgendaPayloadSchema.parse({ version: a.version, generatedAt: a.generatedAt, items: a.items });
  t.equal(payload.items.length, 15, 'the payload schema accepts it, command ids included');
});

t.test('command ids are UUIDs stable per broadcast, occurrence and device', async (t) => {
  const id = agendaCommandId('news', vn('2026-03-10T05:00'), 'spk-a');
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(agendaCommandId('news', vn('2026-03-10T05:00'), 'spk-a'), id);
  const others = [
    agendaCommandId('news', vn('2026-03-10T05:00'), 'spk-b'),
    agendaCommandId('news', vn('2026-03-10T17:00'), 'spk-a'),
    agendaCommandId('news-2', vn('2026-03-10T05:00'), 'spk-a'),
  ];
  t.equal(new Set([id, ...others]).size, 4);
  const a = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening], now: NOW });
  const b = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening], now: NOW + 30 * MIN });
  t.equal(a.items[0]!.commandId, b.items[0]!.commandId, 'a rebuilt agenda names the same airing the same way');
  t.equal(a.items[0]!.commandId, id);
});

t.test('the version only moves when the items change', async (t) => {
  const first = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening, storm], now: NOW });
  const prev = { version: first.version, hash: first.hash };
  const again = buildAgenda({ deviceId: 'spk-a', broadcasts: [storm, morningEvening], now: NOW + 30 * MIN, previous: prev });
  t.equal(again.version, first.version, 'same items later and in another input order keep the version');
  t.equal(again.hash, first.hash);
  t.not(again.generatedAt, first.generatedAt);
  const newAudio = buildAgenda({ deviceId: 'spk-a', broadcasts: [{ ...morningEvening, media: media('c') }, storm], now: NOW, previous: prev });
  t.equal(newAudio.version, 2, 'new audio content → next version');
  const cancelled = buildAgenda({
    deviceId: 'spk-a', now: NOW, previous: prev,
    broadcasts: [{ ...morningEvening, exceptions: [{ occurrenceAt: vn('2026-03-12T05:00'), action: 'cancel' }] }, storm],
  });
  t.equal(cancelled.version, 2, 'a cancelled occurrence → next version');
  t.equal(cancelled.items.length, 14);
  const other = buildAgenda({ deviceId: 'spk-b', broadcasts: [morningEvening, storm], now: NOW, previous: prev });
  t.not(other.hash, first.hash, 'command ids are per device, so is the hash');
});

t.test('an occurrence stays while its window is open', async (t) => {
  const at5 = vn('2026-03-10T05:00');
  const started3 = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening], now: at5 + 3 * MIN });
  t.equal(started3.items[0]!.occurrenceAt, at5, 'started 3 minutes ago: a late device may still start it');
  const started5 = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening], now: at5 + 5 * MIN });
  t.equal(started5.items[0]!.occurrenceAt, vn('2026-03-10T17:00'), 'its 5-minute window has closed');
  const wide = buildAgenda({ deviceId: 'spk-a', broadcasts: [{ ...morningEvening, windowMs: 30 * MIN }], now: at5 + 20 * MIN });
  t.equal(wide.items[0]!.occurrenceAt, at5, 'a wider window keeps it longer');
});

t.test('an oversized agenda keeps the soonest items within the schema limit', async (t) => {
  const times = Array.from({ length: 48 }, (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
  const many: AgendaBroadcast[] = Array.from({ length: 30 }, (_, i) => ({ ...morningEvening, broadcastId: `b${i}`, schedule: { kind: 'daily', times } }));
  const a = buildAgenda({ deviceId: 'spk-a', broadcasts: many, now: NOW });
  t.ok(a.truncated, '30 × 336 occurrences do not fit');
  t.equal(a.items.length, 10_000);
  t.ok(a.items.every((x, i) => i === 0 || x.startAt >= a.items[i - 1]!.startAt));
  t.ok(syncAgendaPayloadSchema.safeParse({ version: a.version, generatedAt: NOW, items: a.items }).success);
});

t.test('assembling: the same order, cap, hash and version for occurrences however found', async (t) => {
  const built = buildAgenda({ deviceId: 'spk-a', broadcasts: [morningEvening, storm], now: NOW });
  const shuffled = [...built.items].reverse().map((item, i) => ({ item, carried: i }));
  const a = assembleAgenda(shuffled, NOW);
  t.same(a.entries.map((e) => e.item), built.items, 'agenda order whatever order they came in');
  t.equal(a.entries[0]!.carried, shuffled.length - 1, 'each entry keeps what its builder carried along');
  t.equal(a.hash, built.hash);
  t.equal(a.version, 1);
  t.equal(agendaVersion(a.hash, { previous: { version: 4, hash: a.hash } }), 4, 'unchanged: same version');
  t.equal(agendaVersion(a.hash, { previous: { version: 4, hash: 'other' } }), 5, 'changed: the next one');
  t.equal(agendaVersion(a.hash, { previous: { version: 4, hash: a.hash }, held: { version: 9 } }), 10, 'above a version the box holds that is not ours');
  t.equal(agendaVersion(a.hash, { previous: { version: 4, hash: a.hash }, held: { version: 3 } }), 4, 'an older one held changes nothing');
  t.equal(agendaVersion(a.hash, { held: null }), 1, 'a box holding none gets a first agenda');
});

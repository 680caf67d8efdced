// Programmes on the box (issue 15): every file fetched before the start, the items played in turn while the
// programme holds the speaker, with gaps under 200 ms between them (measured on the simulated player, which
// records when each file's decoding started and ended), per-item reports on `event`; a missing file costs only
// its item; an emergency interrupts (Circular 39) and the programme continues AT the interrupted item (resumed
// or restarted), a relay segment live to its fixed end (skipped when its end passed); and an edited programme
// that arrives with the agenda before its start is the version that plays, while a running one finishes its own.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { topics, type Payload, type ProgrammeItemRef } from '@loaxa/shared';
import { SimPlayer } from '@loaxa/firmware-sim';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { CREDENTIALS, answersOn, command, messagesOn, randomAudio, startAgent, startBroker, startMediaServer, waitFor, type MediaServer, type TestBroker } from './helpers.js';
import { RecordingSink, sleep } from './relay-fixtures.js';

const CMD = topics.deviceCmd('spk-01');
const RES = topics.deviceRes('spk-01');
const EVENT = topics.deviceEvent('spk-01');
const GAP_LIMIT_MS = 200;

type Ev = Payload<'event'>;
type DeliveryEv = Extract<Ev, { kind: 'delivery' }>;
type ItemEv = Extract<Ev, { kind: 'programme-item' }>;
type RelayEv = Extract<Ev, { kind: 'relay' }>;
type Tap = Parameters<typeof startBroker>[0];

function events(b: TestBroker): Ev[] {
  return messagesOn(b, EVENT, 'event').map((m) => m.payload);
}
const deliveries = (b: TestBroker, id: string): DeliveryEv[] => events(b).filter((e): e is DeliveryEv => e.kind === 'delivery' && e.broadcastId === id);
const itemEvents = (b: TestBroker, id: string): ItemEv[] => events(b).filter((e): e is ItemEv => e.kind === 'programme-item' && e.broadcastId === id);
const relayEvents = (b: TestBroker, id: string): RelayEv[] => events(b).filter((e): e is RelayEv => e.kind === 'relay' && e.broadcastId === id);
/** `index:state` of each item report, in order. */
const trail = (b: TestBroker, id: string): string[] => itemEvents(b, id).map((e) => `${e.index}:${e.state}`);

interface Rig {
  b: TestBroker;
  media: MediaServer;
  player: SimPlayer;
  sink: RecordingSink;
  /** Every media request the box made, with when (device clock = real clock here). */
  fetched: Array<{ url: string; at: number }>;
  agent: Awaited<ReturnType<typeof startAgent>>['agent'];
  /** A file item of `ms` (random bytes: the simulated player only takes its time). */
  file(index: number, ms: number, kind?: 'bulletin' | 'chime' | 'music'): ProgrammeItemRef & { url: string };
}

async function rig(t: Tap, opts: { prefetchLeadMs?: number } = {}): Promise<Rig> {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const player = new SimPlayer();
  const sink = new RecordingSink();
  const fetched: Rig['fetched'] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (/\/media\/[0-9a-f]{64}$/.test(String(input))) fetched.push({ url: String(input), at: Date.now() });
    return globalThis.fetch(input, init);
  };
  const { agent } = await startAgent(t, b, { audio: player, sink, fetch, ffmpegPath: ffmpegBin(), ...(opts.prefetchLeadMs !== undefined ? { prefetchLeadMs: opts.prefetchLeadMs } : {}) });
  return {
    b,
    media,
    player,
    sink,
    fetched,
    agent,
    file(index, ms, kind = 'bulletin') {
      const ref = media.put(randomAudio());
      return { index, kind, title: `${kind} ${index}`, media: { ...ref, durationMs: ms }, url: ref.url };
    },
  };
}

function programmePlay(id: string, startAt: number, items: ProgrammeItemRef[], over: Partial<Payload<'play'>> & { version?: number } = {}): Payload<'play'> {
  const { version = 1, ...rest } = over;
  // The test's `url` helper field is not part of the item.
  const clean = items.map(({ url: _url, ...i }: ProgrammeItemRef & { url?: string }) => i);
  return { broadcastId: id, occurrenceAt: startAt, priority: 'normal', programme: { programmeId: 'prog-1', version, items: clean }, startAt, windowMs: 60_000, ...rest };
}

function fileOf(r: Rig, item: ProgrammeItemRef): string {
  return r.player.decoded.find((d) => d.file.endsWith(`${item.media!.sha256}.ogg`))?.file ?? `(never played: ${item.media!.sha256})`;
}

t.test('a programme of files, a pause and a relay segment: fetched before the start, played in turn without gaps, reported per item', async (t) => {
  const r = await rig(t);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const bulletin = r.file(0, 1_200);
  const chime = r.file(1, 400, 'chime');
  const music = r.file(4, 800, 'music');
  const items: ProgrammeItemRef[] = [bulletin, chime, { index: 2, kind: 'pause', pauseMs: 600 }, { index: 3, kind: 'relay', title: 'VOV1', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 3_000 } }, music];
  const startAt = Date.now() + 1_500;
  await r.b.publish(CMD, command('play', programmePlay('prog-a', startAt, items)).body);
  await waitFor(() => deliveries(r.b, 'prog-a').some((d) => d.state === 'played'), 15_000, 'the programme played');

  const ds = deliveries(r.b, 'prog-a');
  t.same(
    ds.map((d) => d.state),
    ['acknowledged', 'cached', 'playing', 'played'],
  );
  t.equal(ds.at(-1)!.reason, undefined, 'nothing failed');
  t.ok(ds[1]!.at < startAt, 'cached before the start');
  t.same(new Set(r.fetched.map((q) => q.url)), new Set([bulletin, chime, music].map((f) => f.url)), 'every file fetched, once');
  t.equal(r.fetched.length, 3);
  t.ok(r.fetched.every((q) => q.at < startAt - 1_000), 'all of them as soon as the programme was in hand, well before its start');
  t.same(trail(r.b, 'prog-a'), ['0:playing', '0:played', '1:playing', '1:played', '2:playing', '2:played', '3:playing', '3:played', '4:playing', '4:played']);
  t.ok(itemEvents(r.b, 'prog-a').every((e) => e.version === 1), 'the reports name the version');
  const played = (i: number): ItemEv => itemEvents(r.b, 'prog-a').find((e) => e.index === i && e.state === 'played')!;
  t.ok(Math.abs(played(0).airedMs! - 1_200) < 100 && Math.abs(played(1).airedMs! - 400) < 100 && Math.abs(played(4).airedMs! - 800) < 100, 'files aired for their length');
  t.ok(Math.abs(played(2).airedMs! - 600) < 100, `the pause kept the speaker for its 600 ms (${played(2).airedMs})`);
  const relayAired = played(3).airedMs!;
  t.ok(relayAired > 1_500 && Math.abs(relayAired - r.sink.counter.totalMs) <= 500, `the relay segment aired ${relayAired} ms, what the speaker got (${r.sink.counter.totalMs.toFixed(0)})`);
  t.same(
    relayEvents(r.b, 'prog-a').map((e) => [e.cause, e.url]),
    [
      ['started', tone.url],
      ['ended', null],
    ],
    'the segment reports relay events under the programme',
  );

  // Gaps, measured on the simulated player and the relay's sink.
  const [b0, c1, m4] = [bulletin, chime, music].map((f) => r.player.decoded.find((d) => d.file === fileOf(r, f))!);
  const fileGap = c1!.startedAt - b0!.endedAt!;
  const firstChunk = r.sink.chunks[0]!;
  const lastChunk = r.sink.chunks.at(-1)!;
  const relayAudioEnd = performance.timeOrigin + lastChunk.at + lastChunk.pcm.length / 96;
  const intoRelay = performance.timeOrigin + firstChunk.at - (c1!.endedAt! + 600);
  const afterRelay = m4!.startedAt - relayAudioEnd;
  t.comment(`gaps on the simulated player: file→file ${fileGap.toFixed(1)} ms; relay→file ${afterRelay.toFixed(1)} ms; pause→relay audio ${intoRelay.toFixed(0)} ms (connect + prebuffer)`);
  t.ok(fileGap >= 0 && fileGap < GAP_LIMIT_MS, `file → file gap ${fileGap.toFixed(1)} ms < ${GAP_LIMIT_MS}`);
  t.ok(afterRelay < GAP_LIMIT_MS, `relay → file gap ${afterRelay.toFixed(1)} ms < ${GAP_LIMIT_MS}`);
  t.ok(Math.abs(b0!.startedAt - startAt) < GAP_LIMIT_MS, 'the first item starts at the start');
  t.equal(r.player.decoded.length, 3, 'each file decoded once');
  t.ok(Math.abs(r.player.decodedMs(b0!.file) - 1_200) < 60, 'the simulated player decoded the bulletin whole');
});

t.test('a file that cannot be had fails its item only; the programme goes on', async (t) => {
  const r = await rig(t);
  const a = r.file(0, 300);
  // Nothing is served under this hash: the server answers 404.
  const gone = 'b'.repeat(64);
  const missing: ProgrammeItemRef = { index: 1, kind: 'chime', media: { sha256: gone, url: a.url.replace(/[0-9a-f]{64}$/, gone), durationMs: 300 } };
  const c = r.file(2, 300, 'music');
  const startAt = Date.now() + 800;
  await r.b.publish(CMD, command('play', programmePlay('prog-b', startAt, [a, missing, c])).body);
  await waitFor(() => deliveries(r.b, 'prog-b').some((d) => d.state === 'played' || d.state === 'failed'), 6_000, 'the programme ended');
  const ds = deliveries(r.b, 'prog-b');
  t.same(
    ds.map((d) => d.state),
    ['acknowledged', 'cached', 'playing', 'played'],
  );
  t.match(ds[1]!.reason, /1 of 3 files not cached/);
  t.match(ds.at(-1)!.reason, /1 failed of 3 items/);
  t.same(trail(r.b, 'prog-b'), ['0:playing', '0:played', '1:failed', '2:playing', '2:played']);
  t.match(itemEvents(r.b, 'prog-b').find((e) => e.state === 'failed')!.reason, /^LOAXA_DOWNLOAD_FAILED: HTTP 404/);
  t.equal(r.player.decoded.length, 2);
  const [x, y] = r.player.decoded;
  t.ok(y!.startedAt - x!.endedAt! < GAP_LIMIT_MS, 'the failed item adds no gap');
});

for (const mode of ['resume', 'restart'] as const) {
  t.test(`an emergency interrupts a programme mid-item; it continues at that item (${mode})`, async (t) => {
    const r = await rig(t);
    const a = r.file(0, 3_000);
    const bItem = r.file(1, 600, 'chime');
    const startAt = Date.now() + 800;
    await r.b.publish(CMD, command('play', programmePlay('prog-c', startAt, [a, bItem], { resume: mode })).body);
    await waitFor(() => itemEvents(r.b, 'prog-c').some((e) => e.state === 'playing'), 5_000, 'item 0 on air');
    await sleep(1_500);
    const em = r.media.put(randomAudio());
    await r.b.publish(CMD, command('play', { broadcastId: 'em-1', occurrenceAt: Date.now(), priority: 'emergency', media: { ...em, durationMs: 1_000 }, startAt: Date.now(), windowMs: 60_000 }).body);
    await waitFor(() => deliveries(r.b, 'prog-c').some((d) => d.state === 'played'), 10_000, 'the programme played');

    t.same(
      deliveries(r.b, 'prog-c').map((d) => d.state),
      ['acknowledged', 'cached', 'playing', 'playing', 'played'],
    );
    t.match(deliveries(r.b, 'prog-c')[3]!.reason, /continued at item 0 after em-1/);
    t.same(trail(r.b, 'prog-c'), ['0:playing', '0:playing', '0:played', '1:playing', '1:played'], 'item 0 again, then item 1 once');
    const again = itemEvents(r.b, 'prog-c')[1]!;
    t.match(again.reason, mode === 'resume' ? /^resumed at \d+ ms after em-1/ : /^restarted after em-1/);
    const fileA = fileOf(r, a);
    const parts = r.player.decoded.filter((d) => d.file === fileA);
    t.equal(parts.length, 2, 'item 0 decoded in two parts around the emergency');
    const emRec = r.player.decoded.find((d) => d.file.endsWith(`${em.sha256}.ogg`))!;
    t.ok(emRec.startedAt >= parts[0]!.endedAt! && emRec.endedAt! <= parts[1]!.startedAt, 'the emergency played between them, alone');
    const decoded = r.player.decodedMs(fileA);
    if (mode === 'resume') {
      t.ok(Math.abs(parts[1]!.offsetMs - parts[0]!.endedAt! + parts[0]!.startedAt) < 100, `resumed at ${parts[1]!.offsetMs.toFixed(0)} ms, where it stopped`);
      t.ok(Math.abs(decoded - 3_000) < 200, `the file decoded once in all (${decoded.toFixed(0)} ms)`);
    } else {
      t.equal(parts[1]!.offsetMs, 0, 'restarted from the beginning');
      t.ok(decoded > 4_200 && decoded < 4_800, `the first 1.5 s decoded twice (${decoded.toFixed(0)} ms)`);
    }
    t.equal(r.player.decoded.filter((d) => d.file === fileOf(r, bItem)).length, 1, 'item 1 played once, after item 0');
  });
}

t.test('a relay segment interrupted continues live to its fixed end; a segment whose end passed is skipped', async (t) => {
  const r = await rig(t);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const startAt = Date.now() + 800;
  const a = r.file(0, 500, 'chime');
  const c = r.file(3, 500, 'music');
  const items: ProgrammeItemRef[] = [
    a,
    { index: 1, kind: 'relay', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 4_000 } },
    // Ends 3 s after the programme's start: by the time item 1 has ended (at 4.5 s) its time has gone.
    { index: 2, kind: 'relay', stream: { sourceId: 'vov2', urls: [tone.url], endsAt: startAt + 3_000 } },
    c,
  ];
  await r.b.publish(CMD, command('play', programmePlay('prog-d', startAt, items)).body);
  await waitFor(() => relayEvents(r.b, 'prog-d').some((e) => e.cause === 'started'), 5_000, 'the segment started');
  await sleep(1_500);
  const em = r.media.put(randomAudio());
  await r.b.publish(CMD, command('play', { broadcastId: 'em-2', occurrenceAt: Date.now(), priority: 'emergency', media: { ...em, durationMs: 1_200 }, startAt: Date.now(), windowMs: 60_000 }).body);
  await waitFor(() => deliveries(r.b, 'prog-d').some((d) => d.state === 'played'), 10_000, 'the programme played');

  t.same(trail(r.b, 'prog-d'), ['0:playing', '0:played', '1:playing', '1:playing', '1:played', '2:skipped', '3:playing', '3:played'], 'item 0 not played twice');
  const evs = itemEvents(r.b, 'prog-d');
  t.match(deliveries(r.b, 'prog-d')[3]!.reason, /continued at item 1 after em-2/);
  t.match(evs[3]!.reason, /^continued live after em-2/);
  t.match(evs[5]!.reason, /end .* had passed/);
  const segmentStart = evs[2]!.at;
  const played1 = evs[4]!;
  t.ok(Math.abs(played1.at - (segmentStart + 4_000)) < 300, `the segment ended at its fixed end (${played1.at - segmentStart} ms after it began), the interruption not made up`);
  t.ok(played1.airedMs! > 4_000 - 1_200 - 1_500 && played1.airedMs! < 4_000 - 1_200 + 300, `aired ${played1.airedMs} ms: not the time of the emergency`);
  t.same(
    relayEvents(r.b, 'prog-d').map((e) => e.cause),
    ['started', 'interrupted', 'started', 'ended'],
    'relay events as for a relay broadcast, under the programme',
  );
  t.match(relayEvents(r.b, 'prog-d')[1]!.detail, /em-2/);
  t.match(deliveries(r.b, 'prog-d').at(-1)!.reason, /1 skipped of 4 items/);
  t.equal(r.sink.counter.maxOpen, 1, 'one output at a time');
  t.equal(r.player.decoded.filter((d) => d.file === fileOf(r, a)).length, 1, 'item 0 decoded once');
  t.equal(r.player.decoded.filter((d) => d.file === fileOf(r, c)).length, 1);
});

t.test('an edited programme in the agenda before its start replaces the old; a running one finishes its own version', async (t) => {
  const r = await rig(t, { prefetchLeadMs: 60_000 });
  const old = r.file(0, 400);
  const first = r.file(0, 500);
  const second = r.file(1, 500, 'music');
  const startAt = Date.now() + 2_000;
  const agendaItem = (version: number, items: ProgrammeItemRef[]): Payload<'sync-agenda'>['items'][number] => ({ commandId: randomUUID(), ...programmePlay('prog-e', startAt, items, { version }) });
  const sync = async (version: number, item: Payload<'sync-agenda'>['items'][number]): Promise<void> => {
    const cmd = command('sync-agenda', { version, generatedAt: Date.now(), items: [item] });
    await r.b.publish(CMD, cmd.body);
    await waitFor(() => answersOn(r.b, RES).find((a) => a.re === cmd.id), 3_000, `agenda v${version} answered`);
  };
  await sync(1, agendaItem(1, [old]));
  await waitFor(() => deliveries(r.b, 'prog-e').some((d) => d.state === 'cached'), 3_000, 'v1 cached');
  await sync(2, agendaItem(2, [first, second]));
  await waitFor(() => itemEvents(r.b, 'prog-e').some((e) => e.state === 'playing'), 5_000, 'on air');
  // Edited again while it plays: the running programme finishes the version it began.
  await sync(3, agendaItem(3, [old]));
  await waitFor(() => deliveries(r.b, 'prog-e').some((d) => d.state === 'played'), 5_000, 'played');
  await sleep(300);

  t.same(trail(r.b, 'prog-e'), ['0:playing', '0:played', '1:playing', '1:played']);
  t.ok(itemEvents(r.b, 'prog-e').every((e) => e.version === 2), 'every item report is of version 2');
  t.same(
    r.player.decoded.map((d) => d.file),
    [fileOf(r, first), fileOf(r, second)],
    "version 2's files played, version 1's never",
  );
  t.same(
    deliveries(r.b, 'prog-e').map((d) => d.state),
    ['acknowledged', 'cached', 'acknowledged', 'cached', 'playing', 'played'],
    'v1 withdrawn silently and v2 taken in hand; v3 came too late to change it',
  );
});

t.test('a programme stopped mid-air is cancelled; the item on air is skipped and nothing after it plays', async (t) => {
  const r = await rig(t);
  const a = r.file(0, 3_000);
  const bItem = r.file(1, 500, 'chime');
  const startAt = Date.now() + 600;
  await r.b.publish(CMD, command('play', programmePlay('prog-f', startAt, [a, bItem])).body);
  await waitFor(() => itemEvents(r.b, 'prog-f').some((e) => e.state === 'playing'), 5_000, 'item 0 on air');
  await sleep(800);
  await r.b.publish(CMD, command('stop', { broadcastId: 'prog-f' }).body);
  await waitFor(() => deliveries(r.b, 'prog-f').some((d) => d.state === 'cancelled'), 3_000, 'cancelled');
  await sleep(800);
  t.same(trail(r.b, 'prog-f'), ['0:playing', '0:skipped']);
  const skipped = itemEvents(r.b, 'prog-f')[1]!;
  t.match(skipped.reason, /stopped/);
  t.ok(skipped.airedMs! > 600 && skipped.airedMs! < 1_400, `it says how much aired (${skipped.airedMs} ms)`);
  t.equal(r.player.decoded.length, 1, 'item 1 never played');
  t.equal(r.player.decoded[0]!.completed, false);
});

t.test('a programme taken in hand after its start still fetches its files and plays', async (t) => {
  const r = await rig(t);
  const a = r.file(0, 300);
  const bItem = r.file(1, 300, 'music');
  const startAt = Date.now() - 2_000;
  await r.b.publish(CMD, command('play', programmePlay('prog-g', startAt, [a, bItem], { windowMs: 30_000 })).body);
  await waitFor(() => deliveries(r.b, 'prog-g').some((d) => d.state === 'played' || d.state === 'failed'), 5_000, 'ended');
  t.same(
    deliveries(r.b, 'prog-g').map((d) => d.state),
    ['acknowledged', 'cached', 'playing', 'played'],
  );
  t.same(trail(r.b, 'prog-g'), ['0:playing', '0:played', '1:playing', '1:played'], 'late, but not one file given up');
});

t.test('a programme with two items at one position fails, saying why', async (t) => {
  const r = await rig(t);
  const startAt = Date.now() + 300;
  await r.b.publish(CMD, command('play', programmePlay('prog-h', startAt, [r.file(0, 300), r.file(0, 300)])).body);
  const failed = await waitFor(() => deliveries(r.b, 'prog-h').find((d) => d.state === 'failed'), 3_000, 'failed');
  t.match(failed.reason, /two items at index 0/);
  t.same(itemEvents(r.b, 'prog-h'), []);
  t.equal(r.fetched.length, 0, 'nothing fetched for it');
});

t.test('a programme stopped while an emergency holds the speaker: its interrupted relay segment ends there, nothing more airs', async (t) => {
  const r = await rig(t);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const startAt = Date.now() + 600;
  const after = r.file(1, 400, 'music');
  await r.b.publish(CMD, command('play', programmePlay('prog-i', startAt, [{ index: 0, kind: 'relay', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 8_000 } }, after])).body);
  await waitFor(() => relayEvents(r.b, 'prog-i').some((e) => e.cause === 'started'), 5_000, 'the segment started');
  await sleep(1_000);
  const em = r.media.put(randomAudio());
  await r.b.publish(CMD, command('play', { broadcastId: 'em-3', occurrenceAt: Date.now(), priority: 'emergency', media: { ...em, durationMs: 2_000 }, startAt: Date.now(), windowMs: 60_000 }).body);
  await waitFor(() => relayEvents(r.b, 'prog-i').some((e) => e.cause === 'interrupted'), 3_000, 'interrupted');
  await r.b.publish(CMD, command('stop', { broadcastId: 'prog-i' }).body);
  await waitFor(() => deliveries(r.b, 'prog-i').some((d) => d.state === 'cancelled'), 3_000, 'cancelled');
  await waitFor(() => deliveries(r.b, 'em-3').some((d) => d.state === 'played'), 4_000, 'the emergency played on');
  await sleep(500);
  t.same(trail(r.b, 'prog-i'), ['0:playing', '0:skipped']);
  t.match(itemEvents(r.b, 'prog-i')[1], { reason: /stopped/, airedMs: Number });
  t.same(
    relayEvents(r.b, 'prog-i').map((e) => e.cause),
    ['started', 'interrupted', 'ended'],
  );
  t.equal(r.player.decoded.filter((d) => d.file === fileOf(r, after)).length, 0, 'item 1 never played');
  await waitFor(() => tone.clients() === 0, 3_000, 'the stream let go');
});

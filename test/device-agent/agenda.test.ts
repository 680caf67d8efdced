import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { syncAgendaPayloadSchema, topics, type Payload } from '@loaxa/shared';
import type { DeliveryReport, FetchLike } from '@loaxa/device-agent';
import { fakeClock } from '../helpers/clock.js';
import { CREDENTIALS, answersOn, command, delay, freePort, messagesOn, randomAudio, startAgent, startBroker, startMediaServer, waitFor, type TestBroker } from './helpers.js';

const CMD = topics.deviceCmd('spk-01');
const RES = topics.deviceRes('spk-01');
const EVENT = topics.deviceEvent('spk-01');

type Item = Payload<'sync-agenda'>['items'][number];

function item(media: { sha256: string; url: string }, over: Partial<Item> = {}): Item {
  const startAt = over.startAt ?? Date.now() + 2_000;
  return {
    commandId: randomUUID(),
    broadcastId: 'bc-1',
    occurrenceAt: startAt,
    priority: 'normal',
    media: { ...media, durationMs: 200 },
    startAt,
    windowMs: 5_000,
    ...over,
  };
}

function agenda(version: number, items: Item[]): Payload<'sync-agenda'> {
  return { version, generatedAt: Date.now(), items };
}

async function sync(b: TestBroker, payload: Payload<'sync-agenda'>) {
  const cmd = command('sync-agenda', payload);
  await b.publish(CMD, cmd.body);
  return waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 3_000, `answer to agenda v${payload.version}`);
}

function states(b: TestBroker, broadcastId: string): string[] {
  return messagesOn(b, EVENT, 'event')
    .map((m) => m.payload)
    .filter((p): p is Extract<Payload<'event'>, { kind: 'delivery' }> => p.kind === 'delivery' && p.broadcastId === broadcastId)
    .map((p) => p.state);
}

/** Delivery reports an agent emits, with the local time each was made. */
function recordDeliveries(agent: { on(e: 'delivery', fn: (r: DeliveryReport) => void): unknown }): Array<DeliveryReport & { seenAt: number }> {
  const seen: Array<DeliveryReport & { seenAt: number }> = [];
  agent.on('delivery', (r) => seen.push({ ...r, seenAt: Date.now() }));
  return seen;
}

t.test('the agenda is stored on disk; a new agent instance with no broker at all plays it on time', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const first = await startAgent(t, b, { prefetchLeadMs: 60_000 });
  const ref = media.put(randomAudio(4096));
  const it = item(ref, { startAt: Date.now() + 2_500 });
  t.match(await sync(b, agenda(1, [it])), { ok: true, data: { version: 1, items: 1 } });
  await waitFor(() => states(b, 'bc-1').includes('cached'), 2_000, 'audio pre-fetched');
  const stored = syncAgendaPayloadSchema.parse(JSON.parse(readFileSync(`${first.dir}/state/agenda.json`, 'utf8')));
  t.same(stored.items, [it], 'the agenda file holds what was sent');
  await first.agent.stop({ timeoutMs: 1_000 });

  // Restarted while the broker is unreachable: nothing listens on this port.
  const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
  const second = await startAgent(t, { url: nowhere }, { dir: first.dir, prefetchLeadMs: 60_000, waitConnected: false });
  const seen = recordDeliveries(second.agent);
  t.equal(second.agent.agendaVersion, 1, 'the stored agenda is loaded');
  await waitFor(() => seen.find((r) => r.state === 'played'), 5_000, 'played offline');
  t.same(seen.map((r) => r.state).slice(-2), ['playing', 'played']);
  const playing = seen.find((r) => r.state === 'playing')!;
  t.ok(playing.seenAt >= it.startAt && playing.seenAt - it.startAt < 150, `started on time by its own clock (${playing.seenAt - it.startAt} ms)`);
  t.equal(playing.commandId, it.commandId);
  t.equal(second.agent.connected, false, 'never connected');
  t.equal(media.requests.length, 1, 'played from the cache filled before the restart');
  // Each report is counted once its file is written; under a full test run the last write can take a while.
  await waitFor(() => second.agent.queuedReports === 4, 5_000, 'its four reports to wait on disk for the link');
  t.pass('acknowledged, cached, playing and played wait on disk for the link');
});

t.test('a newer agenda without an item drops it; an older version is ignored', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  // The agent's clock: the items' start instants come when the test moves it there.
  const clock = fakeClock();
  const { dir } = await startAgent(t, b, { prefetchLeadMs: 60_000, clock });
  const ref = media.put(randomAudio());
  const startAt = clock.now() + 1_500;
  const kept = item(ref, { broadcastId: 'kept', startAt });
  const gone = item(ref, { broadcastId: 'gone', startAt: startAt + 1_000 });
  t.match(await sync(b, agenda(1, [kept, gone])), { ok: true, data: { version: 1, items: 2 } });
  await waitFor(() => states(b, 'gone').includes('cached') && states(b, 'kept').includes('cached'), 2_000, 'both in hand');

  // Cancelled on the server while, say, the box was offline: the next agenda no longer has it.
  t.match(await sync(b, agenda(2, [kept])), { ok: true, data: { version: 2, items: 1 } });
  await waitFor(() => states(b, 'gone').includes('cancelled'), 2_000, 'dropped');
  const drop = messagesOn(b, EVENT, 'event').map((m) => m.payload).find((p) => p.kind === 'delivery' && p.broadcastId === 'gone' && p.state === 'cancelled');
  t.match(drop, { reason: 'no longer in the agenda (version 2)', commandId: gone.commandId });

  // A late copy of version 1 changes nothing.
  t.match(await sync(b, agenda(1, [kept, gone])), { ok: true, data: { version: 2, items: 1 } });
  t.equal(syncAgendaPayloadSchema.parse(JSON.parse(readFileSync(`${dir}/state/agenda.json`, 'utf8'))).version, 2, 'the stored agenda stays');
  clock.advance(startAt - clock.now());
  await waitFor(() => states(b, 'kept').includes('played'), 3_000, 'the kept item plays');
  // Past the dropped item's start (as far as the real wait used to go), then a settle, not a wait for time:
  // its `playing` would travel the real broker, and its absence cannot be polled for.
  clock.advance(startAt + 1_300 - clock.now());
  await delay(300);
  t.same(states(b, 'gone'), ['acknowledged', 'cached', 'cancelled'], 'the dropped item never comes back');
  t.same(states(b, 'kept'), ['acknowledged', 'cached', 'playing', 'played']);
});

t.test('audio not cached is fetched prefetchLeadMs before the start, not earlier', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  // The agent's clock, which times the agenda's prefetch lead: moved on by the test, read by the fetch.
  const clock = fakeClock();
  const fetchedAt: number[] = [];
  const timed: FetchLike = (input, init) => {
    fetchedAt.push(clock.now());
    return fetch(input, init);
  };
  await startAgent(t, b, { prefetchLeadMs: 800, fetch: timed, clock });
  const ref = media.put(randomAudio(8192));
  const it = item(ref, { startAt: clock.now() + 2_000 });
  await sync(b, agenda(1, [it]));
  clock.advance(600);
  // A settle, not a wait for time: a fetch started too early would run on real I/O, and its absence cannot be polled for.
  await delay(200);
  t.same(fetchedAt, [], 'nothing fetched while the start is further than the lead');
  clock.advance(600);
  await waitFor(() => states(b, 'bc-1').includes('cached'), 2_000, 'cached');
  const lead = it.startAt - fetchedAt[0]!;
  t.ok(lead <= 800 && lead > 600, `fetched ${lead} ms before the start`);
  t.ok(clock.now() < it.startAt, 'cached before it starts');
  clock.advance(it.startAt - clock.now());
  await waitFor(() => states(b, 'bc-1').includes('played'), 3_000, 'played');
  t.same(states(b, 'bc-1'), ['acknowledged', 'cached', 'playing', 'played']);
});

t.test('an item by play command, area topic and agenda airs once, also after a restart', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const first = await startAgent(t, b, { prefetchLeadMs: 60_000 });
  const ref = media.put(randomAudio());
  const it = item(ref, { startAt: Date.now() + 800 });
  const { commandId: _id, ...play } = it;
  await b.publish(CMD, command('play', play).body);
  await b.publish(topics.areaCmd('01'), command('play', play).body);
  await sync(b, agenda(1, [it]));
  await waitFor(() => states(b, 'bc-1').includes('played'), 3_000, 'played');
  await first.agent.stop({ timeoutMs: 1_000 });
  const again = await startAgent(t, b, { dir: first.dir, prefetchLeadMs: 60_000 });
  // The same agenda again (another version, same item): still finished.
  t.match(await sync(b, agenda(2, [it])), { ok: true, data: { version: 2 } });
  // A settle, not a wait for time: a repeat would travel the real broker, and its absence cannot be polled for.
  await delay(300);
  t.same(states(b, 'bc-1'), ['acknowledged', 'cached', 'playing', 'played']);
  t.equal(first.player.played.length + again.player.played.length, 1);
});

t.test('the cache never evicts audio of upcoming agenda items', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { config } = await startAgent(t, b, { prefetchLeadMs: 1_000, cacheMaxBytes: 6_000 });
  const upcoming = media.put(randomAudio(4096));
  const other = media.put(randomAudio(4096));
  // The upcoming item's audio is in the cache already (an earlier airing) and its item not yet in hand.
  await b.publish(CMD, command('play', { ...item(upcoming, { broadcastId: 'earlier', startAt: Date.now() }) }).body);
  await waitFor(() => states(b, 'earlier').includes('played'), 2_000, 'earlier played');
  await sync(b, agenda(1, [item(upcoming, { broadcastId: 'tomorrow', startAt: Date.now() + 60_000 })]));
  await b.publish(CMD, command('play', { ...item(other, { broadcastId: 'now', startAt: Date.now() }) }).body);
  await waitFor(() => states(b, 'now').includes('played'), 2_000, 'now played');
  t.ok(existsSync(`${config.cacheDir}/${upcoming.sha256}.ogg`), 'the least recently used file stays: an upcoming item needs it');
  t.ok(existsSync(`${config.cacheDir}/${other.sha256}.ogg`));
});

t.test('an agenda item whose window passed while the agent was down is reported missed, once', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const ref = media.put(randomAudio());
  const first = await startAgent(t, b, { prefetchLeadMs: 1_000 });
  const past = item(ref, { broadcastId: 'night', startAt: Date.now() + 30_000, windowMs: 1_000 });
  await sync(b, agenda(1, [past]));
  await first.agent.stop({ timeoutMs: 1_000 });
  // The box was off through the item's window: the same agenda, with the clock moved past it.
  const later = { now: () => Date.now() + 60_000 };
  const again = await startAgent(t, b, { dir: first.dir, prefetchLeadMs: 1_000, clock: later });
  await waitFor(() => states(b, 'night').includes('missed'), 2_000, 'missed');
  await again.agent.stop({ timeoutMs: 1_000 });
  await startAgent(t, b, { dir: first.dir, prefetchLeadMs: 1_000, clock: later });
  // A settle, not a wait for time: a repeat would travel the real broker, and its absence cannot be polled for.
  await delay(200);
  const reports = messagesOn(b, EVENT, 'event').map((m) => m.payload).filter((p) => p.kind === 'delivery' && p.broadcastId === 'night');
  t.match(reports, [{ state: 'missed', reason: 'the agent was not running during its window', commandId: past.commandId }]);
  t.equal(media.requests.length, 0, 'nothing downloaded for it');
});

t.test('the online status says which agenda the agent holds: none, then the stored one, also after a restart', async (t) => {
  const b = await startBroker(t);
  const STATUS = topics.deviceStatus('spk-01');
  const onlines = () => messagesOn(b, STATUS, 'status').filter((m) => m.payload.state === 'online');
  const first = await startAgent(t, b);
  await waitFor(() => onlines().length === 1, 2_000, 'first online');
  t.equal(onlines()[0]!.payload.agenda, null, 'a new box says it holds none');
  const sent = agenda(3, []);
  t.match(await sync(b, sent), { ok: true, data: { version: 3 } });
  // Reconnect: the broker drops the socket.
  b.clients.get('spk-01')!.conn.destroy();
  await waitFor(() => onlines().length === 2, 5_000, 'online again');
  t.same(onlines()[1]!.payload.agenda, { version: 3, generatedAt: sent.generatedAt }, 'then the one it took');
  await first.agent.stop({ timeoutMs: 1_000 });
  t.same(messagesOn(b, STATUS, 'status').at(-1)!.payload.agenda, undefined, 'an offline status says nothing about it');

  await startAgent(t, b, { dir: first.dir });
  await waitFor(() => onlines().length === 3, 2_000, 'online after a restart');
  t.same(onlines()[2]!.payload.agenda, { version: 3, generatedAt: sent.generatedAt }, 'the stored one, after a restart');
});

// A relay through the whole agent (issue 15): a `play` with a stream, sent over MQTT, goes through the
// playout like a file — its fallback fetched before air time, the same Circular 39 arbitration (an emergency
// interrupts it and it continues live afterwards; an item of equal priority waits) — and the box reports its
// delivery (with `airedMs`, what its speaker actually got) and its relay events on `event`.
import t from 'tap';
import { topics, type Payload } from '@loaxa/shared';
import { DeviceAgent, NullPlayer, SimBoard, parseAgentConfig } from '@loaxa/device-agent';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { CREDENTIALS, command, messagesOn, randomAudio, silentLogger, startBroker, startMediaServer, tempDir, waitFor, type TestBroker } from './helpers.js';
import { RecordingSink, proxyTo, fallbackFile, sleep } from './relay-fixtures.js';

const CMD = topics.deviceCmd('spk-01');
const EVENT = topics.deviceEvent('spk-01');
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;

type Ev = Payload<'event'>;
type DeliveryEv = Extract<Ev, { kind: 'delivery' }>;
type RelayEv = Extract<Ev, { kind: 'relay' }>;

function events(b: TestBroker): Ev[] {
  return messagesOn(b, EVENT, 'event').map((m) => m.payload);
}
function deliveries(b: TestBroker, id: string): DeliveryEv[] {
  return events(b).filter((e): e is DeliveryEv => e.kind === 'delivery' && e.broadcastId === id);
}
function relays(b: TestBroker, id: string): RelayEv[] {
  return events(b).filter((e): e is RelayEv => e.kind === 'relay' && e.broadcastId === id);
}

async function startRelayAgent(t: Parameters<typeof tempDir>[0], b: TestBroker): Promise<{ agent: DeviceAgent; sink: RecordingSink; board: SimBoard }> {
  const dir = tempDir(t);
  const config = parseAgentConfig({
    deviceId: 'spk-01',
    mqtt: { url: b.url, ...CREDENTIALS },
    areaCode: '01001',
    areaAncestors: ['01'],
    cacheDir: `${dir}/cache`,
    stateDir: `${dir}/state`,
    reconnectMs: 100,
    player: 'null',
    downloadRetryMs: 50,
    ffmpegPath: ffmpegBin(),
  });
  const sink = new RecordingSink();
  const board = new SimBoard();
  const agent = new DeviceAgent({ config, player: new NullPlayer(), sink, hardware: board.hardware(), logger: silentLogger() });
  const connected = new Promise<void>((resolve) => agent.once('connect', resolve));
  await agent.start();
  t.teardown(() => agent.stop({ timeoutMs: 2_000 }));
  await connected;
  return { agent, sink, board };
}

t.test('a relay airs through the playout, yields to an emergency, continues live, and reports what the speaker got', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const rs = await proxyTo(t, tone.url, { expected: BASIC });
  const { agent, sink, board } = await startRelayAgent(t, b);
  const fallback = media.put((await fallbackFile(t)).bytes);
  const marks: Record<string, number> = {};
  agent.on('delivery', (d) => (marks[`${d.broadcastId}:${d.state}`] ??= performance.now()));

  const DURATION = 12_000;
  const startAt = Date.now() + 1_000;
  const relay: Payload<'play'> = {
    broadcastId: 'relay-1',
    occurrenceAt: startAt,
    priority: 'normal',
    media: { ...fallback, durationMs: 3_000 },
    stream: { sourceId: 'vov1', urls: [rs.url], durationMs: DURATION, deviceAuth: true },
    startAt,
    windowMs: DURATION,
  };
  await b.publish(CMD, command('play', relay).body);
  // A normal file due during the relay: equal priority never interrupts (Circular 39), so it waits.
  const fileRef = media.put(randomAudio());
  await b.publish(CMD, command('play', { broadcastId: 'file-1', occurrenceAt: startAt + 3_000, priority: 'normal', media: { ...fileRef, durationMs: 500 }, startAt: startAt + 3_000, windowMs: 60_000 }).body);

  await waitFor(() => relays(b, 'relay-1').some((e) => e.cause === 'started'), 6_000, 'the relay started');
  t.equal(board.amplifierOn, true, 'the amplifier is powered while the relay plays');
  t.ok(deliveries(b, 'relay-1').find((d) => d.state === 'cached')!.at < startAt, 'the fallback was fetched before air time');
  await sleep(3_000);
  const emRef = media.put(randomAudio());
  await b.publish(CMD, command('play', { broadcastId: 'em-1', occurrenceAt: Date.now(), priority: 'emergency', media: { ...emRef, durationMs: 2_500 }, startAt: Date.now(), windowMs: 60_000 }).body);
  await waitFor(() => deliveries(b, 'relay-1').some((d) => d.state === 'played'), DURATION + 5_000, 'the relay played');
  await waitFor(() => deliveries(b, 'file-1').some((d) => d.state === 'played'), 5_000, 'the file played');

  t.same(
    deliveries(b, 'relay-1').map((d) => d.state),
    ['acknowledged', 'cached', 'playing', 'playing', 'played'],
  );
  const played = deliveries(b, 'relay-1').at(-1)!;
  const again = deliveries(b, 'relay-1').filter((d) => d.state === 'playing')[1]!;
  t.match(again.reason, /continued live after em-1/);
  t.equal(played.sha256, undefined, 'a relay names no file');
  const aired = played.airedMs!;
  t.comment(`aired ${aired} ms; the speaker got ${sink.counter.totalMs.toFixed(0)} ms (${sink.counter.audibleMs} audible)`);
  t.ok(Math.abs(aired - sink.counter.totalMs) <= 1_000, 'airedMs is what the speaker got (±1 s)');
  t.ok(Math.abs(played.at - (startAt + DURATION)) < 1_500, 'it ends at startAt + durationMs, the interruption not made up');
  t.ok(aired > DURATION - 2_500 - 2_500 && aired < DURATION - 2_500 + 500, 'the time of the emergency is not aired later');

  const emPlaying = marks['em-1:playing']!;
  const emPlayed = marks['em-1:played']!;
  t.ok(emPlaying && emPlayed, 'the emergency played');
  t.equal(sink.msBetween(emPlaying + 150, emPlayed - 150), 0, 'nothing of the relay reached the speaker during the emergency');
  t.equal(sink.counter.maxOpen, 1, "the relay's output was closed for the emergency (one output at a time)");
  t.ok(deliveries(b, 'file-1').find((d) => d.state === 'playing')!.at >= played.at, 'the equal-priority file waited for the relay to end');

  t.same(
    relays(b, 'relay-1').map((e) => [e.cause, e.url]),
    [
      ['started', rs.url],
      ['interrupted', null],
      ['started', rs.url],
      ['ended', null],
    ],
  );
  t.match(relays(b, 'relay-1')[1]!.detail, /em-1/);
  t.match(relays(b, 'relay-1')[2]!.detail, /continues live/);
  t.ok(rs.seen.length >= 2 && rs.seen.every((a) => a === BASIC), "the restream was pulled with the box's own credentials");
  t.equal(media.requests.filter((r) => r.url.endsWith(fallback.sha256)).length, 1, 'the fallback was downloaded once');
});

t.test('a relay with no fallback and no source: cached at once, silence, played with airedMs 0 and the causes reported', async (t) => {
  const b = await startBroker(t);
  const dead = await startToneStream(t, { format: 'mp3' });
  await dead.kill();
  const { sink } = await startRelayAgent(t, b);
  const startAt = Date.now() + 300;
  await b.publish(CMD, command('play', { broadcastId: 'relay-2', occurrenceAt: startAt, priority: 'priority', stream: { sourceId: 'vov1', urls: [dead.url], durationMs: 2_500 }, startAt, windowMs: 2_500 }).body);
  await waitFor(() => deliveries(b, 'relay-2').some((d) => d.state === 'played'), 6_000, 'played');
  t.same(
    deliveries(b, 'relay-2').map((d) => d.state),
    ['acknowledged', 'cached', 'playing', 'played'],
  );
  t.match(deliveries(b, 'relay-2').at(-1), { airedMs: 0, reason: /nothing of the stream aired/ });
  t.same(
    relays(b, 'relay-2').map((e) => e.cause),
    ['error', 'fallback', 'ended'],
  );
  t.match(relays(b, 'relay-2')[0], { url: null, detail: /cannot connect/ });
  t.equal(sink.counter.totalMs, 0);
});

t.test('a relay that arrives after its window is missed, without pulling the stream', async (t) => {
  const b = await startBroker(t);
  const tone = await startToneStream(t, { format: 'mp3' });
  await startRelayAgent(t, b);
  const startAt = Date.now() - 10_000;
  await b.publish(CMD, command('play', { broadcastId: 'relay-3', occurrenceAt: startAt, priority: 'normal', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 5_000 }, startAt, windowMs: 60_000 }).body);
  await waitFor(() => deliveries(b, 'relay-3').some((d) => d.state === 'missed'), 3_000, 'missed');
  t.equal(tone.clients(), 0, 'no connection to the source');
  t.same(relays(b, 'relay-3'), []);
});

t.test('a relay stopped mid-air is cancelled, with how much of it aired, and lets go of the stream', async (t) => {
  const b = await startBroker(t);
  const tone = await startToneStream(t, { format: 'ogg' });
  const { sink } = await startRelayAgent(t, b);
  const startAt = Date.now() + 200;
  await b.publish(CMD, command('play', { broadcastId: 'relay-4', occurrenceAt: startAt, priority: 'normal', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 60_000 }, startAt, windowMs: 60_000 }).body);
  await waitFor(() => relays(b, 'relay-4').some((e) => e.cause === 'started'), 5_000, 'started');
  await sleep(2_000);
  await b.publish(CMD, command('stop', { broadcastId: 'relay-4' }).body);
  const cancelled = await waitFor(() => deliveries(b, 'relay-4').find((d) => d.state === 'cancelled'), 3_000, 'cancelled');
  t.ok(cancelled.airedMs! > 1_500 && Math.abs(cancelled.airedMs! - sink.counter.totalMs) <= 1_000, `the cancelled report says ${cancelled.airedMs} ms aired`);
  t.match(relays(b, 'relay-4').at(-1), { cause: 'ended', url: null, detail: /^stopped/ });
  await waitFor(() => tone.clients() === 0, 3_000, 'the stream let go');
  t.equal(sink.counter.openNow, 0, 'the speaker is free');
});

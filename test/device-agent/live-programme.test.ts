// Circular 39 with a live voice (issue 16, "Proof": "an emergency live interrupting a normal programme that then
// resumes"): an emergency live interrupts the programme's file at once, airs alone until its stream ends (here
// the link to it is cut: the box plays what it holds and reports `played`), and the programme then continues
// at the interrupted item — the playout's existing machinery, with the live voice as the interrupter.
import t from 'tap';
import { topics, type Payload, type ProgrammeItemRef } from '@loaxa/shared';
import { MarkerSink, SimPlayer } from '@loaxa/firmware-sim';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { CREDENTIALS, command, messagesOn, randomAudio, startAgent, startBroker, startMediaServer, waitFor, type TestBroker } from './helpers.js';
import { sleep } from './relay-fixtures.js';

type Ev = Payload<'event'>;
const CMD = topics.deviceCmd('spk-01');
const events = (b: TestBroker, id: string): Ev[] =>
  messagesOn(b, topics.deviceEvent('spk-01'), 'event')
    .map((m) => m.payload)
    .filter((e) => e.kind !== 'fault' && e.broadcastId === id);
const states = (b: TestBroker, id: string): string[] => events(b, id).flatMap((e) => (e.kind === 'delivery' ? [e.state] : []));

t.test('an emergency live voice interrupts a programme, which continues at its item once the voice ends', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const voice = await startToneStream(t, { format: 'mp3', frequencyHz: 330 });
  const player = new SimPlayer();
  const sink = new MarkerSink();
  await startAgent(t, b, { audio: player, sink, ffmpegPath: ffmpegBin() });

  const item = (index: number, ms: number): ProgrammeItemRef => ({ index, kind: 'bulletin', title: `item ${index}`, media: { ...media.put(randomAudio()), durationMs: ms } });
  const items = [item(0, 4_000), item(1, 500)];
  const startAt = Date.now() + 800;
  await b.publish(CMD, command('play', { broadcastId: 'prog-1', occurrenceAt: startAt, priority: 'normal', programme: { programmeId: 'p', version: 1, items }, startAt, windowMs: 60_000, resume: 'resume' }).body);
  await waitFor(() => states(b, 'prog-1').includes('playing'), 5_000, 'the programme on air');
  await sleep(1_000);

  const at = Date.now();
  const live: Payload<'play'> = { broadcastId: 'live-em', occurrenceAt: at, priority: 'emergency', stream: { sourceId: 'live-em', urls: [voice.url], durationMs: 600_000, live: true }, startAt: at, windowMs: 600_000 };
  await b.publish(CMD, command('play', live).body);
  await waitFor(() => states(b, 'live-em').includes('playing'), 3_000, 'the live voice on air');
  await sleep(1_500);
  await voice.kill();
  await waitFor(() => states(b, 'live-em').includes('played'), 5_000, 'the live voice played');
  await waitFor(() => states(b, 'prog-1').includes('played'), 10_000, 'the programme played');

  const played = events(b, 'live-em').find((e) => e.kind === 'delivery' && e.state === 'played') as { airedMs: number; reason: string };
  t.ok(played.airedMs > 1_000 && Math.abs(played.airedMs - sink.totalMs) <= 100, `the live voice aired ${played.airedMs} ms, what the speaker got`);
  t.match(played.reason, /live stream over/);
  t.same(states(b, 'prog-1'), ['acknowledged', 'cached', 'playing', 'playing', 'played']);
  const again = events(b, 'prog-1').filter((e) => e.kind === 'delivery' && e.state === 'playing')[1] as { reason: string };
  t.match(again.reason, /continued at item 0 after live-em/);
  t.same(
    events(b, 'prog-1').flatMap((e) => (e.kind === 'programme-item' ? [`${e.index}:${e.state}`] : [])),
    ['0:playing', '0:playing', '0:played', '1:playing', '1:played'],
    'item 0 resumed, then item 1',
  );
  const parts = player.decoded.filter((d) => d.file.endsWith(`${items[0]!.media!.sha256}.ogg`));
  t.equal(parts.length, 2, 'item 0 in two parts around the live voice');
  const voiceWrites = sink.writes.map((w) => performance.timeOrigin + w.at);
  t.ok(voiceWrites.length > 0 && voiceWrites.every((w) => w >= parts[0]!.endedAt! && w <= parts[1]!.startedAt), 'the live voice aired between them, alone');
  t.ok(Math.abs(player.decodedMs(parts[0]!.file) - 4_000) < 250, 'and item 0 resumed where it stopped');
});

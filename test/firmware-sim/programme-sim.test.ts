// Simulated boxes air a programme (issue 15, "Proof": a programme of four items with a relay segment,
// interrupted by an emergency, on 20 boxes). Each box runs the real agent; its SimPlayer records when every
// file's decoding started and ended, so the gaps between items and the seconds decoded per item are measured,
// and its CountingSink counts the relay segment's audio.
import t from 'tap';
import { topics, type Payload, type ProgrammeItemRef } from '@loaxa/shared';
import { startSimulation, type SimBox } from '@loaxa/firmware-sim';
import { CREDENTIALS, command, messagesOn, randomAudio, silentLogger, startMediaServer, tempDir, waitFor } from '../device-agent/helpers.js';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

const BOXES = 20;
const GAP_LIMIT_MS = 200;
const MEDIA_AUTH = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;

t.test(`a programme with a relay segment, interrupted by an emergency, on ${BOXES} simulated boxes`, async (t) => {
  const server = await startStandIn(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const mediaOrigin = new URL(media.put(randomAudio(16)).url).origin;
  const s = await startSimulation({
    serverUrl: server.url,
    count: BOXES,
    areaCode: '00004',
    stateFile: `${tempDir(t)}/s.json`,
    logger: silentLogger(),
    env: { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD },
    startSpreadMs: 20,
    agentConfig: { reconnectMs: 50, ffmpegPath: ffmpegBin(), downloadRetryMs: 50 },
    // Every box asks for media with its own credentials; the test's media server knows one pair.
    fetch: (input, init) =>
      String(input).startsWith(mediaOrigin) ? globalThis.fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), authorization: MEDIA_AUTH } }) : globalThis.fetch(input, init),
  });
  t.teardown(() => s.stop({ timeoutMs: 3_000 }));
  t.equal(await s.waitForConnections(10_000), BOXES);

  const file = (index: number, kind: 'bulletin' | 'chime' | 'music', durationMs: number): ProgrammeItemRef => ({ index, kind, media: { ...media.put(randomAudio()), durationMs } });
  const items: ProgrammeItemRef[] = [file(0, 'bulletin', 2_000), file(1, 'chime', 400), { index: 2, kind: 'relay', stream: { sourceId: 'vov1', urls: [tone.url], durationMs: 2_500 } }, file(3, 'music', 600)];
  const startAt = Date.now() + 2_000;
  const play: Payload<'play'> = { broadcastId: 'prog-sim', occurrenceAt: startAt, priority: 'normal', resume: 'resume', programme: { programmeId: 'p-1', version: 4, items }, startAt, windowMs: 60_000 };
  for (const d of s.devices) await server.broker.publish(topics.deviceCmd(d.id), command('play', play).body);
  await new Promise((r) => setTimeout(r, startAt - Date.now() + 800));
  const em = media.put(randomAudio());
  const emAt = Date.now();
  const emergency: Payload<'play'> = { broadcastId: 'em-sim', occurrenceAt: emAt, priority: 'emergency', media: { ...em, durationMs: 1_000 }, startAt: emAt, windowMs: 60_000 };
  for (const d of s.devices) await server.broker.publish(topics.deviceCmd(d.id), command('play', emergency).body);

  const worstGap = { ms: 0 };
  for (const [i, d] of s.devices.entries()) {
    const box: SimBox = s.boxes[i]!;
    const events = (): Array<Payload<'event'>> => messagesOn(server.broker, topics.deviceEvent(d.id), 'event').map((m) => m.payload);
    await waitFor(() => events().some((e) => e.kind === 'delivery' && e.broadcastId === 'prog-sim' && (e.state === 'played' || e.state === 'failed')), 15_000, `${d.id} played the programme`);
    const itemEvs = events().filter((e): e is Extract<Payload<'event'>, { kind: 'programme-item' }> => e.kind === 'programme-item');
    t.same(
      itemEvs.map((e) => `${e.index}:${e.state}`),
      ['0:playing', '0:playing', '0:played', '1:playing', '1:played', '2:playing', '2:played', '3:playing', '3:played'],
      `${d.id}: item 0 continued after the emergency, then the rest once each`,
    );
    const delivery = events().filter((e) => e.kind === 'delivery' && e.broadcastId === 'prog-sim').map((e) => (e as { state: string }).state);
    t.same(delivery, ['acknowledged', 'cached', 'playing', 'playing', 'played'], `${d.id}: the programme's delivery`);

    // What the simulated player decoded: bulletin (two parts), emergency, chime, music.
    const byHash = (sha: string): string => box.player.decoded.find((x) => x.file.endsWith(`${sha}.ogg`))!.file;
    const [bulletin, chime, , music] = items.map((it) => (it.media ? byHash(it.media.sha256) : ''));
    const bulletinMs = box.player.decodedMs(bulletin!);
    t.ok(Math.abs(bulletinMs - 2_000) < 150, `${d.id}: the bulletin decoded once in all, resumed (${bulletinMs.toFixed(0)} ms)`);
    t.ok(Math.abs(box.player.decodedMs(chime!) - 400) < 60 && Math.abs(box.player.decodedMs(music!) - 600) < 60, `${d.id}: chime and music decoded whole`);
    const seq = box.player.decoded.filter((x) => x.file !== byHash(em.sha256));
    const bulletinEnd = seq.filter((x) => x.file === bulletin).at(-1)!.endedAt!;
    const chimeRec = seq.find((x) => x.file === chime)!;
    const musicRec = seq.find((x) => x.file === music)!;
    const fileGap = chimeRec.startedAt - bulletinEnd;
    // The relay segment sits between chime and music: its audio is what the sink got; music follows its end.
    const relayPlayed = itemEvs.find((e) => e.index === 2 && e.state === 'played')!;
    t.ok(Math.abs(relayPlayed.airedMs! - box.sink.totalMs) <= 500 && relayPlayed.airedMs! > 1_500, `${d.id}: the segment aired ${relayPlayed.airedMs} ms, what its speaker got`);
    const relayToMusic = musicRec.startedAt - chimeRec.endedAt! - 2_500;
    worstGap.ms = Math.max(worstGap.ms, fileGap, relayToMusic);
    t.ok(fileGap >= 0 && fileGap < GAP_LIMIT_MS, `${d.id}: bulletin → chime gap ${fileGap.toFixed(1)} ms`);
    t.ok(relayToMusic < GAP_LIMIT_MS, `${d.id}: chime → relay (2.5 s) → music adds ${relayToMusic.toFixed(1)} ms`);
  }
  t.comment(`worst gap over ${BOXES} boxes: ${worstGap.ms.toFixed(1)} ms`);
});

// Simulated boxes relay for real (issue 15: "the simulated player counts the seconds it actually decodes"):
// each box of the firmware simulator pulls the stream with the agent's ffmpeg, and its CountingSink counts
// what reached its speaker, which is what its `played` report claims.
import t from 'tap';
import { topics, type Payload } from '@loaxa/shared';
import { startSimulation } from '@loaxa/firmware-sim';
import { command, messagesOn, silentLogger, tempDir, waitFor } from '../device-agent/helpers.js';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

t.test('three simulated boxes relay one source, fail over together, and count what they aired', async (t) => {
  const server = await startStandIn(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'ogg', frequencyHz: 660 });
  const s = await startSimulation({
    serverUrl: server.url,
    count: 3,
    areaCode: '00004',
    stateFile: `${tempDir(t)}/s.json`,
    logger: silentLogger(),
    env: { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD },
    startSpreadMs: 20,
    agentConfig: { reconnectMs: 50, ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => s.stop({ timeoutMs: 2_000 }));
  t.equal(await s.waitForConnections(5_000), 3);

  const startAt = Date.now() + 500;
  const play: Payload<'play'> = { broadcastId: 'vov-news', occurrenceAt: startAt, priority: 'normal', stream: { sourceId: 'vov1', urls: [a.url, b.url], durationMs: 7_000 }, startAt, windowMs: 7_000 };
  for (const d of s.devices) await server.broker.publish(topics.deviceCmd(d.id), command('play', play).body);
  await waitFor(() => a.clients() === 3, 5_000, 'three listeners on the first URL');
  await new Promise((r) => setTimeout(r, 2_500));
  await a.kill();

  for (const [i, d] of s.devices.entries()) {
    const events = (): Array<Payload<'event'>> => messagesOn(server.broker, topics.deviceEvent(d.id), 'event').map((m) => m.payload);
    const played = await waitFor(() => events().find((e) => e.kind === 'delivery' && e.state === 'played'), 8_000, `${d.id} played`);
    const aired = (played as { airedMs: number }).airedMs;
    const sink = s.boxes[i]!.sink;
    t.ok(Math.abs(aired - sink.totalMs) <= 1_000, `${d.id}: airedMs ${aired} is what its speaker got (${Math.round(sink.totalMs)} ms)`);
    t.ok(aired > 4_500, `${d.id}: most of the 7 s window aired, the failover included`);
    t.same(
      events()
        .filter((e) => e.kind === 'relay')
        .map((e) => [(e as { cause: string }).cause, (e as { url: string | null }).url]),
      [
        ['started', a.url],
        ['error', b.url],
        ['ended', null],
      ],
      `${d.id}: moved to the second URL`,
    );
  }
});

// Simulated boxes on a live voice (issue 16): each box of the firmware simulator pulls the stream with the
// agent's ffmpeg, its MarkerSink times the markers that reach its speaker (SimBox.markers()), and its `played`
// report says what aired. The stream is a recording with markers at known instants, encoded as the server's live
// encoder does (64 kbit/s CBR MP3, no ID3 or Xing) and sent to every box at real-time pace, one 24 ms frame at a
// time, so the instant each marker's frame leaves the server is known: the latency is from there to each box.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { topics, type Payload } from '@loaxa/shared';
import { markerTrack, startSimulation, wavFile } from '@loaxa/firmware-sim';
import { command, messagesOn, silentLogger, tempDir, waitFor } from '../device-agent/helpers.js';
import { ffmpegBin } from '../helpers/streams.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

const FRAME_BYTES = 192; // 64 kbit/s at 48 kHz: 144 × 64000 / 48000
const FRAME_MS = 24; // 1152 samples at 48 kHz
const MARKERS_AT = [1_000, 2_000, 3_000, 4_000, 5_000];

t.test('three simulated boxes play a live voice; each times the markers it hears and reports what aired', async (t) => {
  const dir = tempDir(t);
  await writeFile(join(dir, 'voice.wav'), wavFile(markerTrack(6_000, MARKERS_AT)));
  await promisify(execFile)(ffmpegBin(), ['-v', 'error', '-i', join(dir, 'voice.wav'), '-c:a', 'libmp3lame', '-b:a', '64k', '-ac', '1', '-ar', '48000', '-id3v2_version', '0', '-write_xing', '0', '-f', 'mp3', join(dir, 'voice.mp3')]);
  const mp3 = await readFile(join(dir, 'voice.mp3'));

  const listeners = new Set<ServerResponse>();
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    listeners.add(res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    http.closeAllConnections();
    http.close();
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/live/1`;

  const server = await startStandIn(t);
  const s = await startSimulation({
    serverUrl: server.url,
    count: 3,
    areaCode: '00004',
    stateFile: `${dir}/s.json`,
    logger: silentLogger(),
    env: { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD },
    startSpreadMs: 20,
    agentConfig: { reconnectMs: 50, ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => s.stop({ timeoutMs: 2_000 }));
  t.equal(await s.waitForConnections(5_000), 3);
  const at = Date.now();
  const play: Payload<'play'> = { broadcastId: 'live-1', occurrenceAt: at, priority: 'priority', stream: { sourceId: 'live-1', urls: [url], durationMs: 600_000, live: true }, startAt: at, windowMs: 600_000 };
  for (const d of s.devices) await server.broker.publish(topics.deviceCmd(d.id), command('play', play).body);
  // The boxes connect and wait for the voice (the server opens the stream before the first words).
  await waitFor(() => listeners.size === 3, 5_000, 'three boxes listening');

  // Frames at real-time pace from T0; the frame holding `ms` of the recording leaves at T0 + ms.
  const t0 = performance.timeOrigin + performance.now();
  const frames = Math.floor(mp3.length / FRAME_BYTES);
  for (let i = 0; i < frames; i++) {
    const due = t0 + i * FRAME_MS - (performance.timeOrigin + performance.now());
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    for (const res of listeners) res.write(mp3.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES));
  }
  for (const res of listeners) res.end();

  const all: number[] = [];
  for (const [i, d] of s.devices.entries()) {
    const box = s.boxes[i]!;
    const events = (): Array<Payload<'event'>> => messagesOn(server.broker, topics.deviceEvent(d.id), 'event').map((m) => m.payload);
    const played = (await waitFor(() => events().find((e) => e.kind === 'delivery' && e.state === 'played'), 5_000, `${d.id} played`)) as { airedMs: number };
    const heard = box.markers();
    const lat = heard.map((h, k) => h - (t0 + MARKERS_AT[k]!));
    all.push(...lat);
    t.equal(heard.length, MARKERS_AT.length, `${d.id}: heard every marker once`);
    t.ok(lat.every((l) => l > 0 && l < 1_000), `${d.id}: each within a second of leaving the server (${lat.map((l) => Math.round(l)).join(', ')} ms)`);
    t.ok(Math.abs(played.airedMs - box.sink.totalMs) <= 100 && played.airedMs > 5_000, `${d.id}: aired ${played.airedMs} ms, what its speaker got`);
  }
  all.sort((a, b) => a - b);
  t.comment(`server → box speaker over ${all.length} markers: p50 ${Math.round(all[Math.floor(all.length / 2)]!)} ms, max ${Math.round(all.at(-1)!)} ms`);
});

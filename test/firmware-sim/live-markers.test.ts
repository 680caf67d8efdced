// The live-voice latency markers (issue 16, "Proof": the time from each marker leaving the browser to each box
// decoding it). The detector is checked on synthetic PCM whose onsets are known to the sample, fed in the odd
// cuts a pipe makes; against speech-like sound and other tones it must stay quiet; and through the codecs on
// the way (the phone's Opus, the server's 64 kbit/s MP3) it must still find every marker at the right spacing.
import { execFile } from 'node:child_process';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test as Tap } from 'tap';
import { MarkerDetector, MarkerSink, markerPcm, markerTrack, wavFile, MARKER_MS } from '@loaxa/firmware-sim';
import { ffmpegBin } from '../helpers/streams.js';
import { tempDir } from '../device-agent/helpers.js';

const RATE = 48_000;
const T0 = 1_800_000_000_000;

/** Feeds `pcm` in cuts of varying (odd) sizes, each stamped with when its first sample is heard. */
function detect(pcm: Buffer, det = new MarkerDetector()): number[] {
  const cuts = [1, 333, 4_801, 97, 960, 7];
  let at = 0;
  for (let i = 0; at < pcm.length; i++) {
    const n = Math.min(cuts[i % cuts.length]!, pcm.length - at);
    // A cut starting on a sample's second byte: its first whole sample is the next one.
    det.feed(pcm.subarray(at, at + n), T0 + Math.ceil(at / 2) / (RATE / 1000));
    at += n;
  }
  return det.onsets.map((o) => o - T0);
}

/** A vowel-like sound: harmonics of 140 Hz falling off with frequency, slightly wobbling, plus noise. */
function speechLike(ms: number, amplitude = 0.3): Buffer {
  const n = Math.round((ms * RATE) / 1000);
  const out = Buffer.alloc(n * 2);
  let seed = 7;
  for (let i = 0; i < n; i++) {
    const f0 = 140 * (1 + 0.05 * Math.sin((2 * Math.PI * 3 * i) / RATE));
    let v = 0;
    for (let h = 1; h <= 30; h++) v += Math.sin((2 * Math.PI * f0 * h * i) / RATE) / h;
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    v += (seed / 2 ** 31 - 0.5) * 0.2;
    out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * amplitude * 12_000))), i * 2);
  }
  return out;
}

function near(t: Tap, got: number[], want: number[], tolMs: number, what: string): void {
  t.equal(got.length, want.length, `${what}: ${want.length} markers (got ${got.map((g) => g.toFixed(1)).join(', ')})`);
  for (const [i, w] of want.entries()) t.ok(got[i] !== undefined && Math.abs(got[i] - w) <= tolMs, `${what}: marker ${i} at ${got[i]?.toFixed(1)} ms, expected ${w} ± ${tolMs}`);
}

t.test('markers in silence are found within 5 ms of their onset, whatever the cuts', async (t) => {
  const at = [500, 1_337.5, 2_000, 3_010];
  near(t, detect(markerTrack(4_000, at)), at, 5, 'silence');
});

t.test('over speech-like sound the markers are found and the speech alone gives none', async (t) => {
  const speech = speechLike(1_000);
  t.same(detect(markerTrack(3_000, [], speech)), [], 'speech alone: no marker');
  const loud = speechLike(1_000, 1);
  t.same(detect(markerTrack(3_000, [], loud)), [], 'loud speech alone: no marker');
  const track = markerTrack(3_000, [700, 2_100], speech);
  // The marker replaces the background where it sits (the fake microphone's file is made this way).
  near(t, detect(track), [700, 2_100], 5, 'over speech');
});

t.test('other tones, quiet markers, long bursts and dropouts', async (t) => {
  t.same(detect(Buffer.concat([Buffer.alloc(9_600), markerPcm({ frequencyHz: 1_000 })])), [], 'a 1 kHz burst is not a marker');
  t.same(detect(Buffer.concat([Buffer.alloc(9_600), markerPcm({ frequencyHz: 2_700 })])), [], 'a 2.7 kHz burst is not a marker');
  t.same(detect(Buffer.concat([Buffer.alloc(9_600), markerPcm({ amplitude: 0.003 })])), [], 'a burst at −50 dBFS is not a marker');
  t.same(detect(Buffer.concat([Buffer.alloc(9_600), markerPcm({ durationMs: 20 })])), [], 'a 20 ms blip is not a marker');
  const long = Buffer.concat([Buffer.alloc(9_600), markerPcm({ durationMs: 1_500 }), Buffer.alloc(9_600)]);
  near(t, detect(long), [100], 5, 'a 1.5 s burst is one marker');
  // A lost packet in the middle of a burst (30 ms of silence) does not make a second marker…
  const broken = markerTrack(1_000, [200]);
  broken.fill(0, 250 * 96, 280 * 96);
  near(t, detect(broken), [200], 5, 'a burst with a dropout');
  // …and two markers 300 ms apart are two.
  near(t, detect(markerTrack(1_500, [200, 200 + MARKER_MS + 300])), [200, 600], 5, 'two close markers');
});

/** Encodes s16le mono 48 kHz PCM with `codec` args and decodes it back with ffmpeg (the codecs of the live path). */
async function roundTrip(t: Tap, pcm: Buffer, codec: string[], ext: string): Promise<Buffer> {
  const dir = tempDir(t);
  const wav = join(dir, 'in.wav');
  await writeFile(wav, wavFile(pcm));
  const run = promisify(execFile);
  await run(ffmpegBin(), ['-v', 'error', '-y', '-i', wav, ...codec, join(dir, `out.${ext}`)]);
  await run(ffmpegBin(), ['-v', 'error', '-y', '-i', join(dir, `out.${ext}`), '-ac', '1', '-ar', String(RATE), '-f', 's16le', join(dir, 'out.pcm')]);
  return readFile(join(dir, 'out.pcm'));
}

t.test("through the phone's Opus and the server's MP3 every marker is found, at the same spacing", async (t) => {
  const at = [400, 1_000, 1_750, 2_900, 3_500];
  const track = markerTrack(4_200, at, speechLike(700, 0.5));
  for (const [name, codec, ext] of [
    ['opus 24k', ['-c:a', 'libopus', '-b:a', '24k'], 'ogg'],
    ['mp3 64k', ['-c:a', 'libmp3lame', '-b:a', '64k', '-ac', '1', '-ar', String(RATE)], 'mp3'],
  ] as const) {
    const got = detect(await roundTrip(t, track, [...codec], ext));
    // A codec's delay shifts every onset alike (tens of ms): the spacing is what must hold.
    near(t, got.map((g) => g - got[0]!), at.map((a) => a - at[0]!), 10, name);
    t.ok(got[0]! >= at[0]! - 5 && got[0]! <= at[0]! + 80, `${name}: the codec delays the first onset by ${(got[0]! - at[0]!).toFixed(1)} ms`);
  }
});

t.test('the MarkerSink counts like the CountingSink and times onsets by when they reach it', async (t) => {
  const sink = new MarkerSink();
  const out = sink.open();
  const before = performance.timeOrigin + performance.now();
  out.write(Buffer.alloc(96 * 300));
  out.write(markerPcm());
  out.write(Buffer.alloc(96 * 300));
  const after = performance.timeOrigin + performance.now();
  await out.close();
  out.write(markerPcm());
  t.equal(sink.markers().length, 1, 'one marker; nothing counted after close');
  t.ok(sink.markers()[0]! >= before && sink.markers()[0]! <= after + 5, 'its onset is when its chunk was written');
  t.equal(Math.round(sink.totalMs), 700, 'the sink still counts what it got');
  t.equal(sink.openNow, 0);
});

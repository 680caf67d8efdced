import t from 'tap';
import { applyDips, findPeakSpots } from '../../../server/src/audio/peak-repair.js';
import { toDb, truePeak } from '../../../server/src/audio/true-peak.js';
import { runFfmpeg } from '../../../server/src/audio/index.js';

const RATE = 48_000;

t.test('spots: samples over the threshold, close ones merged', async (t) => {
  const x = new Float32Array(RATE);
  x[1000] = 0.95;
  x[1500] = -0.97; // 10 ms later: the same spot
  x[30000] = 0.92;
  x[40000] = 0.5; // under the threshold
  const spots = findPeakSpots(x, 0.9);
  t.same(spots.map((s) => [s.from, s.to]), [[1000, 1500], [30000, 30000]]);
  t.ok(Math.abs(spots[0]!.peak - 0.97) < 1e-6, 'the merged spot keeps its highest peak');
  t.same(findPeakSpots(x, 0.99), []);
});

t.test('dips bring each spot under the target, smoothly, and leave the rest alone', async (t) => {
  // A constant signal shows the gain envelope itself.
  const x = new Float32Array(RATE).fill(0.5);
  const ranges = applyDips(x, [{ from: 20000, to: 20010, peak: 0.8 }], 0.6, 0.5);
  t.equal(ranges.length, 1);
  const [from, to] = ranges[0]!;
  t.ok(to - from < 0.06 * RATE, `short: ${(((to - from) / RATE) * 1000).toFixed(0)} ms`);
  const depth = (0.6 / 0.8) * 10 ** (-0.5 / 20);
  t.ok(Math.abs(x[20005]! / 0.5 - depth) < 1e-4, `spot scaled to the target less 0.5 dB: ${(x[20005]! / 0.5).toFixed(4)}`);
  t.ok(x.every((v, i) => (i >= from && i < to) || v === 0.5), 'nothing outside the dip changed');
  let maxStep = 0;
  for (let i = from; i <= to; i++) maxStep = Math.max(maxStep, Math.abs(x[i]! - x[i - 1]!) / 0.5);
  t.ok(maxStep < 0.002, `gain moves by at most ${maxStep.toFixed(5)} per sample (no click)`);
  t.same(applyDips(x, [{ from: 100, to: 100, peak: 0.3 }], 0.6, 0), [], 'a spot already under the target is left alone');
});

t.test('true peak: inter-sample peaks are found, and agree with ffmpeg', async (t) => {
  // A sine at a quarter of the rate, sampled 45° off its crests: samples at ±0.707, true peak 1.0.
  const x = new Float32Array(4800).map((_, i) => Math.sin((Math.PI / 2) * i + Math.PI / 4));
  const sampled = Math.max(...x.map(Math.abs));
  t.ok(Math.abs(toDb(sampled) - -3.01) < 0.01, 'samples peak at −3 dBFS');
  const tp = truePeak(x, 0.5);
  t.ok(Math.abs(toDb(tp.peak)) < 0.2, `true peak ≈ 0 dBTP: ${toDb(tp.peak).toFixed(2)}`);
  t.ok(toDb(truePeak(x, 0.9).peak) < -2.9, 'with the floor above every sample only sample peaks are seen');

  // Against ffmpeg's ebur128 meter on codec output, which is what the pipeline checks.
  const { stdout: ogg } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=3100:duration=3,volume=7', '-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg', 'pipe:1']);
  const r = await runFfmpeg(['-hide_banner', '-nostats', '-i', 'pipe:0', '-af', 'ebur128=framelog=verbose:peak=true', '-ac', '1', '-ar', '48000', '-f', 'f32le', 'pipe:1'], { input: ogg });
  const decoded = new Float32Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + r.stdout.length));
  const ffmpegDb = Number(/True peak:\s+Peak:\s+(-?[\d.]+)/.exec(r.stderr)![1]);
  const ours = toDb(truePeak(decoded, 0.5).peak);
  t.ok(Math.abs(ours - ffmpegDb) < 0.2, `ours ${ours.toFixed(2)} dBTP, ffmpeg ${ffmpegDb} dBTP`);
});

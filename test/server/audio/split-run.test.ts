import t from 'tap';
import { runFfmpeg } from '../../../server/src/audio/index.js';
import { integratedLoudness } from '../../../server/src/audio/loudness.js';
import { pauseCuts, splitPass, type Run } from '../../../server/src/audio/split-run.js';

const RATE = 22050;
const run: Run = (args, input) => runFfmpeg(['-hide_banner', '-nostats', ...args], { input });

/** 1.2 s syllables of a few tones with 0.35 s pauses, like joined sentences. */
function speechLike(seconds: number): Int16Array {
  const x = new Int16Array(seconds * RATE);
  for (let at = 0, n = 0; at < x.length; at += Math.round(1.55 * RATE), n++) {
    for (let i = 0; i < 1.2 * RATE && at + i < x.length; i++) {
      const env = Math.min(1, i / 200, (1.2 * RATE - i) / 200);
      x[at + i] = Math.round(6000 * env * Math.sin((2 * Math.PI * (150 + 30 * (n % 5)) * i) / RATE) * (1 + 0.5 * Math.sin((2 * Math.PI * 4 * i) / RATE)));
    }
  }
  return x;
}

async function ebur128(input: Buffer, format: string, rate: number): Promise<number> {
  const { stderr } = await run(['-f', format, '-ar', String(rate), '-ac', '1', '-i', 'pipe:0', '-af', 'ebur128=framelog=verbose', '-f', 'null', '-'], input);
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))![1]);
}

t.test('cuts fall in the middle of pauses, one per extra part', async (t) => {
  const x = speechLike(60);
  const cuts = pauseCuts(x, RATE, 3);
  t.equal(cuts.length, 3);
  for (const c of cuts.slice(1)) t.ok(x.subarray(c - 1000, c + 1000).every((v) => v === 0), `cut at ${(c / RATE).toFixed(2)} s is inside a pause`);
  t.same(pauseCuts(speechLike(10), RATE, 2), [0], 'short audio is not split');
  t.same(pauseCuts(new Int16Array(60 * RATE).fill(3000), RATE, 2), [0], 'no pause, no cut');
});

t.test('a split pass gives the single pass\'s audio', async (t) => {
  const x = speechLike(60);
  const filter = 'volume=6dB,acompressor=threshold=0.089:ratio=4:attack=5:release=100:detection=rms,aresample=48000';
  const one = await splitPass(run, x, RATE, filter, 1);
  const two = await splitPass(run, x, RATE, filter, 2);
  t.ok(Math.abs(one.length - two.length) <= 8, `same length within a sample: ${one.length} vs ${two.length} bytes`);
  const a = new Float32Array(one.buffer, one.byteOffset, one.length / 4);
  const b = new Float32Array(two.buffer, two.byteOffset, two.length / 4);
  let maxDiff = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  t.ok(maxDiff < 0.01, `samples agree: max difference ${maxDiff.toFixed(5)}`);
  const whole = await ebur128(one, 'f32le', 48000);
  const split = await ebur128(two, 'f32le', 48000);
  t.ok(Math.abs(whole - split) < 0.05, `same loudness: ${whole} vs ${split} LUFS`);
});

t.test('the JS loudness meter agrees with ffmpeg\'s ebur128 at any rate', async (t) => {
  const x = speechLike(30);
  const ours = integratedLoudness(x, RATE);
  const theirs = await ebur128(Buffer.from(x.buffer), 's16le', RATE);
  t.ok(Math.abs(ours - theirs) < 0.15, `22.05 kHz: ours ${ours.toFixed(2)}, ebur128 ${theirs} LUFS`);
  const f = Float32Array.from({ length: 48000 * 10 }, (_, i) => 0.25 * Math.sin((2 * Math.PI * 997 * i) / 48000));
  const ours48 = integratedLoudness(f, 48000);
  const theirs48 = await ebur128(Buffer.from(f.buffer), 'f32le', 48000);
  t.ok(Math.abs(ours48 - theirs48) < 0.1, `48 kHz sine: ours ${ours48.toFixed(2)}, ebur128 ${theirs48} LUFS`);
  t.equal(integratedLoudness(new Int16Array(RATE * 2), RATE), -70, 'silence is under the absolute gate');
});

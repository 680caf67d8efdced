import t from 'tap';
import { EspeakEngine, splitIntoChunks } from '../../../server/src/audio/index.js';
import { integratedLoudness } from '../../../server/src/audio/loudness.js';
import { masterSpeech, nextGain } from '../../../server/src/audio/mastering.js';
import { synthesizeChunks } from '../../../server/src/audio/synthesize-chunks.js';
import { decodeAndMeasure } from './decode-helper.js';

// ~40 s of speech: long enough for segments and the excerpt search, short enough for a test.
const TEXT = Array.from({ length: 6 }, (_, i) =>
  `Thông báo số ${i + 1}: ngày mai xã tổ chức tiêm chủng cho trẻ em dưới một tuổi tại trạm y tế, từ bảy giờ sáng đến mười một giờ trưa; đề nghị các gia đình mang theo sổ tiêm chủng.`,
).join('\n');

async function speech(voice: string) {
  const s = await synthesizeChunks({ engine: new EspeakEngine(), chunks: splitIntoChunks(TEXT), voice, speed: 1 });
  return { samples: s.samples, sampleRate: s.sampleRate, rawLufs: integratedLoudness(s.samples, s.sampleRate) };
}

t.test('long speech: excerpt search, split passes, segmented Opus, on target', async (t) => {
  const raw = await speech('vi-vn-x-central');
  t.ok(raw.samples.length / raw.sampleRate > 40, `${(raw.samples.length / raw.sampleRate).toFixed(1)} s of speech`);
  const progress: number[] = [];
  const out = await masterSpeech({ ...raw, lanes: 2, onProgress: (f) => progress.push(f) });
  const d = decodeAndMeasure(out.ogg);
  t.ok(Math.abs(d.lufs - -16) <= 1 && d.truePeakDb <= -1, `on target: ${d.lufs} LUFS, ${d.truePeakDb} dBTP`);
  t.ok(Math.abs(d.durationMs - (raw.samples.length / raw.sampleRate) * 1000) < 30, 'as long as the speech');
  t.ok(out.timings.fitPasses <= 6, `gain fitted in ${out.timings.fitPasses} passes`);
  t.same(progress.at(-1), 1);
  t.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!), 'progress only grows');
});

t.test('when the limiter lets the codec overshoot, local repairs bring the file under −1 dBTP', async (t) => {
  const raw = await speech('vi');
  // −1.5 dBFS: Opus decodes well over −1 dBTP somewhere, so only repairs can make this file.
  const out = await masterSpeech({ ...raw, lanes: 2, ceilingDb: -1.5, mp3: true });
  t.ok(out.timings.repairedSegments > 0, `${out.timings.repairedSegments} segment(s) repaired`);
  const d = decodeAndMeasure(out.ogg);
  t.ok(d.truePeakDb <= -1, `independently measured ${d.truePeakDb} dBTP`);
  t.ok(Math.abs(d.lufs - -16) <= 1, `${d.lufs} LUFS`);
  t.ok(Math.abs(out.truePeakDb - d.truePeakDb) < 0.3, `reported ${out.truePeakDb} dBTP agrees`);
  const m = decodeAndMeasure(out.mp3!);
  t.ok(Math.abs(m.durationMs - d.durationMs) < 100, 'the MP3 is the repaired audio too (same length)');
});

t.test('secant steps use the two tries nearest the aim, with a bounded slope', async (t) => {
  t.equal(nextGain([{ gain: 10, lufs: -18 }, { gain: 12, lufs: -17 }], -16), 14);
  t.equal(nextGain([{ gain: 10, lufs: -18 }], -16), 12, 'one try: slope 1');
  t.equal(nextGain([{ gain: 10, lufs: -18 }, { gain: 12, lufs: -18 }], -16), 30, 'a flat step cannot send the gain to infinity');
});

import t from 'tap';
import { loadChime, runFfmpeg } from '../../../server/src/audio/index.js';
import { withChimes, type Chime } from '../../../server/src/audio/chime.js';

const RATE = 22050;

async function lufsOf(samples: Int16Array): Promise<number> {
  const { stderr } = await runFfmpeg(['-hide_banner', '-nostats', '-f', 's16le', '-ar', String(RATE), '-ac', '1', '-i', 'pipe:0', '-af', 'ebur128=framelog=verbose', '-f', 'null', '-'], {
    input: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
  });
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))![1]);
}

t.test('the default chime: a bell of a few seconds that rings down to silence, made once', async (t) => {
  const intro = await loadChime('default', 'intro', RATE);
  t.equal(intro.sampleRate, RATE);
  const seconds = intro.samples.length / RATE;
  t.ok(seconds > 2 && seconds < 3, `${seconds.toFixed(2)} s`);
  const tail = intro.samples.subarray(-Math.round(0.05 * RATE));
  t.ok(Math.max(...tail.map(Math.abs)) < 50, 'ends in (near) silence: no click when the speech starts');
  const peak = Math.max(...intro.samples.map(Math.abs));
  t.ok(peak > 2000 && peak < 32767, `uses the 16-bit range without clipping (peak ${peak})`);
  t.equal(await loadChime('default', 'intro', RATE), intro, 'made once per process and rate');
});

t.test('chimes are set relative to the speech and joined with gaps', async (t) => {
  const speech = Int16Array.from({ length: RATE * 3 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / RATE)));
  const speechLufs = await lufsOf(speech);
  const chime = await loadChime('default', 'outro', RATE);
  const joined = withChimes(speech, speechLufs, { intro: chime, outro: chime }, RATE, { gapMs: 250, levelLu: -3 });
  const gap = Math.round(0.25 * RATE);
  t.equal(joined.length, speech.length + 2 * chime.samples.length + 2 * gap);
  const introPart = joined.subarray(0, chime.samples.length);
  const introLufs = await lufsOf(introPart);
  t.ok(Math.abs(introLufs - (speechLufs - 3)) < 0.3, `chime at ${introLufs} LUFS, speech at ${speechLufs} LUFS`);
  t.ok(joined.subarray(chime.samples.length, chime.samples.length + gap).every((v) => v === 0), 'silence between chime and speech');
  t.same(joined.subarray(chime.samples.length + gap, chime.samples.length + gap + speech.length), speech, 'the speech itself is untouched');
  const quiet: Chime = { samples: Int16Array.from([30000, -30000]), sampleRate: RATE, lufs: -60 };
  const loud = withChimes(speech, -10, { intro: quiet }, RATE, {});
  t.ok(Math.max(...loud.subarray(0, 2).map(Math.abs)) <= 32767, 'a gain that would clip is capped');
});

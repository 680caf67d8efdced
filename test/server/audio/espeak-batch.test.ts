import t from 'tap';
import { batchSsml, BATCH_BREAK_MS, splitBatch } from '../../../server/src/audio/espeak-batch.js';

const RATE = 22050;

function speechWithGaps(parts: number[], gapMs: number[]): Int16Array {
  const out: number[] = [];
  parts.forEach((ms, i) => {
    for (let j = 0; j < (ms * RATE) / 1000; j++) out.push(j % 2 ? 3000 : -3000);
    if (i < gapMs.length) out.push(...new Array(Math.round((gapMs[i]! * RATE) / 1000)).fill(0));
  });
  return Int16Array.from(out);
}

t.test('the SSML separates escaped sentences with fixed breaks', async (t) => {
  t.equal(batchSsml(['một', 'a<b & c>d']), `<speak>một<break time="${BATCH_BREAK_MS}ms"/>a&lt;b &amp; c&gt;d</speak>`);
});

t.test('audio is cut at the long silences only', async (t) => {
  // Three sentences; a 300 ms pause inside the second one is eSpeak's own and stays.
  const pcm = speechWithGaps([500, 400, 300, 600], [BATCH_BREAK_MS, 300, BATCH_BREAK_MS]);
  const pieces = splitBatch(pcm, RATE, 3);
  t.ok(pieces, 'split');
  const ms = pieces!.map((p) => Math.round((p.length / RATE) * 1000));
  t.ok(Math.abs(ms[0]! - 520) < 5 && Math.abs(ms[1]! - (20 + 400 + 300 + 300 + 20)) < 5 && Math.abs(ms[2]! - 620) < 5, `pieces of ${ms.join(', ')} ms`);
});

t.test('anything unexpected refuses to split (the engine then reads sentence by sentence)', async (t) => {
  const pcm = speechWithGaps([500, 400, 600], [BATCH_BREAK_MS, BATCH_BREAK_MS]);
  t.equal(splitBatch(pcm, RATE, 4), null, 'a sentence that made no audio');
  t.equal(splitBatch(pcm, RATE, 2), null, 'more breaks than expected');
  const leading = speechWithGaps([0, 500, 500], [BATCH_BREAK_MS, BATCH_BREAK_MS]);
  t.equal(splitBatch(leading, RATE, 3), null, 'a long silence at the start is not a break between sentences');
  t.same(splitBatch(Int16Array.from([1, 2, 3]), RATE, 1)!.map((p) => p.length), [3], 'one text, one piece');
});

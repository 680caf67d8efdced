import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitIntoChunks, type Pcm, type SynthesisRequest, type TtsEngine } from '../../../server/src/audio/index.js';
import { synthesizeChunks } from '../../../server/src/audio/synthesize-chunks.js';

/** Answers after a delay that shrinks along the text, so later chunks finish first. */
class ShuffledEngine implements TtsEngine {
  readonly name = 'shuffled';
  inFlight = 0;
  maxInFlight = 0;
  constructor(readonly concurrency: number) {}
  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    const n = Number(/\d+/.exec(req.text)![0]);
    await sleep(80 - 8 * n);
    this.inFlight--;
    // Each chunk's samples all carry its number, so the joined order is visible.
    return { samples: new Int16Array(100).fill(1000 + n), sampleRate: 8000 };
  }
}

const chunks = splitIntoChunks(Array.from({ length: 8 }, (_, i) => `Câu ${i}.`).join(' '));

t.test('chunks run in parallel up to the engine concurrency and join in text order', async (t) => {
  const engine = new ShuffledEngine(3);
  const done: number[] = [];
  const out = await synthesizeChunks({ engine, chunks, voice: 'vi', speed: 1, onChunk: (c) => done.push(c) });
  t.equal(engine.maxInFlight, 3);
  const order = [...new Set(Array.from(out.samples).filter((v) => v !== 0))];
  t.same(order, [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007], 'text order, not finishing order');
  t.equal(out.samples.length, 8 * 100 + 7 * Math.round(8000 * 0.35), 'pauses between sentences');
  t.ok(done.every((c, i) => i === 0 || c > done[i - 1]!), 'progress only grows');
  t.same(out.engines, ['shuffled']);
});

t.test('an explicit concurrency overrides the engine\'s, and the first failure stops the rest', async (t) => {
  const engine = new ShuffledEngine(4);
  await synthesizeChunks({ engine, chunks, voice: 'vi', speed: 1, concurrency: 1 });
  t.equal(engine.maxInFlight, 1);
  let calls = 0;
  const failing: TtsEngine = {
    name: 'failing',
    synthesize: async () => {
      calls++;
      throw new Error('provider down');
    },
  };
  await t.rejects(synthesizeChunks({ engine: failing, chunks, voice: 'vi', speed: 1 }), /provider down/);
  t.equal(calls, 1, 'no further chunks started');
});

import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcmChunkCache, splitIntoChunks, type BatchSynthesisRequest, type Pcm, type SynthesisRequest, type TtsEngine } from '../../../server/src/audio/index.js';
import { synthesizeChunks } from '../../../server/src/audio/synthesize-chunks.js';

/**
 * Answers after a delay that shrinks along the text, so later chunks finish first. The delays are the
 * stand-in provider's latency (what makes work overlap and finish out of order), not a test waiting.
 */
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

/** Reads batches; every sentence's samples carry its number, as above. */
class BatchEngine implements TtsEngine {
  readonly name = 'batching';
  batches: string[][] = [];
  singles = 0;
  constructor(readonly concurrency: number) {}
  async synthesize(): Promise<Pcm> {
    this.singles++;
    throw new Error('a batch engine should get batches');
  }
  async synthesizeBatch(req: BatchSynthesisRequest): Promise<Pcm[]> {
    this.batches.push(req.texts);
    await sleep(5 * (3 - this.batches.length)); // later batches finish first
    return req.texts.map((text) => ({ samples: new Int16Array(100).fill(1000 + Number(/\d+/.exec(text)![0])), sampleRate: 8000 }));
  }
}

t.test('an engine that reads batches gets the sentences in batches, one per lane, and they join in order', async (t) => {
  const engine = new BatchEngine(2);
  const done: number[] = [];
  const out = await synthesizeChunks({ engine, chunks, voice: 'vi', speed: 1, onChunk: (c) => done.push(c) });
  t.equal(engine.singles, 0);
  t.equal(engine.batches.length, 2, 'two lanes, two batches');
  t.same(engine.batches.flat(), chunks.map((c) => c.text), 'every sentence once, in text order');
  const order = [...new Set(Array.from(out.samples).filter((v) => v !== 0))];
  t.same(order, [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
  t.equal(out.samples.length, 8 * 100 + 7 * Math.round(8000 * 0.35), 'the same pauses as sentence by sentence');
  t.equal(done.length, 8, 'progress per sentence');
  t.ok(done.every((c, i) => i === 0 || c > done[i - 1]!), 'progress only grows');
});

t.test('cached sentences stay out of the batches, and what a batch made is cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-batch-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const chunkCache = new PcmChunkCache({ dir });
  const first = new BatchEngine(1);
  await synthesizeChunks({ engine: first, chunks: chunks.slice(0, 5), voice: 'vi', speed: 1, chunkCache });
  t.same(first.batches, [chunks.slice(0, 5).map((c) => c.text)], 'one lane: one batch');
  const second = new BatchEngine(1);
  const out = await synthesizeChunks({ engine: second, chunks, voice: 'vi', speed: 1, chunkCache });
  t.same(second.batches, [chunks.slice(5).map((c) => c.text)], 'only the new sentences were read');
  t.same({ synthesized: out.synthesizedChunks, cached: out.cachedChunks }, { synthesized: 3, cached: 5 });
  const order = [...new Set(Array.from(out.samples).filter((v) => v !== 0))];
  t.same(order, [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
});

t.test('a batch that comes back short is an error, not a silent gap', async (t) => {
  const short: TtsEngine = {
    name: 'short',
    synthesize: async () => ({ samples: new Int16Array(10), sampleRate: 8000 }),
    synthesizeBatch: async (req) => req.texts.slice(1).map(() => ({ samples: new Int16Array(10).fill(5), sampleRate: 8000 })),
  };
  await t.rejects(synthesizeChunks({ engine: short, chunks, voice: 'vi', speed: 1 }), /returned 7 pieces of audio for 8 sentences/);
});

import t from 'tap';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chunkCacheKey, EspeakEngine, FallbackEngine, PcmChunkCache, renderSpeech,
  type Pcm, type SynthesisRequest, type TtsEngine,
} from '../../../server/src/audio/index.js';
import { fakeClock } from '../../helpers/clock.js';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-chunks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.pcm'));
}

/** Wraps eSpeak and records which sentences it was asked to read. */
class CountingEngine implements TtsEngine {
  readonly name = 'espeak-ng';
  readonly texts: string[] = [];
  readonly #inner = new EspeakEngine();
  synthesize(req: SynthesisRequest): Promise<Pcm> {
    this.texts.push(req.text);
    return this.#inner.synthesize(req);
  }
}

const pcm = (n: number, value = 1000, engine?: string): Pcm => ({ samples: new Int16Array(n).fill(value), sampleRate: 22050, ...(engine ? { engine } : {}) });
const key = { engine: 'espeak-ng', voice: 'vi', speed: 1, text: 'Xin chào bà con.' };

t.test('an edited bulletin re-synthesizes only the sentence that changed', async (t) => {
  const cache = new PcmChunkCache({ dir: await tempDir(t) });
  const engine = new CountingEngine();
  const render = (text: string) => renderSpeech({ engine, text, voice: 'vi', speed: 1, chunkCache: cache });
  const v1 = 'Ủy ban nhân dân xã thông báo. Ngày mai cắt điện từ bảy giờ. Đề nghị bà con chú ý.';
  const v2 = 'Ủy ban nhân dân xã thông báo. Ngày mai cắt điện từ tám giờ. Đề nghị bà con chú ý.';

  const first = await render(v1);
  t.equal(engine.texts.length, 3, 'three sentences synthesized');
  t.same(first.chunks, { synthesized: 3, cached: 0 });
  const second = await render(v2);
  t.same(engine.texts.slice(3), ['Ngày mai cắt điện từ tám giờ.'], 'only the edited sentence');
  t.same(second.chunks, { synthesized: 1, cached: 2 });
  t.equal(second.engine, 'espeak-ng');
  const again = await render(v1);
  t.equal(engine.texts.length, 4, 'the original is all cached now');
  t.same(again.chunks, { synthesized: 0, cached: 3 });
  t.ok(Math.abs(again.durationMs - first.durationMs) < 30, 'same speech from the cache');
  const otherVoice = await renderSpeech({ engine, text: v1, voice: 'vi-vn-x-south', speed: 1, chunkCache: cache });
  t.same(otherVoice.chunks, { synthesized: 3, cached: 0 }, 'another voice is another key');
});

t.test('the key covers engine, voice, speed and the normalized text', async (t) => {
  const base = chunkCacheKey(key);
  t.match(base, /^[0-9a-f]{64}$/);
  t.not(chunkCacheKey({ ...key, engine: 'zalo-ai' }), base);
  t.not(chunkCacheKey({ ...key, voice: 'vi-vn-x-south' }), base);
  t.not(chunkCacheKey({ ...key, speed: 1.1 }), base);
  t.not(chunkCacheKey({ ...key, text: 'Xin chào bà con!' }), base);
  t.equal(chunkCacheKey({ ...key, text: '  Xin   chào\nbà con. ' }), base, 'whitespace does not matter');
  t.equal(chunkCacheKey({ ...key, text: 'Xin cha\u0300o bà con.' }), base, 'decomposed and composed Vietnamese are the same text');
});

t.test('entries round-trip with the engine that made them, and survive a restart', async (t) => {
  const dir = await tempDir(t);
  const cache = new PcmChunkCache({ dir });
  t.equal(await cache.get(key), null, 'miss');
  await cache.put(key, pcm(100, -1234, 'zalo-ai'));
  const hit = await cache.get(key);
  t.same(Array.from(hit!.samples.subarray(0, 3)), [-1234, -1234, -1234]);
  t.match(hit, { sampleRate: 22050, engine: 'zalo-ai' });
  const reopened = new PcmChunkCache({ dir });
  t.equal((await reopened.get(key))!.samples.length, 100, 'found by a new instance');
});

t.test('a damaged entry is a miss and is removed', async (t) => {
  const dir = await tempDir(t);
  await new PcmChunkCache({ dir }).put(key, pcm(100));
  const [file] = await files(dir);
  await writeFile(join(dir, file!), Buffer.from('LXPC truncated'));
  const cache = new PcmChunkCache({ dir });
  t.equal(await cache.get(key), null);
  t.same(await files(dir), [], 'removed');
});

t.test('the size cap evicts the least recently used entries', async (t) => {
  const dir = await tempDir(t);
  const entry = 16 + 2 * 1000; // header + 1000 samples
  const clock = fakeClock();
  const cache = new PcmChunkCache({ dir, maxBytes: entry * 4, now: clock.now });
  const k = (i: number) => ({ ...key, text: `Câu số ${i}.` });
  for (let i = 0; i < 4; i++) {
    await cache.put(k(i), pcm(1000));
    clock.advance(5); // distinct use times
  }
  await cache.get(k(0)); // used recently: must survive
  await cache.put(k(4), pcm(1000));
  t.ok(cache.totalBytes <= entry * 4, `total ${cache.totalBytes} bytes within the cap`);
  t.not(await cache.get(k(0)), null, 'recently used entry kept');
  t.equal(await cache.get(k(1)), null, 'least recently used entry evicted');
  t.not(await cache.get(k(4)), null, 'new entry kept');
  t.equal((await files(dir)).length, Math.floor(cache.totalBytes / entry));
});

t.test('audio a fallback engine made is not cached', async (t) => {
  const cache = new PcmChunkCache({ dir: await tempDir(t) });
  const down: TtsEngine = { name: 'cloud', synthesize: () => Promise.reject(new Error('down')) };
  const engine = new FallbackEngine([down, new EspeakEngine()], { cooldownMs: 0 });
  const out = await renderSpeech({ engine, text: 'Xin chào bà con.', voice: 'vi', speed: 1, chunkCache: cache });
  t.equal(out.engine, 'espeak-ng');
  t.equal(cache.totalBytes, 0, 'next render gives the cloud another chance');
});

t.test('cache failures never fail a render', async (t) => {
  const dir = await tempDir(t);
  const blocker = join(dir, 'not-a-dir');
  await writeFile(blocker, 'x');
  const errors: Error[] = [];
  const cache = new PcmChunkCache({ dir: blocker, onError: (e) => errors.push(e) });
  const out = await renderSpeech({ engine: new EspeakEngine(), text: 'Xin chào.', voice: 'vi', speed: 1, chunkCache: cache });
  t.same(out.chunks, { synthesized: 1, cached: 0 });
  t.ok(errors.length > 0, 'reported to onError');
});

// No Vietnamese Piper/VITS model is available to the test suite: these tests cover configuration and error
// paths against the real sherpa-onnx-node, and the synthesis path against a stand-in module.
import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SherpaOnnxEngine, TtsError } from '../../../server/src/audio/index.js';

async function modelDir(t: { teardown(fn: () => unknown): void }): Promise<{ model: string; tokens: string; dataDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-piper-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = { model: join(dir, 'vi_VN-test.onnx'), tokens: join(dir, 'tokens.txt'), dataDir: join(dir, 'espeak-ng-data') };
  await writeFile(files.model, Buffer.from('not really an ONNX model'));
  await writeFile(files.tokens, '_ 0\na 1\n');
  await mkdir(files.dataDir);
  for (const f of ['phontab', 'phonindex', 'phondata', 'intonations']) await writeFile(join(files.dataDir, f), '');
  return files;
}

const req = { text: 'Xin chào bà con.', voice: 'vi', speed: 1 };

t.test('missing files are clear configuration errors, before sherpa is asked', async (t) => {
  const files = await modelDir(t);
  const cases: Array<[Partial<typeof files>, RegExp]> = [
    [{ model: '/nowhere/vi.onnx' }, /piper: model file \/nowhere\/vi.onnx does not exist/],
    [{ tokens: '/nowhere/tokens.txt' }, /tokens file \/nowhere\/tokens.txt does not exist/],
    [{ dataDir: '/nowhere/espeak-ng-data' }, /dataDir directory \/nowhere\/espeak-ng-data does not exist/],
  ];
  for (const [override, message] of cases) {
    const err = await new SherpaOnnxEngine({ ...files, ...override }).synthesize(req).catch((e: unknown) => e);
    t.ok(err instanceof TtsError, String(message));
    t.match(err, { kind: 'config', message });
  }
  await rm(join(files.dataDir, 'phontab'));
  await t.rejects(new SherpaOnnxEngine(files).synthesize(req), { kind: 'config', message: /espeak-ng-data.* is not an espeak-ng-data directory \(no phontab\)/ });
  t.throws(() => new SherpaOnnxEngine({ model: '', tokens: '' }), /model and tokens paths are required/);
});

t.test('a file that is not a model: the real sherpa-onnx-node refuses it, and we say which file', async (t) => {
  const files = await modelDir(t);
  const engine = new SherpaOnnxEngine(files);
  await t.rejects(engine.synthesize(req), { kind: 'config', message: /sherpa-onnx cannot load the model .*vi_VN-test\.onnx/ });
  await t.rejects(engine.synthesize(req), { kind: 'config', message: /cannot load the model/ }, 'retried, not a cached failure');
});

t.test('the package not being installed is a clear error', async (t) => {
  const files = await modelDir(t);
  const engine = new SherpaOnnxEngine({ ...files, loadModule: () => Promise.reject(new Error("Cannot find package 'sherpa-onnx-node'")) });
  await t.rejects(engine.synthesize(req), { kind: 'config', message: /cannot load sherpa-onnx-node \(npm install sherpa-onnx-node\): Cannot find package/ });
});

t.test('synthesis: config shape, speaker and speed passed through, float samples to 16-bit', async (t) => {
  const files = await modelDir(t);
  const configs: unknown[] = [];
  const calls: Array<{ text: string; sid: number; speed: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fakeModule = {
    OfflineTts: {
      createAsync: async (config: unknown) => {
        configs.push(config);
        return {
          sampleRate: 24000,
          numSpeakers: 2,
          generateAsync: async (r: { text: string; sid: number; speed: number }) => {
            calls.push(r);
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            await new Promise((res) => setTimeout(res, 20)); // the stand-in's own latency, so calls would overlap
            inFlight--;
            return { samples: Float32Array.from([0, 0.5, -0.5, 1, -1, 1.7, -3]), sampleRate: 24000 };
          },
        };
      },
    },
  };
  const engine = new SherpaOnnxEngine({ ...files, voices: { 'vi-vn-x-south': 1 }, numThreads: 2, loadModule: async () => ({ default: fakeModule }) });
  const pcm = await engine.synthesize({ ...req, speed: 1.25 });
  t.same(configs, [{
    model: { vits: { model: files.model, tokens: files.tokens, dataDir: files.dataDir, lexicon: '' }, numThreads: 2, provider: 'cpu', debug: 0 },
    maxNumSentences: 1,
  }], 'the VITS/Piper config sherpa-onnx documents');
  t.same(calls[0], { text: 'Xin chào bà con.', sid: 0, speed: 1.25 });
  t.equal(pcm.sampleRate, 24000);
  t.same(Array.from(pcm.samples), [0, 16384, -16384, 32767, -32768, 32767, -32768], 'scaled and clipped');

  await Promise.all([engine.synthesize({ ...req, voice: 'vi-vn-x-south' }), engine.synthesize(req), engine.synthesize(req)]);
  t.equal(calls[1]!.sid, 1, 'voice table picks the speaker');
  t.equal(maxInFlight, 1, 'one generation at a time per model');
  t.equal(configs.length, 1, 'the model is loaded once');

  const oneSpeaker = new SherpaOnnxEngine({ ...files, voices: { vi: 5 }, loadModule: async () => fakeModule });
  await t.rejects(oneSpeaker.synthesize(req), { kind: 'config', message: /speaker 5 not in model \(it has 2\)/ });
  await t.rejects(engine.synthesize({ ...req, voice: 'en' }), { kind: 'unsupported', message: /no speaker configured for voice "en"/ });
});

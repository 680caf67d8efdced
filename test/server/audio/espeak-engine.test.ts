import t from 'tap';
import { EspeakEngine, VIETNAMESE_VOICES, speedToWpm, type Pcm } from '../../../server/src/audio/index.js';

const TEXT = 'Ủy ban nhân dân xã thông báo.';
const engine = new EspeakEngine();

function rms(s: Int16Array): number {
  let sum = 0;
  for (const v of s) sum += v * v;
  return Math.sqrt(sum / Math.max(1, s.length));
}

t.test('each Vietnamese voice speaks the text as mono PCM', async (t) => {
  const outs: Int16Array[] = [];
  for (const voice of VIETNAMESE_VOICES) {
    const pcm = await engine.synthesize({ text: TEXT, voice, speed: 1 });
    t.equal(pcm.sampleRate, 22050, `${voice}: eSpeak's native rate`);
    const seconds = pcm.samples.length / pcm.sampleRate;
    t.ok(seconds > 1 && seconds < 6, `${voice}: ${seconds.toFixed(2)} s of audio`);
    t.ok(rms(pcm.samples) > 300, `${voice}: not silence`);
    outs.push(pcm.samples);
  }
  t.ok(outs.every((s, i) => outs.findIndex((o) => o.length === s.length && o.every((v, j) => v === s[j])) === i), 'no two voices give identical audio');
});

t.test('speed maps to words per minute and changes the length', async (t) => {
  t.equal(speedToWpm(1), 175);
  t.equal(speedToWpm(0.5), 88);
  t.equal(speedToWpm(2), 350);
  t.throws(() => speedToWpm(2.5), RangeError);
  t.throws(() => speedToWpm(0.1), RangeError);
  const normal = await engine.synthesize({ text: TEXT, voice: 'vi', speed: 1 });
  const fast = await engine.synthesize({ text: TEXT, voice: 'vi', speed: 1.5 });
  const slow = await engine.synthesize({ text: TEXT, voice: 'vi', speed: 0.5 });
  t.ok(fast.samples.length < normal.samples.length * 0.85, 'faster is shorter');
  t.ok(slow.samples.length > normal.samples.length * 1.5, 'slower is longer');
});

t.test('text that looks like options is spoken, not obeyed', async (t) => {
  // If "-v en" or "--help" reached eSpeak as options, there would be English or no audio at all.
  const plain = await engine.synthesize({ text: 'v en xin chào', voice: 'vi', speed: 1 });
  const dashed = await engine.synthesize({ text: '-v en xin chào', voice: 'vi', speed: 1 });
  t.ok(Math.abs(dashed.samples.length - plain.samples.length) < plain.samples.length * 0.25, 'same speech with or without the dash');
  const help = await engine.synthesize({ text: '--help', voice: 'vi', speed: 1 });
  t.ok(help.samples.length > 0.3 * help.sampleRate, 'a lone "--help" is synthesized as speech');
});

t.test('unknown voices and empty text are refused', async (t) => {
  await t.rejects(engine.synthesize({ text: TEXT, voice: 'en', speed: 1 }), /unknown voice "en"/);
  await t.rejects(engine.synthesize({ text: TEXT, voice: '-w', speed: 1 }), /unknown voice/);
  await t.rejects(engine.synthesize({ text: '  ', voice: 'vi', speed: 1 }), /empty/);
});

t.test('running eSpeak does not touch the process exit code', async (t) => {
  const before = process.exitCode;
  process.exitCode = 3;
  t.teardown(() => { process.exitCode = before; });
  await engine.synthesize({ text: TEXT, voice: 'vi', speed: 1 });
  t.equal(process.exitCode, 3, 'Emscripten would have reset it to 0');
});

t.test('one engine serves concurrent calls', async (t) => {
  const texts = ['Một.', 'Hai hai.', 'Ba ba ba.'];
  const outs = await Promise.all(texts.map((text) => engine.synthesize({ text, voice: 'vi', speed: 1 })));
  t.ok(outs[0]!.samples.length < outs[1]!.samples.length && outs[1]!.samples.length < outs[2]!.samples.length, 'each call got its own text');
});

t.test('a batch is one eSpeak run that sounds like one run per sentence', async (t) => {
  const texts = ['Xin chào bà con.', 'Ngày mai cắt điện từ bảy giờ.', 'Đề nghị bà con chú ý theo dõi.'];
  const started = performance.now();
  const batch = await engine.synthesizeBatch({ texts, voice: 'vi', speed: 1 });
  const batchMs = performance.now() - started;
  t.equal(batch.length, texts.length, 'one piece per text');
  const singleStarted = performance.now();
  const singles: Pcm[] = [];
  for (const text of texts) singles.push(await engine.synthesize({ text, voice: 'vi', speed: 1 }));
  const singleMs = performance.now() - singleStarted;
  batch.forEach((piece, i) => {
    const a = speechLength(piece.samples) / piece.sampleRate;
    const b = speechLength(singles[i]!.samples) / singles[i]!.sampleRate;
    t.ok(Math.abs(a - b) < 0.03, `sentence ${i + 1}: ${a.toFixed(3)} s in the batch, ${b.toFixed(3)} s alone`);
    t.ok(piece.samples.length <= singles[i]!.samples.length + 0.05 * piece.sampleRate, 'the break between sentences is not part of the piece');
  });
  t.ok(batchMs < singleMs, `faster than one run each: ${Math.round(batchMs)} vs ${Math.round(singleMs)} ms`);
});

t.test('a batch reads markup characters as text, and refuses what a single call refuses', async (t) => {
  const out = await engine.synthesizeBatch({ texts: ['a < b & c > d', '<break time="9s"/> xin chào'], voice: 'vi', speed: 1 });
  t.equal(out.length, 2, 'SSML in the text is escaped, not obeyed');
  t.ok(out[1]!.samples.length / out[1]!.sampleRate < 5, 'no nine-second break was inserted');
  t.same(await engine.synthesizeBatch({ texts: [], voice: 'vi', speed: 1 }), []);
  await t.rejects(engine.synthesizeBatch({ texts: ['a', ' '], voice: 'vi', speed: 1 }), /empty/);
  await t.rejects(engine.synthesizeBatch({ texts: ['a'], voice: 'en', speed: 1 }), /unknown voice/);
});

/** Samples from the first to the last non-silent one. */
function speechLength(s: Int16Array): number {
  let a = 0;
  let b = s.length;
  while (a < b && Math.abs(s[a]!) < 100) a++;
  while (b > a && Math.abs(s[b - 1]!) < 100) b--;
  return b - a;
}

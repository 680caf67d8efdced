import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CHIME_GAP_MS, EspeakEngine, EspeakWorkerEngine, loadChime, renderSpeech, runFfmpeg, type Pcm, type TtsEngine } from '../../../server/src/audio/index.js';
import { decodeAndMeasure } from './decode-helper.js';

const NOTICE = 'Ủy ban nhân dân xã thông báo: ngày mai cắt điện từ bảy giờ đến mười một giờ.';
const engine = new EspeakEngine();

t.test('a Vietnamese notice becomes an Ogg Opus file at broadcast loudness', async (t) => {
  const progress: Array<[number, string]> = [];
  const out = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, onProgress: (p, stage) => progress.push([p, stage]) });

  t.ok(out.ogg.length > 1000, 'file is not empty');
  t.equal(out.ogg.subarray(0, 4).toString('latin1'), 'OggS', 'starts with the Ogg capture pattern');
  t.ok(out.ogg.includes(Buffer.from('OpusHead')), 'carries an Opus stream');
  t.equal(out.engine, 'espeak-ng');

  const decoded = decodeAndMeasure(out.ogg);
  t.ok(decoded.durationMs > 2500 && decoded.durationMs < 15000, `plausible duration: ${decoded.durationMs} ms`);
  t.ok(Math.abs(decoded.durationMs - out.durationMs) < 50, 'reported duration matches the decoded file');
  t.ok(Math.abs(decoded.lufs - -16) <= 1, `independently measured ${decoded.lufs} LUFS`);
  t.ok(decoded.truePeakDb <= -1, `independently measured true peak ${decoded.truePeakDb} dBTP`);
  t.ok(Math.abs(out.lufs - decoded.lufs) < 0.3, 'reported loudness agrees with the independent meter');
  t.ok(Math.abs(out.truePeakDb - decoded.truePeakDb) < 0.3, 'reported true peak agrees with the independent meter');
  // 32 kbps requested: a 2018 libopus without -application voip made ~58 kbps.
  const kbps = (out.ogg.length * 8) / out.durationMs;
  t.ok(kbps > 20 && kbps < 40, `bitrate ${kbps.toFixed(1)} kbps`);

  t.ok(progress.length >= 3, 'reports progress');
  t.same(progress.at(-1), [100, 'encoding'], 'ends at 100 %');
  t.ok(progress.every(([p], i) => i === 0 || p >= progress[i - 1]![0]), 'progress never goes backwards');
  t.ok(progress.some(([, s]) => s === 'synthesizing') && progress.some(([, s]) => s === 'encoding'), 'names both stages');
});

t.test('voices sound different and faster speech is shorter', async (t) => {
  const render = (voice: string, speed: number) => renderSpeech({ engine, text: NOTICE, voice, speed });
  const [north, south, fast] = await Promise.all([render('vi', 1), render('vi-vn-x-south', 1), render('vi', 1.5)]);
  const n = decodeAndMeasure(north.ogg);
  const s = decodeAndMeasure(south.ogg);
  const f = decodeAndMeasure(fast.ogg);
  t.not(north.ogg.toString('base64'), south.ogg.toString('base64'), 'different files');
  t.ok(differs(n.samples, s.samples), 'different audio, not just different containers');
  t.ok(f.durationMs < n.durationMs * 0.85, `speed 1.5 is shorter: ${f.durationMs} vs ${n.durationMs} ms`);
  for (const [name, d] of [['south', s], ['fast', f]] as const) {
    t.ok(Math.abs(d.lufs - -16) <= 1 && d.truePeakDb <= -1, `${name} also on target (${d.lufs} LUFS, ${d.truePeakDb} dBTP)`);
  }
});

t.test('several sentences are joined with pauses', async (t) => {
  const one = await renderSpeech({ engine, text: 'Xin chào bà con.', voice: 'vi', speed: 1 });
  const two = await renderSpeech({ engine, text: 'Xin chào bà con.\nXin chào bà con.', voice: 'vi', speed: 1 });
  // Two copies plus a ~350 ms pause; a tolerance for the 10 ms kept around each chunk and codec padding.
  const expected = 2 * one.durationMs + 350;
  t.ok(Math.abs(two.durationMs - expected) < 120, `two sentences ${two.durationMs} ms, one ${one.durationMs} ms`);
});

t.test('the worker-pool engine renders the same notice on target, chunks in parallel', async (t) => {
  const pool = new EspeakWorkerEngine({ poolSize: 2 });
  t.teardown(() => pool.close());
  const text = `${NOTICE} Đề nghị bà con chú ý. Xin cảm ơn.`;
  const progress: number[] = [];
  const out = await renderSpeech({ engine: pool, text, voice: 'vi', speed: 1, onProgress: (p) => progress.push(p) });
  const direct = await renderSpeech({ engine, text, voice: 'vi', speed: 1 });
  t.equal(out.engine, 'espeak-ng');
  t.same(out.chunks, { synthesized: 3, cached: 0 });
  t.ok(Math.abs(out.durationMs - direct.durationMs) < 30, `same speech: ${out.durationMs} vs ${direct.durationMs} ms`);
  const d = decodeAndMeasure(out.ogg);
  t.ok(Math.abs(d.lufs - -16) <= 1 && d.truePeakDb <= -1, `on target (${d.lufs} LUFS, ${d.truePeakDb} dBTP)`);
  t.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!), 'progress never goes backwards');
});

t.test('intro and outro chimes: the default bell, or any audio file, around the speech, on target', async (t) => {
  const plain = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1 });
  const chimed = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, chime: { intro: 'default', outro: 'default' } });
  const intro = await loadChime('default', 'intro', 22050);
  const outro = await loadChime('default', 'outro', 22050);
  const chimeMs = ((intro.samples.length + outro.samples.length) / 22050) * 1000 + 2 * DEFAULT_CHIME_GAP_MS;
  t.ok(chimeMs > 4000 && chimeMs < 7000, `the default chimes with their gaps last ${Math.round(chimeMs)} ms`);
  const grew = chimed.durationMs - plain.durationMs;
  t.ok(Math.abs(grew - chimeMs) < 60, `the file grew by the chimes: ${grew} ms (expected ${Math.round(chimeMs)})`);
  const d = decodeAndMeasure(chimed.ogg);
  t.ok(Math.abs(d.lufs - -16) <= 1 && d.truePeakDb <= -1, `whole file with chimes on target (${d.lufs} LUFS, ${d.truePeakDb} dBTP)`);
  // The bell is really there: the first half second is not silent, and it differs between intro and outro.
  const head = d.samples.subarray(0, 24000);
  t.ok(Math.max(...head.map(Math.abs)) > 3000, 'the file opens with the chime');
  t.not(Buffer.from(intro.samples.buffer).toString('base64'), Buffer.from(outro.samples.buffer).toString('base64'), 'intro rises, outro falls');

  // An installation's own chime: any file ffmpeg reads (here FLAC), only before the speech, custom gap.
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-chime-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'chuông.flac');
  await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=880:duration=0.8', '-af', 'afade=t=out:st=0.6:d=0.2', file]);
  const own = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, chime: { intro: file, gapMs: 200 } });
  const ownGrew = own.durationMs - plain.durationMs;
  t.ok(Math.abs(ownGrew - 1000) < 60, `grew by 0.8 s of chime and 0.2 s of gap: ${ownGrew} ms`);
  const o = decodeAndMeasure(own.ogg);
  t.ok(Math.abs(o.lufs - -16) <= 1 && o.truePeakDb <= -1, `on target (${o.lufs} LUFS, ${o.truePeakDb} dBTP)`);

  await t.rejects(renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, chime: { outro: join(dir, 'missing.wav') } }), /chime file not found/);
  const notAudio = join(dir, 'notes.txt');
  await (await import('node:fs/promises')).writeFile(notAudio, 'không phải âm thanh');
  await t.rejects(renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, chime: { intro: notAudio } }), /cannot be decoded/);
});

t.test('an MP3 download copy made from the same audio as the Opus file', async (t) => {
  const out = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, mp3: true });
  t.ok(out.mp3 && out.mp3.length > 1000, 'MP3 returned');
  const mp3 = out.mp3!;
  const frameSync = mp3.subarray(0, 3).toString('latin1') === 'ID3' || (mp3[0] === 0xff && (mp3[1]! & 0xe0) === 0xe0);
  t.ok(frameSync, 'starts like an MP3 file');
  const m = decodeAndMeasure(mp3);
  const o = decodeAndMeasure(out.ogg);
  t.ok(Math.abs(m.durationMs - o.durationMs) < 100, `same duration: MP3 ${Math.round(m.durationMs)} ms, Opus ${Math.round(o.durationMs)} ms`);
  const kbps = (mp3.length * 8) / m.durationMs;
  t.ok(kbps > 40 && kbps < 56, `about 48 kbps: ${kbps.toFixed(1)}`);
  t.ok(Math.abs(m.lufs - o.lufs) < 1, `same loudness: MP3 ${m.lufs}, Opus ${o.lufs} LUFS`);
  const without = await renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1 });
  t.equal(without.mp3, undefined, 'no MP3 unless asked');
});

t.test('empty or whitespace-only text is refused before any work', async (t) => {
  let calls = 0;
  const counting: TtsEngine = { name: 'counting', synthesize: async (): Promise<Pcm> => { calls++; return { samples: new Int16Array(0), sampleRate: 22050 }; } };
  for (const text of ['', '   ', '\n\t\n', '...']) {
    await t.rejects(renderSpeech({ engine: counting, text, voice: 'vi', speed: 1 }), /empty/, JSON.stringify(text));
  }
  t.equal(calls, 0, 'the engine was never called');
});

t.test('bad speeds and silent engines are refused with a clear error', async (t) => {
  await t.rejects(renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 3 }), /speed/);
  await t.rejects(renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: Number.NaN }), /speed/);
  const silent: TtsEngine = { name: 'silent', synthesize: async () => ({ samples: new Int16Array(22050), sampleRate: 22050 }) };
  await t.rejects(renderSpeech({ engine: silent, text: NOTICE, voice: 'vi', speed: 1 }), /silence/);
});

t.test('an aborted render stops', async (t) => {
  const ac = new AbortController();
  ac.abort(new Error('broadcast cancelled'));
  await t.rejects(renderSpeech({ engine, text: NOTICE, voice: 'vi', speed: 1, signal: ac.signal }), /broadcast cancelled/);
});

function differs(a: Int16Array, b: Int16Array): boolean {
  if (Math.abs(a.length - b.length) > 4800) return true;
  let diff = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) diff += Math.abs(a[i]! - b[i]!);
  return diff / n > 100;
}

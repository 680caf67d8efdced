/**
 * The attention signal before a warning's speech (issue 18): the built-in 'attention' chime is three bursts of
 * 853 Hz + 960 Hz together; a bulletin marked `attention` opens with it (SpeechService → pipeline), keeps the
 * configured outro, and the whole file still meets −16 LUFS / −1 dBTP. Without the mark, no such tone.
 */
import t from 'tap';
import pino from 'pino';
import { EspeakEngine, loadChime } from '../../server/src/audio/index.js';
import { ATTENTION_BURST_S, ATTENTION_BURSTS, ATTENTION_PAUSE_S, ATTENTION_TONES_HZ } from '../../server/src/audio/chime.js';
import { SpeechService } from '../../server/src/services/speech.js';
import { BulletinService, type SpeechRenderer } from '../../server/src/services/bulletin-service.js';
import { openDatabase } from '../../server/src/db/database.js';
import { BulletinRepository } from '../../server/src/repos/bulletins.js';
import { decodeAndMeasure } from '../server/audio/decode-helper.js';

const RATE = 48_000; // decodeAndMeasure's rate
const TEXT = 'Cảnh báo lũ quét. Bà con di chuyển đến nơi an toàn.';

/** Goertzel power of `hz` over a window, normalized by the window's energy (0‥~1: the share of that tone). */
function toneShare(x: Int16Array, from: number, length: number, hz: number, rate = RATE): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = from; i < from + length; i++) {
    const v = x[i]! / 32768;
    const s0 = v + k * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += v * v;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy === 0 ? 0 : (2 * power) / (length * energy);
}

const dictionary = { readingsFor: () => ({}) } as never;
const speech = new SpeechService({ engine: new EspeakEngine(), chunkCache: undefined, dictionary, chime: { outro: 'default' } });

t.test('the attention chime: three bursts of the two tones, about 3 s, silent between bursts', async (t) => {
  const c = await loadChime('attention', 'intro', RATE);
  const seconds = c.samples.length / RATE;
  t.ok(seconds > 2.8 && seconds < 4, `${seconds.toFixed(2)} s`);
  t.equal(await loadChime('attention', 'outro', RATE), c, 'one signal, made once per rate');
  const window = Math.round(0.2 * RATE);
  for (let b = 0; b < ATTENTION_BURSTS; b++) {
    const mid = Math.round((b * (ATTENTION_BURST_S + ATTENTION_PAUSE_S) + 0.3) * RATE);
    const [lo, hi] = ATTENTION_TONES_HZ.map((hz) => toneShare(c.samples, mid, window, hz));
    t.ok(lo! > 0.3 && hi! > 0.3 && lo! + hi! > 0.9, `burst ${b + 1}: 853 Hz ${lo!.toFixed(2)}, 960 Hz ${hi!.toFixed(2)}`);
  }
  const pause = c.samples.subarray(Math.round((ATTENTION_BURST_S + 0.05) * RATE), Math.round((ATTENTION_BURST_S + ATTENTION_PAUSE_S - 0.05) * RATE));
  t.ok(Math.max(...pause.map(Math.abs)) < 10, 'silence between bursts');
  t.ok(Number.isFinite(c.lufs) && c.lufs > -30, `measured: ${c.lufs} LUFS`);
});

t.test('a bulletin with attention opens with the signal and meets loudness; without it, no signal', async (t) => {
  const render = (attention: boolean) => speech.render({ text: TEXT, voice: 'vi', speed: 1, ...(attention ? { attention } : {}), onProgress: () => {} });
  const [on, off] = await Promise.all([render(true), render(false)]);
  const a = decodeAndMeasure(on.ogg);
  const b = decodeAndMeasure(off.ogg);
  for (const [name, d] of [['with attention', a], ['without', b]] as const) {
    t.ok(Math.abs(d.lufs - -16) <= 1, `${name}: ${d.lufs} LUFS`);
    t.ok(d.truePeakDb <= -1, `${name}: ${d.truePeakDb} dBTP`);
  }
  const window = Math.round(0.2 * RATE);
  const tonesAt = (x: Int16Array, s: number) => ATTENTION_TONES_HZ.map((hz) => toneShare(x, Math.round(s * RATE), window, hz)).reduce((p, q) => p + q, 0);
  // The mid-points of the three bursts (Opus adds a few ms of delay; the bursts last 0.8 s).
  const mids = [0, 1, 2].map((n) => n * (ATTENTION_BURST_S + ATTENTION_PAUSE_S) + 0.3);
  for (const m of mids) t.ok(tonesAt(a.samples, m) > 0.8, `with attention, ${m.toFixed(1)} s is the two tones (${tonesAt(a.samples, m).toFixed(2)})`);
  // Without attention the file opens with the speech: no two-tone signal anywhere in the first 3 s.
  const most = Math.max(...Array.from({ length: 14 }, (_, i) => tonesAt(b.samples, i * 0.2)));
  t.ok(most < 0.3, `without attention, no two-tone signal (at most ${most.toFixed(2)})`);
  // The signal is an addition: the configured outro bell stays and the speech is the same length.
  const signal = (await loadChime('attention', 'intro', 22050)).samples.length / 22050;
  t.ok(Math.abs(on.durationMs - off.durationMs - (signal * 1000 + 400)) < 80, `grew by the signal and its gap: ${on.durationMs - off.durationMs} ms`);
});

t.test('a bulletin stored with attention is rendered with it, and the flag survives in the database', async (t) => {
  const db = openDatabase(':memory:');
  t.teardown(() => db.close());
  const bulletins = new BulletinRepository(db);
  bulletins.insert({ id: 'b1', title: 'lũ', text: TEXT, category: null, voice: 'vi', speed: 1, createdBy: null, areaCode: null, attention: true });
  bulletins.insert({ id: 'b2', title: 'tin', text: TEXT, category: null, voice: 'vi', speed: 1, createdBy: null, areaCode: null });
  t.equal(bulletins.get('b1')!.attention, true);
  t.equal(bulletins.get('b2')!.attention, false, 'false by default');
  const asked: Parameters<SpeechRenderer>[0][] = [];
  const render: SpeechRenderer = async (req) => {
    asked.push(req);
    return { ogg: Buffer.from('OggS'), durationMs: 1000, lufs: -16, truePeakDb: -1.5, engine: 'fake' };
  };
  const media = { put: async (buf: Buffer) => ({ sha256: String(buf.length), bytes: buf.length }) } as never;
  const service = new BulletinService({ bulletins, media, render, logger: pino({ level: 'silent' }) });
  await service.synthesize('b1');
  await service.synthesize('b2');
  t.equal(asked[0]!.attention, true);
  t.notOk(asked[1]!.attention);
});

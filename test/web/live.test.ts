/**
 * The live page's and the in-app recorder's logic without a browser (web/src/logic/live.ts, issue 16): the
 * recorder format asked for, the meter's scale and verdict, the elapsed clock, the server's socket frames,
 * the microphone's refusals, and the recording's trim, mix and WAV — read back by ffmpeg, the same decoder
 * the server's upload route uses, so a WAV made in the browser is one the server takes at its length.
 */
import t from 'tap';
import { runFfmpeg } from '../../server/src/audio/index.js';
import {
  allowedPriorities,
  backlogMs,
  blockLevels,
  chooseMimeType,
  clampTrim,
  encodeWav,
  fmtElapsed,
  fmtTakeLength,
  LIVE_MIME_TYPES,
  meterPercent,
  meterZone,
  micProblem,
  mixTrimmed,
  parseServerMessage,
  recordingFileName,
  socketUrl,
  trimFrames,
  waveformPeaks,
  wavBytes,
} from '../../web/src/logic/live.js';
import { LIVE_INPUT_TYPES } from '../../shared/src/api/live.js';

t.test('the recorder format: the first the browser makes, among those the server takes', async (t) => {
  for (const type of LIVE_MIME_TYPES) t.ok(LIVE_INPUT_TYPES.some((accepted) => type.startsWith(accepted)), `${type} is accepted by the server`);
  t.equal(chooseMimeType(() => true), 'audio/webm;codecs=opus', 'Chrome and Android: WebM/Opus');
  t.equal(chooseMimeType((type) => type.startsWith('audio/ogg')), 'audio/ogg;codecs=opus', 'Firefox without WebM recording');
  t.equal(chooseMimeType((type) => type === 'audio/mp4'), 'audio/mp4', 'iPhone Safari');
  t.equal(chooseMimeType(() => false), null, 'none: the page says the browser cannot');
  t.equal(
    chooseMimeType((type) => {
      if (type.includes('webm')) throw new Error('unknown type');
      return true;
    }),
    'audio/ogg;codecs=opus',
    'a browser that throws on a type is asked the next one',
  );
});

t.test('the meter: −60…0 dBFS linear; silence empty; a verdict on the level', async (t) => {
  t.equal(meterPercent(null), 0);
  t.equal(meterPercent(-80), 0);
  t.equal(meterPercent(-60), 0);
  t.equal(meterPercent(-30), 50);
  t.equal(meterPercent(-12), 80);
  t.equal(meterPercent(0), 100);
  t.equal(meterPercent(3), 100, 'over full scale (a server measuring true peak) stays at the top');
  t.equal(meterPercent(Number.NaN), 0);
  t.equal(meterPercent(-20, -40), 50, 'another floor');
  t.equal(meterZone(null, null), 'quiet');
  t.equal(meterZone(-20, -45), 'quiet', 'far from the phone');
  t.equal(meterZone(-6, -20), 'good');
  t.equal(meterZone(-0.5, -12), 'loud', 'peaks at full scale are clipped');
});

t.test('levels of a block of samples', async (t) => {
  t.same(blockLevels(new Float32Array(128)), { peakDb: null, rmsDb: null }, 'digital silence');
  const square = Float32Array.from({ length: 100 }, (_, i) => (i % 2 ? 0.5 : -0.5));
  t.same(blockLevels(square), { peakDb: -6, rmsDb: -6 });
  const sine = Float32Array.from({ length: 4800 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 48000));
  const l = blockLevels(sine);
  t.ok(Math.abs(l.peakDb! - 0) < 0.1 && Math.abs(l.rmsDb! + 3) < 0.1, `a full-scale sine: peak ${l.peakDb}, rms ${l.rmsDb} dBFS`);
  t.same(blockLevels([]), { peakDb: null, rmsDb: null });
});

t.test('the elapsed clock counts whole seconds', async (t) => {
  t.equal(fmtElapsed(0), '0:00');
  t.equal(fmtElapsed(999), '0:00', 'not rounded up before the second is over');
  t.equal(fmtElapsed(65_400), '1:05');
  t.equal(fmtElapsed(3_723_000), '1:02:03');
  t.equal(fmtElapsed(-5), '0:00');
  t.equal(fmtTakeLength(2_500), '2,5 giây', 'a trim to the tenth of a second');
  t.equal(fmtTakeLength(4_199), '4,2 giây');
  t.equal(fmtTakeLength(65_400), '1:05');
});

t.test('the send buffer as audio time', async (t) => {
  t.equal(backlogMs(6000), 1000, '6 KB at 48 kbit/s is a second');
  t.equal(backlogMs(0), 0);
  t.equal(backlogMs(100, 0), 0);
});

t.test('the server’s frames are checked field by field; anything else is ignored', async (t) => {
  t.same(parseServerMessage('{"type":"level","peakDb":-3.5,"rmsDb":-18,"elapsedMs":1200}'), { type: 'level', peakDb: -3.5, rmsDb: -18, elapsedMs: 1200 });
  t.same(parseServerMessage('{"type":"level","peakDb":null,"rmsDb":null,"elapsedMs":0}'), { type: 'level', peakDb: null, rmsDb: null, elapsedMs: 0 }, 'silence');
  t.same(parseServerMessage('{"type":"boxes","playing":18,"listening":20,"total":20}'), { type: 'boxes', playing: 18, listening: 20, total: 20 });
  t.same(parseServerMessage('{"type":"ended","reason":"stopped","airedMs":61000}'), { type: 'ended', reason: 'stopped', airedMs: 61000 });
  t.same(parseServerMessage('{"type":"error","message":"unsupported audio"}'), { type: 'error', message: 'unsupported audio' });
  t.same(parseServerMessage('{"type":"level","peakDb":"loud","rmsDb":null,"elapsedMs":0}'), null, 'a field of the wrong type');
  t.same(parseServerMessage('{"type":"boxes","playing":1}'), null, 'fields missing');
  t.same(parseServerMessage('{"type":"welcome"}'), null, 'a newer server’s frame');
  t.same(parseServerMessage('not json'), null);
  t.same(parseServerMessage('null'), null);
  t.same(parseServerMessage(new ArrayBuffer(4)), null, 'a binary frame');
});

t.test('a refusal names the priorities the user may use instead', async (t) => {
  const refusal = (instead: string) => `you may not go live at emergency (khẩn cấp) priority: only approvers, province admins may (LOAXA_LIVE_ROLES)${instead}. Record the bulletin and broadcast it for approval, or ask one of them`;
  t.same(allowedPriorities(refusal('; you may go live at normal')), ['normal']);
  t.same(allowedPriorities(refusal('; you may go live at normal or priority (ưu tiên)')), ['normal', 'priority']);
  t.same(allowedPriorities(refusal('')), [], 'none at all: the refused priority is not read as allowed');
  t.same(allowedPriorities('forbidden'), []);
});

t.test('the socket address follows the page', async (t) => {
  t.equal(socketUrl('/api/v1/live/lv-1/audio', { protocol: 'https:', host: 'loaxa.example.vn' }), 'wss://loaxa.example.vn/api/v1/live/lv-1/audio');
  t.equal(socketUrl('/api/v1/live/lv-1/audio', { protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/api/v1/live/lv-1/audio');
});

t.test('why the microphone is refused', async (t) => {
  const ok = { secure: true, hasMediaDevices: true, hasRecorder: true };
  t.equal(micProblem(null, { ...ok, secure: false }), 'insecure', 'plain http: browsers offer no microphone');
  t.equal(micProblem(null, { ...ok, hasMediaDevices: false }), 'unsupported');
  t.equal(micProblem(null, { ...ok, hasRecorder: false }), 'unsupported');
  t.equal(micProblem('NotAllowedError', ok), 'denied');
  t.equal(micProblem('NotFoundError', ok), 'missing');
  t.equal(micProblem('NotReadableError', ok), 'busy', 'in a call');
  t.equal(micProblem('TypeError', ok), 'other');
});

t.test('the trim: inside the recording, in 10 ms steps, at least half a second', async (t) => {
  t.same(clampTrim({ startMs: 1234, endMs: 5678 }, 10_000), { startMs: 1230, endMs: 5680 });
  t.same(clampTrim({ startMs: -50, endMs: 99_000 }, 10_000), { startMs: 0, endMs: 10_000 });
  t.same(clampTrim({ startMs: 4000, endMs: 4100 }, 10_000), { startMs: 4000, endMs: 4500 }, 'the end moved to keep half a second');
  t.same(clampTrim({ startMs: 9900, endMs: 9950 }, 10_000), { startMs: 9500, endMs: 10_000 }, 'at the end, the start moves back');
  t.same(clampTrim({ startMs: 6000, endMs: 2000 }, 10_000), { startMs: 6000, endMs: 6500 }, 'handles crossed');
  t.same(clampTrim({ startMs: 0, endMs: 300 }, 300), { startMs: 0, endMs: 300 }, 'a take shorter than the minimum is kept whole');
  t.same(clampTrim({ startMs: Number.NaN, endMs: 5000 }, 10_000), { startMs: 0, endMs: 5000 }, 'an emptied field');
  t.same(trimFrames({ startMs: 500, endMs: 1500 }, 48_000, 96_000), { from: 24_000, to: 72_000 });
  t.same(trimFrames({ startMs: 500, endMs: 3000 }, 48_000, 96_000), { from: 24_000, to: 96_000 }, 'never past the last sample');
});

t.test('mixing and cutting: the kept part, mono', async (t) => {
  const left = Float32Array.from([0, 0.2, 0.4, 0.6, 0.8, 1]);
  const right = Float32Array.from([0, 0, 0, 0, 0, 0]);
  const mono = mixTrimmed([left], 1000, { startMs: 2, endMs: 5 });
  t.same(Array.from(mono), Array.from(Float32Array.from([0.4, 0.6, 0.8])));
  t.not(mono.buffer, left.buffer, 'a copy: the take stays whole for another trim');
  const mixed = mixTrimmed([left, right], 1000, { startMs: 1, endMs: 3 });
  t.same(Array.from(mixed), Array.from(Float32Array.from([0.1, 0.2])));
});

t.test('the WAV: a header ffmpeg reads, at its exact length, clipped not wrapped', async (t) => {
  const rate = 48_000;
  const samples = Float32Array.from({ length: rate * 2 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 300 * i) / rate));
  samples[10] = 1.7; // over full scale: clipped to the top, not wrapped to the bottom
  samples[11] = -1.7;
  const wav = encodeWav(samples, rate);
  t.equal(wav.byteLength, 44 + samples.length * 2);
  t.equal(wav.byteLength, wavBytes({ startMs: 0, endMs: 2000 }, rate), 'the size told before encoding');
  const v = new DataView(wav);
  t.equal(String.fromCharCode(...new Uint8Array(wav, 0, 4)), 'RIFF');
  t.equal(String.fromCharCode(...new Uint8Array(wav, 8, 8)), 'WAVEfmt ');
  t.equal(v.getUint32(24, true), rate);
  t.equal(v.getInt16(44 + 20, true), 32767);
  t.equal(v.getInt16(44 + 22, true), -32768);
  const info = String((await runFfmpeg(['-hide_banner', '-i', 'pipe:0', '-f', 'null', '-'], { input: Buffer.from(wav) })).stderr);
  t.match(info, /pcm_s16le.*48000 Hz.*mono/, 'PCM 16-bit, 48 kHz, mono');
  t.match(info, /time=00:00:02\.00/, 'two seconds, as encoded');
});

t.test('the waveform’s bars and the file name', async (t) => {
  const peaks = waveformPeaks(Float32Array.from([0, 0.5, -0.9, 0.1, 0, 0, 2, 0]), 4);
  t.same(peaks.map((p) => Math.round(p * 10) / 10), [0.5, 0.9, 0, 1], 'loudest of each part, at most full scale');
  t.same(waveformPeaks([], 3), [0, 0, 0]);
  t.equal(recordingFileName('Thông báo lũ khẩn cấp — Đồng Tâm'), 'thong-bao-lu-khan-cap-dong-tam.wav');
  t.equal(recordingFileName('   '), 'ghi-am.wav');
});

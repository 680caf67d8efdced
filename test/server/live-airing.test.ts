/**
 * One live airing's bounds and ends (issue 16), with the real ffmpeg and short timings: an operator who never
 * speaks, or stops sending, ends it (`no-audio`); a wrong first frame or a flood of bytes is refused with a
 * message and the socket closed; a `stop` ends it cleanly; a broken recording ends it (`encoder-failed`); a box
 * may hold two streams, and is cut at once when its credentials change; the recording on disk is a whole WAV.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_LIVE_TUNING, LiveAiring, type AiringResult, type LiveTuning, type OperatorLink } from '../../server/src/live/live-airing.js';
import type { Listener } from '../../server/src/relay/fanout.js';
import { ffmpegBin } from '../helpers/streams.js';
import { makeSpeech } from '../helpers/live.js';

const dir = mkdtempSync(join(tmpdir(), 'loaxa-airing-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const speech = makeSpeech(dir, { durationMs: 2_000, markerMs: 1_000 });
let n = 0;

function airing(tuning: Partial<LiveTuning> = {}, ffmpegPath = ffmpegBin()) {
  const sent: Array<{ type: string; [k: string]: unknown }> = [];
  const closes: Array<{ code: number; reason: string }> = [];
  let onFinished!: (r: AiringResult) => void;
  const finished = new Promise<AiringResult>((r) => (onFinished = r));
  const recordingPath = join(dir, `rec-${++n}.wav`);
  const a = new LiveAiring({
    id: `bt-${n}`,
    ffmpegPath,
    recordingPath,
    logger: pino({ level: 'silent' }),
    tuning: { ...DEFAULT_LIVE_TUNING, waitMs: 400, noAudioMs: 500, boxesEveryMs: 100, ...tuning },
    onAir: () => undefined,
    counts: () => ({ playing: 0, total: 3 }),
    finished: (r) => onFinished(r),
  });
  const link: OperatorLink = {
    send: (text) => sent.push(JSON.parse(text) as (typeof sent)[number]),
    // As the route does: the socket's close reaches the airing.
    close: (code, reason) => {
      closes.push({ code, reason });
      setImmediate(() => a.onLinkClosed('u-1'));
    },
  };
  a.begin();
  const attached = a.attach(link);
  return { a, sent, closes, finished, recordingPath, attached };
}

function box(): Listener & { bytes: number; ended: boolean; destroyed: boolean } {
  return {
    bytes: 0,
    ended: false,
    destroyed: false,
    writableLength: 0,
    write(c: Buffer) {
      this.bytes += c.length;
      return true;
    },
    end() {
      this.ended = true;
    },
    destroy() {
      this.destroyed = true;
    },
  };
}

async function send(a: LiveAiring, chunks: Buffer[]): Promise<void> {
  const t0 = performance.now();
  for (let k = 0; k < chunks.length; k++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (k + 1) * 100 - performance.now())));
    a.onBinary(chunks[k]!);
  }
}

t.test('no voice within the wait ends the airing (no-audio); nothing is recorded', async (t) => {
  const { a, sent, finished, attached } = airing();
  t.ok(attached, 'the operator’s socket attaches');
  const r = await finished;
  t.equal(r.reason, 'no-audio');
  t.equal(r.recordedMs, 0);
  t.same(sent.at(-1), { type: 'ended', reason: 'no-audio', airedMs: 0 }, 'the operator is told why');
  t.ok(sent.some((m) => m.type === 'boxes' && m.total === 3), 'and how many boxes were sent it, meanwhile');
  t.equal(a.refusal('d-1'), 'gone', 'a box asking now is told it has ended');
});

t.test('the first frame must say what the recorder makes', async (t) => {
  const bad = airing();
  bad.a.onBinary(speech.chunks[0]!);
  t.match(bad.sent.at(-1), { type: 'error', message: /start/ }, 'audio before `start` is refused');
  t.equal(bad.closes[0]?.code, 1008);
  t.equal((await bad.finished).reason, 'link-dropped', 'its socket closed, the airing ends as a dropped link');

  const wav = airing();
  wav.a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/wav' }), 'u-1');
  t.match(wav.sent.find((m) => m.type === 'error'), { message: /cannot read audio\/wav: send audio\/webm, audio\/ogg, audio\/mp4/ });
  await wav.finished;
  const junk = airing();
  junk.a.onText('{"type":"shout"}', 'u-1');
  t.match(junk.sent.find((m) => m.type === 'error'), { message: /unknown message/ });
  await junk.finished;
});

t.test('a stop ends it cleanly; the box’s stream ends after the last audio; the recording is a whole WAV', async (t) => {
  const { a, sent, finished, recordingPath } = airing({ noAudioMs: 5_000 });
  const b = box();
  t.equal(a.refusal('d-1'), null);
  a.listen('d-1', b);
  a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/webm;codecs=opus' }), 'u-1');
  t.notOk(a.attach({ send: () => undefined, close: () => undefined }), 'one socket per airing');
  await send(a, speech.chunks);
  a.onText('{"type":"stop"}', 'u-1');
  const r = await finished;
  t.equal(r.reason, 'stopped');
  t.equal(r.endedBy, 'u-1');
  t.ok(Math.abs(r.airedMs - 2_000) < 100, `${r.airedMs} ms aired`);
  t.ok(b.ended && !b.destroyed, 'the box’s stream ended (not cut)');
  t.ok(b.bytes > 14_000, `${b.bytes} bytes of MP3 reached the box (64 kbit/s)`);
  t.ok(sent.filter((m) => m.type === 'level').length >= 15, 'the meter ran');
  const wav = readFileSync(recordingPath);
  t.equal(wav.readUInt32LE(4), statSync(recordingPath).size - 8, 'the WAV’s sizes are written at the end');
  t.equal(wav.readUInt32LE(40), wav.length - 44);
  t.ok(Math.abs(r.recordedMs - r.airedMs) < 1, 'the recording is what aired');
});

t.test('the voice stopping for longer than the limit ends it (no-audio)', async (t) => {
  const { a, finished } = airing();
  a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/webm' }), 'u-1');
  await send(a, speech.chunks.slice(0, 8));
  const stoppedAt = performance.now();
  const r = await finished;
  t.equal(r.reason, 'no-audio');
  t.ok(performance.now() - stoppedAt < 1_600, 'within the limit and a tick');
});

t.test('more bytes than a voice are refused', async (t) => {
  const { a, sent, finished } = airing({ maxBytesPerSecond: 4_096, rateWindowMs: 1_000 });
  a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/webm' }), 'u-1');
  for (let i = 0; i < 10; i++) a.onBinary(Buffer.concat(speech.chunks.slice(0, 10)));
  t.match(sent.find((m) => m.type === 'error'), { message: /KiB a second/ });
  t.equal((await finished).reason, 'link-dropped');
});

t.test('an encoder that stops ends it (encoder-failed); chunks that decode to nothing are no audio', async (t) => {
  const broken = airing({ noAudioMs: 5_000 }, join(dir, 'no-such-ffmpeg'));
  broken.a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/webm' }), 'u-1');
  t.equal((await broken.finished).reason, 'encoder-failed');
  // ffmpeg's demuxers scan junk for the next page or cluster for ever: the airing must not sit on air for two hours.
  const silent = airing();
  silent.a.onText(JSON.stringify({ type: 'start', mimeType: 'audio/ogg' }), 'u-1');
  const junk = setInterval(() => silent.a.onBinary(Buffer.from('not an ogg page '.repeat(20))), 100);
  t.equal((await silent.finished).reason, 'no-audio');
  clearInterval(junk);
});

t.test('two streams per box; a box whose credentials change is cut at once', async (t) => {
  const { a, finished } = airing({ waitMs: 2_000 });
  const [b1, b2, b3] = [box(), box(), box()];
  a.listen('d-1', b1);
  a.listen('d-1', b2);
  t.equal(a.refusal('d-1'), 'busy', 'a third is refused');
  t.equal(a.refusal('d-2'), null, 'another box is not');
  a.listen('d-2', b3);
  t.equal(a.listeners, 3);
  t.equal(a.cut('d-1'), 2);
  t.ok(b1.destroyed && b2.destroyed && !b3.destroyed);
  t.equal(a.listeners, 1);
  a.end('stopped', 'u-1');
  await finished;
  t.ok(b3.ended, 'the other box’s stream ends with the airing');
});

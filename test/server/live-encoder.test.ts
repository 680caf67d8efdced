/**
 * Issue 16 groundwork: the live encoder with the real ffmpeg. A phone's WebM/Opus recording (made here by
 * ffmpeg as MediaRecorder would: Opus in WebM, small clusters) is fed at real-time pace in 100 ms chunks:
 * quiet speech-band tone, then loud tone, then a marker after silence. What a listener notices: the marker
 * comes out within a fraction of a second, nothing clips (limiter under −1 dBFS), quiet and loud come out
 * much closer together than they went in, and the MP3 for the boxes holds the same audio.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveEncoder } from '../../server/src/live/live-encoder.js';
import { ffmpegBin } from '../helpers/streams.js';

const ff = ffmpegBin();
const RATE = 48_000;

/** RMS dBFS of s16le mono PCM between two times. */
function rmsDb(pcm: Buffer, fromMs: number, toMs: number): number {
  const a = Math.floor((fromMs * RATE) / 1000) * 2;
  const b = Math.min(pcm.length, Math.floor((toMs * RATE) / 1000) * 2);
  let sum = 0;
  for (let i = a; i < b; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return 10 * Math.log10(sum / ((b - a) / 2) / 32768 ** 2);
}

t.test('a phone’s WebM/Opus becomes broadcast-level PCM and MP3 within a fraction of a second', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const webm = join(dir, 'phone.webm');
  // 0–3 s: quiet (−40 dBFS) 300 Hz; 3–6 s: loud (−6 dBFS) 300 Hz; 6–7 s: silence; 7–8 s: a 1 kHz marker at −20 dBFS.
  execFileSync(ff, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc='if(lt(t,3),0.01*sin(2*PI*300*t),if(lt(t,6),0.5*sin(2*PI*300*t),if(lt(t,7),0,0.1*sin(2*PI*1000*t))))':s=${RATE}:d=8`,
    '-c:a', 'libopus', '-b:a', '48k', '-f', 'webm', '-cluster_time_limit', '100', webm,
  ]);
  const data = readFileSync(webm);

  const enc = new LiveEncoder({ ffmpegPath: ff, inputType: 'audio/webm' });
  const pcm: Buffer[] = [];
  const mp3: Buffer[] = [];
  const levels: Array<{ peakDb: number; rmsDb: number }> = [];
  let producedAtFeed: Array<{ fedMs: number; outMs: number }> = [];
  let outBytes = 0;
  enc.on('pcm', (b) => {
    pcm.push(b);
    outBytes += b.length;
  });
  enc.on('mp3', (b) => mp3.push(b));
  enc.on('level', (l) => levels.push(l));
  const ended = new Promise<Error | null>((resolve) => enc.once('ended', resolve));
  enc.start();

  // Real-time pace: the file's bytes spread evenly over its 8 s, 100 ms at a time, as MediaRecorder's timeslice.
  const chunks = 80;
  const per = Math.ceil(data.length / chunks);
  const started = performance.now();
  for (let i = 0; i < chunks; i++) {
    enc.write(data.subarray(i * per, (i + 1) * per));
    await new Promise((r) => setTimeout(r, Math.max(0, started + (i + 1) * 100 - performance.now())));
    producedAtFeed.push({ fedMs: (i + 1) * 100, outMs: outBytes / 96 });
  }
  enc.end();
  t.equal(await ended, null, 'the encoder ends cleanly when the phone stops');

  // Latency: how far the processed output trails what was fed (the last seconds, once running).
  producedAtFeed = producedAtFeed.slice(20);
  const lag = Math.max(...producedAtFeed.map((p) => p.fedMs - p.outMs));
  t.ok(lag < 400, `the output trails the input by at most ${Math.round(lag)} ms`);

  const all = Buffer.concat(pcm);
  t.ok(Math.abs(all.length / 96 - 8000) < 150, `8 s in, ${Math.round(all.length / 96)} ms out`);
  let peak = 0;
  for (let i = 0; i < all.length; i += 2) peak = Math.max(peak, Math.abs(all.readInt16LE(i)));
  const peakDb = 20 * Math.log10(peak / 32768);
  t.ok(peakDb <= -0.8, `no clipping: the loudest sample is ${peakDb.toFixed(2)} dBFS (limiter at −1 dBFS)`);

  const quiet = rmsDb(all, 1000, 2800);
  const loud = rmsDb(all, 4000, 5800);
  t.ok(loud - quiet < 34 / 1.5, `quiet and loud speech come out ${(loud - quiet).toFixed(1)} dB apart (they went in 34 dB apart)`);
  t.ok(quiet > -40 + 6, `the quiet part is raised (${quiet.toFixed(1)} dBFS from −43 dBFS RMS)`);
  t.ok(levels.length >= 70, `the operator’s meter had ${levels.length} readings (one per 100 ms)`);
  t.ok(levels.some((l) => l.peakDb > -3), 'and it shows the loud part near full scale');

  // The boxes' MP3 is the same audio: decoded, it lasts as long and holds the marker.
  const mp3File = join(dir, 'boxes.mp3');
  const mp3Data = Buffer.concat(mp3);
  t.ok(mp3Data.length > 60_000, `${mp3Data.length} bytes of MP3 (64 kbit/s)`);
  execFileSync('sh', ['-c', `cat > ${mp3File}`], { input: mp3Data });
  const decoded = execFileSync(ff, ['-hide_banner', '-loglevel', 'error', '-i', mp3File, '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  t.ok(Math.abs(decoded.length / 96 - 8000) < 200, `the MP3 decodes to ${Math.round(decoded.length / 96)} ms`);
  t.ok(rmsDb(decoded, 7200, 7800) > rmsDb(decoded, 6200, 6800) + 20, 'the marker after the silence is in it');
});

t.test('a broken recording ends the encoder with a reason', async (t) => {
  const enc = new LiveEncoder({ ffmpegPath: ff, inputType: 'audio/webm' });
  const ended = new Promise<Error | null>((resolve) => enc.once('ended', resolve));
  enc.start();
  enc.write(Buffer.from('this is not a WebM recording at all'.repeat(200)));
  enc.end();
  const err = await ended;
  t.ok(err instanceof Error, 'it ends with an error');
  t.match(err?.message, /live encoder stopped/);
});

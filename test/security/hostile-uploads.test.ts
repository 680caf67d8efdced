/**
 * Issue 13, hostile input: recordings uploaded to `POST /api/v1/bulletins/upload`. A file is checked by
 * decoding it with ffmpeg, so what ffmpeg may read, how much it may decode and what it reports all matter:
 * a playlist that points ffmpeg at the server's own files, wrong magic bytes, files cut short, a 2 MB FLAC
 * that decodes to three hours, a 200 KB WAV at 1 Hz that claims 55 hours (and made ffmpeg take 576 MB), a
 * header that announces more than the file holds, silence. Each is refused with a clear 415, leaves nothing behind and never names the
 * server's paths, and the server answers other requests meanwhile.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../server/src/audio/index.js';
import { responsiveness, securityServer } from './helpers.js';
import { tempDir } from '../helpers/server.js';

const QUIET = ['-hide_banner', '-v', 'error'];

/** `seconds` of a voice-like tone, encoded by ffmpeg into a file in `dir` (MP4 needs a seekable output). */
async function tone(dir: string, name: string, seconds: number, codec: string[]): Promise<string> {
  const path = join(dir, name);
  await runFfmpeg([...QUIET, '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=24000:duration=${seconds}`, '-af', 'volume=-20dB', '-ac', '1', ...codec, '-y', path]);
  return path;
}

/** A PCM WAV header (44 bytes) announcing `dataBytes`, at `rate` Hz, mono 16-bit. */
function wavHeader(dataBytes: number, rate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Audible noise-like samples (so only the header can make them wrong). */
function samples(n: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin(i * 0.31) * 6000 + Math.sin(i * 0.017) * 3000), i * 2);
  return b;
}

t.test('hostile recordings are refused with 415, store nothing and leak no path; real ones still pass', async (t) => {
  const s = await securityServer(t, { uploadLimitBytes: 4 * 1024 * 1024 });
  const { base, token, dataDir, server } = s;
  const work = await tempDir(t, 'loaxa-hostile-');
  const bulletins = () => (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM bulletins').get() as { n: number }).n;
  const upload = async (name: string, bytes: Buffer, type = 'audio/mpeg') => {
    const form = new FormData();
    form.set('title', `Tệp ${name}`);
    form.set('file', new Blob([bytes], { type }), name);
    const started = performance.now();
    const res = await fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text), ms: Math.round(performance.now() - started) };
  };

  // A file of the server's own, outside anything an operator may upload or read.
  const secret = await tone(work, 'secret.wav', 4, ['-c:a', 'pcm_s16le']);
  const m4a = await readFile(await tone(work, 'r.m4a', 3, ['-c:a', 'aac', '-movflags', '+faststart', '-f', 'ipod']));
  const flac = await readFile(await tone(work, 'r.flac', 3, ['-c:a', 'flac']));
  const wav = await readFile(await tone(work, 'r.wav', 3, ['-c:a', 'pcm_s16le']));
  // Three hours of silence compress to 2 MB: a zip bomb of audio.
  const bombPath = join(work, 'bomb.flac');
  await runFfmpeg([...QUIET, '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '10800', '-c:a', 'flac', '-compression_level', '8', '-y', bombPath]);
  const bomb = await readFile(bombPath);
  t.ok(bomb.length < 2.5 * 1024 * 1024, `the bomb is ${(bomb.length / 1048576).toFixed(1)} MB for 3 hours`);
  const silentPath = join(work, 'silent.wav');
  await runFfmpeg([...QUIET, '-f', 'lavfi', '-i', 'anullsrc=r=24000:cl=mono', '-t', '5', '-c:a', 'pcm_s16le', '-y', silentPath]);

  const cases: Array<[string, string, Buffer, RegExp]> = [
    // ffmpeg follows a playlist's entries: the server's file would become the "recording".
    ['an HLS playlist naming a server file (file://)', 'news.mp3', Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nfile://${secret}\n#EXT-X-ENDLIST\n`), /not an audio file/],
    ['an HLS playlist naming a server file (a path)', 'news.m4a', Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${secret}\n#EXT-X-ENDLIST\n`), /not an audio file/],
    ['an HLS playlist naming a URL', 'news.mp3', Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttp://169.254.169.254/latest/meta-data\n#EXT-X-ENDLIST\n'), /not an audio file/],
    ['PNG bytes named .mp3', 'photo.mp3', Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(2000, 7)]), /not an audio file/],
    ['a ZIP named .wav', 'archive.wav', Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), Buffer.alloc(4000, 0x41)]), /not an audio file/],
    ['an ELF binary named .m4a', 'tool.m4a', Buffer.concat([Buffer.from('7f454c46020101000000000000000000', 'hex'), Buffer.alloc(4000, 0)]), /not an audio file/],
    ['an empty file', 'empty.mp3', Buffer.alloc(0), /not an audio file/],
    ['an M4A cut after 200 bytes', 'cut.m4a', m4a.subarray(0, 200), /not an audio file/],
    ['an M4A cut in half', 'half.m4a', m4a.subarray(0, m4a.length >> 1), /damaged or cut short/],
    ['a FLAC cut in half', 'half.flac', flac.subarray(0, flac.length >> 1), /damaged or cut short/],
    ['a WAV cut in half', 'half.wav', wav.subarray(0, 44 + (((wav.length - 44) >> 2) << 1)), /cut short/],
    ['a WAV whose header announces 2 GB (1 s held)', 'huge.wav', Buffer.concat([wavHeader(0x7ffffff0, 24000), samples(24000)]), /cut short: its header announces 2147483632 bytes/],
    ['3 hours of silence in a 2 MB FLAC', 'bomb.flac', bomb, /longer than 30 minutes/],
    ['a 200 KB WAV at 1 Hz (55 hours, 200 MB frames)', 'slow.wav', Buffer.concat([wavHeader(200_000, 1), samples(100_000)]), /decoding it would take too much memory/],
    ['5 seconds of silence', 'silent.wav', await readFile(silentPath), /silent/],
  ];
  for (const [what, name, bytes, message] of cases) {
    const res = await upload(name, bytes);
    t.equal(res.status, 415, `${what}: 415 (${res.text.slice(0, 160)})`);
    t.match(res.body.error?.message, message, `${what}: says why`);
    t.notMatch(res.text, dataDir, `${what}: the answer names no server path`);
    t.notMatch(res.text, /uploads\/|\.upload|0x[0-9a-f]{6,}/, `${what}: nor the stored file or memory addresses`);
    t.ok(res.ms < 20_000, `${what}: answered in ${res.ms} ms`);
  }
  t.equal(bulletins(), 0, 'no bulletin was created');
  t.same(await readdir(join(dataDir, 'uploads')), [], 'no upload is left behind');

  // A real recording still passes, and a WAV streamed without a size (0xFFFFFFFF) is not "cut short".
  const streamed = (await runFfmpeg([...QUIET, '-f', 'lavfi', '-i', 'sine=frequency=300:duration=2', '-af', 'volume=-20dB', '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'])).stdout;
  t.equal(streamed.readUInt32LE(4), 0xffffffff, 'ffmpeg streamed this WAV without sizes');
  for (const [name, bytes] of [['r.m4a', m4a], ['r.flac', flac], ['streamed.wav', streamed]] as const) {
    const ok = await upload(name, bytes);
    t.equal(ok.status, 201, `${name}: a real recording is accepted (${ok.text.slice(0, 160)})`);
  }
  t.equal(bulletins(), 3);
});

t.test('decoding a zip bomb is capped and the server answers meanwhile', async (t) => {
  const { base, token, dataDir, api } = await securityServer(t, { uploadLimitBytes: 4 * 1024 * 1024 });
  const work = await tempDir(t, 'loaxa-hostile-');
  const bombPath = join(work, 'bomb.flac');
  await runFfmpeg([...QUIET, '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '10800', '-c:a', 'flac', '-compression_level', '8', '-y', bombPath]);
  const bomb = await readFile(bombPath);
  const pinger = responsiveness(base, api, token);
  const form = new FormData();
  form.set('title', 'Ba giờ im lặng');
  form.set('file', new Blob([bomb], { type: 'audio/flac' }), 'bomb.flac');
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const ms = performance.now() - started;
  const latencies = await pinger.stop();
  const body = (await res.json()) as any;
  t.equal(res.status, 415, `3 hours in a ${(bomb.length / 1048576).toFixed(1)} MB FLAC: refused (${JSON.stringify(body)})`);
  t.match(body.error.message, /longer than 30 minutes/);
  // Decoding stops at the 30-minute cap: well under the time three hours would take.
  t.ok(ms < 15_000, `refused in ${Math.round(ms)} ms`);
  const worst = latencies.at(-1)!;
  t.ok(latencies.length >= 3, `${latencies.length} pairs of requests answered meanwhile`);
  t.ok(worst < 1500, `the slowest /healthz + /me pair took ${Math.round(worst)} ms (median ${Math.round(latencies[latencies.length >> 1]!)} ms)`);
  t.same(await readdir(join(dataDir, 'uploads')), [], 'nothing left behind');
});

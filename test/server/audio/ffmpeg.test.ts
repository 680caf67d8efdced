import t from 'tap';
import { existsSync } from 'node:fs';
import { ffmpegPath, runFfmpeg, FfmpegError } from '../../../server/src/audio/index.js';

t.test('finds the bundled ffmpeg and runs it', async (t) => {
  t.ok(existsSync(ffmpegPath()));
  const { stdout } = await runFfmpeg(['-hide_banner', '-version']);
  t.match(stdout.toString(), /ffmpeg version/);
});

t.test('pipes input through and returns stdout', async (t) => {
  const input = Buffer.alloc(22050 * 2, 1); // one second of s16le
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 's16le', '-ar', '22050', '-ac', '1', '-i', 'pipe:0', '-f', 's16le', '-ar', '44100', 'pipe:1'], { input });
  t.equal(stdout.length, 44100 * 2, 'resampled to twice the rate');
});

t.test('a failing ffmpeg rejects with the end of its stderr', async (t) => {
  const err = await runFfmpeg(['-hide_banner', '-i', '/definitely/not/here.wav', '-f', 'null', '-']).catch((e: unknown) => e);
  t.ok(err instanceof FfmpegError);
  t.match((err as FfmpegError).message, /exited with 1.*No such file or directory/s);
  t.not((err as FfmpegError).exitCode, 0);
});

t.test('arguments are not interpreted by a shell', async (t) => {
  const err = await runFfmpeg(['-hide_banner', '-i', '$(touch /tmp/loaxa-pwned); `id`', '-f', 'null', '-']).catch((e: unknown) => e);
  t.ok(err instanceof FfmpegError);
  t.notOk(existsSync('/tmp/loaxa-pwned'));
});

// An endless silent source: ffmpeg only stops when we stop it.
const ENDLESS = ['-hide_banner', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-f', 'null', '-'];

t.test('a timeout kills ffmpeg', async (t) => {
  const started = Date.now();
  await t.rejects(runFfmpeg(ENDLESS, { timeoutMs: 300 }), /timed out after 300 ms/);
  t.ok(Date.now() - started < 3000);
});

t.test('an abort signal kills ffmpeg, before or during the run', async (t) => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('stop now')), 200);
  await t.rejects(runFfmpeg(ENDLESS, { signal: ac.signal }), /stop now/);
  await t.rejects(runFfmpeg(ENDLESS, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

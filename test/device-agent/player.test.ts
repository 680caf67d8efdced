import t from 'tap';
import { tempDir } from './helpers.js';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { FfmpegAlsaPlayer, NullPlayer, createPlayer } from '@loaxa/device-agent';

t.test('NullPlayer takes the real duration and stops on abort', async (t) => {
  const p = new NullPlayer();
  const started = Date.now();
  await p.play('/x.ogg', { durationMs: 150, volume: 50, signal: new AbortController().signal });
  t.ok(Date.now() - started >= 140);
  t.same(p.played, ['/x.ogg']);

  const ac = new AbortController();
  const playing = p.play('/y.ogg', { durationMs: 5_000, volume: 50, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await t.rejects(playing, { name: 'AbortError' });
  t.same(p.played, ['/x.ogg']);
});

function fakeFfmpeg(dir: string, body: string): string {
  const file = `${dir}/ffmpeg`;
  writeFileSync(file, `#!/bin/sh\necho "$@" > "${dir}/args"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

t.test('FfmpegAlsaPlayer runs ffmpeg without a shell and kills it on abort', async (t) => {
  const dir = tempDir(t);
  const ffmpegPath = fakeFfmpeg(dir, 'exec sleep 10');
  const player = new FfmpegAlsaPlayer({ device: 'hw:1,0', ffmpegPath });
  const ac = new AbortController();
  const started = Date.now();
  const playing = player.play(`${dir}/a b;rm -rf x.ogg`, { durationMs: 10_000, volume: 40, signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  await t.rejects(playing, { name: 'AbortError' });
  t.ok(Date.now() - started < 2_000, 'stopped promptly');
  const args = readFileSync(`${dir}/args`, 'utf8').trim();
  t.match(args, /-i .*a b;rm -rf x\.ogg -af volume=0\.40 -f alsa hw:1,0$/, 'file name passed as one argument');
});

t.test('a failing ffmpeg rejects with its message', async (t) => {
  const dir = tempDir(t);
  const player = createPlayer({ player: 'ffmpeg', alsaDevice: 'default', ffmpegPath: fakeFfmpeg(dir, 'echo "cannot open audio device" >&2; exit 1'), aplayPath: 'aplay' });
  await t.rejects(player.play('/x.ogg', { durationMs: 100, volume: 80, signal: new AbortController().signal }), /exited with 1: cannot open audio device/);
  const missing = createPlayer({ player: 'ffmpeg', alsaDevice: 'default', ffmpegPath: `${dir}/no-such-ffmpeg`, aplayPath: 'aplay' });
  await t.rejects(missing.play('/x.ogg', { durationMs: 100, volume: 80, signal: new AbortController().signal }), /cannot start/);
});

t.test('AplayPlayer pipes the decoder into aplay', async (t) => {
  const dir = tempDir(t);
  const ffmpegPath = fakeFfmpeg(dir, 'printf RIFFdata');
  const aplayPath = `${dir}/aplay`;
  writeFileSync(aplayPath, `#!/bin/sh\necho "$@" > "${dir}/aplay-args"\ncat > "${dir}/aplay-in"\n`);
  chmodSync(aplayPath, 0o755);
  const player = createPlayer({ player: 'aplay', alsaDevice: 'plughw:0', ffmpegPath, aplayPath });
  await player.play('/x.ogg', { durationMs: 100, volume: 100, signal: new AbortController().signal });
  t.equal(readFileSync(`${dir}/aplay-in`, 'utf8'), 'RIFFdata');
  t.match(readFileSync(`${dir}/aplay-args`, 'utf8'), /-D plughw:0 -/);
  t.match(readFileSync(`${dir}/args`, 'utf8').trim(), /-f wav -$/);
});

t.test('resuming: ffmpeg seeks with -ss before its input; the NullPlayer takes the remaining time', async (t) => {
  const dir = tempDir(t);
  const ffmpegPath = fakeFfmpeg(dir, 'exit 0');
  const player = new FfmpegAlsaPlayer({ device: 'default', ffmpegPath });
  let started = 0;
  await player.play('/x.ogg', { durationMs: 4_000, offsetMs: 1_500, volume: 80, signal: new AbortController().signal, onStart: () => (started += 1) });
  t.match(readFileSync(`${dir}/args`, 'utf8').trim(), /-nostdin -ss 1\.500 -i \/x\.ogg -af volume=0\.80 -f alsa default$/);
  t.equal(started, 1, 'tells when the audio starts');
  await player.play('/x.ogg', { durationMs: 4_000, volume: 80, signal: new AbortController().signal });
  t.notMatch(readFileSync(`${dir}/args`, 'utf8'), /-ss/, 'no seek from the start');

  const nul = new NullPlayer();
  const t0 = Date.now();
  await nul.play('/y.ogg', { durationMs: 500, offsetMs: 350, volume: 50, signal: new AbortController().signal });
  const took = Date.now() - t0;
  t.ok(took >= 140 && took < 300, `played the remaining 150 ms (${took} ms)`);
});

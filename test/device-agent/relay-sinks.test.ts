// The relay's outputs (issue 15): the real sinks reach ALSA as the file players do (`aplay -t raw …` or
// `ffmpeg … -f alsa`), checked with recording stand-ins for the programs; an output that dies fails the
// relay instead of hanging it, and stops the stream's download.
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { AplaySink, CountingSink, FfmpegAlsaSink, createSink, type PcmSink } from '@loaxa/device-agent';
import { startToneStream } from '../helpers/streams.js';
import { silentLogger, tempDir, waitFor } from './helpers.js';
import { relayUnderTest } from './relay-fixtures.js';

/** A stand-in program that records its arguments and its input, then runs `body`. */
function fakeProgram(dir: string, name: string, body = `cat > "${dir}/${name}.in"`): string {
  const file = `${dir}/${name}`;
  writeFileSync(file, `#!/bin/sh\necho "$@" > "${dir}/${name}.args"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

t.test('aplay gets raw S16_LE mono 48 kHz on its input, on the configured device', async (t) => {
  const dir = tempDir(t);
  const sink = new AplaySink({ device: 'plughw:1,0', aplayPath: fakeProgram(dir, 'aplay'), logger: silentLogger() });
  const out = sink.open();
  out.write(Buffer.from([1, 2, 3, 4]));
  out.write(Buffer.from([5, 6]));
  await out.close();
  t.equal(out.error, null, 'a clean close is no error');
  t.equal(readFileSync(`${dir}/aplay.args`, 'utf8').trim(), '-q -t raw -f S16_LE -r 48000 -c 1 -D plughw:1,0 -');
  t.same([...readFileSync(`${dir}/aplay.in`)], [1, 2, 3, 4, 5, 6], 'every byte, in order');
});

t.test("ffmpeg's ALSA output is fed the same PCM", async (t) => {
  const dir = tempDir(t);
  const sink = new FfmpegAlsaSink({ device: 'hw:0', ffmpegPath: fakeProgram(dir, 'ffmpeg'), logger: silentLogger() });
  const out = sink.open();
  out.write(Buffer.from([9, 8]));
  await out.close();
  t.match(readFileSync(`${dir}/ffmpeg.args`, 'utf8').trim(), /-f s16le -ar 48000 -ac 1 -i pipe:0 -f alsa hw:0$/);
  t.same([...readFileSync(`${dir}/ffmpeg.in`)], [9, 8]);
});

t.test('an output whose program dies says why', async (t) => {
  const dir = tempDir(t);
  const sink = new AplaySink({ device: 'default', aplayPath: fakeProgram(dir, 'aplay', 'echo "aplay: main:830: audio open error: Device or resource busy" >&2; exit 1'), logger: silentLogger() });
  const out = sink.open();
  await waitFor(() => out.error ?? undefined, 3_000, 'the error');
  t.match(out.error!.message, /aplay exited with 1: .*Device or resource busy/);
  const missing = new AplaySink({ device: 'default', aplayPath: `${dir}/no-such-aplay`, logger: silentLogger() }).open();
  await waitFor(() => missing.error ?? undefined, 3_000, 'the error');
  t.match(missing.error!.message, /cannot start/);
});

t.test('the player kinds pick their sinks; the null player counts', async (t) => {
  const config = { alsaDevice: 'default', ffmpegPath: 'ffmpeg', aplayPath: 'aplay' };
  t.type(createSink({ ...config, player: 'ffmpeg' }, silentLogger()), FfmpegAlsaSink);
  t.type(createSink({ ...config, player: 'aplay' }, silentLogger()), AplaySink);
  t.type(createSink({ ...config, player: 'null' }, silentLogger()), CountingSink);
});

t.test('a relay whose output fails stops with that error and lets go of the stream', async (t) => {
  const tone = await startToneStream(t, { format: 'mp3' });
  let fail = false;
  // Writes reach the recording sink until the output fails, as an aplay that died would.
  const failing = (recording: PcmSink): PcmSink => ({
    open: () => {
      const inner = recording.open();
      return {
        get error() {
          return fail ? new Error('aplay exited with 1: underrun recovery failed') : null;
        },
        write: (pcm) => inner.write(pcm),
        close: () => inner.close(),
      };
    },
  });
  const r = relayUnderTest([tone.url], { wrapSink: failing });
  const playing = r.relay.play(Date.now() + 20_000, new AbortController().signal);
  await r.waitServing(tone.url, 5_000);
  t.ok(tone.clients() >= 1, 'the stream is being pulled');
  fail = true;
  await t.rejects(playing, /underrun recovery failed/);
  await waitFor(() => tone.clients() === 0, 3_000, 'the stream let go');
  t.pass('no connection left to the source');
});

// The stream helpers the relay tests stand on (issue 15, "Proof": real sources made on this machine), checked
// the way a box would hear them: tuned in over HTTP and decoded by ffmpeg, independently of the helpers.
// If these pass, a relay test that fails is failing on the relay code, not on its fake radio station.
import { request } from 'node:http';
import t from 'tap';
import { icecastAvailable, ICECAST_SKIP, startIcecast } from '../helpers/icecast.js';
import { listen, measureTone, startHlsStream, startToneStream, type ToneFormat } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

// A sine at -6 dBFS (amplitude 16,000) has an RMS near 11,300; lossy codecs keep it within a few percent.
const LOUD_RMS = 5_000;
const SILENT_RMS = 30;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const formats: Array<[ToneFormat, number]> = [
  ['mp3', 440],
  ['aac', 550],
  ['ogg', 660],
];

for (const [format, frequencyHz] of formats) {
  t.test(`${format}: a listener hears the tone, then silence after setSilent, then the tone again`, async (t) => {
    const stream = await startToneStream(t, { format, frequencyHz });
    t.match(stream.url, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/live\\.${format}$`));
    const tone = await listen(stream.url, 2);
    t.equal(tone.code, 0, tone.stderr);
    const heard = measureTone(tone.samples);
    t.ok(heard.seconds >= 1.9, `decoded ${heard.seconds.toFixed(2)} s`);
    t.ok(heard.rms > LOUD_RMS, `tone RMS ${heard.rms.toFixed(0)}`);
    t.ok(Math.abs(heard.frequencyHz - frequencyHz) < frequencyHz * 0.03, `pitch ${heard.frequencyHz.toFixed(1)} Hz, sent ${frequencyHz}`);

    stream.setSilent(true);
    // Past the late-joiner burst (~1 s) so this listener, which also proves a late joiner decodes (for Ogg:
    // the header pages come first), hears only what was made after the switch.
    await sleep(1200);
    const quiet = await listen(stream.url, 1.5);
    t.equal(quiet.code, 0, quiet.stderr);
    const q = measureTone(quiet.samples, 1);
    t.ok(q.seconds >= 0.9, `decoded ${q.seconds.toFixed(2)} s of silence`);
    t.ok(q.rms < SILENT_RMS, `silence RMS ${q.rms.toFixed(1)}`);

    stream.setSilent(false);
    await sleep(1200);
    const back = measureTone((await listen(stream.url, 1.5)).samples, 1);
    t.ok(back.rms > LOUD_RMS, `tone again, RMS ${back.rms.toFixed(0)}`);
  });
}

t.test('a stream that starts silent is silent', async (t) => {
  const stream = await startToneStream(t, { format: 'mp3', silent: true });
  const heard = await listen(stream.url, 1.5);
  t.equal(heard.code, 0, heard.stderr);
  const m = measureTone(heard.samples);
  t.ok(m.seconds > 1.4 && m.rms < SILENT_RMS, `${m.seconds.toFixed(2)} s at RMS ${m.rms.toFixed(1)}`);
});

t.test('kill cuts every listener and refuses new ones; revive serves again on the same url', async (t) => {
  const stream = await startToneStream(t, { format: 'mp3' });
  // Two raw listeners, counting bytes, as a box's HTTP client would see them.
  const open = (): Promise<{ bytes: () => number; ended: Promise<string> }> =>
    new Promise((resolve, reject) => {
      let bytes = 0;
      const req = request(stream.url, (res) => {
        t.equal(res.statusCode, 200);
        t.equal(res.headers['content-type'], 'audio/mpeg');
        const ended = new Promise<string>((done) => {
          res.on('data', (b: Buffer) => (bytes += b.length));
          res.on('end', () => done('end'));
          res.on('error', (e) => done(e.message));
          res.on('close', () => done('close'));
        });
        resolve({ bytes: () => bytes, ended });
      });
      req.on('error', reject);
      req.end();
    });
  const a = await open();
  const b = await open();
  await waitFor('both listeners fed', () => (stream.clients() === 2 && a.bytes() > 1000 && b.bytes() > 1000 ? true : null), 5000);
  await stream.kill();
  const cut = await Promise.race([Promise.all([a.ended, b.ended]), sleep(2000).then(() => null)]);
  t.ok(cut, 'both listeners were cut off');
  t.equal(stream.clients(), 0);
  const refused = await fetch(stream.url).then(
    () => 'answered',
    (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
  );
  t.equal(refused, 'ECONNREFUSED', 'a new listener is refused while the source is down');
  const failed = await listen(stream.url, 1);
  t.not(failed.code, 0, 'ffmpeg fails on the dead source');

  await stream.revive();
  const back = await listen(stream.url, 1.5);
  t.equal(back.code, 0, back.stderr);
  t.ok(measureTone(back.samples).rms > LOUD_RMS, 'the tone again at the same url');
});

t.test('hls: the playlist plays; a broken playlist makes ffmpeg fail; fixed, it plays again; kill and revive', async (t) => {
  const hls = await startHlsStream(t, { frequencyHz: 440 });
  t.match(hls.url, /^http:\/\/127\.0\.0\.1:\d+\/live\.m3u8$/);
  const playlist = await (await fetch(hls.url)).text();
  t.match(playlist, /^#EXTM3U/, 'an HLS playlist');
  t.match(playlist, /#EXTINF:[\d.]+,\s*\nseg\d+\.ts/, 'naming segments');
  const tone = await listen(hls.url, 2);
  t.equal(tone.code, 0, tone.stderr);
  const m = measureTone(tone.samples);
  t.ok(m.seconds >= 1.9 && m.rms > LOUD_RMS, `${m.seconds.toFixed(2)} s at RMS ${m.rms.toFixed(0)}`);
  t.ok(Math.abs(m.frequencyHz - 440) < 440 * 0.03, `pitch ${m.frequencyHz.toFixed(1)} Hz`);

  hls.breakPlaylist();
  const garbage = await fetch(hls.url);
  t.equal(garbage.status, 200, 'the broken playlist still answers 200');
  t.notMatch(await garbage.text(), /#EXTM3U/);
  const failed = await listen(hls.url, 1);
  t.not(failed.code, 0, 'ffmpeg fails on a playlist that is not one');
  t.equal(failed.samples.length, 0, 'and decodes nothing');

  hls.fixPlaylist();
  hls.setSilent(true);
  // HLS players start a few segments behind live: wait until the playlist holds only silent segments.
  await sleep(5000);
  const quiet = await listen(hls.url, 1);
  t.equal(quiet.code, 0, quiet.stderr);
  t.ok(measureTone(quiet.samples).rms < SILENT_RMS, 'silent segments after setSilent');

  await hls.kill();
  t.not((await listen(hls.url, 1)).code, 0, 'nothing while killed');
  await hls.revive();
  t.equal((await listen(hls.url, 1)).code, 0, 'plays again after revive');
});

t.test('icecast2 relays a pushed tone at its mount', { skip: icecastAvailable() ? false : ICECAST_SKIP }, async (t) => {
  const ice = await startIcecast(t);
  const mp3 = await ice.pushTone('/vov1.mp3', { format: 'mp3', frequencyHz: 880 });
  const ogg = await ice.pushTone('/vov2.ogg', { format: 'ogg', silent: true });
  const heard = await listen(ice.mountUrl('/vov1.mp3'), 2);
  t.equal(heard.code, 0, heard.stderr);
  const m = measureTone(heard.samples);
  // lavfi's sine is at 1/8 of full scale (RMS ~2,900).
  t.ok(m.seconds >= 1.9 && m.rms > 1_500, `${m.seconds.toFixed(2)} s at RMS ${m.rms.toFixed(0)}`);
  t.ok(Math.abs(m.frequencyHz - 880) < 880 * 0.03, `pitch ${m.frequencyHz.toFixed(1)} Hz`);
  const quiet = await listen(ice.mountUrl('/vov2.ogg'), 1.5);
  t.equal(quiet.code, 0, quiet.stderr);
  t.ok(measureTone(quiet.samples).rms < SILENT_RMS, 'the silent Ogg mount is silent');

  await mp3.stop();
  await waitFor(
    'the mount to go',
    async () => {
      const res = await fetch(ice.mountUrl('/vov1.mp3'));
      await res.body?.cancel();
      return res.status === 404 ? true : null;
    },
    5000,
  );
  await ogg.stop();
  t.pass('a stopped source takes its mount down');
});

// The box's stream player against real streams made on this machine (issue 15, "Proof"): ffmpeg encoding
// tones served as Icecast serves them (HTTP MP3, AAC, Ogg/Opus) and as an HLS playlist with segments. The
// sink records what reached the speaker, so each test hears which tone played (each source has its own
// pitch) and when. Failover times are measured and printed.
import t from 'tap';
import { StreamDecoder } from '@loaxa/device-agent';
import { ffmpegBin, startHlsStream, startToneStream } from '../helpers/streams.js';
import { silentLogger } from './helpers.js';
import { proxyTo, fallbackFile, relayUnderTest, sleep, type RelayUnderTest } from './relay-fixtures.js';

const QUICK_RETRY = { retry: { firstMs: 1_500, maxMs: 6_000, steadyMs: 60_000 } };

/** Starts airing until `windowMs` from now; the returned function stops it early and waits for it. */
function air(r: RelayUnderTest, windowMs: number, t: { teardown(fn: () => unknown): void }): { done: Promise<unknown>; stop: () => Promise<unknown> } {
  const ac = new AbortController();
  const done = r.relay.play(Date.now() + windowMs, ac.signal).then(
    () => 'ended',
    (err: unknown) => err,
  );
  const stop = (): Promise<unknown> => {
    ac.abort(new Error('test over'));
    return done;
  };
  t.teardown(stop);
  return { done, stop };
}

function near(t: { ok(v: unknown, msg: string): unknown }, actual: number, expected: number, tolerance: number, what: string): void {
  t.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual.toFixed(0)} ≈ ${expected.toFixed(0)} (±${tolerance})`);
}

t.test('each kind of stream plays: HTTP MP3, AAC, Ogg/Opus, and HLS', async (t) => {
  const sources = [
    { name: 'mp3', hz: 440, stream: await startToneStream(t, { format: 'mp3', frequencyHz: 440 }) },
    { name: 'aac', hz: 550, stream: await startToneStream(t, { format: 'aac', frequencyHz: 550 }) },
    { name: 'ogg', hz: 660, stream: await startToneStream(t, { format: 'ogg', frequencyHz: 660 }) },
    { name: 'hls', hz: 770, stream: await startHlsStream(t, { frequencyHz: 770 }) },
  ];
  const runs = sources.map((s) => ({ ...s, r: relayUnderTest([s.stream.url]) }));
  const started = Date.now();
  const results = await Promise.all(runs.map((run) => air(run.r, 5_000, t).done));
  const elapsed = Date.now() - started;
  for (const [i, run] of runs.entries()) {
    const { r } = run;
    t.equal(results[i], 'ended', `${run.name}: ends at the window's end`);
    t.same(
      r.changes.map((c) => [c.cause, c.url]),
      [['started', run.stream.url]],
      `${run.name}: started on its URL, nothing else`,
    );
    const firstAudio = r.serving[0]!.t - r.changes[0]!.t;
    t.ok(firstAudio < 50, `${run.name}: 'started' is sent with the first audio`);
    t.ok(r.relay.airedMs > 3_000 && r.relay.airedMs <= elapsed, `${run.name}: aired ${r.relay.airedMs.toFixed(0)} ms of a 5 s window`);
    near(t, r.sink.counter.totalMs, r.relay.airedMs, 100, `${run.name}: the sink counted what was aired`);
    t.ok(r.sink.counter.silentMs < 300, `${run.name}: no silence to speak of (${r.sink.counter.silentMs} ms)`);
    near(t, r.sink.lastTone(1).frequencyHz, run.hz, run.hz * 0.03, `${run.name}: the speaker got its tone (Hz)`);
    t.equal(r.sink.counter.openNow, 0, `${run.name}: the speaker's device is released at the end`);
  }
});

t.test('a URL that dies mid-relay: the next plays within 5 s, and the preferred one is taken back when it returns', async (t) => {
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'aac', frequencyHz: 660 });
  const r = relayUnderTest([a.url, b.url], { tuning: QUICK_RETRY });
  const run = air(r, 30_000, t);
  await r.waitServing(a.url, 5_000);
  await sleep(2_000);
  const killedAt = performance.now();
  await a.kill();
  const servingB = await r.waitServing(b.url, 8_000);
  const failover = servingB - killedAt;
  t.comment(`failover after a source died: ${failover.toFixed(0)} ms to the next URL's first audio`);
  t.ok(failover < 5_000, 'the next URL plays within 5 s of the failure');
  const err = r.changes.find((c) => c.cause === 'error')!;
  t.equal(err.url, b.url, 'the error names the URL now serving');
  t.match(err.detail, a.url, 'and which URL failed');

  await sleep(500);
  await a.revive();
  const back = await r.waitChange((c) => c.cause === 'returned', 8_000, 'the preferred URL back');
  t.equal(back.url, a.url, 'the preferred URL is taken back once it serves again');
  await sleep(1_500);
  near(t, r.sink.lastTone(0.8).frequencyHz, 440, 15, 'the speaker plays the preferred source again (Hz)');
  await run.stop();
  t.same(
    r.changes.map((c) => c.cause),
    ['started', 'error', 'returned'],
  );
});

t.test('a source that hangs (connection open, no more data): stalled, and the next URL plays within 5 s', async (t) => {
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  const hung = await proxyTo(t, a.url);
  const r = relayUnderTest([hung.url, b.url]);
  const run = air(r, 30_000, t);
  await r.waitServing(hung.url, 5_000);
  await sleep(1_500);
  const frozenAt = performance.now();
  hung.freeze();
  const stalled = await r.waitChange((c) => c.cause === 'stalled', 8_000, 'the stall');
  const servingB = await r.waitServing(b.url, 3_000);
  t.comment(`hung source: stalled after ${(stalled.t - frozenAt).toFixed(0)} ms, next URL audible ${(servingB - frozenAt).toFixed(0)} ms after the data stopped`);
  t.equal(stalled.url, b.url);
  t.ok(servingB - frozenAt < 5_000, 'the next URL plays within 5 s of the last data');
  // Dead air is what the buffer could not cover: the 4 s stall limit less what was buffered.
  const around = r.sink.chunks.filter((c) => c.at > frozenAt - 500 && c.at < servingB + 500).map((c) => c.at);
  const deadAir = Math.max(...around.slice(1).map((at, i) => at - around[i]!));
  t.comment(`dead air (longest gap between writes to the speaker): ${deadAir.toFixed(0)} ms`);
  t.ok(deadAir < 4_500, 'the listener heard under 4.5 s of nothing');
  await run.stop();
});

t.test('a source silent for 10 s: the next URL plays within 5 s', async (t) => {
  const a = await startToneStream(t, { format: 'ogg', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  const r = relayUnderTest([a.url, b.url]);
  const run = air(r, 30_000, t);
  await r.waitServing(a.url, 5_000);
  await sleep(1_000);
  const quietAt = performance.now();
  a.setSilent(true);
  const silence = await r.waitChange((c) => c.cause === 'silence', 14_000, 'the silence failover');
  const detected = silence.t - quietAt;
  t.comment(`silence detected ${detected.toFixed(0)} ms after the source went quiet`);
  t.ok(detected >= 9_500 && detected < 12_000, 'after 10 s of silence, not before');
  t.equal(silence.url, b.url);
  const servingB = await r.waitServing(b.url, 6_000);
  t.comment(`then ${(servingB - silence.t).toFixed(0)} ms to the next URL's first audio`);
  t.ok(servingB - silence.t < 5_000, 'the next URL plays within 5 s');
  await sleep(1_500);
  near(t, r.sink.lastTone(0.8).frequencyHz, 660, 20, 'the speaker plays the second source (Hz)');
  // What was still buffered when the silence was detected is dropped with the source.
  t.ok(r.sink.counter.silentMs >= 8_000, `the sink heard the silence (${r.sink.counter.silentMs} ms)`);
  await run.stop();
});

t.test('a broken HLS playlist: the next URL plays', async (t) => {
  const hls = await startHlsStream(t, { frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  const r = relayUnderTest([hls.url, b.url]);
  const run = air(r, 30_000, t);
  await r.waitServing(hls.url, 8_000);
  await sleep(1_000);
  const brokenAt = performance.now();
  hls.breakPlaylist();
  const failed = await r.waitChange((c) => c.url === b.url, 15_000, 'the move to the next URL');
  t.match(failed.cause, /^(error|stalled)$/);
  const servingB = await r.waitServing(b.url, 6_000);
  t.comment(`broken playlist: ${failed.cause} after ${(failed.t - brokenAt).toFixed(0)} ms (segments already fetched still play), next URL audible ${(servingB - failed.t).toFixed(0)} ms later`);
  t.ok(servingB - failed.t < 5_000, 'the next URL plays within 5 s of the failure');
  await sleep(1_500);
  near(t, r.sink.lastTone(0.8).frequencyHz, 660, 20, 'the speaker plays the second source (Hz)');
  await run.stop();
});

t.test('every URL down: the fallback file plays, and the relay continues when a source returns', async (t) => {
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  await a.kill();
  await b.kill();
  const fallback = await fallbackFile(t, 880, 2);
  const r = relayUnderTest([a.url, b.url], { fallbackFile: fallback.path, tuning: QUICK_RETRY });
  const run = air(r, 30_000, t);
  const fb = await r.waitChange((c) => c.cause === 'fallback', 5_000, 'the fallback event');
  t.equal(fb.url, null);
  t.match(fb.detail, /fallback file plays/);
  await r.waitServing(null, 3_000);
  await sleep(3_500);
  t.equal(r.relay.airedMs, 0, 'nothing of the stream aired');
  t.ok(r.relay.fallbackMs > 2_500, `the fallback played (${r.relay.fallbackMs.toFixed(0)} ms), past its 2 s end: it loops`);
  near(t, r.sink.lastTone(1).frequencyHz, 880, 20, 'the speaker plays the fallback tone (Hz)');

  const revivedAt = performance.now();
  await b.revive();
  const back = await r.waitChange((c) => c.cause === 'returned', 10_000, 'the source back');
  t.equal(back.url, b.url, 'the URL that serves again takes over');
  t.comment(`source back ${(back.t - revivedAt).toFixed(0)} ms after it revived (retries back off from 1.5 s)`);
  await sleep(1_500);
  near(t, r.sink.lastTone(0.8).frequencyHz, 660, 20, 'the fallback stopped: the stream plays (Hz)');
  const fallbackBefore = r.relay.fallbackMs;
  await sleep(500);
  t.equal(r.relay.fallbackMs, fallbackBefore, 'no more fallback audio');
  t.ok(r.relay.airedMs > 1_000);
  await run.stop();
  t.same(
    r.changes.map((c) => [c.cause, c.url]),
    [
      ['error', b.url],
      ['error', null],
      ['fallback', null],
      ['returned', b.url],
    ],
  );
});

t.test('every URL down and no fallback file: silence, cleanly, until the window ends', async (t) => {
  const a = await startToneStream(t, { format: 'mp3' });
  await a.kill();
  const r = relayUnderTest([a.url]);
  const result = await air(r, 3_000, t).done;
  t.equal(result, 'ended', 'the relay runs to its window end without a crash');
  t.match(r.changes.at(-1), { cause: 'fallback', url: null, detail: /no fallback file/ });
  t.equal(r.sink.counter.totalMs, 0, 'nothing was sent to the speaker');
  t.equal(r.sink.counter.openNow, 0);
});

t.test('a source that answers an HTTP error, a web page or another scheme fails at once, saying why', async (t) => {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.url === '/portal') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>log in to continue</html>');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const failure = (url: string): Promise<string> =>
    new Promise((resolve) => {
      const d = new StreamDecoder({ ffmpegPath: ffmpegBin(), input: { kind: 'url', url }, authorization: null, fetch: globalThis.fetch, logger: silentLogger() });
      d.on('failed', (err) => resolve(err.message));
      d.start();
    });
  t.match(await failure(`${base}/gone.mp3`), /^HTTP 404/);
  t.match(await failure(`${base}/portal`), /not audio: the server answered text\/html/);
  t.match(await failure('file:///etc/passwd'), /unsupported scheme file:/);
  t.match(await failure('http://127.0.0.1:1/live.mp3'), /cannot connect/);
});

t.test('a stream that answers a DASH manifest pointing at a file on the box reads nothing of it (issue 15 review, finding 9)', async (t) => {
  const { createServer } = await import('node:http');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFileSync } = await import('node:child_process');
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-dash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A file that must never reach the speaker; ffmpeg's DASH demuxer would open it (an .mp4 passes its extension check).
  const secret = join(dir, 'secret.mp4');
  execFileSync(ffmpegBin(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=d=2', '-c:a', 'aac', '-f', 'mp4', '-y', secret]);
  const mpd = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT2S" minBufferTime="PT1S"><Period><AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="64000" codecs="mp4a.40.2"><BaseURL>file://${secret}</BaseURL></Representation></AdaptationSet></Period></MPD>`;
  const server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(mpd));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/live`;
  let pcmBytes = 0;
  const why = await new Promise<string>((resolve) => {
    const d = new StreamDecoder({ ffmpegPath: ffmpegBin(), input: { kind: 'url', url }, authorization: null, fetch: globalThis.fetch, logger: silentLogger() });
    d.on('pcm', (pcm: Buffer) => (pcmBytes += pcm.length));
    d.on('failed', (err) => resolve(err.message));
    d.start();
  });
  t.equal(pcmBytes, 0, 'not one sample of the local file was decoded');
  t.match(why, /decoder stopped|stream ended/, 'the URL fails, so the box moves on');
});

t.test("an HLS playlist where the box's credentials are asked for is refused: they never reach ffmpeg's command line", async (t) => {
  // Issue 15 review: ffmpeg's HLS client would need them in `-headers`, readable by any user of the box in
  // /proc. Only the server's restream asks for the box's credentials, and it serves MP3, never HLS.
  const hls = await startHlsStream(t, { frequencyHz: 550 });
  const basic = `Basic ${Buffer.from('dev-spk-01:secret').toString('base64')}`;
  const proxy = await proxyTo(t, hls.url, { expected: basic });
  const r = relayUnderTest([proxy.url], { authorization: basic });
  await air(r, 1_500, t).done;
  t.match(r.changes[0], { cause: 'error', url: null }, 'the relay fails the URL');
  t.match(r.changes[0]?.detail, /HLS playlist.*credentials/, 'saying why');
  t.equal(r.relay.airedMs, 0, 'nothing aired');
  t.equal(proxy.seen.filter((a) => a === basic).length, 0, 'and the credentials went nowhere');
});

// Live voice on the box (issue 16): a `play` whose stream is `live` is one URL played from a short buffer until
// the stream ends — then `played` with the milliseconds aired, no fallback, no retries; a URL that cannot be
// opened fails the item at once with why; an emergency interrupts it (Circular 39) and it continues live. The
// source stands in for the server's `/live/{id}`: PCM written at real-time pace into ffmpeg's libmp3lame at
// 64 kbit/s (the server's live encoder's output), fanned out over HTTP without a burst, ended by closing every
// response; marker tones written into it are timed at the box's speaker (firmware-sim's MarkerSink), which is
// how the latency is measured — with the live settings, and with a relay's for comparison.
// Over 300 lines because the stand-in source serves every test here and a test file cannot share it.
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { topics, type Payload } from '@loaxa/shared';
import { StreamRelay, systemClock, type RelayChange, type RelayTuning } from '@loaxa/device-agent';
import { MarkerSink, markerPcm } from '@loaxa/firmware-sim';
import { ffmpegBin, killChild } from '../helpers/streams.js';
import { CREDENTIALS, command, messagesOn, randomAudio, silentLogger, startAgent, startBroker, startMediaServer, waitFor, type TestBroker } from './helpers.js';
import { sleep } from './relay-fixtures.js';

type Tap = Parameters<typeof startBroker>[0];
type Ev = Payload<'event'>;
const EVENT = topics.deviceEvent('spk-01');
const CMD = topics.deviceCmd('spk-01');
const now = (): number => performance.timeOrigin + performance.now();

interface LiveSource {
  url: string;
  /** Requests for the live path so far (a box that retried would make more). */
  requests: number;
  clients(): number;
  /** Writes a marker into the source's next audio; resolves with when it went into the encoder (epoch ms). */
  marker(): Promise<number>;
  /** Audio written into the encoder so far, ms. */
  writtenMs(): number;
  /** writtenMs() when each request for the live path came. */
  joinedAt: number[];
  /** The operator stopped: the encoder drains, every response ends, the path then answers 410. */
  end(): Promise<void>;
  /** The box's link hangs: connections stay open, no more bytes reach them. */
  freeze(): void;
}

const TICK_MS = 10;

/** `burstMs`: a joiner first gets this much of the latest output (the server sends 300 ms; Icecast ~8 s). */
async function startLiveSource(t: Tap, burstMs = 0): Promise<LiveSource> {
  // A small probe, as the server's live encoder has: ffmpeg's default would hold its first second back.
  const encoder = spawn(ffmpegBin(), ['-hide_banner', '-v', 'error', '-nostdin', '-probesize', '32', '-analyzeduration', '0', '-fflags', '+nobuffer', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-c:a', 'libmp3lame', '-b:a', '64k', '-id3v2_version', '0', '-write_xing', '0', '-flush_packets', '1', '-f', 'mp3', 'pipe:1'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  encoder.stdin.on('error', () => undefined);
  const listeners = new Set<ServerResponse>();
  let ended = false;
  let frozen = false;
  let requests = 0;
  const joinedAt: number[] = [];
  const recent: Array<{ at: number; mp3: Buffer }> = [];
  encoder.stdout.on('data', (mp3: Buffer) => {
    recent.push({ at: performance.now(), mp3 });
    while (recent.length && recent[0]!.at < performance.now() - burstMs) recent.shift();
    if (!frozen) for (const res of listeners) res.write(mp3);
  });
  const closed = new Promise<void>((resolve) => encoder.once('close', () => resolve()));
  // A quiet voice (300 Hz at −29 dBFS: audible, far from the markers' 2.5 kHz), markers in place of it.
  const started = performance.now();
  let written = 0;
  let phase = 0;
  let marker: Buffer | null = null;
  const waiting: Array<(at: number) => void> = [];
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * 48_000) / 1000) - written;
    if (due <= 0) return;
    const pcm = Buffer.alloc(due * 2);
    for (let i = 0; i < due; i++, phase++) pcm.writeInt16LE(Math.round(1_200 * Math.sin((2 * Math.PI * 300 * phase) / 48_000)), i * 2);
    let took: Array<(at: number) => void> = [];
    if (!marker && waiting.length) {
      marker = markerPcm();
      took = waiting.splice(0);
    }
    if (marker) {
      const n = Math.min(marker.length, pcm.length);
      marker.copy(pcm, 0, 0, n);
      marker = n < marker.length ? marker.subarray(n) : null;
    }
    encoder.stdin.write(pcm);
    const at = now();
    for (const r of took) r(at);
    written += due;
  }, TICK_MS);
  const server = createServer((req, res) => {
    if (req.url !== '/live/1') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such airing');
    requests += 1;
    joinedAt.push(written / 48);
    if (ended) return void res.writeHead(410, { 'content-type': 'text/plain' }).end('the airing is over');
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-cache' });
    if (burstMs > 0) res.write(Buffer.concat(recent.map((r) => r.mp3)));
    listeners.add(res);
    res.on('close', () => listeners.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    encoder.stdin.end();
    await closed;
    for (const res of listeners) res.end();
  };
  t.teardown(async () => {
    clearInterval(timer);
    await killChild(encoder);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live/1`,
    get requests() {
      return requests;
    },
    clients: () => listeners.size,
    marker: () => new Promise<number>((resolve) => waiting.push(resolve)),
    writtenMs: () => written / 48,
    joinedAt,
    end,
    freeze: () => {
      frozen = true;
    },
  };
}

/** Sends `count` markers `everyMs` apart; answers when each went in. */
async function markers(src: LiveSource, count: number, everyMs: number): Promise<number[]> {
  const sent: number[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(await src.marker());
    await sleep(everyMs);
  }
  return sent;
}

/**
 * Latency of each sent marker: paired in order with the onsets heard after the first was sent (a latency may
 * exceed the spacing, so nearest-after would pair wrongly); NaN for all when a marker was lost or one was heard
 * that was not sent.
 */
function latencies(sent: number[], heard: number[]): number[] {
  const after = heard.filter((h) => h >= sent[0]!);
  return sent.map((s, i) => (after.length === sent.length ? after[i]! - s : NaN));
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function events(b: TestBroker, id: string): Ev[] {
  return messagesOn(b, EVENT, 'event')
    .map((m) => m.payload)
    .filter((e) => e.kind !== 'fault' && e.broadcastId === id);
}
const states = (b: TestBroker, id: string): string[] => events(b, id).flatMap((e) => (e.kind === 'delivery' ? [e.state] : []));
const relayEvents = (b: TestBroker, id: string): Array<Extract<Ev, { kind: 'relay' }>> => events(b, id).filter((e): e is Extract<Ev, { kind: 'relay' }> => e.kind === 'relay');
const last = (b: TestBroker, id: string): Extract<Ev, { kind: 'delivery' }> => events(b, id).filter((e): e is Extract<Ev, { kind: 'delivery' }> => e.kind === 'delivery').at(-1)!;

function livePlay(id: string, url: string, priority: Payload<'play'>['priority'] = 'priority'): Payload<'play'> {
  const at = Date.now();
  return { broadcastId: id, occurrenceAt: at, priority, stream: { sourceId: id, urls: [url], durationMs: 600_000, live: true }, startAt: at, windowMs: 600_000 };
}

async function liveAgent(t: Tap): Promise<{ b: TestBroker; sink: MarkerSink }> {
  const b = await startBroker(t);
  const sink = new MarkerSink();
  await startAgent(t, b, { sink, ffmpegPath: ffmpegBin() });
  return { b, sink };
}

t.test('a live voice plays until its stream ends, then reports played with what aired, and never calls back', async (t) => {
  const src = await startLiveSource(t);
  const { b, sink } = await liveAgent(t);
  await b.publish(CMD, command('play', livePlay('live-1', src.url)).body);
  await waitFor(() => relayEvents(b, 'live-1').some((e) => e.cause === 'started'), 5_000, 'started');
  t.same(states(b, 'live-1'), ['acknowledged', 'cached', 'playing'], '`playing` once its audio reached the speaker');
  const sent = await markers(src, 8, 400);
  const writtenBeforeEnd = src.writtenMs();
  const endedAt = performance.now();
  await src.end();
  await waitFor(() => states(b, 'live-1').includes('played'), 5_000, 'played');
  const playedAfter = performance.now() - endedAt;
  const played = last(b, 'live-1');
  const sentToBox = writtenBeforeEnd - src.joinedAt[0]!;
  t.comment(`aired ${played.airedMs} ms; the speaker got ${Math.round(sink.totalMs)} ms; ${Math.round(sentToBox)} ms written since the box connected; played ${Math.round(playedAfter)} ms after the end`);
  t.ok(Math.abs(played.airedMs! - sink.totalMs) <= 100, 'airedMs is what the speaker got');
  // All of it but the start (what the decoder gave before output began, beyond the prebuffer, was skipped);
  // a little more for what the encoder held when the box connected and the MP3's padding at the end.
  t.ok(played.airedMs! <= sentToBox + 250 && played.airedMs! >= sentToBox - 600, 'what was sent since it connected aired, its buffer played out at the end');
  t.ok(playedAfter < 2_000, 'the item ends as soon as what it held has played');
  t.match(played.reason, /live stream over: the stream ended/);
  t.same(
    relayEvents(b, 'live-1').map((e) => [e.cause, e.url]),
    [
      ['started', src.url],
      ['ended', null],
    ],
    'only started and ended: no failover, no fallback',
  );
  t.match(relayEvents(b, 'live-1')[1]!.detail, /live stream over \(the stream ended\)/);
  const lat = latencies(sent, sink.markers());
  t.comment(`marker latency through the agent (encoder input → speaker): ${lat.map((l) => Math.round(l)).join(', ')} ms`);
  t.ok(lat.every((l) => l > 0 && l < 1_000), 'every marker reached the speaker, each within a second');
  await sleep(2_000);
  t.equal(src.requests, 1, 'the ended stream was not asked for again');
  t.equal(sink.openNow, 0, 'the speaker is free');
});

t.test('a live URL that cannot be opened fails the item at once with why, and is not asked again', async (t) => {
  const src = await startLiveSource(t);
  const { b, sink } = await liveAgent(t);
  const missing = src.url.replace('/live/1', '/live/2');
  const sentAt = performance.now();
  await b.publish(CMD, command('play', livePlay('live-404', missing)).body);
  await waitFor(() => states(b, 'live-404').includes('failed'), 3_000, 'failed');
  t.ok(performance.now() - sentAt < 1_500, 'at once');
  t.same(states(b, 'live-404'), ['acknowledged', 'cached', 'failed'], 'never `playing`: nothing aired');
  t.match(last(b, 'live-404'), { airedMs: 0, reason: /PLAYBACK_FAILED: nothing of the live stream aired: HTTP 404/ });
  t.same(
    relayEvents(b, 'live-404').map((e) => e.cause),
    ['ended'],
  );
  // An airing that is over (410), as a box that joins late meets it.
  await src.end();
  await b.publish(CMD, command('play', livePlay('live-410', src.url)).body);
  await waitFor(() => states(b, 'live-410').includes('failed'), 3_000, 'failed');
  t.match(last(b, 'live-410').reason, /HTTP 410/);
  await sleep(1_000);
  t.equal(src.requests, 1, 'one request for the ended airing, no retry');
  t.equal(sink.totalMs, 0);
});

t.test('an emergency file interrupts a live voice, which continues live afterwards', async (t) => {
  const src = await startLiveSource(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { b, sink } = await liveAgent(t);
  await b.publish(CMD, command('play', livePlay('live-3', src.url)).body);
  await waitFor(() => relayEvents(b, 'live-3').some((e) => e.cause === 'started'), 5_000, 'started');
  await sleep(1_000);
  const em = media.put(randomAudio());
  await b.publish(CMD, command('play', { broadcastId: 'em-1', occurrenceAt: Date.now(), priority: 'emergency', media: { ...em, durationMs: 2_000 }, startAt: Date.now(), windowMs: 60_000 }).body);
  await waitFor(() => states(b, 'em-1').includes('playing'), 3_000, 'the emergency plays');
  const during = sink.totalMs;
  await waitFor(() => states(b, 'em-1').includes('played'), 5_000, 'the emergency played');
  t.ok(sink.totalMs - during < 300, 'the live voice was not heard during the emergency');
  await waitFor(() => relayEvents(b, 'live-3').filter((e) => e.cause === 'started').length === 2, 3_000, 'continued');
  const sent = await markers(src, 3, 300);
  await src.end();
  await waitFor(() => states(b, 'live-3').includes('played'), 5_000, 'played');
  t.same(states(b, 'live-3'), ['acknowledged', 'cached', 'playing', 'playing', 'played']);
  t.match(events(b, 'live-3').filter((e) => e.kind === 'delivery' && e.state === 'playing')[1], { reason: /continued live after em-1/ });
  t.same(
    relayEvents(b, 'live-3').map((e) => e.cause),
    ['started', 'interrupted', 'started', 'ended'],
  );
  t.equal(src.requests, 2, 'it reconnected once, after the emergency');
  t.ok(latencies(sent, sink.markers()).every((l) => l > 0 && l < 1_000), 'it plays live again, not from where it stopped');
  t.ok(Math.abs(last(b, 'live-3').airedMs! - sink.totalMs) <= 100, 'airedMs is what the speaker got');
});

/** A StreamRelay on `url`, as the agent wires it, its speaker a MarkerSink. */
function relayOn(url: string, live: boolean, tuning: Partial<RelayTuning> = {}): { relay: StreamRelay; sink: MarkerSink; changes: RelayChange[] } {
  const sink = new MarkerSink();
  const changes: RelayChange[] = [];
  const relay = new StreamRelay({ urls: [url], fallbackFile: null, sink, ffmpegPath: ffmpegBin(), fetch: globalThis.fetch, authorization: null, clock: systemClock, logger: silentLogger(), volume: () => 100, onChange: (c) => changes.push(c), live, tuning });
  return { relay, sink, changes };
}

t.test('latency from the source to the speaker: the live settings against the relay settings', async (t) => {
  const src = await startLiveSource(t);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const live = relayOn(src.url, true);
  const relay = relayOn(src.url, false);
  const playing = [live.relay.play(Date.now() + 60_000, abort.signal), relay.relay.play(Date.now() + 60_000, abort.signal).catch(() => undefined)];
  await waitFor(() => live.changes.length && relay.changes.length, 5_000, 'both started');
  await sleep(1_000);
  const sent = await markers(src, 20, 350);
  // The relay drops what it holds when its stream ends (it fails over): its last markers must be out first.
  await sleep(1_500);
  await src.end();
  await Promise.race([Promise.all(playing), sleep(5_000)]);
  const l = latencies(sent, live.sink.markers());
  const r = latencies(sent, relay.sink.markers());
  t.comment(`live (prebuffer 200 ms, probe 32 B):   p50 ${Math.round(pct(l, 50))} ms, p99 ${Math.round(pct(l, 99))} ms, max ${Math.round(Math.max(...l))} ms`);
  t.comment(`relay (prebuffer 400 ms, probe 16 KB): p50 ${Math.round(pct(r, 50))} ms, p99 ${Math.round(pct(r, 99))} ms, max ${Math.round(Math.max(...r))} ms`);
  t.ok(l.every((x) => x > 0) && r.every((x) => x > 0), 'every marker reached both speakers');
  t.ok(pct(l, 99) < 1_000, 'live: p99 under 1 s from the source encoder to the speaker (of the 2 s mouth to speaker)');
  t.ok(pct(l, 50) < pct(r, 50) - 100, 'live is quicker than a relay');
  t.equal(live.relay.liveEnded, 'the stream ended', 'the live relay ended with its stream');
  t.equal(live.changes.at(-1)?.cause, 'started', 'and reported no failover');
  t.ok(relay.changes.some((c) => c.cause === 'error'), 'the relay, by contrast, treats the end as a failure');
});

t.test('a box joining with a burst of seconds (Icecast’s burst-on-connect) skips to live instead of staying behind', async (t) => {
  const src = await startLiveSource(t, 4_000);
  await sleep(4_000);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const live = relayOn(src.url, true);
  void live.relay.play(Date.now() + 60_000, abort.signal).catch(() => undefined);
  await waitFor(() => live.changes.length, 5_000, 'started');
  // What arrived after output began is held at most liveBufferMs, then trimmed within two windows (2 s).
  await sleep(2_500);
  const sent = await markers(src, 6, 400);
  await sleep(1_000);
  const lat = latencies(sent, live.sink.markers());
  t.comment(`after a 4 s burst: ${lat.map((l) => Math.round(l)).join(', ')} ms`);
  t.ok(lat.every((l) => l > 0 && l < 600), 'as live as without the burst: the burst was not played');
});

t.test('a link that hangs: the box plays what it holds, then ends after the stall limit', async (t) => {
  const src = await startLiveSource(t);
  const live = relayOn(src.url, true, { stallMs: 1_500 });
  const playing = live.relay.play(Date.now() + 60_000, new AbortController().signal);
  await waitFor(() => live.changes.length, 5_000, 'started');
  await sleep(1_000);
  src.freeze();
  const frozenAt = performance.now();
  await playing;
  const endedAfter = performance.now() - frozenAt;
  const heldMs = live.sink.writes.filter((w) => w.at > frozenAt).reduce((n, w) => n + w.ms, 0);
  t.comment(`after the link hung: ${Math.round(heldMs)} ms more aired; ended after ${Math.round(endedAfter)} ms`);
  // What the buffer held at that instant (it runs between ~60 and ~330 ms with 128 ms MP3 packets).
  t.ok(heldMs >= 30, 'what it held still played after the link hung');
  // The stall counts from the last audio decoded, up to a packet (~130 ms) before the freeze.
  t.ok(endedAfter >= 1_300 && endedAfter < 3_000, 'and it ended after the stall limit');
  t.match(live.relay.liveEnded, /no audio for/);
  t.same(
    live.changes.map((c) => c.cause),
    ['started'],
    'no failover',
  );
  t.equal(src.requests, 1, 'not asked again');
});

import t from 'tap';
import { readdir } from 'node:fs/promises';
import { topics, type Payload } from '@loaxa/shared';
import { hashFile, type Player, type PlayOptions } from '@loaxa/device-agent';
import { fakeClock, type FakeClock } from '../helpers/clock.js';
import { CREDENTIALS, answersOn, command, delay, messagesOn, randomAudio, sha256Of, startAgent, startBroker, startMediaServer, waitFor, type TestBroker } from './helpers.js';

const CMD = topics.deviceCmd('spk-01');
const RES = topics.deviceRes('spk-01');
const EVENT = topics.deviceEvent('spk-01');

function deliveries(b: TestBroker, broadcastId?: string): Array<Extract<Payload<'event'>, { kind: 'delivery' }>> {
  return messagesOn(b, EVENT, 'event')
    .map((m) => m.payload)
    .filter((p): p is Extract<Payload<'event'>, { kind: 'delivery' }> => p.kind === 'delivery' && (!broadcastId || p.broadcastId === broadcastId));
}

function states(b: TestBroker, broadcastId: string): string[] {
  return deliveries(b, broadcastId).map((d) => d.state);
}

function playPayload(media: { sha256: string; url: string }, over: Partial<Payload<'play'>> = {}): Payload<'play'> {
  const now = Date.now();
  return {
    broadcastId: 'bc-1',
    occurrenceAt: now,
    priority: 'normal',
    media: { ...media, durationMs: 200 },
    startAt: now + 300,
    windowMs: 5_000,
    ...over,
  };
}

const TERMINAL = new Set(['played', 'failed', 'missed', 'cancelled', 'expired']);
const finished = (b: TestBroker, id: string) => () => states(b, id).some((s) => TERMINAL.has(s));

t.test('a play command is acknowledged, cached, played on time, and reported in order', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { config, player } = await startAgent(t, b);
  const audio = randomAudio(4096);
  const ref = media.put(audio);
  const play = playPayload(ref);
  const cmd = command('play', play);
  await b.publish(CMD, cmd.body);

  const answer = await waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), 2_000, 'answer');
  t.match(answer, { ok: true, data: { accepted: true } });
  await waitFor(finished(b, 'bc-1'), 3_000, 'played');
  t.same(states(b, 'bc-1'), ['acknowledged', 'cached', 'playing', 'played']);
  const evs = deliveries(b, 'bc-1');
  for (const e of evs) t.match(e, { commandId: cmd.id, occurrenceAt: play.occurrenceAt });
  const playing = evs.find((e) => e.state === 'playing')!;
  const played = evs.find((e) => e.state === 'played')!;
  t.ok(playing.at >= play.startAt, 'not started before startAt');
  t.ok(played.at - playing.at >= 190, 'the audio took its duration');
  t.ok(b.published.filter((p) => p.topic === EVENT).every((p) => p.qos === 1), 'events are QoS 1');

  const file = `${config.cacheDir}/${ref.sha256}.ogg`;
  t.equal(await hashFile(file), ref.sha256, 'cached under its SHA-256 with the right content');
  t.same(player.played, [file]);
  t.equal(media.requests.length, 1);
  t.equal(media.requests[0]!.authorization, `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`, 'downloads with the device credentials');

  // The same audio again is played from the cache, not downloaded.
  const again = command('play', playPayload(ref, { broadcastId: 'bc-2', startAt: Date.now() }));
  await b.publish(CMD, again.body);
  await waitFor(finished(b, 'bc-2'), 3_000, 'second played');
  t.same(states(b, 'bc-2'), ['acknowledged', 'cached', 'playing', 'played']);
  t.equal(media.requests.length, 1, 'no second download');
});

t.test('a hash mismatch fails the delivery and leaves nothing in the cache', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { config } = await startAgent(t, b);
  const wrong = sha256Of(Buffer.from('what the server claims'));
  const ref = media.put(randomAudio(), wrong);
  await b.publish(CMD, command('play', playPayload(ref)).body);
  await waitFor(finished(b, 'bc-1'), 3_000, 'failed');
  t.same(states(b, 'bc-1'), ['acknowledged', 'failed']);
  t.match(deliveries(b, 'bc-1').at(-1), { state: 'failed', reason: /LOAXA_HASH_MISMATCH.*hash mismatch/ });
  t.same(await readdir(config.cacheDir), [], 'no file kept, not even a temp file');
});

t.test('a command id is executed at most once, whichever topic repeats it', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { player } = await startAgent(t, b);
  const ref = media.put(randomAudio());
  const cmd = command('play', playPayload(ref, { startAt: Date.now() }));
  await b.publish(CMD, cmd.body);
  await b.publish(CMD, cmd.body);
  await b.publish(topics.areaCmd('01'), cmd.body);
  await waitFor(finished(b, 'bc-1'), 3_000, 'played');
  // A settle, not a wait for time: a repeat would travel the real broker, and its absence cannot be polled for.
  await delay(100);
  t.same(states(b, 'bc-1'), ['acknowledged', 'cached', 'playing', 'played'], 'one set of transitions');
  t.equal(player.played.length, 1, 'played once');
  const answers = answersOn(b, RES).filter((a) => a.re === cmd.id);
  t.ok(answers.length >= 1 && answers.every((a) => a.ok), 'repeats get the same answer');

  // A different command for the same delivery (broadcast + occurrence) while it is in hand does not start it twice.
  const play2 = playPayload(ref, { broadcastId: 'bc-3', startAt: Date.now() + 200 });
  await b.publish(CMD, command('play', play2).body);
  const other = command('play', play2);
  await b.publish(topics.areaCmd('01001'), other.body);
  t.match(await waitFor(() => answersOn(b, RES).find((a) => a.re === other.id), 2_000), { ok: true, data: { accepted: true } });
  await waitFor(finished(b, 'bc-3'), 3_000, 'played');
  // A settle, not a wait for time: a repeat would travel the real broker, and its absence cannot be polled for.
  await delay(50);
  t.same(states(b, 'bc-3'), ['acknowledged', 'cached', 'playing', 'played']);
  t.equal(player.played.length, 2);
});

t.test('download errors are retried with backoff', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  await startAgent(t, b);
  const ref = media.put(randomAudio());
  media.failNext(2, 503);
  await b.publish(CMD, command('play', playPayload(ref, { startAt: Date.now() })).body);
  await waitFor(finished(b, 'bc-1'), 4_000, 'played');
  t.same(states(b, 'bc-1'), ['acknowledged', 'cached', 'playing', 'played']);
  t.equal(media.requests.length, 3, 'two failures, then success');
});

t.test('an item not cached before the end of its window is missed', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  await startAgent(t, b);
  const ref = media.put(randomAudio());
  media.failNext(1_000, 503);
  await b.publish(CMD, command('play', playPayload(ref, { startAt: Date.now(), windowMs: 400 })).body);
  await waitFor(finished(b, 'bc-1'), 4_000, 'missed');
  t.same(states(b, 'bc-1'), ['acknowledged', 'missed']);
  t.match(deliveries(b, 'bc-1').at(-1)?.reason, /503/);
});

t.test('a permanent download error (404) fails at once', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  await startAgent(t, b);
  const ref = media.put(randomAudio());
  await b.publish(CMD, command('play', playPayload({ sha256: sha256Of(Buffer.from('gone')), url: ref.url.replace(/[0-9a-f]{64}$/, sha256Of(Buffer.from('gone'))) })).body);
  await waitFor(finished(b, 'bc-1'), 3_000, 'failed');
  t.match(deliveries(b, 'bc-1').at(-1), { state: 'failed', reason: /LOAXA_DOWNLOAD_FAILED.*404/ });
});

t.test('an emergency interrupts a normal item, which then restarts; equal priority waits its turn', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  await startAgent(t, b);
  const ref = media.put(randomAudio());
  const now = Date.now();
  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'normal-1', startAt: now, media: { ...ref, durationMs: 1_000 } })).body);
  await waitFor(() => states(b, 'normal-1').includes('playing'), 2_000, 'normal playing');
  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'normal-2', startAt: Date.now() })).body);
  await waitFor(() => states(b, 'normal-2').includes('cached'), 2_000, 'second normal cached');
  // A settle: an interruption would show as a `playing` report over the real broker; its absence cannot be polled for.
  await delay(50);
  t.notOk(states(b, 'normal-2').includes('playing'), 'equal priority does not interrupt');

  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'alarm', priority: 'emergency', startAt: Date.now() })).body);
  await waitFor(finished(b, 'alarm'), 3_000, 'emergency played');
  t.same(states(b, 'alarm'), ['acknowledged', 'cached', 'playing', 'played']);
  await waitFor(finished(b, 'normal-1'), 3_000, 'the interrupted item plays again');
  // Not failed: it plays again from the start (no `resume` means restart) and ends played.
  t.same(states(b, 'normal-1'), ['acknowledged', 'cached', 'playing', 'playing', 'played']);
  t.match(deliveries(b, 'normal-1')[3], { state: 'playing', reason: 'restarted after alarm' });
  await waitFor(finished(b, 'normal-2'), 3_000, 'the waiting item plays after');
  t.same(states(b, 'normal-2'), ['acknowledged', 'cached', 'playing', 'played']);
  const order = deliveries(b).filter((d) => d.state === 'playing').map((d) => d.broadcastId);
  t.same(order, ['normal-1', 'alarm', 'normal-1', 'normal-2'], 'the interrupted item goes before later ones of its priority');
});

/**
 * A player on the test's clock that records each stretch of audio it played: where it started in the file and
 * for how long. It plays until the clock has moved on by what is left of the audio, so each stretch lasts
 * exactly what the test advanced, as does the offset the playout measures on the same clock.
 */
class SegmentPlayer implements Player {
  readonly segments: Array<{ offsetMs: number; start: number; end: number; interrupted: boolean }> = [];
  constructor(private readonly clock: FakeClock) {}
  async play(_file: string, opts: PlayOptions): Promise<void> {
    const seg = { offsetMs: opts.offsetMs ?? 0, start: this.clock.now(), end: 0, interrupted: false };
    this.segments.push(seg);
    try {
      opts.signal.throwIfAborted();
      opts.onStart?.();
      await this.clock.sleep(Math.max(0, opts.durationMs - seg.offsetMs), opts.signal);
    } catch (err) {
      seg.interrupted = true;
      throw err;
    } finally {
      seg.end = this.clock.now();
    }
  }
}

t.test('resume: after the emergency the normal item continues where it stopped and ends played', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  // The agent's clock, which the player plays on too: each stretch of audio lasts what the test moves it on.
  const clock = fakeClock();
  const player = new SegmentPlayer(clock);
  await startAgent(t, b, { audio: player, clock });
  const news = media.put(randomAudio());
  const alarm = media.put(randomAudio());
  const durationMs = 1_200;
  await b.publish(CMD, command('play', playPayload(news, { broadcastId: 'news', startAt: clock.now(), resume: 'resume', media: { ...news, durationMs } })).body);
  // Each stretch is waited for at the player, not by its `playing` report: the player starts after the report
  // (the amplifier is switched on between), and the clock may move only once the player waits on it.
  await waitFor(() => player.segments.length === 1, 2_000, 'news playing');
  clock.advance(400);
  await b.publish(CMD, command('play', playPayload(alarm, { broadcastId: 'storm', priority: 'emergency', startAt: clock.now(), media: { ...alarm, durationMs: 300 } })).body);
  await waitFor(() => player.segments.length === 2, 2_000, 'storm playing');
  clock.advance(300);
  await waitFor(() => player.segments.length === 3, 2_000, 'news playing again');
  clock.advance(durationMs - 400);
  await waitFor(finished(b, 'news'), 4_000, 'news finished');

  t.same(states(b, 'storm'), ['acknowledged', 'cached', 'playing', 'played']);
  t.same(states(b, 'news'), ['acknowledged', 'cached', 'playing', 'playing', 'played'], 'interrupted, resumed, played — never failed');
  t.match(deliveries(b, 'news')[3]?.reason, /^resumed after storm at \d+ ms$/, 'the as-run log says what interrupted it');
  t.same(deliveries(b).filter((d) => d.state === 'playing').map((d) => d.broadcastId), ['news', 'storm', 'news']);

  const [first, alarmSeg, second] = player.segments;
  t.equal(player.segments.length, 3);
  t.ok(first!.interrupted && !second!.interrupted && !alarmSeg!.interrupted);
  t.ok(alarmSeg!.start >= first!.end, 'the emergency starts once the news has stopped');
  t.ok(Math.abs(second!.offsetMs - (first!.end - first!.start)) < 60, `resumed at the offset where it stopped (${second!.offsetMs} ms)`);
  const total = first!.end - first!.start + (second!.end - second!.start);
  t.ok(Math.abs(total - durationMs) < 100, `total play time ${total} ms equals the duration ${durationMs} ms`);
});

t.test('stop cancels the matching current and pending items', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { agent } = await startAgent(t, b, { heartbeatMs: 100 });
  const ref = media.put(randomAudio());
  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'long', startAt: Date.now(), media: { ...ref, durationMs: 5_000 } })).body);
  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'later', startAt: Date.now() + 60_000 })).body);
  await b.publish(CMD, command('play', playPayload(ref, { broadcastId: 'other', startAt: Date.now() + 60_000 })).body);
  await waitFor(() => states(b, 'long').includes('playing'), 2_000, 'playing');
  const tele = await waitFor(() => messagesOn(b, topics.deviceTelemetry('spk-01'), 'telemetry').find((m) => m.payload.playing), 2_000, 'telemetry while playing');
  t.match(tele.payload.playing, { broadcastId: 'long' });
  t.ok(tele.payload.cacheItems === 1 && tele.payload.cacheBytes > 0, 'cache size in telemetry');

  const stopLong = command('stop', { broadcastId: 'long' });
  await b.publish(CMD, stopLong.body);
  const stopLater = command('stop', { broadcastId: 'later' });
  await b.publish(CMD, stopLater.body);
  t.match(await waitFor(() => answersOn(b, RES).find((a) => a.re === stopLong.id), 2_000), { ok: true, data: { stopped: 1 } });
  await waitFor(finished(b, 'later'), 2_000, 'later cancelled');
  await waitFor(finished(b, 'long'), 2_000, 'long cancelled');
  t.equal(states(b, 'long').at(-1), 'cancelled');
  t.same(states(b, 'later'), ['acknowledged', 'cached', 'cancelled']);
  t.same(states(b, 'other'), ['acknowledged', 'cached'], 'an item not named keeps waiting');
  t.ok(agent.connected);
});

t.test('a player error fails the delivery with LOAXA_PLAYBACK_FAILED', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const broken: Player = { play: async (_f: string, _o: PlayOptions) => Promise.reject(new Error('audio device busy')) };
  await startAgent(t, b, { audio: broken });
  const ref = media.put(randomAudio());
  await b.publish(CMD, command('play', playPayload(ref, { startAt: Date.now() })).body);
  await waitFor(finished(b, 'bc-1'), 2_000, 'failed');
  t.match(deliveries(b, 'bc-1').at(-1), { state: 'failed', reason: /LOAXA_PLAYBACK_FAILED: audio device busy/ });
});

t.test('an item arriving after its window is missed without downloading', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const { player } = await startAgent(t, b);
  const ref = media.put(randomAudio());
  const late = playPayload(ref, { startAt: Date.now() - 10_000, windowMs: 1_000 });
  await b.publish(CMD, command('play', late).body);
  await waitFor(finished(b, 'bc-1'), 2_000, 'missed');
  t.same(states(b, 'bc-1'), ['acknowledged', 'missed']);
  t.equal(media.requests.length, 0);

  // A finished delivery sent again under another command id is not played again.
  const on = playPayload(ref, { broadcastId: 'bc-2', startAt: Date.now() });
  await b.publish(CMD, command('play', on).body);
  await waitFor(finished(b, 'bc-2'), 2_000, 'played');
  const again = command('play', on);
  await b.publish(topics.areaCmd('01'), again.body);
  t.match(await waitFor(() => answersOn(b, RES).find((a) => a.re === again.id), 2_000), { ok: true, data: { accepted: true, state: 'played' } });
  // A settle, not a wait for time: a repeat would travel the real broker, and its absence cannot be polled for.
  await delay(100);
  t.equal(player.played.length, 1);
  t.same(states(b, 'bc-2'), ['acknowledged', 'cached', 'playing', 'played']);
});

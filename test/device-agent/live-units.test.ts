// The pure parts of a live voice (issue 16), without ffmpeg or a network: the jitter buffer plays out what it
// holds once its input ended, and the URL switch in `liveVoice` mode treats a failure or a stall as the end —
// no failover, no probes — while silence (a speaker pausing) is not a failure. The same switch without the
// mode still fails over (the server's restream relies on it unchanged).
import { EventEmitter } from 'node:events';
import t from 'tap';
import { DEFAULT_RETRY, JitterBuffer, PCM_BYTES_PER_MS, UrlSwitch, type FeedTuning, type UrlSwitchEvents } from '@loaxa/shared';

const ms = (n: number, level = 8_000): Buffer => {
  const b = Buffer.alloc(Math.round(n * PCM_BYTES_PER_MS));
  for (let i = 0; i + 1 < b.length; i += 2) b.writeInt16LE(i % 4 === 0 ? level : -level, i);
  return b;
};

t.test('an ended input plays out below the prebuffer, at real-time pace, and is then drained', async (t) => {
  const jb = new JitterBuffer({ prebufferMs: 200, maxMs: 800 });
  jb.push(ms(150));
  t.equal(jb.take(0).length, 0, 'below the prebuffer: nothing yet');
  t.equal(jb.take(100).length, 0);
  jb.end();
  t.notOk(jb.drained, 'not drained while it holds audio');
  t.equal(jb.take(100).length, 0, 'output starts');
  t.equal(jb.take(200).length, 100 * PCM_BYTES_PER_MS, 'at real-time pace, not in a burst');
  t.equal(jb.take(300).length, 50 * PCM_BYTES_PER_MS, 'the rest');
  t.ok(jb.drained);
  t.equal(jb.underruns, 0, 'the end is not an underrun');
  jb.clear();
  t.notOk(jb.drained, 'a cleared buffer is ready for new input');
});

t.test('the live buffer holds at most its maximum: a burst on joining keeps only the newest audio', async (t) => {
  const jb = new JitterBuffer({ prebufferMs: 200, maxMs: 800 });
  jb.push(ms(3_000));
  t.equal(jb.bufferedMs, 800);
  t.equal(Math.round(jb.droppedMs), 2_200);
});

t.test('skipToLive: a burst on joining is skipped when output starts, a standing backlog is trimmed, jitter is not', async (t) => {
  const opts = { prebufferMs: 200, maxMs: 800, skipToLive: { windowMs: 1_000, slackMs: 150 } };
  const jb = new JitterBuffer(opts);
  jb.push(ms(700));
  jb.take(0);
  t.equal(jb.bufferedMs, 200, 'output starts with the newest 200 ms: the burst was never heard');
  t.equal(Math.round(jb.droppedMs), 500);
  // Real-time input and output in 100 ms steps, with 300 ms of backlog on top of the prebuffer for over a window.
  let now = 0;
  jb.push(ms(300));
  for (let i = 0; i < 12; i++) {
    now += 100;
    jb.push(ms(100));
    jb.take(now);
  }
  t.ok(jb.bufferedMs <= 250, `a standing backlog is trimmed back near the prebuffer (holds ${Math.round(jb.bufferedMs)} ms)`);
  t.equal(Math.round(jb.droppedMs), 800, 'the 300 ms backlog was dropped');

  // Jitter alone (packets of 130 ms arriving every 130 ms) holds less than the slack above the prebuffer: nothing dropped.
  const steady = new JitterBuffer(opts);
  steady.push(ms(260));
  steady.take(0);
  const dropped = steady.droppedMs;
  for (let tick = 20; tick <= 10_000; tick += 20) {
    if (tick % 130 < 20) steady.push(ms(130));
    steady.take(tick);
  }
  t.equal(steady.droppedMs, dropped, 'no audio dropped in steady delivery');
  t.equal(steady.underruns, 0);

  const plain = new JitterBuffer({ prebufferMs: 200, maxMs: 800 });
  plain.push(ms(700));
  plain.take(0);
  t.equal(plain.bufferedMs, 700, 'without skipToLive (a relay, the restream) nothing is skipped');
});

class FakeSource extends EventEmitter {
  started = false;
  stopped = false;
  start(): void {
    this.started = true;
  }
  stop(): void {
    this.stopped = true;
  }
}

const TUNING: FeedTuning = { stallMs: 1_000, silenceMs: 2_000, retry: DEFAULT_RETRY, probeOkMs: 100, probeTimeoutMs: 1_000, prebufferMs: 200, httpBufferMs: 800, hlsBufferMs: 5_000, liveStartMs: 5_000 };

function switchOf(urls: number, liveVoice: boolean) {
  const sources: FakeSource[] = [];
  const seen: string[] = [];
  const events: UrlSwitchEvents = {
    failedOver: (cause, failed, next) => seen.push(`failedOver ${cause} ${failed}→${next}`),
    returned: (i) => seen.push(`returned ${i}`),
    probeFailed: (i) => seen.push(`probeFailed ${i}`),
  };
  let now = 0;
  const sw = new UrlSwitch<FakeSource>(urls, {
    tuning: TUNING,
    open: () => {
      const s = new FakeSource();
      sources.push(s);
      return s;
    },
    isHls: () => false,
    planNow: () => now,
    live: () => true,
    events,
    liveVoice,
  });
  return { sw, sources, seen, advance: (by: number) => (now += by) };
}

t.test('liveVoice: a failure ends the stream, its buffer kept to play out; nothing else is opened', async (t) => {
  const { sw, sources, seen, advance } = switchOf(2, true);
  sw.play(0);
  sources[0]!.emit('pcm', ms(500));
  sources[0]!.emit('failed', new Error('the stream ended'));
  t.same(seen, [], 'no failover');
  t.ok(sources[0]!.stopped, 'the decoder is stopped');
  t.equal(sw.active?.index, 0, 'the feed stays, to be played out');
  t.match(sw.active?.endedWith, { cause: 'error', detail: 'the stream ended' });
  t.equal(sw.active?.buffer.bufferedMs, 500, 'what it held is kept');
  advance(60_000);
  sw.probeStep(performance.now() + 60_000);
  t.equal(sources.length, 1, 'no probe, no retry: one decoder opened in all');
});

t.test('liveVoice: silence is not a failure; a stall is the end; the first audio may take liveStartMs', async (t) => {
  const { sw, sources, seen } = switchOf(1, true);
  sw.play(0);
  const feed = sw.active!;
  const t0 = feed.startedAt;
  sw.checkStall(t0 + 4_000);
  t.equal(feed.endedWith, null, 'waiting for the first words: not stalled after the stall limit');
  sources[0]!.emit('pcm', ms(3_000, 0));
  t.equal(feed.endedWith, null, '3 s of silence (the silence limit is 2 s): still on');
  sw.checkStall(feed.lastDataAt + 500);
  t.equal(feed.endedWith, null);
  feed.buffer.clear();
  sw.checkStall(feed.lastDataAt + 1_000);
  t.match(feed.endedWith, { cause: 'stalled' }, 'nothing for the stall limit with the buffer dry: ended');
  t.same(seen, []);

  const late = switchOf(1, true);
  late.sw.play(0);
  late.sw.checkStall(late.sw.active!.startedAt + 5_000);
  t.match(late.sw.active!.endedWith, { cause: 'stalled' }, 'no first audio within liveStartMs: ended');
});

t.test('without liveVoice the same switch still fails over and fails on silence (the restream’s behaviour)', async (t) => {
  const { sw, sources, seen } = switchOf(2, false);
  sw.play(0);
  sources[0]!.emit('failed', new Error('refused'));
  t.same(seen, ['failedOver error 0→1']);
  t.equal(sw.active?.index, 1);
  sources[1]!.emit('pcm', ms(2_100, 0));
  t.same(seen, ['failedOver error 0→1', 'failedOver silence 1→null']);
  t.equal(sw.active, null);
});

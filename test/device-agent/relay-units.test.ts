// The pure parts of the box's stream player (issue 15): which URL plays (FailoverPlan, on a hand-moved
// clock), how loud the audio is (LevelMeter: silence is below −50 dBFS), the jitter buffer's pacing, and the
// reports a relay makes. No processes, no network: these run in milliseconds.
import t from 'tap';
import { eventPayloadSchema } from '@loaxa/shared';
import { CountingSink, FailoverPlan, JitterBuffer, LevelMeter, PCM_BYTES_PER_MS, applyVolume, deliveryReport, levelDbfs, relayEvent } from '@loaxa/device-agent';

const RETRY = { firstMs: 5_000, maxMs: 60_000, steadyMs: 60_000 };

/** `ms` of a sine at `amplitude` (of 32767), s16le mono 48 kHz. */
function tone(ms: number, amplitude: number, hz = 440): Buffer {
  const n = Math.round(ms * 48);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / 48_000) * amplitude), i * 2);
  return buf;
}

t.test('a failure moves to the next URL; none left means the fallback', async (t) => {
  const plan = new FailoverPlan(3, RETRY);
  t.equal(plan.active, 0, 'starts on the preferred URL');
  t.equal(plan.fail(0, 1_000), 1);
  t.equal(plan.fail(1, 2_000), 2);
  t.equal(plan.fail(2, 3_000), null, 'every URL failed: fallback');
  t.equal(plan.active, null);
  t.ok(plan.isFailed(0) && plan.isFailed(1) && plan.isFailed(2));
});

t.test('failed URLs are probed preferred first, after a back-off that doubles', async (t) => {
  const plan = new FailoverPlan(2, RETRY);
  plan.fail(0, 0);
  plan.fail(1, 1_000);
  t.same(plan.nextProbe(2_000), { index: 0, at: 5_000 }, 'nothing due yet: the first due is named');
  t.same(plan.nextProbe(7_000), { index: 0, at: 5_000 }, 'both due: the preferred one first');
  plan.probeFailed(0, 7_000);
  t.same(plan.nextProbe(7_000), { index: 1, at: 6_000 }, 'the preferred one waits 10 s now; the other is due');
  t.same(plan.nextProbe(100_000)?.index, 0);
  plan.returned(1, 8_000);
  t.equal(plan.active, 1, 'a probe that serves takes over');
  t.notOk(plan.isFailed(1));
  t.same(plan.nextProbe(8_000), { index: 0, at: 17_000 }, 'only URLs preferred to the one playing are probed');
});

t.test('the back-off doubles up to its cap', async (t) => {
  const plan = new FailoverPlan(1, RETRY);
  const waits: number[] = [];
  let now = 0;
  plan.fail(0, now);
  for (let i = 0; i < 6; i++) {
    const next = plan.nextProbe(now)!;
    waits.push(next.at - now);
    now = next.at;
    plan.probeFailed(0, now);
  }
  t.same(waits, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
});

t.test('the URL playing is never probed, nor those behind it', async (t) => {
  const plan = new FailoverPlan(3, RETRY);
  plan.fail(0, 0);
  t.equal(plan.active, 1);
  t.equal(plan.nextProbe(10_000)?.index, 0);
  plan.returned(0, 10_000);
  t.equal(plan.nextProbe(1_000_000), null, 'back on the preferred URL: nothing to probe');
});

t.test('a flapping source keeps backing off; one that served steadily starts afresh', async (t) => {
  const plan = new FailoverPlan(2, RETRY);
  plan.fail(0, 0); // retry at 5 s
  plan.returned(0, 5_000);
  plan.serving(0, 5_000);
  t.equal(plan.fail(0, 6_000), 1);
  t.equal(plan.nextProbe(6_000)?.at, 16_000, 'failed again 1 s after returning: 10 s, not 5 s');
  plan.returned(0, 16_000);
  plan.fail(0, 16_000 + 60_000);
  t.equal(plan.nextProbe(0)?.at, 76_000 + 5_000, 'after a minute of steady service the back-off starts over');
});

t.test('the level meter measures 100 ms blocks; silence is below −50 dBFS', async (t) => {
  const meter = new LevelMeter();
  const loud = tone(250, 16_000);
  // Fed in odd-sized pieces, as a pipe delivers them.
  const blocks = [...meter.feed(loud.subarray(0, 1_001)), ...meter.feed(loud.subarray(1_001))];
  t.equal(blocks.length, 2, 'two whole blocks');
  for (const b of blocks) {
    t.equal(b.ms, 100);
    t.ok(Math.abs(b.dbfs - -9.2) < 0.3, `a −9 dBFS sine measures ${b.dbfs.toFixed(1)}`);
    t.equal(b.silent, false);
  }
  t.equal(meter.flush()?.ms, 50, 'the rest at the end');
  t.equal(meter.feed(Buffer.alloc(9_600))[0]!.silent, true, 'digital silence');
  t.equal(meter.feed(tone(100, 80))[0]!.silent, true, 'hiss at −55 dBFS is silence');
  t.equal(meter.feed(tone(100, 300))[0]!.silent, false, 'a quiet passage at −44 dBFS is not');
  t.equal(levelDbfs(Buffer.alloc(0)), -Infinity);
});

t.test('the jitter buffer prebuffers, paces at real time, and waits again after running dry', async (t) => {
  const jb = new JitterBuffer({ prebufferMs: 400, maxMs: 2_000 });
  jb.push(tone(300, 1_000));
  t.equal(jb.take(0).length, 0, 'below the prebuffer: nothing yet');
  jb.push(tone(300, 1_000));
  t.equal(jb.take(0).length, 0, 'prebuffer reached: output starts from here');
  t.equal(jb.take(20).length, 20 * PCM_BYTES_PER_MS, '20 ms later: 20 ms of audio');
  t.equal(jb.take(120).length, 100 * PCM_BYTES_PER_MS);
  t.equal(jb.take(1_000).length, 480 * PCM_BYTES_PER_MS, 'ran dry: the rest goes out');
  t.equal(jb.underruns, 1);
  t.notOk(jb.flowing, 'waits for the prebuffer again');
  jb.push(tone(100, 1_000));
  t.equal(jb.take(2_000).length, 0, 'the debt is not paid back in a burst');
  jb.push(tone(5_000, 1_000));
  t.equal(jb.bufferedMs, 2_000, 'a burst beyond maxMs keeps the newest 2 s (near live)');
  t.ok(jb.droppedMs > 3_000);
  jb.clear();
  t.equal(jb.bufferedMs, 0);
});

t.test('odd-sized chunks never split a sample', async (t) => {
  const jb = new JitterBuffer({ prebufferMs: 0.01, maxMs: 1_000 });
  const pcm = tone(50, 10_000);
  jb.push(pcm.subarray(0, 3));
  jb.push(pcm.subarray(3));
  jb.take(0);
  const out = Buffer.concat([jb.take(10), jb.take(25), jb.take(60)]);
  t.equal(out.length % 2, 0);
  t.same(out, pcm.subarray(0, out.length), 'bytes come out in order');
});

t.test('software volume scales the samples', async (t) => {
  const pcm = tone(10, 20_000);
  const peak = (b: Buffer): number => Math.max(...Array.from({ length: b.length / 2 }, (_, i) => Math.abs(b.readInt16LE(i * 2))));
  t.equal(peak(applyVolume(Buffer.from(pcm), 100)), peak(pcm));
  t.ok(Math.abs(peak(applyVolume(Buffer.from(pcm), 50)) - peak(pcm) / 2) <= 1);
  t.equal(peak(applyVolume(Buffer.from(pcm), 0)), 0);
});

t.test('the counting sink counts audible and silent seconds apart', async (t) => {
  const sink = new CountingSink();
  const out = sink.open();
  t.equal(sink.openNow, 1);
  out.write(tone(1_500, 10_000));
  out.write(Buffer.alloc(96 * 700));
  out.write(tone(50, 10_000));
  await out.close();
  t.equal(sink.audibleMs, 1_550);
  t.equal(sink.silentMs, 700);
  t.equal(sink.totalMs, 2_250);
  t.equal(sink.openNow, 0);
  out.write(tone(1_000, 10_000));
  t.equal(sink.totalMs, 2_250, 'nothing counted after close');
});

t.test("a relay's reports: no file hash, airedMs on played, relay events valid on the wire", async (t) => {
  const relay = {
    broadcastId: 'bc-1',
    occurrenceAt: 1_000,
    media: { sha256: 'a'.repeat(64) },
    stream: { sourceId: 'vov1', urls: ['http://x/'], durationMs: 60_000 },
  };
  const ID = '0b0e7d0e-5a4f-4c55-9d52-0d7c8b7d6a11';
  const played = deliveryReport(ID, relay, 'played', undefined, 41_234.6);
  t.same(played, { commandId: ID, broadcastId: 'bc-1', occurrenceAt: 1_000, state: 'played', airedMs: 41_235 });
  t.ok(eventPayloadSchema.safeParse({ kind: 'delivery', ...played, at: 5 }).success);
  t.equal(deliveryReport(ID, { ...relay, stream: undefined }, 'played').sha256, 'a'.repeat(64), 'a file still names its hash');
  const ev = relayEvent({ broadcastId: 'bc-1', occurrenceAt: 1_000, cause: 'error', url: 'http://y/', at: 7, detail: 'x'.repeat(900) });
  t.equal((ev as { detail: string }).detail.length, 500);
  t.ok(eventPayloadSchema.safeParse(ev).success, 'passes the shared schema');
  t.ok(eventPayloadSchema.safeParse(relayEvent({ broadcastId: 'bc-1', occurrenceAt: 1_000, cause: 'fallback', url: null, at: 7 })).success);
});

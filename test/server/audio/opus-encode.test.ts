import t from 'tap';
import { runFfmpeg } from '../../../server/src/audio/index.js';
import { encodeOpus, planCuts, segmentAt } from '../../../server/src/audio/opus-encode.js';
import { joinOggOpus, oggCrc, opusPacketSamples, readOggOpus } from '../../../server/src/audio/ogg-opus.js';

const RATE = 48_000;

/** Speech-like test signal: 0.8 s tone bursts (changing pitch) with 0.35 s pauses, `seconds` long. */
function bursts(seconds: number): Float32Array {
  const x = new Float32Array(seconds * RATE);
  for (let start = 0, n = 0; start < x.length; start += Math.round(1.15 * RATE), n++) {
    const hz = 180 + 40 * (n % 7);
    for (let i = 0; i < 0.8 * RATE && start + i < x.length; i++) {
      const env = Math.min(1, i / 480, (0.8 * RATE - i) / 480);
      x[start + i] = 0.3 * env * (Math.sin((2 * Math.PI * hz * i) / RATE) + 0.5 * Math.sin((2 * Math.PI * 3 * hz * i) / RATE));
    }
  }
  return x;
}

async function decode(ogg: Buffer): Promise<{ samples: Float32Array; stderr: string }> {
  const { stdout, stderr } = await runFfmpeg(['-hide_banner', '-v', 'warning', '-i', 'pipe:0', '-f', 'f32le', '-ar', String(RATE), 'pipe:1'], { input: ogg });
  return { samples: new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length)), stderr };
}

function rmsDb(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return 10 * Math.log10(sum / x.length);
}

t.test('Ogg pages: our CRC agrees with the pages ffmpeg writes, and packets read back whole', async (t) => {
  const { stdout: ogg } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg', 'pipe:1']);
  let pages = 0;
  for (let at = 0; at < ogg.length; pages++) {
    const segs = ogg[at + 26]!;
    const len = 27 + segs + [...ogg.subarray(at + 27, at + 27 + segs)].reduce((a, b) => a + b, 0);
    t.equal(oggCrc(ogg.subarray(at, at + len)), ogg.readUInt32LE(at + 22), `page ${pages} CRC`);
    at += len;
  }
  const stream = readOggOpus(ogg);
  t.equal(stream.preSkip, 312, "this libopus build's priming");
  const total = stream.packets.reduce((n, p) => n + opusPacketSamples(p), 0);
  t.equal(stream.finalGranule, stream.preSkip + 2 * RATE, 'the last granule trims to exactly 2 s');
  t.ok(total >= 2 * RATE + stream.preSkip, 'packets cover pre-skip and audio');
});

t.test('opusPacketSamples reads frame sizes from the TOC byte', async (t) => {
  t.equal(opusPacketSamples(Buffer.from([(1 << 3) | 0])), 960, 'SILK NB 20 ms, one frame');
  t.equal(opusPacketSamples(Buffer.from([(15 << 3) | 1])), 1920, 'hybrid FB 20 ms, two frames');
  t.equal(opusPacketSamples(Buffer.from([(31 << 3) | 3, 3])), 2880, 'CELT FB 20 ms, code 3 with three frames');
  t.equal(opusPacketSamples(Buffer.from([(16 << 3) | 0])), 120, 'CELT NB 2.5 ms');
  t.equal(opusPacketSamples(Buffer.alloc(0)), 0, 'an empty packet (DTX) plays nothing');
});

t.test('segments encoded on separate processes join into one file as long as the input, without seams', async (t) => {
  const pcm = bursts(45);
  const cuts = planCuts(pcm, 312, 2);
  t.ok(cuts.length >= 2, `cut into ${cuts.length} segments`);
  for (const c of cuts.slice(1)) {
    t.equal((c + 312) % 960, 0, `cut ${c} on the frame grid`);
    let peak = 0;
    for (let i = c - 960; i < c + 312 + 960; i++) peak = Math.max(peak, Math.abs(pcm[i]!));
    t.equal(peak, 0, `cut ${c} lies in a pause`);
  }
  const parallel = await encodeOpus(pcm, { lanes: 2 });
  const single = await encodeOpus(pcm, { lanes: 1 });
  t.equal(single.cuts.length, 1);
  const a = await decode(parallel.ogg);
  const b = await decode(single.ogg);
  t.equal(a.stderr.trim(), '', 'ffmpeg decodes the joined file without a complaint');
  t.equal(a.samples.length, pcm.length, 'exactly as long as the input');
  t.equal(b.samples.length, pcm.length);
  t.equal(readOggOpus(parallel.ogg).packets.length, readOggOpus(single.ogg).packets.length, 'same number of packets as one encode');
  // Around every seam the joined decode matches the input as well as a single encode does.
  for (const c of parallel.cuts.slice(1)) {
    const from = c - RATE / 2;
    const to = c + RATE / 2;
    const errJoined = rmsDb(a.samples.subarray(from, to).map((v, i) => v - pcm[from + i]!));
    const errSingle = rmsDb(b.samples.subarray(from, to).map((v, i) => v - pcm[from + i]!));
    t.ok(errJoined < errSingle + 3, `seam at ${c}: coding error ${errJoined.toFixed(1)} dB vs ${errSingle.toFixed(1)} dB in one piece`);
  }
});

t.test('only the segments asked for are encoded again', async (t) => {
  const pcm = bursts(45);
  const first = await encodeOpus(pcm, { lanes: 2 });
  const changed = pcm.slice();
  const at = first.cuts[1]! + RATE; // one second into the second segment
  for (let i = at; i < at + 4800; i++) changed[i] = changed[i]! * 0.5;
  const again = await encodeOpus(changed, { lanes: 2, previous: first, changed: new Set([segmentAt(first.cuts, at)]) });
  t.same(again.cuts, first.cuts);
  t.equal(again.segments[0], first.segments[0], 'segment 0 reused as it was');
  t.not(again.segments[1], first.segments[1], 'segment 1 encoded again');
  const d = await decode(again.ogg);
  t.equal(d.samples.length, pcm.length);
  t.ok(rmsDb(d.samples.subarray(at, at + 4800)) < rmsDb(pcm.subarray(at, at + 4800)) - 4, 'the change is in the file');
});

t.test('short audio is one ffmpeg encode, and joining needs something to join', async (t) => {
  t.same(planCuts(bursts(10), 312, 4), [0]);
  t.same(planCuts(bursts(45), 312, 1), [0]);
  t.throws(() => joinOggOpus([], 0), /nothing to join/);
  t.throws(() => readOggOpus(Buffer.from('not an ogg file at all, no')), /not an Ogg page/);
});

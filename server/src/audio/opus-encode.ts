// Opus encoding on every core. libopus is single-threaded and, at the settings the speakers need
// (-application voip, CBR, level 5), this 2018 build encodes only ~40× real time: five minutes of bulletin
// took 7.3 s, most of a render. So a long bulletin is cut into segments inside its pauses, the segments are
// encoded at once by separate ffmpeg processes with the same settings, and their packets are joined into
// one ordinary Ogg Opus stream (ogg-opus.ts). A segment whose audio changes (peak repair) is re-encoded
// alone.
//
// Seams are placed so that they cost nothing audible and no time: each cut sits in the quietest 20 ms frame
// near its nominal place, on the frame grid where the previous segment ends without padding, and each later
// segment drops as many input samples of that silence as its encoder adds priming. The decoder then runs
// over the seam with state from the previous segment, which in silence decodes to silence.

import { availableParallelism } from 'node:os';
import { mapWithConcurrency } from './concurrency.js';
import { runFfmpeg } from './ffmpeg.js';
import { OPUS_OUTPUT_ARGS, OUTPUT_RATE } from './loudness-chain.js';
import { OggOpusWriter, opusPacketSamples, readOggOpus, type OggOpusStream } from './ogg-opus.js';

const FRAME = 960; // 20 ms at 48 kHz, ffmpeg's libopus default frame
/** Below this a bulletin is encoded in one piece: seams and process start-ups would cost more than they save. */
const MIN_SPLIT_SAMPLES = 20 * OUTPUT_RATE;
const MAX_SEGMENT_SAMPLES = 30 * OUTPUT_RATE;
/** How far from its nominal place a cut may move to find a pause. */
const SEARCH_SAMPLES = 4 * OUTPUT_RATE;
const ENCODE_TIMEOUT_MS = 5 * 60_000;

export interface SegmentedOpus {
  /** Sample index where each segment starts; the first is 0. */
  cuts: number[];
  segments: OggOpusStream[];
  preSkip: number;
  ogg: Buffer;
}

export interface EncodeOptions {
  signal?: AbortSignal | undefined;
  /** ffmpeg processes at once. Default: one per core (at most 4). */
  lanes?: number | undefined;
}

let preSkipProbe: Promise<number> | null = null;

/** The priming libopus adds at our settings (312 samples with this build); probed once per process. */
export function opusPreSkip(): Promise<number> {
  if (!preSkipProbe) {
    preSkipProbe = encodeOne(new Float32Array(FRAME), undefined).then((s) => s.preSkip);
    preSkipProbe.catch(() => { preSkipProbe = null; });
  }
  return preSkipProbe;
}

/**
 * Chooses where segments start: about `lanes` equal parts of at most 30 s, each cut moved to the quietest
 * frame-grid position within 4 s. Positions satisfy (cut + preSkip) % 960 == 0, so the segment before a cut
 * fills its last packet exactly.
 */
export function planCuts(pcm: Float32Array, preSkip: number, lanes: number): number[] {
  if (pcm.length < MIN_SPLIT_SAMPLES || lanes < 2) return [0];
  const parts = Math.max(lanes, Math.ceil(pcm.length / MAX_SEGMENT_SAMPLES));
  const cuts = [0];
  for (let i = 1; i < parts; i++) {
    const nominal = Math.round((pcm.length * i) / parts);
    const cut = quietestCut(pcm, nominal, preSkip, cuts.at(-1)! + 2 * FRAME);
    if (cut !== null && cut < pcm.length - 2 * FRAME - preSkip) cuts.push(cut);
  }
  return cuts;
}

/**
 * Encodes all segments (or, given `previous`, only those listed in `changed`) and joins them. `onData`
 * receives the joined file's bytes in order as soon as the segments before them are done, so a decoder
 * can verify the start of the file while the rest is still being encoded.
 */
export async function encodeOpus(pcm: Float32Array, opts: EncodeOptions & { previous?: SegmentedOpus; changed?: ReadonlySet<number>; onData?: (bytes: Buffer) => void } = {}): Promise<SegmentedOpus> {
  const lanes = opts.lanes ?? Math.min(4, availableParallelism());
  const preSkip = opts.previous?.preSkip ?? (await opusPreSkip());
  const cuts = opts.previous?.cuts ?? planCuts(pcm, preSkip, lanes);
  if (cuts.length === 1) {
    const whole = await encodeOne(pcm, opts.signal);
    opts.onData?.(whole.ogg);
    return { cuts, segments: [whole.stream], preSkip: whole.preSkip, ogg: whole.ogg };
  }
  const segments: Array<OggOpusStream | undefined> = opts.previous ? [...opts.previous.segments] : new Array<OggOpusStream>(cuts.length);
  const todo = cuts.map((_, i) => i).filter((i) => !opts.previous || opts.changed?.has(i));
  for (const i of todo) segments[i] = undefined;
  const chunks: Buffer[] = [];
  const emit = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    chunks.push(bytes);
    opts.onData?.(bytes);
  };
  let writer: OggOpusWriter | null = null;
  let next = 0;
  const flush = () => {
    for (; next < cuts.length && segments[next]; next++) {
      if (!writer) {
        writer = new OggOpusWriter(segments[0]!);
        emit(writer.header());
      }
      emit(writer.add(segments[next]!.packets));
    }
  };
  flush();
  await mapWithConcurrency(todo, lanes, async (i) => {
    const start = i === 0 ? 0 : cuts[i]! + preSkip; // the priming takes the place of these silent samples
    const end = cuts[i + 1] ?? pcm.length;
    segments[i] = (await encodeOne(pcm.subarray(start, end), opts.signal)).stream;
    flush();
  });
  const done = segments as OggOpusStream[];
  emit(writer!.finish(playSamples(done, cuts, pcm.length)));
  return { cuts, segments: done, preSkip, ogg: Buffer.concat(chunks) };
}

/** Index of the segment that holds sample `at`. */
export function segmentAt(cuts: readonly number[], at: number): number {
  let i = 0;
  while (i + 1 < cuts.length && cuts[i + 1]! <= at) i++;
  return i;
}

async function encodeOne(pcm: Float32Array, signal: AbortSignal | undefined): Promise<{ ogg: Buffer; stream: OggOpusStream; preSkip: number }> {
  const input = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const { stdout: ogg } = await runFfmpeg(
    ['-hide_banner', '-nostats', '-v', 'error', '-f', 'f32le', '-ar', String(OUTPUT_RATE), '-ac', '1', '-i', 'pipe:0', ...OPUS_OUTPUT_ARGS, 'pipe:1'],
    { input, signal, timeoutMs: ENCODE_TIMEOUT_MS },
  );
  const stream = readOggOpus(ogg);
  return { ogg, stream, preSkip: stream.preSkip };
}

/**
 * What the joined file should play: everything its packets decode to, less the first segment's pre-skip
 * (skipped by the header) and the last segment's end padding. Equal to the input length when every cut
 * landed on the grid; a few milliseconds longer per seam otherwise, never shorter.
 */
function playSamples(segments: readonly OggOpusStream[], cuts: readonly number[], total: number): number {
  const decoded = (s: OggOpusStream) => s.packets.reduce((n, p) => n + opusPacketSamples(p), 0);
  const last = segments.at(-1)!;
  const lastInput = total - cuts.at(-1)! - (segments.length > 1 ? segments[0]!.preSkip : 0);
  const lastPad = decoded(last) - last.preSkip - lastInput;
  return segments.reduce((n, s) => n + decoded(s), 0) - segments[0]!.preSkip - Math.max(0, lastPad);
}

/** The grid position near `nominal` whose neighbourhood (a frame each side of the priming span) is quietest. */
function quietestCut(pcm: Float32Array, nominal: number, preSkip: number, notBefore: number): number | null {
  const span = preSkip + 2 * FRAME;
  let best: number | null = null;
  let bestEnergy = Infinity;
  const first = Math.max(notBefore, nominal - SEARCH_SAMPLES);
  for (let k = Math.ceil((first + preSkip) / FRAME); ; k++) {
    const cut = k * FRAME - preSkip;
    if (cut > nominal + SEARCH_SAMPLES || cut + span > pcm.length) break;
    let energy = 0;
    for (let j = cut - FRAME; j < cut + span && energy < bestEnergy; j++) energy += pcm[j]! * pcm[j]!;
    if (energy < bestEnergy) {
      bestEnergy = energy;
      best = cut;
    }
  }
  return best;
}

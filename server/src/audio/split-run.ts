// One ffmpeg filter pass over a long bulletin, run as several processes on parts of it, one per core.
// ffmpeg's audio filters are single-threaded, and on a 2-core box the compressor and limiter passes were
// ~0.3–0.45 s each for five minutes of speech, on the critical path of every render. The parts are cut in
// the middle of pauses: the compressor's and limiter's state has settled back to rest there, so the joined
// output matches a single pass except for the resampler's rounding of a part's length (≤ 1 sample). The
// caller measures the joined output (integrated loudness cannot be added up from the parts' loudness: each
// part's relative gate differs; that was 0.1 LU off on a test signal).

export type Run = (args: string[], input: Buffer) => Promise<{ stdout: Buffer; stderr: string }>;

/** Below this a pass runs as one process: the parts would be too short to pay for a second start-up. */
const MIN_SPLIT_SECONDS = 20;
/** How far from the nominal place a cut may move to find a pause. */
const SEARCH_SECONDS = 5;
/** A pause must be at least this long to hold a cut (eSpeak's closures are shorter, sentence pauses longer). */
const MIN_PAUSE_SECONDS = 0.12;

/**
 * Runs `filter` over mono audio (16-bit or float) at `rate`, writing 32-bit float, split into up to
 * `parts` processes at pauses. Returns the joined output.
 */
export async function splitPass(run: Run, audio: Int16Array | Float32Array, rate: number, filter: string, parts: number): Promise<Buffer> {
  const format = audio instanceof Int16Array ? 's16le' : 'f32le';
  const cuts = pauseCuts(audio, rate, parts);
  const outputs = await Promise.all(cuts.map(async (from, i) => {
    const piece = audio.subarray(from, cuts[i + 1] ?? audio.length);
    const input = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    return (await run(['-f', format, '-ar', String(rate), '-ac', '1', '-i', 'pipe:0', '-af', filter, '-f', 'f32le', 'pipe:1'], input)).stdout;
  }));
  return outputs.length === 1 ? outputs[0]! : Buffer.concat(outputs);
}

/**
 * Where to cut: near each of `parts − 1` equally spaced places, the middle of the longest pause (a run of
 * near-silent samples) within SEARCH_SECONDS. A place without a pause gets no cut.
 */
export function pauseCuts(audio: Int16Array | Float32Array, rate: number, parts: number): number[] {
  const cuts = [0];
  if (parts < 2 || audio.length < MIN_SPLIT_SECONDS * rate) return cuts;
  const silent = audio instanceof Int16Array ? 8 : 8 / 32768;
  for (let i = 1; i < parts; i++) {
    const nominal = Math.round((audio.length * i) / parts);
    const from = Math.max(cuts.at(-1)! + 1, nominal - SEARCH_SECONDS * rate);
    const to = Math.min(audio.length, nominal + SEARCH_SECONDS * rate);
    let best: [number, number] | null = null;
    for (let j = from, start = -1; j <= to; j++) {
      const quiet = j < to && Math.abs(audio[j]!) <= silent;
      if (quiet && start < 0) start = j;
      if (!quiet && start >= 0) {
        if (!best || j - start > best[1] - best[0]) best = [start, j];
        start = -1;
      }
    }
    if (best && best[1] - best[0] >= MIN_PAUSE_SECONDS * rate) cuts.push(Math.round((best[0] + best[1]) / 2));
  }
  return cuts;
}

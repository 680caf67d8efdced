// Loudness measurement (ITU-R BS.1770 / EBU R128): ffmpeg's ebur128 filter, and a JS meter for raw PCM
// already in memory. A mono file is measured as one channel (no dual-mono +3 dB), the way loudnorm and
// most meters treat it.

export const TARGET_LUFS = -16;
export const LUFS_TOLERANCE = 1;
export const MAX_TRUE_PEAK_DB = -1;

export interface LoudnessSummary {
  /** Integrated loudness, LUFS. ebur128 reports -70 when everything is below the absolute gate. */
  lufs: number;
  /** True peak (4× oversampled), dBTP; null when the filter was run without peak=true. */
  truePeakDb: number | null;
}

/**
 * Filter that measures and passes audio through unchanged. framelog=verbose moves the per-frame lines
 * below the default log level, so stderr carries only the summary printed when the filter closes.
 */
export function ebur128Filter(truePeak: boolean): string {
  return `ebur128=framelog=verbose${truePeak ? ':peak=true' : ''}`;
}

/** Reads the "Summary:" block ebur128 prints to stderr. */
export function parseEbur128Summary(stderr: string): LoudnessSummary {
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) throw new Error('ffmpeg printed no ebur128 summary');
  const summary = stderr.slice(at);
  const lufs = matchNumber(summary, /\bI:\s+(-?inf|-?\d+(?:\.\d+)?) LUFS/);
  if (lufs === null) throw new Error('ebur128 summary has no integrated loudness');
  const truePeakDb = matchNumber(summary, /\bPeak:\s+(-?inf|-?\d+(?:\.\d+)?) dBFS/);
  return { lufs, truePeakDb };
}

function matchNumber(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  if (!m) return null;
  const v = m[1]!;
  return v.endsWith('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v);
}

/**
 * Integrated loudness (BS.1770-4: K-weighting, 400 ms blocks every 100 ms, −70 LUFS absolute and −10 LU
 * relative gates) of mono PCM at any rate, in JS. For the raw speech, whose loudness only sets the level
 * going into the compressor: ~40 ms for five minutes at 22 kHz instead of an ffmpeg pass (~0.2 s); the
 * final file is still measured by ffmpeg's ebur128. Filter coefficients for any rate as libebur128 derives them.
 */
export function integratedLoudness(samples: Int16Array | Float32Array, sampleRate: number): number {
  const scale = samples instanceof Int16Array ? 1 / 32768 : 1;
  const [shelf, highpass] = kWeighting(sampleRate);
  const [b0, b1, b2] = shelf.b;
  const [, a1, a2] = shelf.a;
  const [, c1, c2] = highpass.a;
  const hop = Math.round(sampleRate / 10);
  const hops: number[] = []; // mean square of each 100 ms quarter-block
  // Two biquads in transposed direct form II; the high-pass numerator is 1, −2, 1.
  let s1 = 0;
  let s2 = 0;
  let t1 = 0;
  let t2 = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]! * scale;
    const y = b0 * x + s1;
    s1 = b1 * x - a1 * y + s2;
    s2 = b2 * x - a2 * y;
    const z = y + t1;
    t1 = -2 * y - c1 * z + t2;
    t2 = y - c2 * z;
    sum += z * z;
    if (++n === hop) {
      hops.push(sum / hop);
      sum = 0;
      n = 0;
    }
  }
  const blocks: number[] = [];
  for (let i = 3; i < hops.length; i++) blocks.push((hops[i - 3]! + hops[i - 2]! + hops[i - 1]! + hops[i]!) / 4);
  const lufs = (ms: number) => -0.691 + 10 * Math.log10(ms);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const audible = blocks.filter((b) => lufs(b) > -70);
  if (audible.length === 0) return -70;
  const relative = lufs(mean(audible)) - 10;
  const gated = audible.filter((b) => lufs(b) > relative);
  return lufs(mean(gated));
}

interface Biquad {
  b: [number, number, number];
  a: [number, number, number];
}

function kWeighting(rate: number): [Biquad, Biquad] {
  // High shelf (head effects) and high-pass (RLB), from the analog prototypes of BS.1770.
  let f0 = 1681.974450955533;
  const g = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / rate);
  const vh = 10 ** (g / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf: Biquad = {
    b: [(vh + (vb * k) / q + k * k) / a0, (2 * (k * k - vh)) / a0, (vh - (vb * k) / q + k * k) / a0],
    a: [1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0],
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / rate);
  a0 = 1 + k / q + k * k;
  const highpass: Biquad = { b: [1, -2, 1], a: [1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0] };
  // (the high-pass numerator is applied as 1, −2, 1 directly in the loop)
  return [shelf, highpass];
}

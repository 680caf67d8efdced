// Local repair of codec overshoot. Opus decoding puts peaks above what the limiter let through, ~2–3 dB on
// dense speech, but only at a few spots in a bulletin. Lowering the limiter ceiling for the whole file to
// cover the worst spot needs more make-up gain to keep the loudness, which means harder limiting, which made
// the codec overshoot more: on a 5-minute bulletin three such rounds went from −0.9 to +4.5 dBTP (issue 3
// benchmark). So instead: find the spots in the decoded file, lower the input there alone with short smooth
// dips (a few tens of milliseconds, inaudible and without effect on the integrated loudness), and re-encode
// only the segments that hold them.

export interface PeakSpot {
  /** First and last sample index over the threshold (48 kHz, the same timeline as the encoder's input). */
  from: number;
  to: number;
  /** Highest absolute sample value there. */
  peak: number;
}

const RATE = 48_000;
/** Spots closer than this are one dip, so dips never overlap. */
const MERGE_SAMPLES = Math.round(0.06 * RATE);
/** Dip shape: full depth from 10 ms before the first to 10 ms after the last sample over, 10 ms raised-cosine ramps. */
const HOLD_SAMPLES = Math.round(0.01 * RATE);
const RAMP_SAMPLES = Math.round(0.01 * RATE);

/** Where the decoded audio exceeds `threshold` (linear), merged into spots. */
export function findPeakSpots(decoded: Float32Array, threshold: number): PeakSpot[] {
  const spots: PeakSpot[] = [];
  for (let i = 0; i < decoded.length; i++) {
    const v = Math.abs(decoded[i]!);
    if (v <= threshold) continue;
    const last = spots.at(-1);
    if (last && i - last.to <= MERGE_SAMPLES) {
      last.to = i;
      last.peak = Math.max(last.peak, v);
    } else spots.push({ from: i, to: i, peak: v });
  }
  return spots;
}

/**
 * Scales `pcm` down around each spot so its peak would land at `target` (linear), plus `extraDb` more
 * because the codec's error does not shrink exactly with the signal. Returns the changed sample ranges.
 */
export function applyDips(pcm: Float32Array, spots: readonly PeakSpot[], target: number, extraDb: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const spot of spots) {
    const gain = Math.min(1, (target / spot.peak) * 10 ** (-extraDb / 20));
    if (gain >= 1) continue;
    const holdFrom = Math.max(0, spot.from - HOLD_SAMPLES);
    const holdTo = Math.min(pcm.length, spot.to + HOLD_SAMPLES + 1);
    const from = Math.max(0, holdFrom - RAMP_SAMPLES);
    const to = Math.min(pcm.length, holdTo + RAMP_SAMPLES);
    for (let i = from; i < to; i++) {
      let g = gain;
      if (i < holdFrom) g = 1 - (1 - gain) * rampIn((i - from + 1) / (holdFrom - from + 1));
      else if (i >= holdTo) g = 1 - (1 - gain) * rampIn((to - i) / (to - holdTo + 1));
      pcm[i] = pcm[i]! * g;
    }
    ranges.push([from, to]);
  }
  return ranges;
}

/** 0 → 1 along a raised cosine. */
function rampIn(x: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * Math.min(1, Math.max(0, x)));
}

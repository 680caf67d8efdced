// True peak (ITU-R BS.1770-4 Annex 2: 4× oversampling with its 48-tap interpolation filter), computed
// only where it can matter. Running ebur128's true-peak meter doubled the cost of verifying the final file
// (0.44 s of 0.88 s for 5 minutes, measured); the decoded samples are in memory anyway, and the only
// question is whether anything comes near −1 dBTP. Inter-sample peaks of 48 kHz audio sit within a dB or
// two of the samples around them, so only the neighbourhoods of samples above `floor` are oversampled.

// Polyphase coefficients from BS.1770-4 Annex 2, Table 1 (phase k gives the point k/4 of a sample later).
const PHASES: ReadonlyArray<readonly number[]> = [
  [0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625, 0.97216796875, -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125],
  [-0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.166503906250, 0.465087890625, 0.77978515625, -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375],
  [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625, 0.465087890625, -0.166503906250, 0.089111328125, -0.0517578125, 0.029296875, -0.0291748046875],
  [-0.00830078125, 0.014892578125, -0.026611328125, 0.047607421875, -0.102294921875, 0.97216796875, 0.1373291015625, -0.0594482421875, 0.033203125, -0.0196533203125, 0.010986328125, 0.001708984375],
];
const TAPS = 12;
// Output n of phase k estimates the input at time n − 6 + k/4 (the filter's delay is 6 input samples), so
// phases 1–3 at output t + 6 are the points a quarter, half and three quarters of the way from t to t + 1.
const DELAY = 6;

export interface TruePeak {
  /** Linear; 1 = full scale. */
  peak: number;
  /** Input sample index nearest to it. */
  at: number;
}

/**
 * The highest of the sample peak and the oversampled peak near every sample whose magnitude is at least
 * `floor`. Exact for any true peak above floor + (the inter-sample excess of this signal), which is what
 * a pass/fail check at a limit well above `floor` needs.
 */
export function truePeak(x: Float32Array, floor: number): TruePeak {
  let best: TruePeak = { peak: 0, at: 0 };
  let checkedUpTo = -1;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]!);
    if (v > best.peak) best = { peak: v, at: i };
    if (v < floor) continue;
    // Oversample the intervals on both sides of sample i (skipping those already done).
    for (let t = Math.max(i - 1, checkedUpTo + 1); t <= i; t++) {
      const n = t + DELAY;
      for (let k = 1; k < 4; k++) {
        const h = PHASES[k]!;
        let y = 0;
        for (let j = 0; j < TAPS; j++) {
          const s = n - j;
          if (s >= 0 && s < x.length) y += h[j]! * x[s]!;
        }
        const a = Math.abs(y);
        if (a > best.peak) best = { peak: a, at: k <= 2 ? t : t + 1 };
      }
      checkedUpTo = t;
    }
  }
  return best;
}

export function toDb(linear: number): number {
  return 20 * Math.log10(linear);
}

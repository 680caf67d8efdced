// Loudness measurement with ffmpeg's ebur128 filter (ITU-R BS.1770 / EBU R128). A mono file is measured
// as one channel (no dual-mono +3 dB), the way loudnorm and most meters treat it.

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

// The ffmpeg filter chain that turns raw TTS speech into dense, loud-enough, peak-safe speech for
// outdoor loudspeakers, and the Opus settings for the devices. Numbers were tuned on eSpeak's three
// Vietnamese voices at speeds 1.0 and 1.5 (see the comments in pipeline.ts for the loop around it).

export const OUTPUT_RATE = 48_000; // Opus's native rate; limiting at 48 kHz makes sample peaks track true peaks

/** Level the compressor is tuned for; the fixed pre-gain brings any engine's speech here first. */
const COMPRESSOR_INPUT_LUFS = -20;

export const OPUS_OUTPUT_ARGS = [
  '-c:a', 'libopus', '-b:a', '32k',
  // Without voip this 2018 libopus turned a 32k request into ~58 kbps (PACKAGE-NOTES).
  '-application', 'voip',
  // Level 5 encodes twice as fast as the default 10 (0.9 s vs 1.8 s per minute, measured) at the same size.
  '-compression_level', '5',
  // Constant bitrate: in VBR mode this libopus build was seen to put an 8 dB overshoot on one fricative
  // (a −4 dBFS limited input decoded at +4.3 dBTP), which no limiter ceiling can prevent without losing the
  // loudness target; CBR decoded the same input at −2.4 dBTP. It also makes a bulletin's size predictable
  // for boxes on metered 4G.
  '-vbr', 'off',
  '-ar', String(OUTPUT_RATE), '-ac', '1', '-f', 'ogg',
];

export interface ChainSettings {
  /** Integrated loudness of the raw speech, LUFS. */
  rawLufs: number;
  /** Gain after the compressor, dB; the pipeline fits it to hit the loudness target. */
  makeupDb: number;
  /** Limiter ceiling, dBFS (sample peak at 48 kHz). */
  ceilingDb: number;
}

export function loudnessChain({ rawLufs, makeupDb, ceilingDb }: ChainSettings): string {
  return [
    `aresample=${OUTPUT_RATE}`,
    `volume=${(COMPRESSOR_INPUT_LUFS - rawLufs).toFixed(2)}dB`,
    // Raw eSpeak has a ~20 dB peak-to-loudness ratio; a limiter alone needed up to 10 dB of gain reduction
    // on the Central voice. The compressor brings that to 1–4 dB, so the limiter only catches transients.
    `acompressor=threshold=${dbToLinear(-21).toFixed(5)}:ratio=4:attack=5:release=100:detection=rms`,
    `volume=${makeupDb.toFixed(2)}dB`,
    // level=0: this build's alimiter defaults to auto-level, which scales the output back up to 0 dBFS.
    `alimiter=limit=${dbToLinear(ceilingDb).toFixed(5)}:attack=5:release=50:level=0`,
  ].join(',');
}

function dbToLinear(db: number): number {
  return 10 ** (db / 20);
}

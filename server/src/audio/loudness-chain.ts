// The ffmpeg filter chain that turns raw TTS speech into dense, loud-enough, peak-safe speech for
// outdoor loudspeakers, and the Opus and MP3 settings. Numbers were tuned on eSpeak's three Vietnamese
// voices at speeds 1.0 and 1.5 (see mastering.ts for the loop around it).

export const OUTPUT_RATE = 48_000; // Opus's native rate

/** Level the compressor is tuned for; the fixed pre-gain brings any engine's speech here first. */
const COMPRESSOR_INPUT_LUFS = -20;

export const OPUS_OUTPUT_ARGS = [
  '-c:a', 'libopus', '-b:a', '32k',
  // Constant bitrate: in VBR mode this libopus build was seen to put an 8 dB overshoot on one fricative
  // (a −4 dBFS limited input decoded at +4.3 dBTP), and with the default application a 32k VBR request came
  // out at ~58 kbps (PACKAGE-NOTES). CBR holds 32 kbps in every mode and makes a bulletin's size predictable
  // for boxes on metered 4G.
  '-vbr', 'off',
  // The CELT ("audio") mode, not voip. voip's SILK and hybrid modes in this 2018 libopus turn a few plosive
  // onsets per bulletin (a hard attack after ~10 ms of closure silence, which eSpeak makes all the time) into
  // 10–20 ms bursts decoded at +3 to +4.5 dBFS from a −4 dBFS input: 1–4 per 5 minutes, at other onsets on
  // every encode, with complexity 5 or 10, 10/20/40 ms frames, fullband or 8 kHz (issue 3 benchmark). No
  // limiter setting or local repair can remove that. CBR CELT made none on the same bulletins in all three
  // voices, overshoots ~3 dB at most like a normal codec, and encodes 2.5× faster (2.9 s vs 7.3 s for 5 min).
  '-application', 'audio',
  // Level 5 encodes twice as fast as the default 10 at the same size (measured in voip mode).
  '-compression_level', '5',
  '-ar', String(OUTPUT_RATE), '-ac', '1', '-f', 'ogg',
];

export const MP3_OUTPUT_ARGS = [
  // The download copy: 48 kbps mono MPEG-2 Layer III at 24 kHz (eSpeak has nothing above 11 kHz). LAME's
  // quality 7 encodes 5 minutes in 1.5 s instead of 3.4 s (default) and measured closer to the input.
  '-c:a', 'libmp3lame', '-b:a', '48k', '-compression_level', '7', '-ar', '24000', '-ac', '1', '-f', 'mp3',
];

/**
 * First half of the chain, independent of the make-up gain, so it runs once per bulletin, at the speech's
 * own rate (half the work of 48 kHz for eSpeak's 22 kHz): a fixed gain from the raw loudness to the level
 * the compressor is tuned for, then the compressor. Raw eSpeak has a ~20 dB peak-to-loudness ratio; a
 * limiter alone needed up to 10 dB of gain reduction on the Central voice. The compressor brings that to
 * 1–4 dB, so the limiter only catches transients.
 */
export function compressorChain(rawLufs: number): string {
  return [
    `volume=${(COMPRESSOR_INPUT_LUFS - rawLufs).toFixed(2)}dB`,
    `acompressor=threshold=${dbToLinear(-21).toFixed(5)}:ratio=4:attack=5:release=100:detection=rms`,
  ].join(',');
}

/**
 * Second half: to 48 kHz (limiting at Opus's rate makes sample peaks track true peaks), make-up gain
 * (fitted by the pipeline to hit the loudness target) and the peak limiter.
 */
export function limiterChain(makeupDb: number, ceilingDb: number): string {
  return [
    `aresample=${OUTPUT_RATE}`,
    `volume=${makeupDb.toFixed(2)}dB`,
    // level=0: this build's alimiter defaults to auto-level, which scales the output back up to 0 dBFS.
    `alimiter=limit=${dbToLinear(ceilingDb).toFixed(5)}:attack=5:release=50:level=0`,
  ].join(',');
}

export function dbToLinear(db: number): number {
  return 10 ** (db / 20);
}

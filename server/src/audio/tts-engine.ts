// The seam between the audio pipeline and whatever produces speech. The embedded default is eSpeak NG
// (espeak-engine.ts); Piper/VITS or cloud engines (Zalo AI, Viettel AI, FPT.AI) plug in behind the same
// interface, so the pipeline never knows which one it talks to.

/** Mono 16-bit PCM. Engines keep their native rate; the pipeline resamples once, at encode time. */
export interface Pcm {
  samples: Int16Array;
  sampleRate: number;
}

export interface SynthesisRequest {
  text: string;
  voice: string;
  /** Multiplier: 1 = normal, 0.5 = half speed, 2 = double speed. */
  speed: number;
}

export interface TtsEngine {
  readonly name: string;
  synthesize(req: SynthesisRequest): Promise<Pcm>;
}

/** The Vietnamese voices eSpeak NG ships: Northern (Hà Nội, default), Central (Huế) and Southern (Sài Gòn). */
export const VIETNAMESE_VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;
export type VietnameseVoice = (typeof VIETNAMESE_VOICES)[number];
export const DEFAULT_VOICE: VietnameseVoice = 'vi';

export const MIN_SPEED = 0.5;
export const MAX_SPEED = 2.0;

/** eSpeak's default rate; `speed` multiplies it. */
export const ESPEAK_DEFAULT_WPM = 175;

export function isVietnameseVoice(voice: string): voice is VietnameseVoice {
  return (VIETNAMESE_VOICES as readonly string[]).includes(voice);
}

/** Rejects NaN and out-of-range speeds instead of clamping: a typo should not silently broadcast at 0.5×. */
export function assertSpeed(speed: number): void {
  if (!Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED) {
    throw new RangeError(`speed must be between ${MIN_SPEED} and ${MAX_SPEED}, got ${speed}`);
  }
}

/** Maps the speed multiplier to eSpeak's `-s` words per minute (87–350, inside eSpeak's 80–450). */
export function speedToWpm(speed: number): number {
  assertSpeed(speed);
  return Math.round(ESPEAK_DEFAULT_WPM * speed);
}

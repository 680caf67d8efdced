// The seam between the audio pipeline and whatever produces speech. The embedded default is eSpeak NG
// (espeak-engine.ts); Piper/VITS or cloud engines (Zalo AI, Viettel AI, FPT.AI) plug in behind the same
// interface, so the pipeline never knows which one it talks to.
import { VOICES } from '@loaxa/shared';

/** Mono 16-bit PCM. Engines keep their native rate; the pipeline resamples once, at encode time. */
export interface Pcm {
  samples: Int16Array;
  sampleRate: number;
  /**
   * Which engine actually made this audio, when that is not the engine that was asked (a FallbackEngine
   * answers with another engine's audio). The bulletin records it, so an operator sees eSpeak stood in.
   */
  engine?: string;
  /** Set when a fallback engine made it: such audio is not cached, so the preferred engine gets another go. */
  fallback?: boolean;
}

export interface SynthesisRequest {
  text: string;
  voice: string;
  /** Multiplier: 1 = normal, 0.5 = half speed, 2 = double speed. */
  speed: number;
  /** Cancels the call (a cancelled broadcast, or a FallbackEngine giving up on a slow engine). */
  signal?: AbortSignal;
}

export interface BatchSynthesisRequest extends Omit<SynthesisRequest, 'text'> {
  texts: string[];
}

export interface TtsEngine {
  readonly name: string;
  /**
   * Identifies everything about this engine's setup that changes its audio (model file, voice table),
   * for the chunk cache. Defaults to `name`.
   */
  readonly cacheKey?: string;
  /** How many synthesize() calls the engine serves at once; the pipeline keeps that many chunks in flight. */
  readonly concurrency?: number;
  synthesize(req: SynthesisRequest): Promise<Pcm>;
  /**
   * Several texts in one call, one Pcm per text in the same order. Optional: for engines whose per-call
   * start-up dominates (the WebAssembly eSpeak pays ~150 ms per call, ~3 ms per second of speech), so the
   * pipeline hands them many sentences at once. Must sound the same as calling synthesize() on each.
   */
  synthesizeBatch?(req: BatchSynthesisRequest): Promise<Pcm[]>;
  /** Releases workers, native handles or sockets. Optional: plain engines hold nothing. */
  close?(): Promise<void>;
}

/**
 * The Vietnamese voices eSpeak NG ships: Northern (Hà Nội, default), Central (Huế) and Southern (Sài Gòn);
 * the voices of the HTTP contract (`VOICES` of `@loaxa/shared`), which bulletins and previews ask for.
 */
export const VIETNAMESE_VOICES = VOICES;
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

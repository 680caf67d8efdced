// Text → speech → one loudness-normalized Opus file for the loudspeakers (and an MP3 copy for download).
//
// Chunks → join with sentence pauses (synthesize-chunks.ts) → optional intro/outro chime (chime.ts) →
// −16 LUFS ±1 LU integrated, true peak ≤ −1 dBTP, measured on the decoded final file → Opus/Ogg mono 32 kbps
// voip, and MP3 48 kbps when asked (mastering.ts). Chimes join before loudness processing, so the target
// holds for the whole file.

import type { TtsEngine } from './tts-engine.js';
import { assertSpeed } from './tts-engine.js';
import { splitIntoChunks } from './text-chunks.js';
import type { PcmChunkCache } from './chunk-cache.js';
import { synthesizeChunks } from './synthesize-chunks.js';
import { integratedLoudness } from './loudness.js';
import { loadChime, withChimes, type ChimeOptions } from './chime.js';
import { type MasterTimings, masterSpeech } from './mastering.js';
import { WeightedLimiter } from './concurrency.js';

/**
 * The longest audio rendered, synthesized or recorded. Mastering holds several 48 kHz float copies of the
 * whole audio at once: a 23.5-minute bulletin peaked at 1.6 GB of server memory and a 59-minute one (50,000
 * characters) at 3.4 GB, ~60 MB a minute. A limit on duration is the limit on memory.
 */
export const MAX_AUDIO_MS = 30 * 60_000;
/**
 * Minutes of audio mastered at once, whoever asked (bulletins, recordings, previews): one longest render and
 * five minutes beside it, so a short emergency bulletin still passes beside the longest one, and memory stays
 * near one longest render's (~2.3 GB) however many operators render at once. Mastering already uses every
 * core, so running more at once would not finish sooner (six 12-minute bulletins: 75 s either way, 1.7 GB
 * at most instead of 2.6 GB).
 */
const mastering = new WeightedLimiter(MAX_AUDIO_MS + 5 * 60_000);
/**
 * Faster than any engine reads (eSpeak NG: 18.7 characters a second at speed 1, pauses included): text
 * longer than this rate allows is refused before synthesis; text under it is checked on the real audio.
 */
const FASTEST_CHARS_PER_SECOND = 30;

/** The text or recording would make audio longer than MAX_AUDIO_MS. */
export class AudioTooLongError extends Error {
  override name = 'AudioTooLongError';
}

const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} seconds` : `${Math.round(ms / 6000) / 10} minutes`);

export type RenderStage = 'synthesizing' | 'encoding';

/** `percent` is overall progress 0–100, never decreasing: synthesis covers 0–50, encoding 50–100. */
export type RenderProgress = (percent: number, stage: RenderStage) => void;

export interface RenderSpeechRequest {
  engine: TtsEngine;
  text: string;
  voice: string;
  speed: number;
  onProgress?: RenderProgress;
  signal?: AbortSignal;
  /** Reuses sentences already synthesized by the same engine, voice and speed (an edited bulletin). */
  chunkCache?: PcmChunkCache;
  /** Chunks synthesized at once. Default: the engine's own `concurrency`, else 1. */
  concurrency?: number;
  /**
   * Intro/outro chimes: 'default' for the built-in bell, 'attention' for the warning signal (issue 18; a
   * warning's speech opens with it), or a path to any audio file ffmpeg reads.
   */
  chime?: ChimeOptions;
  /** Also return the MP3 download copy (48 kbps mono), encoded from the same processed audio. */
  mp3?: boolean;
  /** Longest audio to render (default MAX_AUDIO_MS); longer fails with AudioTooLongError before mastering. */
  maxDurationMs?: number;
}

export interface RenderedSpeech {
  ogg: Buffer;
  /** Present when `mp3: true` was asked. */
  mp3?: Buffer;
  durationMs: number;
  lufs: number;
  truePeakDb: number;
  /** The engine that made the speech; "a+b" when a fallback engine stood in for some sentences. */
  engine: string;
  /** Sentence chunks synthesized now vs taken from the chunk cache. */
  chunks: { synthesized: number; cached: number };
  /** Wall time of each stage, for the benchmark and the logs. */
  timings: RenderTimings;
}

/** Wall time of each stage: synthesis and measuring here, the rest from mastering. */
export interface RenderTimings extends MasterTimings {
  synthesisMs: number;
  /** Measuring the raw speech and loading chimes. */
  measureMs: number;
}

const SILENT_LUFS = -60;

export async function renderSpeech(req: RenderSpeechRequest): Promise<RenderedSpeech> {
  const { engine, text, voice, speed, signal } = req;
  assertSpeed(speed);
  const chunks = splitIntoChunks(text);
  if (chunks.length === 0) throw new Error('nothing to say: the text is empty or has no letters or digits');
  const maxMs = req.maxDurationMs ?? MAX_AUDIO_MS;
  const totalChars = chunks.reduce((n, c) => n + c.text.length, 0);
  // The spoken words, not the written ones: "999999999999" is read as 85 letters of words.
  const soonestMs = (totalChars / FASTEST_CHARS_PER_SECOND / speed) * 1000;
  if (soonestMs > maxMs) {
    throw new AudioTooLongError(`the text takes at least ${minutes(soonestMs)} to read at speed ${speed}, over the limit of ${minutes(maxMs)}: shorten it or split it into several bulletins`);
  }

  let lastPercent = -1;
  const report = (stage: RenderStage, percent: number) => {
    lastPercent = Math.max(lastPercent, Math.min(100, Math.round(percent)));
    req.onProgress?.(lastPercent, stage);
  };
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - mark);
    mark = now;
    return ms;
  };

  // --- synthesize (in parallel up to the engine's concurrency, cached sentences skipped) ---
  report('synthesizing', 0);
  const speech = await synthesizeChunks({
    engine, chunks, voice, speed, signal, chunkCache: req.chunkCache, concurrency: req.concurrency,
    onChunk: (doneChars) => report('synthesizing', (50 * doneChars) / totalChars),
  });
  const synthesisMs = lap();
  const { sampleRate } = speech;
  const engineName = speech.engines.join('+');

  // --- measure the raw speech (in JS, ~30 ms for five minutes); load the chimes meanwhile ---
  report('encoding', 50);
  const chimes = Promise.all([
    req.chime?.intro ? loadChime(req.chime.intro, 'intro', sampleRate, signal) : undefined,
    req.chime?.outro ? loadChime(req.chime.outro, 'outro', sampleRate, signal) : undefined,
  ]);
  chimes.catch(() => {}); // awaited below; a silent-speech error must not leave it unhandled
  const rawLufs = integratedLoudness(speech.samples, sampleRate);
  if (rawLufs < SILENT_LUFS) throw new Error(`${engineName} produced (near) silence: ${rawLufs.toFixed(1)} LUFS`);
  const [intro, outro] = await chimes;
  const samples = intro || outro
    ? withChimes(speech.samples, rawLufs, { ...(intro ? { intro } : {}), ...(outro ? { outro } : {}) }, sampleRate, req.chime ?? {})
    : speech.samples;
  const measureMs = lap();
  const durationMs = (samples.length / sampleRate) * 1000;
  if (durationMs > maxMs) {
    throw new AudioTooLongError(`the audio would last ${minutes(durationMs)}, over the limit of ${minutes(maxMs)}: shorten the text, raise the speed or split it into several bulletins`);
  }

  const mastered = await mastering.run(durationMs, () => masterSpeech({
    samples, sampleRate, rawLufs, mp3: req.mp3, signal,
    onProgress: (f) => report('encoding', 50 + 50 * f),
  }), signal);
  report('encoding', 100);
  return {
    ogg: mastered.ogg,
    ...(mastered.mp3 ? { mp3: mastered.mp3 } : {}),
    durationMs: mastered.durationMs,
    lufs: mastered.lufs,
    truePeakDb: mastered.truePeakDb,
    engine: engineName,
    chunks: { synthesized: speech.synthesizedChunks, cached: speech.cachedChunks },
    timings: { synthesisMs, measureMs, ...mastered.timings },
  };
}

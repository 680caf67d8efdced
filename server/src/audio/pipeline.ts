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
  /** Intro/outro chimes: 'default' for the built-in bell or a path to any audio file ffmpeg reads. */
  chime?: ChimeOptions;
  /** Also return the MP3 download copy (48 kbps mono), encoded from the same processed audio. */
  mp3?: boolean;
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
  const totalChars = chunks.reduce((n, c) => n + c.text.length, 0);
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

  const mastered = await masterSpeech({
    samples, sampleRate, rawLufs, mp3: req.mp3, signal,
    onProgress: (f) => report('encoding', 50 + 50 * f),
  });
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

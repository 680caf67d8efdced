// The synthesis stage of the pipeline: sentence chunks → one PCM stream with our own pauses between them.
// Chunks run in parallel up to the engine's concurrency (a cloud engine answers in seconds per sentence;
// a worker pool has one lane per thread), come from the chunk cache when an identical sentence was already
// read by the same engine, voice and speed, and are joined in text order whatever order they finish in.

import type { PcmChunkCache } from './chunk-cache.js';
import { mapWithConcurrency } from './concurrency.js';
import { concatSamples, resamplePcm } from './pcm-tools.js';
import type { TextChunk } from './text-chunks.js';
import type { Pcm, TtsEngine } from './tts-engine.js';

export interface SynthesizeChunksRequest {
  engine: TtsEngine;
  chunks: readonly TextChunk[];
  voice: string;
  speed: number;
  signal?: AbortSignal | undefined;
  chunkCache?: PcmChunkCache | undefined;
  /** Chunks in flight. Default: the engine's own concurrency, else 1. */
  concurrency?: number | undefined;
  /** Called as each chunk is ready, with the characters done so far. */
  onChunk?: (doneChars: number) => void;
}

export interface SynthesizedSpeech {
  samples: Int16Array;
  sampleRate: number;
  /** Engines that made the chunks, in order of first use (more than one only after a fallback). */
  engines: string[];
  synthesizedChunks: number;
  cachedChunks: number;
}

export async function synthesizeChunks(req: SynthesizeChunksRequest): Promise<SynthesizedSpeech> {
  const { engine, chunks, voice, speed, signal, chunkCache } = req;
  const cacheEngine = engine.cacheKey ?? engine.name;
  let doneChars = 0;
  let cachedChunks = 0;

  const pcms = await mapWithConcurrency(chunks, req.concurrency ?? engine.concurrency ?? 1, async (chunk) => {
    signal?.throwIfAborted();
    const key = { engine: cacheEngine, voice, speed, text: chunk.text };
    let pcm = chunkCache ? await chunkCache.get(key) : null;
    if (pcm) cachedChunks++;
    else {
      pcm = await engine.synthesize({ text: chunk.text, voice, speed, signal });
      if (pcm.samples.length === 0) throw new Error(`${pcm.engine ?? engine.name} returned no audio for "${chunk.text.slice(0, 40)}"`);
      // Audio a fallback engine made stays out of the cache: next time the preferred engine gets its turn.
      if (chunkCache && !pcm.fallback) await chunkCache.put(key, pcm);
    }
    doneChars += chunk.text.length;
    req.onChunk?.(doneChars);
    return pcm;
  });

  // One rate per text. Only mixed engines (after a fallback) can disagree; the first chunk's rate wins.
  const sampleRate = pcms[0]!.sampleRate;
  const uniform = await Promise.all(pcms.map((p) => resamplePcm(p, sampleRate, signal)));

  const parts: Int16Array[] = [];
  uniform.forEach((pcm, i) => {
    parts.push(trimSilence(pcm.samples, sampleRate));
    if (i < chunks.length - 1) parts.push(new Int16Array(Math.round((sampleRate * chunks[i]!.pauseAfterMs) / 1000)));
  });
  const engines = [...new Set(pcms.map((p: Pcm) => p.engine ?? engine.name))];
  return { samples: concatSamples(parts), sampleRate, engines, synthesizedChunks: chunks.length - cachedChunks, cachedChunks };
}

/**
 * Drops near-silent samples at both ends of a chunk so the pause between sentences is the one we insert,
 * not that plus the engine's own leading/trailing silence. Keeps 10 ms so onsets and decays survive.
 */
function trimSilence(samples: Int16Array, sampleRate: number): Int16Array {
  const threshold = 100; // ≈ −50 dBFS
  const keep = Math.round(sampleRate * 0.01);
  let start = 0;
  let end = samples.length;
  while (start < end && Math.abs(samples[start]!) < threshold) start++;
  while (end > start && Math.abs(samples[end - 1]!) < threshold) end--;
  return samples.subarray(Math.max(0, start - keep), Math.min(samples.length, end + keep));
}

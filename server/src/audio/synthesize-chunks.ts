// The synthesis stage of the pipeline: sentence chunks → one PCM stream with our own pauses between them.
// Chunks run in parallel up to the engine's concurrency (a cloud engine answers in seconds per sentence;
// a worker pool has one lane per thread), come from the chunk cache when an identical sentence was already
// read by the same engine, voice and speed, and are joined in text order whatever order they finish in.
// An engine that reads many sentences per call (eSpeak, see espeak-batch.ts) gets them in batches, still
// one PCM per sentence back, so pauses and caching work the same.

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

/**
 * Characters per batch for engines that take batches: one batch spreads eSpeak's ~150 ms start-up over
 * dozens of sentences; 8,000 characters is ~1 s of work, so progress still moves on long bulletins.
 */
const BATCH_MAX_CHARS = 8000;

export async function synthesizeChunks(req: SynthesizeChunksRequest): Promise<SynthesizedSpeech> {
  const { engine, chunks, voice, speed, signal, chunkCache } = req;
  const cacheEngine = engine.cacheKey ?? engine.name;
  const lanes = req.concurrency ?? engine.concurrency ?? 1;
  let doneChars = 0;
  let cachedChunks = 0;
  const keyOf = (chunk: TextChunk) => ({ engine: cacheEngine, voice, speed, text: chunk.text });
  const done = (chunk: TextChunk) => {
    doneChars += chunk.text.length;
    req.onChunk?.(doneChars);
  };
  const accept = async (chunk: TextChunk, pcm: Pcm) => {
    if (pcm.samples.length === 0) throw new Error(`${pcm.engine ?? engine.name} returned no audio for "${chunk.text.slice(0, 40)}"`);
    // Audio a fallback engine made stays out of the cache: next time the preferred engine gets its turn.
    if (chunkCache && !pcm.fallback) await chunkCache.put(keyOf(chunk), pcm);
    done(chunk);
    return pcm;
  };

  let pcms: Pcm[];
  if (engine.synthesizeBatch) {
    const found: Array<Pcm | null> = chunkCache ? await Promise.all(chunks.map((c) => chunkCache.get(keyOf(c)))) : chunks.map(() => null);
    found.forEach((pcm, i) => {
      if (!pcm) return;
      cachedChunks++;
      done(chunks[i]!);
    });
    const todo = chunks.map((_, i) => i).filter((i) => !found[i]);
    await mapWithConcurrency(batchesOf(todo, chunks, lanes), lanes, async (batch) => {
      signal?.throwIfAborted();
      const out = await engine.synthesizeBatch!({ texts: batch.map((i) => chunks[i]!.text), voice, speed, signal });
      if (out.length !== batch.length) throw new Error(`${engine.name} returned ${out.length} pieces of audio for ${batch.length} sentences`);
      for (const [k, i] of batch.entries()) found[i] = await accept(chunks[i]!, out[k]!);
    });
    pcms = found as Pcm[];
  } else {
    pcms = await mapWithConcurrency(chunks, lanes, async (chunk) => {
      signal?.throwIfAborted();
      const cached = chunkCache ? await chunkCache.get(keyOf(chunk)) : null;
      if (cached) {
        cachedChunks++;
        done(chunk);
        return cached;
      }
      return accept(chunk, await engine.synthesize({ text: chunk.text, voice, speed, signal }));
    });
  }

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

/** Splits chunk indexes into contiguous batches of similar size: at least one per lane, none too long. */
function batchesOf(todo: readonly number[], chunks: readonly TextChunk[], lanes: number): number[][] {
  if (todo.length === 0) return [];
  const total = todo.reduce((n, i) => n + chunks[i]!.text.length, 0);
  const count = Math.min(todo.length, Math.max(lanes, Math.ceil(total / BATCH_MAX_CHARS)));
  const batches: number[][] = [[]];
  let chars = 0;
  for (const i of todo) {
    // Start the next batch once this one holds its share of the characters.
    if (batches.at(-1)!.length > 0 && chars >= (total * batches.length) / count) batches.push([]);
    batches.at(-1)!.push(i);
    chars += chunks[i]!.text.length;
  }
  return batches;
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

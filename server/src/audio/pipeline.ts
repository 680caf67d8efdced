// Text → speech → one loudness-normalized Opus file for the loudspeakers.
//
// Target: −16 LUFS integrated (±1 LU), true peak ≤ −1 dBTP, measured on the decoded final file because
// that is what the speaker plays. Raw eSpeak speech has a peak-to-loudness ratio near 20 dB, so −16 LUFS
// with peaks under −1 dBTP cannot come from gain alone; one-pass `loudnorm` lands it at −17.5 (PACKAGE-NOTES).
// The chain (loudness-chain.ts) is: fixed gain to a known level → compressor → make-up gain → limiter.
// We measure the raw speech, then fit the make-up gain by measuring the limited output (limiting eats
// loudness, so a few cheap secant steps), encode, decode and measure again. Opus decoding overshoots the
// limiter's sample peaks by ~2 dB, so the ceiling sits well below −1 dBFS and drops further if the final
// file still peaks too high.

import type { TtsEngine } from './tts-engine.js';
import { assertSpeed } from './tts-engine.js';
import { splitIntoChunks } from './text-chunks.js';
import type { PcmChunkCache } from './chunk-cache.js';
import { synthesizeChunks } from './synthesize-chunks.js';
import { runFfmpeg } from './ffmpeg.js';
import { ebur128Filter, LUFS_TOLERANCE, MAX_TRUE_PEAK_DB, parseEbur128Summary, TARGET_LUFS } from './loudness.js';
import { loudnessChain, OUTPUT_RATE, OPUS_OUTPUT_ARGS } from './loudness-chain.js';

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
}

export interface RenderedSpeech {
  ogg: Buffer;
  durationMs: number;
  lufs: number;
  truePeakDb: number;
  /** The engine that made the speech; "a+b" when a fallback engine stood in for some sentences. */
  engine: string;
  /** Sentence chunks synthesized now vs taken from the chunk cache. */
  chunks: { synthesized: number; cached: number };
}

const QUIET = ['-hide_banner', '-nostats'];
const INITIAL_CEILING_DB = -4; // Opus overshoot measured up to ~3 dB over the ceiling (Central voice)
const MIN_CEILING_DB = -12; // past this something other than codec overshoot is wrong
// Meters disagree by a few hundredths of a dB (ebur128 vs loudnorm measured 0.1 vs 0.06 dBTP on one file):
// accept only results a little under −1 dBTP, and aim further under it when retrying.
const PEAK_SAFETY_DB = 0.1;
const PEAK_MARGIN_DB = 0.3;
const OPUS_LOUDNESS_LOSS_LU = 0.3; // decoded Opus measured ~0.3 LU quieter than the PCM fed in
const FIT_TOLERANCE_LU = 0.25;
const INITIAL_MAKEUP_DB = 11; // typical for eSpeak after the compressor (measured 11–16 dB)
const MAX_FIT_STEPS = 6;
const MAX_ENCODES = 3;
const SILENT_LUFS = -60;
const FFMPEG_TIMEOUT_MS = 5 * 60_000;

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
  const run = (args: string[], input: Buffer) => runFfmpeg([...QUIET, ...args], { input, signal, timeoutMs: FFMPEG_TIMEOUT_MS });

  // --- synthesize (in parallel up to the engine's concurrency, cached sentences skipped) ---
  report('synthesizing', 0);
  const totalChars = chunks.reduce((n, c) => n + c.text.length, 0);
  const speech = await synthesizeChunks({
    engine, chunks, voice, speed, signal, chunkCache: req.chunkCache, concurrency: req.concurrency,
    onChunk: (doneChars) => report('synthesizing', (50 * doneChars) / totalChars),
  });
  const { samples, sampleRate } = speech;
  const engineName = speech.engines.join('+');
  const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const pcmIn = ['-f', 's16le', '-ar', String(sampleRate), '-ac', '1', '-i', 'pipe:0'];

  // --- measure the raw speech ---
  report('encoding', 50);
  const raw = parseEbur128Summary((await run([...pcmIn, '-af', ebur128Filter(false), '-f', 'null', '-'], pcm)).stderr);
  if (raw.lufs < SILENT_LUFS) throw new Error(`${engineName} produced (near) silence: ${raw.lufs} LUFS`);

  let makeupDb = INITIAL_MAKEUP_DB;
  let ceilingDb = INITIAL_CEILING_DB;
  let aimLufs = TARGET_LUFS + OPUS_LOUDNESS_LOSS_LU;
  let best: { ogg: Buffer; final: { lufs: number; truePeakDb: number; durationMs: number } } | null = null;
  for (let encode = 1; ; encode++) {
    // --- fit the make-up gain so the limited PCM lands on the aim (secant steps on measured loudness) ---
    let limited: Buffer = Buffer.alloc(0);
    let prev: { gain: number; lufs: number } | null = null;
    for (let step = 1; step <= MAX_FIT_STEPS; step++) {
      const filter = [loudnessChain({ rawLufs: raw.lufs, makeupDb, ceilingDb }), ebur128Filter(false)].join(',');
      const res = await run([...pcmIn, '-af', filter, '-f', 'f32le', 'pipe:1'], pcm);
      limited = res.stdout;
      const { lufs } = parseEbur128Summary(res.stderr);
      const error = aimLufs - lufs;
      if (Math.abs(error) <= FIT_TOLERANCE_LU) break;
      // Loudness rises slower than the gain once the limiter works; the slope from the last two points
      // says by how much (clamped so a noisy step cannot throw the gain far off).
      const slope = prev && makeupDb !== prev.gain ? clamp((lufs - prev.lufs) / (makeupDb - prev.gain), 0.2, 1) : 1;
      prev = { gain: makeupDb, lufs };
      makeupDb += error / slope;
    }
    report('encoding', 50 + 15 * encode);

    // --- encode, then decode and measure what the speaker will actually play ---
    const ogg = (await run(['-f', 'f32le', '-ar', String(OUTPUT_RATE), '-ac', '1', '-i', 'pipe:0', ...OPUS_OUTPUT_ARGS, 'pipe:1'], limited)).stdout;
    const final = await measureDecoded(ogg, run);
    const peakOk = final.truePeakDb <= MAX_TRUE_PEAK_DB - PEAK_SAFETY_DB;
    const loudOk = Math.abs(final.lufs - TARGET_LUFS) <= LUFS_TOLERANCE;
    if (peakOk && loudOk) {
      report('encoding', 100);
      return {
        ogg, durationMs: final.durationMs, lufs: final.lufs, truePeakDb: final.truePeakDb, engine: engineName,
        chunks: { synthesized: speech.synthesizedChunks, cached: speech.cachedChunks },
      };
    }
    if (peakOk && (!best || Math.abs(final.lufs - TARGET_LUFS) < Math.abs(best.final.lufs - TARGET_LUFS))) best = { ogg, final };
    if (encode >= MAX_ENCODES) {
      // A peak-safe file a little off the loudness target still airs (a storm warning must not fail on
      // 1 LU); its measured loudness is recorded with the bulletin. A file that would clip never airs.
      if (best) {
        report('encoding', 100);
        return {
          ogg: best.ogg, durationMs: best.final.durationMs, lufs: best.final.lufs, truePeakDb: best.final.truePeakDb, engine: engineName,
          chunks: { synthesized: speech.synthesizedChunks, cached: speech.cachedChunks },
        };
      }
      throw new Error(`loudness not reached after ${encode} encodes: ${final.lufs} LUFS, ${final.truePeakDb} dBTP (want ${TARGET_LUFS}±${LUFS_TOLERANCE} LUFS, ≤ ${MAX_TRUE_PEAK_DB} dBTP)`);
    }
    if (!peakOk) ceilingDb = Math.max(MIN_CEILING_DB, ceilingDb - (final.truePeakDb - MAX_TRUE_PEAK_DB) - PEAK_MARGIN_DB);
    aimLufs += TARGET_LUFS - final.lufs;
  }
}

type Run = (args: string[], input: Buffer) => Promise<{ stdout: Buffer; stderr: string }>;

/** Decodes the Ogg as a player would and measures loudness, true peak and duration in one pass. */
async function measureDecoded(ogg: Buffer, run: Run): Promise<{ lufs: number; truePeakDb: number; durationMs: number }> {
  const res = await run(['-f', 'ogg', '-i', 'pipe:0', '-af', ebur128Filter(true), '-ac', '1', '-ar', String(OUTPUT_RATE), '-f', 's16le', 'pipe:1'], ogg);
  const { lufs, truePeakDb } = parseEbur128Summary(res.stderr);
  if (truePeakDb === null) throw new Error('ebur128 summary has no true peak');
  return { lufs, truePeakDb, durationMs: Math.round((res.stdout.length / 2 / OUTPUT_RATE) * 1000) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

// PCM plumbing shared by the engines and the pipeline: decode provider audio, resample, join chunks.

import { runFfmpeg, FfmpegError } from './ffmpeg.js';
import { parseWav } from './wav.js';
import { packChunks, splitIntoChunks } from './text-chunks.js';
import { mapWithConcurrency } from './concurrency.js';
import { TtsError } from './tts-errors.js';
import type { Pcm } from './tts-engine.js';

const QUIET = ['-hide_banner', '-nostats', '-v', 'error'];
const DECODE_TIMEOUT_MS = 60_000;

/**
 * Decodes whatever a provider sent (MP3, WAV in any sample format, stereo) to mono 16-bit PCM at its own
 * rate. ffmpeg writes a WAV to the pipe so the rate travels with the samples; parseWav accepts the
 * unpatched size fields a piped WAV has.
 */
export async function decodeAudio(bytes: Buffer, engine: string, signal?: AbortSignal): Promise<Pcm> {
  if (bytes.length === 0) throw new TtsError(engine, 'audio', 'returned an empty audio file');
  try {
    const { stdout } = await runFfmpeg(
      [...QUIET, '-i', 'pipe:0', '-map_metadata', '-1', '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'],
      { input: bytes, signal, timeoutMs: DECODE_TIMEOUT_MS },
    );
    const pcm = parseWav(stdout);
    if (pcm.samples.length === 0) throw new Error('no samples');
    return pcm;
  } catch (err) {
    if (signal?.aborted) throw err;
    const why = err instanceof FfmpegError ? err.stderrTail.split('\n').at(-1) : err instanceof Error ? err.message : String(err);
    throw new TtsError(engine, 'audio', `returned audio that cannot be decoded (${bytes.length} bytes): ${why}`, { cause: err });
  }
}

/** Only needed when chunks of one text come from engines with different rates (after a fallback). */
export async function resamplePcm(pcm: Pcm, sampleRate: number, signal?: AbortSignal): Promise<Pcm> {
  if (pcm.sampleRate === sampleRate) return pcm;
  const input = Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
  const raw = ['-f', 's16le', '-ac', '1'];
  const { stdout } = await runFfmpeg(
    [...QUIET, ...raw, '-ar', String(pcm.sampleRate), '-i', 'pipe:0', ...raw, '-ar', String(sampleRate), 'pipe:1'],
    { input, signal, timeoutMs: DECODE_TIMEOUT_MS },
  );
  const samples = new Int16Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length - (stdout.length % 2)));
  return { ...pcm, samples, sampleRate };
}

export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * For a text longer than one provider request may carry: split at sentence ends and pack whole sentences
 * into pieces of at most `maxChars` (text-chunks.ts), synthesize the pieces with at most `concurrency` in flight, and join them with the
 * same pauses the pipeline uses between sentences. A short text is one call.
 */
export async function synthesizeLongText(
  text: string,
  opts: { engine: string; maxChars: number; concurrency: number },
  one: (piece: string) => Promise<Pcm>,
): Promise<Pcm> {
  if (text.length <= opts.maxChars) return one(text);
  const pieces = packChunks(splitIntoChunks(text, opts.maxChars), opts.maxChars);
  if (pieces.length === 0) throw new TtsError(opts.engine, 'unsupported', 'text has nothing to say');
  const pcms = await mapWithConcurrency(pieces, opts.concurrency, (p) => one(p.text));
  const rate = pcms[0]!.sampleRate;
  const parts: Int16Array[] = [];
  pcms.forEach((pcm, i) => {
    if (pcm.sampleRate !== rate) throw new TtsError(opts.engine, 'audio', `returned ${pcm.sampleRate} Hz after ${rate} Hz within one text`);
    parts.push(pcm.samples);
    if (i < pcms.length - 1) parts.push(new Int16Array(Math.round((rate * pieces[i]!.pauseAfterMs) / 1000)));
  });
  return { samples: concatSamples(parts), sampleRate: rate };
}

/**
 * Uploaded recordings (MP3, WAV, M4A …): checked by decoding them with ffmpeg — never by their name — and
 * brought to the same broadcast loudness and Opus format as synthesized speech.
 */
import { runFfmpeg, parseWav, renderSpeech, type Pcm, type TtsEngine } from '../audio/index.js';
import type { RenderedSpeech } from './bulletin-service.js';

const QUIET = ['-hide_banner', '-nostats', '-v', 'error'];
export const MAX_RECORDING_MS = 2 * 3600_000;
export const MIN_RECORDING_MS = 300;

export class NotAudioError extends Error {}

/**
 * Decodes a file to mono PCM. The file is read from disk rather than a pipe: M4A keeps its index at the
 * end, which ffmpeg can only reach on a seekable input.
 */
export async function decodeRecording(path: string, signal?: AbortSignal): Promise<Pcm> {
  let wav: Buffer;
  try {
    ({ stdout: wav } = await runFfmpeg([...QUIET, '-i', path, '-map', '0:a:0', '-map_metadata', '-1', '-ac', '1', '-ar', '24000', '-c:a', 'pcm_s16le', '-t', String(MAX_RECORDING_MS / 1000 + 1), '-f', 'wav', 'pipe:1'], { timeoutMs: 5 * 60_000, ...(signal ? { signal } : {}) }));
  } catch (err) {
    throw new NotAudioError(`not an audio file ffmpeg can read (${(err as Error).message.split('\n').filter(Boolean).at(-1) ?? 'decode failed'})`);
  }
  const pcm = parseWav(wav);
  const ms = (pcm.samples.length / pcm.sampleRate) * 1000;
  if (ms < MIN_RECORDING_MS) throw new NotAudioError(`the recording is too short (${Math.round(ms)} ms)`);
  if (ms > MAX_RECORDING_MS) throw new NotAudioError('the recording is longer than 2 hours');
  return pcm;
}

/**
 * Feeds a decoded recording to the speech pipeline as if an engine had produced it, so recordings get
 * exactly the loudness processing and encoding of synthesized bulletins.
 */
class RecordingSource implements TtsEngine {
  readonly name = 'recording';
  constructor(private readonly pcm: Pcm) {}
  async synthesize(): Promise<Pcm> {
    return this.pcm;
  }
}

export async function renderRecording(path: string, onProgress: (percent: number, stage: string) => void): Promise<RenderedSpeech> {
  const pcm = await decodeRecording(path);
  // One chunk of placeholder text: the source ignores the text and answers the whole recording at once.
  const out = await renderSpeech({ engine: new RecordingSource(pcm), text: 'recording', voice: 'vi', speed: 1, onProgress });
  return { ogg: out.ogg, durationMs: out.durationMs, lufs: out.lufs, truePeakDb: out.truePeakDb, engine: 'recording' };
}

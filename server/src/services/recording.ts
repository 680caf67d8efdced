/**
 * Uploaded recordings (MP3, WAV, M4A …): checked by decoding them with ffmpeg — never by their name — and
 * brought to the same broadcast loudness and Opus format as synthesized speech.
 *
 * An upload is hostile until decoded. ffmpeg reads only the file itself, through the demuxers of audio
 * formats: a playlist (HLS `#EXTM3U`) or concat list would otherwise make it read other files of the
 * server, or URLs, into the recording. What it decodes is capped at MAX_RECORDING_MS whatever the file
 * declares (a 2 MB FLAC holds 3 hours of silence), and so is the largest block it allocates (a 200 KB WAV
 * at 1 Hz claims 55 hours and decodes into 200 MB frames). A file ffmpeg reports damaged, a WAV shorter
 * than its header says and a silent one are refused, and error messages never carry the server's paths.
 */
import { open } from 'node:fs/promises';
import { runFfmpeg, parseWav, renderSpeech, MAX_AUDIO_MS, type Pcm, type TtsEngine } from '../audio/index.js';
import { Limiter } from '../audio/concurrency.js';
import type { RenderedSpeech } from './bulletin-service.js';

const QUIET = ['-hide_banner', '-nostats', '-v', 'error'];
/** Demuxers of audio (and audio-in-video) containers: mov covers M4A/MP4/3GP, matroska WebM, asf WMA. */
const AUDIO_DEMUXERS = 'mp3,wav,w64,mov,ogg,flac,aac,matroska,asf,amr,aiff,caf,wv';
/**
 * No single allocation over 64 MiB: a WAV at 1 Hz resampled to 24 kHz makes frames of ~200 MB each (ffmpeg
 * reached 576 MB for one such 200 KB file); real recordings never need blocks near this size.
 */
const MAX_ALLOC_BYTES = 64 * 1024 * 1024;
const INPUT_GUARDS = ['-max_alloc', String(MAX_ALLOC_BYTES), '-protocol_whitelist', 'file', '-format_whitelist', AUDIO_DEMUXERS];
/** The pipeline's own limit: mastering needs ~60 MB of memory per minute of audio (audio/pipeline.ts). */
export const MAX_RECORDING_MS = MAX_AUDIO_MS;
export const MIN_RECORDING_MS = 300;
/** Decoding 30 minutes takes seconds; this only stops a decoder that hangs. */
const DECODE_TIMEOUT_MS = 2 * 60_000;
/** Silent: no sample above −60 dBFS. */
const SILENT_PEAK = 33;
/** Each decode holds up to 2 × 86 MB (30 minutes at 24 kHz, and its copy): a few uploads at once, not dozens. */
const decodes = new Limiter(2);

export class NotAudioError extends Error {}

/**
 * Decodes a file to mono PCM. The file is read from disk rather than a pipe: M4A keeps its index at the
 * end, which ffmpeg can only reach on a seekable input.
 */
export async function decodeRecording(path: string, signal?: AbortSignal): Promise<Pcm> {
  const short = await wavShortfall(path);
  if (short) throw new NotAudioError(`the recording is cut short: ${short}: export it again`);
  const limitS = MAX_RECORDING_MS / 1000;
  let wav: Buffer;
  let stderr: string;
  try {
    ({ stdout: wav, stderr } = await decodes.run(() =>
      runFfmpeg([...QUIET, ...INPUT_GUARDS, '-i', path, '-map', '0:a:0', '-map_metadata', '-1', '-ac', '1', '-ar', '24000', '-c:a', 'pcm_s16le', '-t', String(limitS + 1), '-f', 'wav', 'pipe:1'], { timeoutMs: DECODE_TIMEOUT_MS, ...(signal ? { signal } : {}) }),
    ));
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('Cannot allocate memory')) throw new NotAudioError('not a usable audio file: decoding it would take too much memory (an absurd sample rate or frame size)');
    throw new NotAudioError(`not an audio file ffmpeg can read (${lastLine(message, path) || 'decode failed'})`);
  }
  // At `-v error` a clean decode prints nothing; an error means frames were lost (a file cut off in the
  // middle, or corrupt), and the broadcast would silently be shorter than what the operator recorded.
  if (stderr.trim()) throw new NotAudioError(`the recording is damaged or cut short (${lastLine(stderr, path)}): export it again`);
  const pcm = parseWav(wav);
  const ms = (pcm.samples.length / pcm.sampleRate) * 1000;
  if (ms < MIN_RECORDING_MS) throw new NotAudioError(`the recording is too short (${Math.round(ms)} ms)`);
  if (ms > MAX_RECORDING_MS) throw new NotAudioError(`the recording is longer than ${limitS / 60} minutes: split it into several bulletins`);
  if (!pcm.samples.some((s) => s >= SILENT_PEAK || s <= -SILENT_PEAK)) throw new NotAudioError('the recording is silent');
  return pcm;
}

/** The last line of an ffmpeg message, without the server's path of the upload or memory addresses. */
function lastLine(text: string, path: string): string {
  const line = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return line.split(path).join('the file').replace(/ @ 0x[0-9a-f]+/g, '').slice(0, 300);
}

/**
 * For a WAV file: what is missing when its header announces more audio than the file holds (a recorder that
 * stopped mid-write, a cut download). ffmpeg would decode what is there without a word. Sizes 0 and
 * 0xFFFFFFFF mean "unknown" (written by streaming recorders) and are not a shortfall.
 */
async function wavShortfall(path: string): Promise<string | null> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await file.read(head, 0, head.length, 0);
    if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return null;
    for (let at = 12; at + 8 <= head.length; ) {
      const id = head.toString('latin1', at, at + 4);
      const length = head.readUInt32LE(at + 4);
      if (id === 'data') {
        const held = size - (at + 8);
        return length !== 0 && length !== 0xffffffff && length > held ? `its header announces ${length} bytes of audio, the file holds ${held}` : null;
      }
      at += 8 + length + (length & 1);
    }
    return null;
  } finally {
    await file.close();
  }
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
  return masterPcm(await decodeRecording(path), 'recording', onProgress);
}

/**
 * Audio made on the server (a programme's bell, music mixed under speech: issue 15) given exactly the loudness
 * treatment and encoding uploads get, through the same pipeline.
 */
export async function masterPcm(pcm: Pcm, engine: string, onProgress?: (percent: number, stage: string) => void): Promise<RenderedSpeech> {
  // One chunk of placeholder text: the source ignores the text and answers the whole audio at once.
  const out = await renderSpeech({ engine: new RecordingSource(pcm), text: 'recording', voice: 'vi', speed: 1, ...(onProgress ? { onProgress } : {}) });
  return { ogg: out.ogg, durationMs: out.durationMs, lufs: out.lufs, truePeakDb: out.truePeakDb, engine };
}

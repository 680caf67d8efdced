/**
 * The files a programme (issue 15) needs beyond its bulletins' own audio, and its preview:
 * - the built-in bell (audio/chime.ts) as an item of its own, mastered like any broadcast audio;
 * - music under speech: the music alone for the lead-in, lowered by `duckDb` while the speech plays (300 ms
 *   ramps, so the drop is heard as a fade rather than a cut), back up for the tail, looped or cut to fit; the
 *   mix then gets the loudness treatment uploads get (recording.ts `masterPcm`: −16 LUFS, ≤ −1 dBTP);
 * - the preview: the whole programme joined into one MP3, relay segments as a 1.5 s two-beep marker, pauses as
 *   silence of at most 10 s.
 * Files are decoded by ffmpeg (the media store's own Ogg/Opus) and mixed as PCM here, where the gain curve is
 * exact and testable; the old static ffmpeg (2018) has no `amix` without its 1/n scaling.
 */
import { loadChime, runFfmpeg, parseWav, MAX_AUDIO_MS, type MediaStore, type Pcm } from '../audio/index.js';
import { Limiter } from '../audio/concurrency.js';
import { MP3_OUTPUT_ARGS } from '../audio/loudness-chain.js';
import { masterPcm } from './recording.js';

export const RATE = 24_000;
/** The ramp of the music down before the speech and up after it. */
export const DUCK_RAMP_MS = 300;
/** A preview plays each pause for at most this long (the contract: `programmePreviewBodySchema`). */
export const PREVIEW_PAUSE_MAX_MS = 10_000;
/** The marker that stands for a relay segment in a preview. */
export const RELAY_MARKER_MS = 1_500;
/**
 * The longest preview made: the pipeline's own limit on audio, which bounds memory (30 minutes of 24 kHz
 * mono is 86 MB); Quảng Nam's programmes are 10–15 minutes.
 */
export const PREVIEW_MAX_MS = MAX_AUDIO_MS;
const QUIET = ['-hide_banner', '-nostats', '-v', 'error'];
/** Mixing and previews decode whole files: a few at once, not one per operator clicking "listen". */
const work = new Limiter(2);

export class PreviewTooLongError extends Error {}

export interface StoredAudio {
  sha256: string;
  durationMs: number;
  bytes: number;
}

/** A stored file decoded to mono 16-bit PCM at RATE. */
export async function decodeStored(media: MediaStore, sha256: string): Promise<Pcm> {
  const path = media.path(sha256);
  if (!path) throw new Error(`media ${sha256} is missing from the store`);
  const { stdout } = await runFfmpeg([...QUIET, '-i', `file:${path}`, '-map_metadata', '-1', '-ac', '1', '-ar', String(RATE), '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'], { timeoutMs: 120_000 });
  return parseWav(stdout);
}

async function store(media: MediaStore, pcm: Pcm, engine: string): Promise<StoredAudio> {
  const out = await masterPcm(pcm, engine);
  const stored = await media.put(out.ogg, 'ogg');
  return { sha256: stored.sha256, bytes: stored.bytes, durationMs: out.durationMs };
}

/**
 * Bells already made, per media store: one per store, not per process — two servers in one process (tests, a
 * tool) each keep their own files, and a bell cached by kind alone named a file the second store did not
 * have (the box then got 404 for it). A bell whose file has since gone is made again.
 */
const bells = new WeakMap<MediaStore, Map<string, Promise<StoredAudio>>>();

/** The built-in bell as a programme item: made and mastered once per media store and kind, stored by its hash. */
export async function bellAudio(media: MediaStore, kind: 'intro' | 'outro'): Promise<StoredAudio> {
  let mine = bells.get(media);
  if (!mine) bells.set(media, (mine = new Map()));
  const cached = mine.get(kind);
  if (cached) {
    const bell = await cached.catch(() => null);
    if (bell && media.path(bell.sha256)) return bell;
    if (mine.get(kind) === cached) mine.delete(kind);
  }
  let made = mine.get(kind);
  if (!made) {
    made = loadChime('default', kind, RATE).then((c) => store(media, { samples: c.samples, sampleRate: RATE }, 'bell'));
    mine.set(kind, made);
    made.catch(() => mine.delete(kind));
  }
  return made;
}

/** The music's gain at sample `i` (linear): 1 in the lead-in and tail, 10^(−duckDb/20) under the speech, dB ramps between. */
export function duckGain(i: number, o: { lead: number; speech: number; ramp: number; duckDb: number }): number {
  const down = Math.min(1, Math.max(0, (i - (o.lead - o.ramp)) / o.ramp));
  const up = Math.min(1, Math.max(0, (o.lead + o.speech + o.ramp - i) / o.ramp));
  return 10 ** ((-o.duckDb * Math.min(down, up)) / 20);
}

/** Music under speech, mixed as PCM (both decoded at RATE; both already at broadcast loudness). */
export function mixUnderSpeech(music: Int16Array, speech: Int16Array, o: { duckDb: number; leadInMs: number; tailMs: number }): Int16Array {
  const lead = Math.round((o.leadInMs * RATE) / 1000);
  const tail = Math.round((o.tailMs * RATE) / 1000);
  const total = lead + speech.length + tail;
  const shape = { lead, speech: speech.length, ramp: Math.round((DUCK_RAMP_MS * RATE) / 1000), duckDb: o.duckDb };
  // The music starts and ends with short fades: looped or cut, it never clicks.
  const fadeIn = Math.round(0.02 * RATE);
  const fadeOut = Math.min(Math.round((DUCK_RAMP_MS * RATE) / 1000), tail || Math.round(0.02 * RATE));
  const mixed = new Float32Array(total);
  let peak = 1;
  for (let i = 0; i < total; i++) {
    const edge = Math.min(1, i / fadeIn, (total - i) / fadeOut);
    const m = music.length ? (music[i % music.length] as number) * duckGain(i, shape) * edge : 0;
    const s = i >= lead && i < lead + speech.length ? (speech[i - lead] as number) : 0;
    mixed[i] = m + s;
    peak = Math.max(peak, Math.abs(m + s));
  }
  // Headroom only: the loudness chain sets the level afterwards.
  const scale = peak > 32_000 ? 32_000 / peak : 1;
  return Int16Array.from(mixed, (v) => Math.round(v * scale));
}

/** Mixes stored music under stored speech and stores the mastered result. */
export function musicUnderSpeechAudio(media: MediaStore, musicSha: string, speechSha: string, o: { duckDb: number; leadInMs: number; tailMs: number }): Promise<StoredAudio> {
  return work.run(async () => {
    const [music, speech] = await Promise.all([decodeStored(media, musicSha), decodeStored(media, speechSha)]);
    return store(media, { samples: mixUnderSpeech(music.samples, speech.samples, o), sampleRate: RATE }, 'music-under-speech');
  });
}

/** Two short beeps in 1.5 s: "a live relay airs here" in a preview, without the live source. */
export function relayMarker(): Int16Array {
  const out = new Int16Array(Math.round((RELAY_MARKER_MS * RATE) / 1000));
  const beep = Math.round(0.25 * RATE);
  const fade = Math.round(0.01 * RATE);
  for (const start of [0.2, 0.75].map((s) => Math.round(s * RATE))) {
    for (let i = 0; i < beep; i++) {
      const edge = Math.min(1, i / fade, (beep - i) / fade);
      out[start + i] = Math.round(8_000 * edge * Math.sin((2 * Math.PI * 880 * i) / RATE));
    }
  }
  return out;
}

/**
 * A part of a preview: a stored file, music mixed under speech in memory (a preview stores nothing: issue 15
 * review, every preview left its mixes in the media store for good), the relay marker, or a pause.
 */
export type PreviewPart =
  | { kind: 'file'; sha256: string }
  | { kind: 'mix'; musicSha: string; speechSha: string; o: { duckDb: number; leadInMs: number; tailMs: number } }
  | { kind: 'relay' }
  | { kind: 'pause'; ms: number };

/** What a preview will last, before any decoding (so an over-long one is refused at once). */
export function previewLengthMs(parts: readonly PreviewPart[], fileMs: (sha256: string) => number): number {
  const ms = (p: PreviewPart): number =>
    p.kind === 'file' ? fileMs(p.sha256) : p.kind === 'mix' ? p.o.leadInMs + fileMs(p.speechSha) + p.o.tailMs : p.kind === 'relay' ? RELAY_MARKER_MS : Math.min(p.ms, PREVIEW_PAUSE_MAX_MS);
  return parts.reduce((n, p) => n + ms(p), 0);
}

/** The whole programme as one MP3 (48 kbps mono, the download format). */
export function previewMp3(media: MediaStore, parts: readonly PreviewPart[]): Promise<Buffer> {
  return work.run(async () => {
    const pieces: Int16Array[] = [];
    let length = 0;
    for (const p of parts) {
      let piece: Int16Array;
      if (p.kind === 'file') piece = (await decodeStored(media, p.sha256)).samples;
      else if (p.kind === 'mix') {
        const [music, speech] = await Promise.all([decodeStored(media, p.musicSha), decodeStored(media, p.speechSha)]);
        piece = mixUnderSpeech(music.samples, speech.samples, p.o);
      } else if (p.kind === 'relay') piece = relayMarker();
      else piece = new Int16Array(Math.round((Math.min(p.ms, PREVIEW_PAUSE_MAX_MS) * RATE) / 1000));
      length += piece.length;
      if ((length / RATE) * 1000 > PREVIEW_MAX_MS) throw new PreviewTooLongError(`the preview would last over ${PREVIEW_MAX_MS / 60_000} minutes`);
      pieces.push(piece);
    }
    const joined = new Int16Array(length);
    let at = 0;
    for (const p of pieces) {
      joined.set(p, at);
      at += p.length;
    }
    const input = Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength);
    const { stdout } = await runFfmpeg([...QUIET, '-f', 's16le', '-ar', String(RATE), '-ac', '1', '-i', 'pipe:0', ...MP3_OUTPUT_ARGS, 'pipe:1'], { input, timeoutMs: 120_000 });
    return stdout;
  });
}

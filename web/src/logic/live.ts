/**
 * Live voice and in-app recording (issue 16), the parts without a browser: which recorder format to ask for,
 * the level meter's scale, the elapsed time, the server's socket messages, why a microphone was refused, and
 * the recording's trim and WAV encoding. The views (views/golive/, views/compose/InAppRecorder.tsx) hold the
 * microphone, the MediaRecorder, the WebSocket and the AudioContext; everything here is tested without them.
 */
import type { LiveEndReason, LiveServerMessage, Priority } from '@loaxa/shared/api';

/**
 * What the server accepts on the live socket (LIVE_INPUT_TYPES), best first: Opus in WebM (Chrome, Android,
 * Firefox), Opus in Ogg (older Firefox), AAC in MP4 (iPhone Safari, which makes nothing else).
 */
export const LIVE_MIME_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'] as const;
/** The contract's chunk length: short chunks keep the mouth-to-speaker delay under the 2 s. */
export const LIVE_TIMESLICE_MS = 100;
/** Enough for clear speech and little enough for a 3G uplink (6 KB/s). */
export const LIVE_BITS_PER_SECOND = 48_000;
/** The server sends a level every 100 ms: this long without any message means the link is gone. */
export const LIVE_SILENT_LINK_MS = 4_000;
/** Audio waiting in the socket's send buffer beyond this is heard late on the speakers: the page warns. */
export const LIVE_BACKLOG_WARN_MS = 1_500;

/** The first type the browser's MediaRecorder can make, or null when it makes none the server takes. */
export function chooseMimeType(isSupported: (type: string) => boolean, preference: readonly string[] = LIVE_MIME_TYPES): string | null {
  for (const type of preference) {
    try {
      if (isSupported(type)) return type;
    } catch {
      // Some browsers throw on a type they do not know instead of answering false.
    }
  }
  return null;
}

/** The meter's floor: quieter than this shows an empty bar (a room's noise sits around −60 dBFS). */
export const METER_FLOOR_DB = -60;

/** dBFS (null: silence) → 0–100 % of the meter, linear in dB as broadcast meters are. */
export function meterPercent(db: number | null, floorDb = METER_FLOOR_DB): number {
  if (db === null || !Number.isFinite(db) || db <= floorDb) return 0;
  if (db >= 0) return 100;
  return Math.round(((db - floorDb) / -floorDb) * 1000) / 10;
}

export type MeterZone = 'quiet' | 'good' | 'loud';
/**
 * Whether the voice reaches the microphone well: speech far from the phone averages under −40 dBFS (the
 * server's level control lifts it but also the room); peaks at −1 dBFS and above are clipped by the phone.
 */
export function meterZone(peakDb: number | null, rmsDb: number | null): MeterZone {
  if (peakDb !== null && peakDb >= -1) return 'loud';
  if (rmsDb === null || rmsDb < -40) return 'quiet';
  return 'good';
}

/** Peak and RMS in dBFS of one block of samples (the local meter before the server's levels arrive). */
export function blockLevels(samples: ArrayLike<number>): { peakDb: number | null; rmsDb: number | null } {
  let peak = 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = Math.abs(samples[i]!);
    if (v > peak) peak = v;
    sum += v * v;
  }
  const rms = samples.length ? Math.sqrt(sum / samples.length) : 0;
  const db = (x: number) => (x > 0 ? Math.round(20 * Math.log10(x) * 10) / 10 : null);
  return { peakDb: db(peak), rmsDb: db(rms) };
}

/** 65_400 → "1:05", 3_723_000 → "1:02:03": whole seconds only, rounded down (a running clock, unlike fmtDuration's rounded length). */
export function fmtElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * A recording's length to the tenth of a second, as the trim fields count: "2,5 giây" under a minute (a
 * trim of half a second must show), "1:05" beyond.
 */
export function fmtTakeLength(ms: number): string {
  if (ms >= 60_000) return fmtElapsed(ms);
  return `${(Math.max(0, Math.round(ms / 100)) / 10).toFixed(1).replace('.', ',')} giây`;
}

/** Milliseconds of audio still in the socket's send buffer, at the recorder's bit rate. */
export function backlogMs(bufferedBytes: number, bitsPerSecond = LIVE_BITS_PER_SECOND): number {
  return bitsPerSecond > 0 ? Math.round((bufferedBytes * 8 * 1000) / bitsPerSecond) : 0;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isDb = (v: unknown): v is number | null => v === null || isNum(v);

/**
 * A text frame of the server (liveServerMessageSchema) checked field by field, or null for anything else:
 * the app ships without zod, and an unknown frame (a newer server's) is ignored rather than trusted.
 */
export function parseServerMessage(text: unknown): LiveServerMessage | null {
  if (typeof text !== 'string') return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case 'level':
      return isDb(m.peakDb) && isDb(m.rmsDb) && isNum(m.elapsedMs) ? { type: 'level', peakDb: m.peakDb, rmsDb: m.rmsDb, elapsedMs: m.elapsedMs } : null;
    case 'boxes':
      return isNum(m.playing) && isNum(m.listening) && isNum(m.total) ? { type: 'boxes', playing: m.playing, listening: m.listening, total: m.total } : null;
    case 'ended':
      return typeof m.reason === 'string' && isNum(m.airedMs) ? { type: 'ended', reason: m.reason as LiveEndReason, airedMs: m.airedMs } : null;
    case 'error':
      return typeof m.message === 'string' ? { type: 'error', message: m.message } : null;
    default:
      return null;
  }
}

/**
 * The priorities a refusal of `POST /api/v1/live` says the user may use instead (server/src/live/live-roles.ts:
 * "…; you may go live at normal or priority (ưu tiên). …"), so the page can name them in Vietnamese.
 */
export function allowedPriorities(message: string): Priority[] {
  const clause = /you may go live at ([^.;]*)/i.exec(message)?.[1] ?? '';
  return (['normal', 'priority', 'emergency'] as const).filter((p) => new RegExp(`(^|[\\s,])${p}\\b`).test(clause));
}

/** The socket's address for the session's `audioPath`, on the page's own origin (the session cookie goes along). */
export function socketUrl(audioPath: string, loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${audioPath}`;
}

export type MicProblem = 'insecure' | 'unsupported' | 'denied' | 'missing' | 'busy' | 'other';
/**
 * Why the microphone could not be opened, from getUserMedia's DOMException name. Browsers offer no
 * microphone at all on a page not served over https (or localhost): `mediaDevices` is then undefined.
 */
export function micProblem(errorName: string | null, env: { secure: boolean; hasMediaDevices: boolean; hasRecorder: boolean }): MicProblem {
  if (!env.secure) return 'insecure';
  if (!env.hasMediaDevices || !env.hasRecorder) return 'unsupported';
  switch (errorName) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'other';
  }
}

// ---- recording in the app: trim and WAV ----

/** The server refuses recordings under 0.3 s; the trim keeps at least this much. */
export const TRIM_MIN_MS = 500;
/**
 * The longest recording in the app: 15 minutes of 48 kHz mono 16-bit WAV is 86 MB, under the upload limit
 * (100 MiB) that the WAV sent must respect. Longer announcements are recorded elsewhere and uploaded.
 */
export const RECORD_MAX_MS = 15 * 60_000;

export interface Trim {
  startMs: number;
  endMs: number;
}

/**
 * A trim made valid for a recording `durationMs` long: both ends inside it, in 10 ms steps, and at least
 * TRIM_MIN_MS apart (the end moved first, then the start, so the last handle moved wins where it can).
 */
export function clampTrim(trim: Trim, durationMs: number, minMs = TRIM_MIN_MS): Trim {
  const dur = Math.max(0, durationMs);
  const round = (v: number) => Math.round((Number.isFinite(v) ? v : 0) / 10) * 10;
  const gap = Math.min(minMs, dur);
  let startMs = Math.min(Math.max(0, round(trim.startMs)), dur);
  let endMs = Math.min(Math.max(0, round(trim.endMs)), dur);
  if (endMs - startMs < gap) {
    endMs = Math.min(dur, startMs + gap);
    startMs = Math.max(0, endMs - gap);
  }
  return { startMs, endMs };
}

/** The sample range of a trim at `sampleRate`. */
export function trimFrames(trim: Trim, sampleRate: number, frames: number): { from: number; to: number } {
  const from = Math.min(frames, Math.max(0, Math.round((trim.startMs / 1000) * sampleRate)));
  const to = Math.min(frames, Math.max(from, Math.round((trim.endMs / 1000) * sampleRate)));
  return { from, to };
}

/**
 * The channels mixed to one (a phone's microphone is mono; a stereo take is the same voice twice), only the
 * trimmed part: a mono WAV is half the upload of a stereo one.
 */
export function mixTrimmed(channels: readonly Float32Array[], sampleRate: number, trim: Trim): Float32Array {
  const frames = channels[0]?.length ?? 0;
  const { from, to } = trimFrames(trim, sampleRate, frames);
  if (channels.length === 1) return channels[0]!.slice(from, to);
  const out = new Float32Array(to - from);
  for (const ch of channels) for (let i = from; i < to; i++) out[i - from]! += ch[i]! / channels.length;
  return out;
}

/** A WAV file (RIFF, PCM 16-bit little-endian, mono) of float samples in −1…1, clipped at full scale. */
export function encodeWav(samples: Float32Array, sampleRate: number): ArrayBuffer {
  const bytes = samples.length * 2;
  const buf = new ArrayBuffer(44 + bytes);
  const v = new DataView(buf);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + bytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // the fmt chunk's length
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // one channel
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); // bytes per second
  v.setUint16(32, 2, true); // bytes per frame
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, bytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    v.setInt16(44 + i * 2, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
  }
  return buf;
}

/** The bytes of the WAV a trimmed recording becomes (to refuse one over the upload limit before sending it). */
export function wavBytes(trim: Trim, sampleRate: number): number {
  return 44 + Math.round(((trim.endMs - trim.startMs) / 1000) * sampleRate) * 2;
}

/** The loudest absolute sample of each of `buckets` equal parts: the waveform drawn under the trim handles. */
export function waveformPeaks(samples: ArrayLike<number>, buckets: number): number[] {
  const n = Math.max(1, Math.floor(buckets));
  const out = new Array<number>(n).fill(0);
  if (!samples.length) return out;
  const per = samples.length / n;
  for (let b = 0; b < n; b++) {
    const end = Math.min(samples.length, Math.floor((b + 1) * per));
    let peak = 0;
    for (let i = Math.floor(b * per); i < end; i++) peak = Math.max(peak, Math.abs(samples[i]!));
    out[b] = Math.min(1, peak);
  }
  return out;
}

/** A recording's file name from its title: ASCII only (multipart names are read byte by byte by some servers). */
export function recordingFileName(title: string): string {
  const slug = title
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${slug || 'ghi-am'}.wav`;
}

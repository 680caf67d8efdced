/**
 * How many seconds of audio a listener actually received, counted from the stream's own framing rather than
 * bytes × nominal bitrate (issue 15's bench:relay: "every box's received seconds"): a byte count says nothing
 * about a stream that stalls and then bursts, nor about one whose bitrate is not what it claims.
 *
 * - MP3 (MPEG-1/2/2.5 Layer III): each frame header gives its sample rate and length; a frame is 1152
 *   samples (MPEG-1) or 576 (MPEG-2/2.5). A header is trusted once the next one is found where it says
 *   (or while in sync), so a 0xFFE pattern inside audio data is not mistaken for a frame. A leading ID3v2
 *   tag is skipped, and so is the Xing/Info frame an encoder writes first (no audio).
 * - ADTS AAC: 1024 samples per raw data block, 1–4 blocks a frame.
 * - Ogg (Opus, Vorbis): the granule positions of the pages of one logical stream; the first audio page
 *   seen only sets the origin (its own length is unknown), which matters not, since the bench reads
 *   differences over a window.
 */

export type AudioKind = 'mp3' | 'adts' | 'ogg';

export interface AudioCounter {
  readonly kind: AudioKind;
  /** Feed the bytes as they arrive. Returns the seconds of audio completed by this chunk. */
  push(chunk: Buffer): number;
  /** Seconds of audio received so far. */
  readonly seconds: number;
  /** Bytes that were not part of any recognised frame (lost sync, junk). */
  readonly skippedBytes: number;
}

/** The kind of stream from its Content-Type, or from its first bytes when the type says nothing useful. */
export function audioKind(contentType: string | undefined, firstBytes: Buffer): AudioKind | null {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('mpeg') || ct.includes('mp3')) return 'mp3';
  if (ct.includes('aac')) return 'adts';
  if (ct.includes('ogg') || ct.includes('opus')) return 'ogg';
  if (firstBytes.subarray(0, 4).toString('latin1') === 'OggS') return 'ogg';
  if (firstBytes.subarray(0, 3).toString('latin1') === 'ID3') return 'mp3';
  if (firstBytes.length >= 2 && firstBytes[0] === 0xff && (firstBytes[1]! & 0xf6) === 0xf0) return 'adts';
  if (firstBytes.length >= 2 && firstBytes[0] === 0xff && (firstBytes[1]! & 0xe0) === 0xe0) return 'mp3';
  return null;
}

/**
 * `onFrame` (MP3 and ADTS only) is handed each whole audio frame as it completes, with its duration: bench:live
 * (issue 16) fingerprints the frames to find when each box received the one carrying a marker's onset.
 */
export function createAudioCounter(kind: AudioKind, onFrame?: (frame: Buffer, seconds: number) => void): AudioCounter {
  return kind === 'ogg' ? oggCounter() : frameCounter(kind, onFrame);
}

// ---- MP3 / ADTS: self-describing frames ----------------------------------------------------------------

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface Frame {
  length: number;
  samples: number;
  rate: number;
  /** MP3 only: the frame's bitrate (kb/s). */
  kbps?: number;
}

/** A Layer III frame header at `b[i]`, or null. */
export function mp3Frame(b: Buffer, i: number): Frame | null {
  if (b[i] !== 0xff) return null;
  const b1 = b[i + 1]!;
  const b2 = b[i + 2]!;
  if ((b1 & 0xe0) !== 0xe0) return null;
  const version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
  if (version === 1 || ((b1 >> 1) & 3) !== 1) return null; // Layer III only
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const rate = MP3_RATES[version]![rateIndex]!;
  const kbps = (version === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[bitrateIndex]!;
  const padding = (b2 >> 1) & 1;
  const v1 = version === 3;
  return { length: Math.floor(((v1 ? 144_000 : 72_000) * kbps) / rate) + padding, samples: v1 ? 1152 : 576, rate, kbps };
}

/** An ADTS header at `b[i]` (needs 7 bytes), or null. */
export function adtsFrame(b: Buffer, i: number): Frame | null {
  if (b[i] !== 0xff || (b[i + 1]! & 0xf6) !== 0xf0) return null;
  const rate = ADTS_RATES[(b[i + 2]! >> 2) & 0xf];
  const length = ((b[i + 3]! & 3) << 11) | (b[i + 4]! << 3) | (b[i + 5]! >> 5);
  if (!rate || length < 7) return null;
  return { length, samples: ((b[i + 6]! & 3) + 1) * 1024, rate };
}

/** The Xing/Info tag an MP3 encoder writes in its first frame: a frame of no audio. */
function isXingFrame(b: Buffer, i: number, length: number): boolean {
  const head = b.subarray(i + 4, i + Math.min(length, 48)).toString('latin1');
  return head.includes('Xing') || head.includes('Info');
}

function frameCounter(kind: 'mp3' | 'adts', onFrame?: (frame: Buffer, seconds: number) => void): AudioCounter {
  const parse = kind === 'mp3' ? mp3Frame : adtsFrame;
  const headerBytes = kind === 'mp3' ? 4 : 7;
  let pending: Buffer = Buffer.alloc(0);
  let seconds = 0;
  let skipped = 0;
  let synced = false;
  let first = true;
  return {
    kind,
    get seconds() {
      return seconds;
    },
    get skippedBytes() {
      return skipped;
    },
    push(chunk) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      let got = 0;
      if (first && kind === 'mp3') {
        if (pending.length < 10) return 0;
        first = false;
        if (pending.toString('latin1', 0, 3) === 'ID3') {
          // ID3v2: 10-byte header, then a syncsafe size (7 bits a byte), plus a 10-byte footer if flagged.
          const size = ((pending[6]! & 0x7f) << 21) | ((pending[7]! & 0x7f) << 14) | ((pending[8]! & 0x7f) << 7) | (pending[9]! & 0x7f);
          // The tag itself is skipped as it arrives: count it as consumed once it is all here.
          const total = 10 + size + (pending[5]! & 0x10 ? 10 : 0);
          if (pending.length < total) {
            first = true;
            return 0;
          }
          at = total;
        }
      }
      first = false;
      while (pending.length - at >= headerBytes) {
        const f = parse(pending, at);
        if (f) {
          if (!synced) {
            // Out of sync: trust this header only if the next frame starts where it says.
            if (pending.length - at < f.length + headerBytes) break; // wait for more bytes
            if (!parse(pending, at + f.length)) {
              at++;
              skipped++;
              continue;
            }
            synced = true;
          }
          if (pending.length - at < f.length) break; // the rest of this frame has not arrived yet
          if (!(kind === 'mp3' && isXingFrame(pending, at, f.length))) {
            got += f.samples / f.rate;
            onFrame?.(pending.subarray(at, at + f.length), f.samples / f.rate);
          }
          at += f.length;
        } else {
          synced = false;
          const next = pending.indexOf(0xff, at + 1);
          const to = next < 0 ? pending.length : next;
          skipped += to - at;
          at = to;
        }
      }
      pending = at > 0 ? pending.subarray(at) : pending;
      seconds += got;
      return got;
    },
  };
}

// ---- Ogg: granule positions ------------------------------------------------------------------------------

function oggCounter(): AudioCounter {
  let pending: Buffer = Buffer.alloc(0);
  let seconds = 0;
  let skipped = 0;
  let serial = -1;
  let rate = 48_000;
  let last: bigint | null = null;
  return {
    kind: 'ogg',
    get seconds() {
      return seconds;
    },
    get skippedBytes() {
      return skipped;
    },
    push(chunk) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let got = 0;
      for (;;) {
        const at = pending.indexOf('OggS');
        if (at < 0) {
          skipped += Math.max(0, pending.length - 3);
          pending = pending.subarray(Math.max(0, pending.length - 3));
          break;
        }
        skipped += at;
        pending = pending.subarray(at);
        if (pending.length < 27) break;
        const segments = pending[26]!;
        if (pending.length < 27 + segments) break;
        let length = 27 + segments;
        for (let i = 0; i < segments; i++) length += pending[27 + i]!;
        if (pending.length < length) break;
        const granule = pending.readBigInt64LE(6);
        const pageSerial = pending.readUInt32LE(14);
        const body = pending.subarray(27 + segments, length);
        if (pageSerial !== serial || (pending[5]! & 0x02) !== 0) {
          // A new logical stream (beginning of stream, or a chained one): its header says its clock.
          serial = pageSerial;
          last = null;
          if (body.toString('latin1', 0, 8) === 'OpusHead') rate = 48_000;
          else if (body.toString('latin1', 1, 7) === 'vorbis' && body.length >= 16) rate = body.readUInt32LE(12);
        }
        if (granule > 0n) {
          if (last !== null && granule > last) got += Number(granule - last) / rate;
          last = granule;
        }
        pending = pending.subarray(length);
      }
      seconds += got;
      return got;
    },
  };
}

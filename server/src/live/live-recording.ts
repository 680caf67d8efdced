/**
 * A live airing's recording (issue 16: "every live airing is kept as a recording … and can be aired again"):
 * the processed PCM as it aired, written to a WAV file on disk as it comes — never held in memory, an airing
 * may last two hours (690 MB at 48 kHz). The header is written first with the sizes "unknown" (0xFFFFFFFF,
 * as streaming recorders do: recording.ts and ffmpeg read such a file to its end), so a crash mid-airing
 * leaves a file the next start can still master; `close` writes the real sizes.
 *
 * Only the first MAX_RECORDING_MS are kept: mastering holds the whole audio in memory (~60 MB a minute,
 * audio/pipeline.ts), and an upload is held to the same 30 minutes. The airing itself goes on to the boxes.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { PCM_RATE } from '@loaxa/shared';
import { MAX_RECORDING_MS } from '../services/recording.js';

const BYTES_PER_MS = (PCM_RATE * 2) / 1000;
const UNKNOWN = 0xffffffff;

/** A 44-byte header of s16le mono PCM at PCM_RATE, with `dataBytes` of audio (UNKNOWN while recording). */
function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(dataBytes === UNKNOWN ? UNKNOWN : 36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(PCM_RATE, 24);
  h.writeUInt32LE(PCM_RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export class LiveRecording {
  private out: WriteStream | null = null;
  private bytes = 0;
  private failed: Error | null = null;
  private readonly maxBytes: number;

  constructor(
    readonly path: string,
    maxMs = MAX_RECORDING_MS,
  ) {
    this.maxBytes = Math.floor(maxMs * BYTES_PER_MS) & ~1;
  }

  /** Synchronous, so that no audio the encoder gives right after its start is missed. */
  open(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    this.out = createWriteStream(this.path, { mode: 0o600 });
    // A full disk must not stop the airing: the boxes still hear it; the recording is what is lost (logged by the caller).
    this.out.on('error', (err) => (this.failed ??= err));
    this.out.write(wavHeader(UNKNOWN));
  }

  /** Milliseconds recorded so far. */
  get ms(): number {
    return this.bytes / BYTES_PER_MS;
  }

  /** Whether the recording stopped at its longest (the rest aired unrecorded). */
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }

  write(pcm: Buffer): void {
    if (!this.out || this.failed || this.full) return;
    const take = Math.min(pcm.length, this.maxBytes - this.bytes);
    this.bytes += take;
    this.out.write(take === pcm.length ? pcm : pcm.subarray(0, take));
  }

  /** Flushes the file and writes its real sizes; rejects when the disk refused a write. */
  async close(): Promise<void> {
    const out = this.out;
    if (!out) return;
    this.out = null;
    out.end();
    await finished(out).catch((err: Error) => (this.failed ??= err));
    if (this.failed) throw this.failed;
    const file = await open(this.path, 'r+');
    try {
      const h = wavHeader(this.bytes);
      await file.write(h, 4, 4, 4);
      await file.write(h, 40, 4, 40);
    } finally {
      await file.close();
    }
  }
}

/**
 * The one PCM format of a relay (issue 15) — signed 16-bit little-endian, mono, 48 kHz, what ffmpeg decodes
 * every stream to and what every sink takes — and its loudness, measured in Node on the samples themselves:
 * RMS per 100 ms block in dBFS, a block below −50 dBFS being silence. A relay fails over after 10 s of
 * silence ("when the stream fails or is silent for 10 s the box moves to the next URL"), and the simulated
 * player counts audible and silent seconds apart with the same meter. Pure: no I/O.
 */

export const PCM_RATE = 48_000;
export const PCM_CHANNELS = 1;
export const PCM_BYTES_PER_SAMPLE = 2;
/** 96 bytes per millisecond. */
export const PCM_BYTES_PER_MS = (PCM_RATE * PCM_CHANNELS * PCM_BYTES_PER_SAMPLE) / 1000;

/**
 * Below this a block is silence. A station's quiet passage stays well above it (speech pauses sit around
 * −40 to −30 dBFS with room tone and the codec's noise); a dead feed, a muted mixer or an encoder fed zeros
 * sits far below it.
 */
export const SILENCE_DBFS = -50;
/** Length of one measured block. */
export const BLOCK_MS = 100;
const BLOCK_BYTES = BLOCK_MS * PCM_BYTES_PER_MS;

export function pcmMs(bytes: number): number {
  return bytes / PCM_BYTES_PER_MS;
}

/** RMS level of s16le samples in dBFS (full scale 32768); −Infinity for digital silence or no samples. */
export function levelDbfs(pcm: Buffer): number {
  const n = Math.floor(pcm.length / 2);
  if (n === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = pcm.readInt16LE(i * 2);
    sum += s * s;
  }
  const rms = Math.sqrt(sum / n);
  return rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
}

export interface LevelBlock {
  ms: number;
  dbfs: number;
  silent: boolean;
}

/**
 * Cuts PCM arriving in chunks of any size (odd byte counts included: a pipe splits where it likes) into
 * 100 ms blocks and measures each.
 */
export class LevelMeter {
  private carry = Buffer.alloc(0);

  constructor(private readonly thresholdDbfs = SILENCE_DBFS) {}

  /** The blocks completed by `pcm`, in order. */
  feed(pcm: Buffer): LevelBlock[] {
    const data = this.carry.length ? Buffer.concat([this.carry, pcm]) : pcm;
    const out: LevelBlock[] = [];
    let at = 0;
    for (; at + BLOCK_BYTES <= data.length; at += BLOCK_BYTES) out.push(this.measure(data.subarray(at, at + BLOCK_BYTES)));
    // Copied: the caller may reuse its buffer.
    this.carry = Buffer.from(data.subarray(at));
    return out;
  }

  /** The partial block left over (the end of a stream), if any. */
  flush(): LevelBlock | null {
    const rest = this.carry.subarray(0, this.carry.length - (this.carry.length % 2));
    this.carry = Buffer.alloc(0);
    return rest.length ? this.measure(rest) : null;
  }

  private measure(block: Buffer): LevelBlock {
    const dbfs = levelDbfs(block);
    return { ms: pcmMs(block.length), dbfs, silent: dbfs < this.thresholdDbfs };
  }
}

/** Scales s16le samples in place by `volume` (0–100): the relay's software volume, as `-af volume` is for files. */
export function applyVolume(pcm: Buffer, volume: number): Buffer {
  const gain = Math.max(0, Math.min(100, volume)) / 100;
  if (gain === 1) return pcm;
  const n = Math.floor(pcm.length / 2);
  for (let i = 0; i < n; i++) pcm.writeInt16LE(Math.round(pcm.readInt16LE(i * 2) * gain), i * 2);
  return pcm;
}

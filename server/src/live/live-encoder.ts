/**
 * Live voice (issue 16), the server's half of the audio: what the operator's phone sends (MediaRecorder's
 * WebM/Opus from Chromium and Firefox, Ogg/Opus, or fragmented MP4/AAC from Safari), brought to broadcast
 * loudness on the way and encoded once for every box. One ffmpeg per live airing:
 *
 *   phone ─WebM/Opus─▶ decode ─▶ high-pass 80 Hz ─▶ compressor ─▶ limiter ─┬─▶ PCM  (level meter, recording)
 *                                                                          └─▶ MP3 64 kbit/s CBR (boxes)
 *
 * - Level control without look-ahead: a compressor with make-up gain (a phone held far or near comes out at
 *   about the same level) and a limiter at −1 dBFS (no clipping on the speakers). Loudness normalizers that
 *   look ahead (dynaudnorm, loudnorm) cost 0.5 s or more of delay, a quarter of the two-second budget;
 *   this chain adds under 50 ms (measured in test/server/live-encoder.test.ts).
 * - The MP3 is the restream's format (relay/restream.ts: 48 kHz mono CBR 192-byte frames, no ID3 or Xing),
 *   so the same Fanout serves it and a box may join at any frame; boxes already play it (`play.stream`).
 * - The PCM is what aired: kept as the airing's recording (issue 16: "every live airing is kept as a
 *   recording … and can be aired again") and measured for the operator's level meter.
 * - Input arrives in chunks as the phone sends them; ffmpeg is told the container, so it starts decoding
 *   after a few kilobytes instead of probing seconds of audio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { PCM_RATE, levelDbfs } from '@loaxa/shared';
import { OUTPUT_KBPS } from '../relay/restream.js';

/** The containers a browser's MediaRecorder produces, by their MIME type. */
export const LIVE_INPUTS = { 'audio/webm': 'webm', 'audio/ogg': 'ogg', 'audio/mp4': 'mp4' } as const;
export type LiveInputType = keyof typeof LIVE_INPUTS;

/** How often the operator's level meter gets a reading. */
const METER_MS = 100;
const BYTES_PER_MS = (PCM_RATE * 2) / 1000;

/**
 * Speech from a phone to broadcast level: rumble and handling noise cut, dynamics evened out (4:1 above
 * −28 dBFS, then ×10 make-up gain, +20 dB: acompressor's makeup is linear), peaks held under −1 dBFS. Speech
 * 34 dB apart (a phone at arm's length or at the lips) comes out about 18 dB apart.
 */
export const LIVE_FILTERS = [
  'highpass=f=80',
  'acompressor=threshold=-28dB:ratio=4:attack=5:release=250:makeup=10',
  'alimiter=limit=0.89:attack=2:release=60:level=disabled',
].join(',');

/** Peak and RMS of a block of s16le PCM, dBFS. */
function levels(pcm: Buffer): { peakDb: number; rmsDb: number } {
  let peak = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
  return { peakDb: peak === 0 ? -Infinity : 20 * Math.log10(peak / 32768), rmsDb: levelDbfs(pcm) };
}

export interface LiveEncoderEvents {
  /** Processed audio, s16le 48 kHz mono, as it leaves the limiter. */
  pcm: [Buffer];
  /** Encoded MP3 for the boxes, whole 192-byte frames not guaranteed per chunk (the Fanout aligns joiners). */
  mp3: [Buffer];
  /** Every 100 ms of audio: its peak and RMS in dBFS (−Infinity for digital silence). */
  level: [{ peakDb: number; rmsDb: number }];
  /** Once: the input ended (`end`) or ffmpeg failed (with why). */
  ended: [Error | null];
}

export class LiveEncoder extends EventEmitter<LiveEncoderEvents> {
  private child: ChildProcess | null = null;
  private input: Writable | null = null;
  private meterBuf: Buffer[] = [];
  private meterBytes = 0;
  private stderr = '';
  private done = false;
  /** Milliseconds of processed audio so far. */
  producedMs = 0;

  constructor(private readonly opts: { ffmpegPath: string; inputType: LiveInputType }) {
    super();
  }

  start(): void {
    const format = LIVE_INPUTS[this.opts.inputType];
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      // Small probes: the container is known, and every kilobyte waited for is latency.
      '-probesize', '4096', '-analyzeduration', '0', '-fflags', '+nobuffer', '-flags', 'low_delay',
      '-f', format, '-i', 'pipe:0',
      '-filter_complex', `[0:a]aresample=${PCM_RATE},aformat=channel_layouts=mono,${LIVE_FILTERS},asplit=2[pcm][mp3]`,
      '-map', '[pcm]', '-f', 's16le', '-acodec', 'pcm_s16le', 'pipe:1',
      '-map', '[mp3]', '-c:a', 'libmp3lame', '-b:a', `${OUTPUT_KBPS}k`, '-ar', String(PCM_RATE), '-ac', '1',
      '-id3v2_version', '0', '-write_xing', '0', '-flush_packets', '1', '-f', 'mp3', 'pipe:3',
    ];
    const child = spawn(this.opts.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.input = child.stdin;
    // A write after ffmpeg died: its `close` says why.
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (pcm: Buffer) => this.onPcm(pcm));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (mp3: Buffer) => {
      if (!this.done) this.emit('mp3', mp3);
    });
    child.stderr.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString('utf8')).slice(-1000)));
    child.on('error', (err) => this.finish(new Error(`cannot start ffmpeg: ${err.message}`)));
    child.on('close', (code, signal) => this.finish(code === 0 ? null : new Error(`the live encoder stopped (${code ?? signal}): ${this.stderr.trim().split('\n').slice(-2).join(' | ')}`)));
  }

  /** A chunk of the phone's recording, as it came. Returns false when ffmpeg's input is full (back-pressure). */
  write(chunk: Buffer): boolean {
    if (this.done || !this.input?.writable) return false;
    return this.input.write(chunk);
  }

  /** The phone stopped: ffmpeg drains what it has, then `ended` follows. */
  end(): void {
    this.input?.end();
  }

  /** Stops at once (the server is stopping); `ended` follows. */
  kill(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onPcm(pcm: Buffer): void {
    if (this.done) return;
    this.producedMs += pcm.length / BYTES_PER_MS;
    this.emit('pcm', pcm);
    this.meterBuf.push(pcm);
    this.meterBytes += pcm.length;
    const block = METER_MS * BYTES_PER_MS;
    while (this.meterBytes >= block) {
      const all = Buffer.concat(this.meterBuf, this.meterBytes);
      this.emit('level', levels(all.subarray(0, block)));
      const rest = all.subarray(block);
      this.meterBuf = rest.length ? [rest] : [];
      this.meterBytes = rest.length;
    }
  }

  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.emit('ended', err);
  }
}

/**
 * Where a relay's PCM goes (issue 15). A file is handed to a Player whole (player.ts); a stream is decoded
 * in the agent and written out as it comes, so it needs an output that takes raw PCM (s16le, mono, 48 kHz;
 * shared/src/relay/pcm.ts). The real ones reach ALSA the way the file player does — `ffmpeg … -f alsa <device>` or
 * `aplay -D <device>` — and the simulator's counts the seconds it actually received, audible and silent
 * apart ("the simulated player counts the seconds it actually decodes").
 *
 * An output is opened for one stretch of airing and closed at its end, so the speaker's ALSA device is free
 * for a file that interrupts the relay (an emergency) and opened again when the relay continues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { LevelMeter, PCM_BYTES_PER_MS, PCM_CHANNELS, PCM_RATE, pcmMs, type LevelBlock } from '@loaxa/shared';

export interface PcmOutput {
  /** Queues PCM for the speaker (the caller paces it at real time). */
  write(pcm: Buffer): void;
  /** Set once the output can no longer play (its process died, the device went away). */
  readonly error: Error | null;
  /** Lets the queued audio play out (briefly), then frees the device. */
  close(): Promise<void>;
}

export interface PcmSink {
  open(): PcmOutput;
}

/** Audio queued in a player process's input beyond this is dropped: the device is not playing it. */
const MAX_QUEUED_MS = 3_000;
/** How long `close` lets the queued audio drain before killing the process. */
const CLOSE_GRACE_MS = 1_500;

/** A process reading PCM on stdin (ffmpeg to ALSA, aplay). */
class ProcessOutput implements PcmOutput {
  private failure: Error | null = null;
  private stderr = '';
  private closed = false;
  private readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly what: string,
    private readonly logger: Logger,
  ) {
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-1000);
    });
    // A device error closes the pipe: the write fails, the exit says why.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.failure ??= new Error(`${what}: cannot start ${child.spawnfile}: ${err.message}`);
        resolve();
      });
      child.on('close', (code, signal) => {
        if (!this.closed) this.failure ??= new Error(`${what} exited with ${code ?? signal}: ${this.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        resolve();
      });
    });
  }

  get error(): Error | null {
    return this.failure;
  }

  write(pcm: Buffer): void {
    const stdin = this.child.stdin;
    if (this.closed || this.failure || !stdin?.writable) return;
    if (stdin.writableLength > MAX_QUEUED_MS * PCM_BYTES_PER_MS) {
      this.logger.warn({ queuedMs: Math.round(stdin.writableLength / PCM_BYTES_PER_MS) }, `${this.what} is not taking audio; dropping`);
      return;
    }
    stdin.write(pcm);
  }

  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

const RAW_FORMAT = { rate: String(PCM_RATE), channels: String(PCM_CHANNELS) };

/** `ffmpeg -f s16le -ar 48000 -ac 1 -i pipe:0 -f alsa <device>`: the player `ffmpeg` (FfmpegAlsaPlayer). */
export class FfmpegAlsaSink implements PcmSink {
  constructor(private readonly opts: { device: string; ffmpegPath: string; logger: Logger }) {}

  open(): PcmOutput {
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 's16le', '-ar', RAW_FORMAT.rate, '-ac', RAW_FORMAT.channels, '-i', 'pipe:0', '-f', 'alsa', this.opts.device];
    return new ProcessOutput(spawn(this.opts.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] }), 'ffmpeg (alsa)', this.opts.logger);
  }
}

/** `aplay -q -t raw -f S16_LE -r 48000 -c 1 -D <device> -`: the player `aplay` (AplayPlayer). */
export class AplaySink implements PcmSink {
  constructor(private readonly opts: { device: string; aplayPath: string; logger: Logger }) {}

  open(): PcmOutput {
    const args = ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', RAW_FORMAT.rate, '-c', RAW_FORMAT.channels, '-D', this.opts.device, '-'];
    return new ProcessOutput(spawn(this.opts.aplayPath, args, { stdio: ['pipe', 'ignore', 'pipe'] }), 'aplay', this.opts.logger);
  }
}

/** One stretch of audio a CountingSink received, for tests that look at when the speaker was fed. */
export interface SinkWrite {
  /** performance.now() of the write. */
  at: number;
  ms: number;
}

/**
 * Plays nothing and counts what it was given: the null player's and the simulator's sink. Audible and
 * silent milliseconds are measured on the samples (shared/src/relay/pcm.ts), so "the box relayed 20 minutes" is what
 * it actually decoded and sent to its speaker, not what a timer says.
 */
export class CountingSink implements PcmSink {
  audibleMs = 0;
  silentMs = 0;
  /** Outputs opened so far, and open now. */
  opened = 0;
  openNow = 0;
  /** The most outputs ever open at once (a real device has one: more means two sounds at once). */
  maxOpen = 0;
  /** Recent writes (the last `keep`), oldest first. */
  readonly writes: SinkWrite[] = [];

  constructor(private readonly keep = 2_000) {}

  get totalMs(): number {
    return this.audibleMs + this.silentMs;
  }

  open(): PcmOutput {
    const meter = new LevelMeter();
    this.opened += 1;
    this.openNow += 1;
    this.maxOpen = Math.max(this.maxOpen, this.openNow);
    let closed = false;
    const count = (b: LevelBlock | null): void => {
      if (!b) return;
      if (b.silent) this.silentMs += b.ms;
      else this.audibleMs += b.ms;
    };
    return {
      error: null,
      write: (pcm) => {
        if (closed || pcm.length === 0) return;
        this.writes.push({ at: performance.now(), ms: pcmMs(pcm.length) });
        if (this.writes.length > this.keep) this.writes.splice(0, this.writes.length - this.keep);
        for (const b of meter.feed(pcm)) count(b);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        count(meter.flush());
        this.openNow -= 1;
      },
    };
  }
}

export function createSink(config: { player: 'ffmpeg' | 'aplay' | 'null'; alsaDevice: string; ffmpegPath: string; aplayPath: string }, logger: Logger): PcmSink {
  switch (config.player) {
    case 'ffmpeg':
      return new FfmpegAlsaSink({ device: config.alsaDevice, ffmpegPath: config.ffmpegPath, logger });
    case 'aplay':
      return new AplaySink({ device: config.alsaDevice, aplayPath: config.aplayPath, logger });
    case 'null':
      return new CountingSink();
  }
}

/**
 * Audio output. The agent only needs "play this file now, stop when told"; how it reaches the speaker
 * (ffmpeg straight to ALSA, ffmpeg decoding into aplay, or nothing at all) is a Player.
 * A programme's next file can be prepared while the current one plays (issue 15: no audible gap between items):
 * its ffmpeg is spawned ahead, reading the file from a pipe, so it waits before opening the sound card, and
 * the item's turn only has to feed it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';

export interface PlayOptions {
  /** Expected length of the audio; the NullPlayer takes exactly this long, real players use it as a watchdog. */
  durationMs: number;
  /**
   * Start this far into the audio (an interrupted item resuming where it stopped): ffmpeg seeks with
   * `-ss` before its input, the NullPlayer takes the remaining time.
   */
  offsetMs?: number;
  /** Called when the audio actually starts (after an amplifier's warm-up, once the decoder runs). */
  onStart?: () => void;
  /** 0–100. */
  volume: number;
  /** Aborting stops the output; `play` then rejects with an AbortError. */
  signal: AbortSignal;
}

export interface Player {
  play(file: string, opts: PlayOptions): Promise<void>;
  /**
   * Optional: starts ahead what the audio of `file` from its beginning needs (a process and its decoder), so that
   * the prepared `play` starts at once. The caller cancels what it does not play.
   */
  prepare?(file: string, volume: number): PreparedPlay;
}

/** A file's player made ready ahead of its turn (Player.prepare). */
export interface PreparedPlay {
  /** Plays as `Player.play` would; with another volume or an offset it plays the ordinary way. */
  play(opts: PlayOptions): Promise<void>;
  /** Not needed after all (interrupted, cancelled): its processes stop. Idempotent; a no-op once played. */
  cancel(): void;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(typeof reason === 'string' ? reason : 'playback aborted');
  err.name = 'AbortError';
  return err;
}

/** Plays nothing, but takes the real time of the audio: used by tests and the simulator. */
export class NullPlayer implements Player {
  /** Files played to the end, for tests that want to look. */
  readonly played: string[] = [];

  play(file: string, opts: PlayOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      if (opts.signal.aborted) return reject(abortError(opts.signal));
      const remaining = remainingMs(opts);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(opts.signal));
      };
      const timer = setTimeout(() => {
        opts.signal.removeEventListener('abort', onAbort);
        this.played.push(file);
        resolve();
      }, remaining);
      opts.signal.addEventListener('abort', onAbort, { once: true });
      opts.onStart?.();
    });
  }
}

/** What is left to play from `offsetMs` on. */
function remainingMs(opts: PlayOptions): number {
  return Math.max(0, opts.durationMs - Math.max(0, opts.offsetMs ?? 0));
}

/** `-ss <seconds>` before `-i` (input seeking: fast, and exact enough for speech) when resuming. */
function seekArgs(opts: { offsetMs?: number | undefined }): string[] {
  const offset = Math.max(0, opts.offsetMs ?? 0);
  return offset > 0 ? ['-ss', (offset / 1000).toFixed(3)] : [];
}

/** Extra time a real player may take beyond the audio's length before it is considered hung. */
const WATCHDOG_SLACK_MS = 30_000;

function volumeFilter(volume: number): string {
  return `volume=${(Math.max(0, Math.min(100, volume)) / 100).toFixed(2)}`;
}

/**
 * Runs processes (no shell: the file name never reaches a shell) and settles when the last one exits.
 * Abort and the watchdog kill all of them.
 */
function runProcesses(start: () => ChildProcess[], opts: PlayOptions, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(abortError(opts.signal));
    let procs: ChildProcess[];
    try {
      procs = start();
    } catch (err) {
      return reject(err);
    }
    let settled = false;
    let stderr = '';
    let open = procs.length;
    const killAll = (): void => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    };
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      opts.signal.removeEventListener('abort', onAbort);
      if (err) {
        killAll();
        reject(err);
      } else resolve();
    };
    const onAbort = (): void => finish(abortError(opts.signal));
    const limit = remainingMs(opts) + WATCHDOG_SLACK_MS;
    const watchdog = setTimeout(() => finish(new Error(`${what} did not finish within ${limit} ms`)), limit);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    opts.onStart?.();
    for (const p of procs) {
      p.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-2000);
      });
      p.on('error', (err) => finish(new Error(`${what}: cannot start ${p.spawnfile}: ${err.message}`)));
      p.on('close', (code, signal) => {
        if (code !== 0) return finish(new Error(`${what}: ${p.spawnfile} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        open -= 1;
        if (open === 0) finish(null);
      });
    }
  });
}

/**
 * A decoder spawned ahead, reading its file from stdin: ffmpeg probes its input before it opens its output, so
 * until it is fed it holds no sound card. `rest` spawns what must wait for the turn (aplay opens the card).
 */
class PreparedProcess implements PreparedPlay {
  private exited: string | null = null;
  private used = false;

  constructor(
    private readonly decoder: ChildProcess,
    private readonly file: string,
    private readonly volume: number,
    private readonly what: string,
    private readonly ordinary: (opts: PlayOptions) => Promise<void>,
    private readonly rest: (decoder: ChildProcess) => ChildProcess[] = () => [],
  ) {
    decoder.on('error', (err) => (this.exited ??= err.message));
    decoder.on('close', (code, signal) => (this.exited ??= `exited with ${code ?? signal}`));
    // The decoder dying before it is fed must not crash the agent with EPIPE.
    decoder.stdin?.on('error', () => undefined);
  }

  play(opts: PlayOptions): Promise<void> {
    if (this.used || this.exited !== null || (opts.offsetMs ?? 0) > 0 || opts.volume !== this.volume) {
      this.cancel();
      return this.ordinary(opts);
    }
    this.used = true;
    return runProcesses(
      () => {
        const input = createReadStream(this.file);
        input.on('error', () => this.decoder.kill('SIGKILL'));
        input.pipe(this.decoder.stdin!);
        return [this.decoder, ...this.rest(this.decoder)];
      },
      opts,
      this.what,
    );
  }

  cancel(): void {
    if (this.used) return;
    this.used = true;
    if (this.exited === null) this.decoder.kill('SIGKILL');
  }
}

/** ffmpeg's arguments before its output: quiet, its input (a file, or the pipe of a prepared play), the volume. */
function decodeArgs(input: string, opts: { volume: number; offsetMs?: number | undefined }): string[] {
  // `-nostdin` only for a file: a prepared decoder reads its audio on stdin.
  return ['-hide_banner', '-loglevel', 'error', ...(input === 'pipe:0' ? [] : ['-nostdin', ...seekArgs(opts)]), '-i', input, '-af', volumeFilter(opts.volume)];
}

/** ffmpeg decodes the file and writes to ALSA itself: `ffmpeg -i file -af volume=… -f alsa <device>`. */
export class FfmpegAlsaPlayer implements Player {
  constructor(private readonly opts: { device: string; ffmpegPath?: string }) {}

  play(file: string, opts: PlayOptions): Promise<void> {
    const args = [...decodeArgs(file, opts), '-f', 'alsa', this.opts.device];
    return runProcesses(() => [spawn(this.opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] })], opts, 'ffmpeg');
  }

  prepare(file: string, volume: number): PreparedPlay {
    const args = [...decodeArgs('pipe:0', { volume }), '-f', 'alsa', this.opts.device];
    const decoder = spawn(this.opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    return new PreparedProcess(decoder, file, volume, 'ffmpeg', (opts) => this.play(file, opts));
  }
}

/**
 * Fallback for ffmpeg builds without ALSA output (static builds often lack it): ffmpeg decodes to WAV on
 * stdout and `aplay -D <device>` plays it.
 */
export class AplayPlayer implements Player {
  constructor(private readonly opts: { device: string; ffmpegPath?: string; aplayPath?: string }) {}

  play(file: string, opts: PlayOptions): Promise<void> {
    return runProcesses(
      () => {
        const decode = spawn(this.opts.ffmpegPath ?? 'ffmpeg', [...decodeArgs(file, opts), '-f', 'wav', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
        return [decode, this.aplay(decode)];
      },
      opts,
      'aplay',
    );
  }

  /** Only the decoder starts ahead: aplay opens the sound card as it starts, so it waits for the turn. */
  prepare(file: string, volume: number): PreparedPlay {
    const decode = spawn(this.opts.ffmpegPath ?? 'ffmpeg', [...decodeArgs('pipe:0', { volume }), '-f', 'wav', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new PreparedProcess(decode, file, volume, 'aplay', (opts) => this.play(file, opts), (d) => [this.aplay(d)]);
  }

  private aplay(decode: ChildProcess): ChildProcess {
    const aplay = spawn(this.opts.aplayPath ?? 'aplay', ['-q', '-D', this.opts.device, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    decode.stdout?.pipe(aplay.stdin);
    // aplay closing its input early (device error) must not crash the agent with EPIPE.
    aplay.stdin?.on('error', () => undefined);
    return aplay;
  }
}

export function createPlayer(config: { player: 'ffmpeg' | 'aplay' | 'null'; alsaDevice: string; ffmpegPath: string; aplayPath: string }): Player {
  switch (config.player) {
    case 'ffmpeg':
      return new FfmpegAlsaPlayer({ device: config.alsaDevice, ffmpegPath: config.ffmpegPath });
    case 'aplay':
      return new AplayPlayer({ device: config.alsaDevice, ffmpegPath: config.ffmpegPath, aplayPath: config.aplayPath });
    case 'null':
      return new NullPlayer();
  }
}

// Runs the static ffmpeg from @ffmpeg-installer (a 2018 build: libopus, libmp3lame, ebur128, alimiter;
// there is no ffprobe, so measurements come from ffmpeg filters). Always spawned without a shell, with
// arguments as an array, so nothing in them is ever interpreted.

import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

export function ffmpegPath(): string {
  return ffmpegInstaller.path;
}

export interface RunFfmpegOptions {
  /** Written to ffmpeg's stdin (use `-i pipe:0`), whole or as a stream. Without it stdin is /dev/null. */
  input?: Buffer | Readable;
  /** Kill ffmpeg after this long. Default 10 minutes: no audio job here should take that long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FfmpegResult {
  stdout: Buffer;
  stderr: string;
}

export class FfmpegError extends Error {
  constructor(message: string, readonly exitCode: number | null, readonly stderrTail: string) {
    super(message);
    this.name = 'FfmpegError';
  }
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
// ffmpeg can be chatty (per-frame logs); keep the end, which is where its error message is.
const STDERR_KEEP_CHARS = 64 * 1024;
const STDERR_TAIL_LINES = 12;

export function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<FfmpegResult> {
  const { input, timeoutMs = DEFAULT_TIMEOUT_MS, signal } = opts;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const child = spawn(ffmpegPath(), args, {
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });

    const stdout: Buffer[] = [];
    let stderr = '';
    let settled = false;
    let killedFor: Error | null = null;

    const kill = (why: Error) => {
      if (killedFor || child.exitCode !== null) return;
      killedFor = why;
      child.kill('SIGKILL'); // SIGTERM makes ffmpeg finish writing its output first; we want it gone.
    };
    const timer = setTimeout(() => kill(new Error(`ffmpeg timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => kill(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (err: Error | null, result?: FfmpegResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(result!);
    };

    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * STDERR_KEEP_CHARS) stderr = stderr.slice(-STDERR_KEEP_CHARS);
    });
    child.on('error', (err) => finish(new Error(`cannot run ffmpeg (${ffmpegPath()}): ${err.message}`, { cause: err })));
    child.on('close', (code, sig) => {
      if (killedFor) return finish(killedFor);
      if (code !== 0) {
        const tail = stderrTail(stderr);
        return finish(new FfmpegError(`ffmpeg exited with ${code ?? sig}: ${tail}`, code, tail));
      }
      finish(null, { stdout: Buffer.concat(stdout), stderr });
    });

    if (input && child.stdin) {
      // ffmpeg may exit before reading all input (bad arguments); the exit code then tells the story,
      // so an EPIPE here is not the error to report.
      child.stdin.on('error', () => {});
      if (Buffer.isBuffer(input)) child.stdin.end(input);
      else {
        input.on('error', () => child.stdin!.destroy()); // a broken input ends ffmpeg's; its exit code reports it
        input.pipe(child.stdin);
      }
    }
  });
}

function stderrTail(stderr: string): string {
  return stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('ffmpeg aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}

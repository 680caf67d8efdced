/**
 * One URL of a restreamed source, decoded to the relay PCM format (shared/src/relay/pcm.ts) by the server's
 * ffmpeg (issue 15: "a choice per source to go through the server's own restream when a source allows few
 * listeners or needs credentials"). ffmpeg opens the URL itself — Icecast/Shoutcast MP3, AAC, Ogg/Opus, or an
 * HLS playlist it follows live — and may open nothing but HTTP(S) (`-protocol_whitelist`, as the source
 * checker does): a playlist naming file:///etc/passwd is not read by the server. Credentials a source needs
 * go in its URL (`http://user:pass@host/…`), which ffmpeg answers a Basic challenge with.
 * Emits `pcm` as it comes and `failed` once, when the URL can give no more; nothing after `stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PCM_CHANNELS, PCM_RATE } from '@loaxa/shared';
import type { StreamAddressGuard } from './address-guard.js';

export const HLS_URL = /\.m3u8$/i;

const COMMON_ARGS = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
const PROTOCOLS = ['-protocol_whitelist', 'http,https,tcp,tls,crypto'];
/**
 * ffmpeg's defaults read up to 5 MB or 5 s before the first output; on a live stream that is seconds of
 * silence for the listeners after a failover. The agent's decoder uses the same (device-agent/src/relay/decoder.ts).
 */
const FAST_PROBE = ['-probesize', '16384', '-analyzeduration', '500000', '-fflags', '+nobuffer'];
const OUTPUT_ARGS = ['-vn', '-sn', '-dn', '-ac', String(PCM_CHANNELS), '-ar', String(PCM_RATE), '-acodec', 'pcm_s16le', '-f', 's16le', 'pipe:1'];

/** Every ffmpeg the restream started and not yet seen exit, so the server's stop can wait for them all. */
export class ChildSet {
  private readonly children = new Set<ChildProcess>();

  add(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    // A failed spawn emits `error` and never `exit`.
    child.once('error', () => this.children.delete(child));
  }

  pids(): number[] {
    return [...this.children].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** SIGKILLs every child and resolves once each has exited. */
  async killAll(): Promise<void> {
    await Promise.all([...this.children].map(killAndWait));
  }
}

/** SIGKILL (ffmpeg's SIGTERM finishes writing first; nothing here needs that) and wait for the exit. */
export function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export interface UpstreamEvents {
  pcm: [Buffer];
  failed: [Error];
}

export class Upstream extends EventEmitter<UpstreamEvents> {
  private child: ChildProcess | null = null;
  private done = false;
  private stderr = '';

  constructor(
    readonly url: string,
    private readonly ffmpegPath: string,
    private readonly children: ChildSet,
    /** The addresses the server may open (issue 15 review: no loopback, link-local or private ones). */
    private readonly guard?: StreamAddressGuard,
  ) {
    super();
  }

  get hls(): boolean {
    try {
      return HLS_URL.test(new URL(this.url).pathname);
    } catch {
      return false;
    }
  }

  /** Starts the decoder; a failure is always emitted later, never from inside `start`. */
  start(): void {
    const failSoon = (err: Error): void => void setImmediate(() => this.fail(err));
    let scheme: string;
    try {
      scheme = new URL(this.url).protocol;
    } catch {
      return failSoon(new Error('not a URL'));
    }
    if (scheme !== 'http:' && scheme !== 'https:') return failSoon(new Error(`unsupported scheme ${scheme} (http and https only)`));
    if (!this.guard) return this.spawnDecoder();
    this.guard.refusal(this.url).then(
      (why) => (why ? this.fail(new Error(why)) : this.done || this.spawnDecoder()),
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private spawnDecoder(): void {
    const failSoon = (err: Error): void => void setImmediate(() => this.fail(err));
    let child: ChildProcess;
    try {
      child = spawn(this.ffmpegPath, [...COMMON_ARGS, ...PROTOCOLS, '-user_agent', 'LoaXa-restream', ...FAST_PROBE, '-i', this.url, ...OUTPUT_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return failSoon(new Error(`cannot start ffmpeg: ${(err as Error).message}`));
    }
    this.child = child;
    this.children.add(child);
    child.stdout!.on('data', (pcm: Buffer) => {
      if (!this.done) this.emit('pcm', pcm);
    });
    child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-1000);
    });
    child.on('error', (err) => this.fail(new Error(`cannot start ffmpeg: ${err.message}`)));
    child.on('close', (code, signal) => {
      // The URL (with any credentials in it) is left out of what is logged and reported.
      const why = this.stderr.split(this.url).join('<url>').trim().split('\n').slice(-2).join(' | ');
      this.fail(new Error(code === 0 ? 'the stream ended' : `the decoder stopped (${code ?? signal})${why ? `: ${why}` : ''}`));
    });
  }

  /** Stops the decoder; no event follows. */
  stop(): void {
    this.done = true;
    if (this.child) void killAndWait(this.child);
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    if (this.child) void killAndWait(this.child);
    this.emit('failed', err);
  }
}

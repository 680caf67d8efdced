/**
 * One source of a relay decoded to PCM (shared/src/relay/pcm.ts) by the agent's ffmpeg, emitting `pcm` as it comes and
 * `failed` once, when the source can give no more (issue 15):
 * - an HTTP stream (Icecast/Shoutcast MP3, AAC, Ogg/Opus) is fetched by the agent itself — with the box's
 *   own credentials when the source is the server's restream (`deviceAuth`), through the same fetch as media
 *   downloads — and piped into ffmpeg. The credentials never reach a command line (where any user of the box
 *   could read them in /proc), an HTTP error is reported as such, and a page that is not audio (a captive
 *   portal's HTML) is refused before any decoding;
 * - an HLS playlist (how VOV publishes) is pulled by ffmpeg's own HLS client, which follows the live
 *   playlist and fetches the segments; never with the box's credentials, which would have to go on its
 *   command line (only the server's restream needs them, and it serves MP3);
 * - the fallback file is read from the cache in a loop at real-time pace (`-re -stream_loop -1`).
 * ffmpeg may open nothing but HTTP(S) (`-protocol_whitelist`): a stream URL from the server cannot make it
 * read a local file or another protocol.
 * A live voice (issue 16, `live`) is decoded with the smallest probe ffmpeg allows (LIVE_PROBE): its
 * mouth-to-speaker budget is two seconds, and the relay's probe alone costs more than half a second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import type { FetchLike } from '../media-cache.js';
import { PCM_CHANNELS, PCM_RATE } from '@loaxa/shared';

export type DecoderInput = { kind: 'url'; url: string } | { kind: 'file'; path: string };

export interface DecoderSpec {
  ffmpegPath: string;
  input: DecoderInput;
  /** `Basic …` when the source needs the box's credentials. */
  authorization: string | null;
  fetch: FetchLike;
  logger: Logger;
  /** A live voice (issue 16): decoded with LIVE_PROBE, and as MP3 when the server names no type. */
  live?: boolean;
}

export interface DecoderEvents {
  pcm: [Buffer];
  /** Once; nothing is emitted after it (nor after `stop`). */
  failed: [Error];
}

const OUTPUT_ARGS = ['-vn', '-ac', String(PCM_CHANNELS), '-ar', String(PCM_RATE), '-acodec', 'pcm_s16le', '-f', 's16le', 'pipe:1'];
const COMMON_ARGS = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
/**
 * ffmpeg's defaults read up to 5 MB or 5 s of a stream before its first output; on a live stream that is
 * seconds of waiting before a failover is heard. These are enough for MP3, ADTS AAC, Ogg and MPEG-TS.
 */
const FAST_PROBE = ['-probesize', '16384', '-analyzeduration', '500000', '-fflags', '+nobuffer'];
/**
 * A live voice (issue 16): no probing beyond the first bytes, the format given (`-f`, from the content type).
 * Measured on 64 kbit/s MP3 fed at real-time pace (the server's live encoder's output, ffmpeg 4.1): the first
 * PCM leaves ffmpeg 120 ms after the first byte and a tone 20–130 ms after its frame went in, against
 * 630 ms and 570–690 ms with FAST_PROBE. What is left is the MP3 demuxer reading 1024-byte packets (128 ms
 * of 64 kbit/s), and the decoder's own frame of delay.
 */
const LIVE_PROBE = ['-probesize', '32', '-analyzeduration', '0', '-fflags', '+nobuffer', '-flags', 'low_delay'];
const HLS_PROTOCOLS = ['-protocol_whitelist', 'http,https,tcp,tls,crypto'];
/**
 * A stream the agent downloads itself reaches ffmpeg on its stdin, and only as one of the formats a relay
 * may be (issue 15): without these, a hostile or spoofed server could answer with a DASH or HLS manifest
 * that ffmpeg would detect and follow to `file:` or to hosts on the box's network (issue 15 review, finding 9).
 */
const PIPE_ONLY = ['-protocol_whitelist', 'pipe', '-format_whitelist', 'mp3,aac,ogg'];

/** ffmpeg demuxers for what Icecast and Shoutcast announce (probing still runs when the type is unknown). */
const FORMAT_BY_TYPE: ReadonlyArray<[RegExp, string]> = [
  [/^audio\/(mpeg|mp3|mpg)\b/i, 'mp3'],
  [/^audio\/(aac|aacp|x-aac)\b/i, 'aac'],
  [/^(audio|application)\/(ogg|opus)\b/i, 'ogg'],
];
const HLS_TYPE = /mpegurl/i;

export function isHlsUrl(url: string): boolean {
  try {
    return /\.m3u8$/i.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

export class StreamDecoder extends EventEmitter<DecoderEvents> {
  private child: ChildProcess | null = null;
  private readonly http = new AbortController();
  private done = false;
  private stderr = '';

  constructor(private readonly spec: DecoderSpec) {
    super();
  }

  get label(): string {
    return this.spec.input.kind === 'url' ? this.spec.input.url : `file ${this.spec.input.path}`;
  }

  /**
   * Starts decoding. A failure is always emitted later, never from inside `start` (as the server's Upstream
   * does): the caller keeps the decoder as the URL playing only once `start` returns, and a `failed` emitted
   * before that was ignored — a URL refused at once then left the relay silent without a report.
   */
  start(): void {
    const { input } = this.spec;
    if (input.kind === 'file') return this.run(['-re', '-stream_loop', '-1', '-i', input.path], null);
    const failSoon = (err: Error): void => void setImmediate(() => this.fail(err));
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      return failSoon(new Error('not a URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return failSoon(new Error(`unsupported scheme ${url.protocol} (http and https only)`));
    if (isHlsUrl(input.url)) return this.runHls(input.url);
    void this.runHttp(input.url);
  }

  /** Stops the download and the decoder; no event follows. */
  stop(): void {
    this.done = true;
    this.http.abort();
    this.kill();
  }

  private runHls(url: string): void {
    // The box's credentials would have to reach ffmpeg's command line, which any user of the box reads in
    // /proc (issue 15 review). Only the server's restream asks for them, and it serves MP3, never HLS: an HLS
    // answer where the box's credentials were asked for is refused, not followed.
    if (this.spec.authorization) return void setImmediate(() => this.fail(new Error('an HLS playlist where the server’s own stream (MP3) was expected: not played with the box’s credentials')));
    // Segments of seconds: a live voice over HLS is seconds late whatever the probe, which needs MPEG-TS's.
    this.run([...HLS_PROTOCOLS, ...FAST_PROBE, '-i', url], null);
  }

  private async runHttp(url: string): Promise<void> {
    let res: Response;
    try {
      res = await this.spec.fetch(url, {
        signal: this.http.signal,
        headers: { 'icy-metadata': '0', ...(this.spec.authorization ? { authorization: this.spec.authorization } : {}) },
      });
    } catch (err) {
      return this.fail(new Error(`cannot connect: ${causeOf(err)}`));
    }
    if (this.done) return void res.body?.cancel().catch(() => undefined);
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !res.body) {
      void res.body?.cancel().catch(() => undefined);
      return this.fail(new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`));
    }
    if (HLS_TYPE.test(type)) {
      // A playlist behind a URL without .m3u8: ffmpeg's HLS client takes over.
      void res.body.cancel().catch(() => undefined);
      return this.runHls(url);
    }
    if (/^(text|application\/(json|xml|xhtml))/i.test(type)) {
      void res.body.cancel().catch(() => undefined);
      return this.fail(new Error(`not audio: the server answered ${type.split(';')[0]}`));
    }
    // A live voice is the server's MP3 (server/src/live/, or its Icecast mount): with LIVE_PROBE's few bytes
    // ffmpeg could not tell the format itself, so MP3 is assumed when the type names none.
    const format = FORMAT_BY_TYPE.find(([re]) => re.test(type))?.[1] ?? (this.spec.live ? 'mp3' : undefined);
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    this.run([...PIPE_ONLY, ...(this.spec.live ? LIVE_PROBE : FAST_PROBE), ...(format ? ['-f', format] : []), '-i', 'pipe:0'], body);
  }

  private run(inputArgs: string[], body: Readable | null): void {
    if (this.done) return void body?.destroy();
    let child: ChildProcess;
    try {
      child = spawn(this.spec.ffmpegPath, [...COMMON_ARGS, ...inputArgs, ...OUTPUT_ARGS], { stdio: [body ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (err) {
      body?.destroy();
      return this.fail(new Error(`cannot start ffmpeg: ${causeOf(err)}`));
    }
    this.child = child;
    child.stdout!.on('data', (pcm: Buffer) => {
      if (!this.done) this.emit('pcm', pcm);
    });
    child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-1000);
    });
    child.on('error', (err) => this.fail(new Error(`cannot start ffmpeg: ${err.message}`)));
    child.on('close', (code, signal) => {
      const why = this.stderr.trim().split('\n').slice(-2).join(' | ');
      this.fail(new Error(code === 0 ? 'the stream ended' : `the decoder stopped (${code ?? signal})${why ? `: ${why}` : ''}`));
    });
    if (body) {
      // The download ending or breaking ends ffmpeg's input; ffmpeg then exits and says so above.
      child.stdin!.on('error', () => undefined);
      body.on('error', (err) => {
        this.stderr = `${this.stderr}\nthe connection broke: ${causeOf(err)}`.slice(-1000);
        child.stdin!.end();
      });
      body.pipe(child.stdin!);
    }
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.http.abort();
    this.kill();
    this.spec.logger.debug({ source: this.label, err: err.message }, 'relay source failed');
    this.emit('failed', err);
  }

  private kill(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } } | null;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return [e?.message ?? String(err), cause].filter(Boolean).join(': ');
}

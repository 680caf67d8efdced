// Shared by the relay tests (issue 15): a sink that records what the box sent to its speaker (to count it and
// to hear which tone it was), a stream player wired like the agent wires it, and a real fallback file.
import { execFile } from 'node:child_process';
import { createServer, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CountingSink, StreamRelay, systemClock, type PcmOutput, type PcmSink, type RelayChange, type RelayTuning } from '@loaxa/device-agent';
import { ffmpegBin, measureTone } from '../helpers/streams.js';
import { silentLogger, tempDir } from './helpers.js';

type Tap = Parameters<typeof tempDir>[0];

/** Counts like the simulator's sink, and keeps the PCM with when it was written. */
export class RecordingSink implements PcmSink {
  readonly counter = new CountingSink();
  readonly chunks: Array<{ at: number; pcm: Buffer }> = [];

  open(): PcmOutput {
    const inner = this.counter.open();
    return {
      get error() {
        return inner.error;
      },
      write: (pcm) => {
        this.chunks.push({ at: performance.now(), pcm: Buffer.from(pcm) });
        inner.write(pcm);
      },
      close: () => inner.close(),
    };
  }

  /** Pitch and loudness of the last `seconds` written. */
  lastTone(seconds = 1): { seconds: number; rms: number; frequencyHz: number } {
    const pcm = Buffer.concat(this.chunks.map((c) => c.pcm));
    const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length - (pcm.length % 2)));
    return measureTone(samples, seconds);
  }

  /** Milliseconds of audio written between two performance.now() instants. */
  msBetween(from: number, to: number): number {
    return this.chunks.filter((c) => c.at > from && c.at < to).reduce((ms, c) => ms + c.pcm.length / 96, 0);
  }
}

export interface RelayUnderTest {
  relay: StreamRelay;
  sink: RecordingSink;
  changes: Array<RelayChange & { t: number }>;
  /** performance.now() of each change of the URL reaching the sink. */
  serving: Array<{ url: string | null; t: number }>;
  /** Resolves at the first change matching `pred` (with when), or rejects after `timeoutMs`. */
  waitChange(pred: (c: RelayChange) => boolean, timeoutMs: number, what: string): Promise<RelayChange & { t: number }>;
  waitServing(url: string | null, timeoutMs: number): Promise<number>;
}

export function relayUnderTest(
  urls: string[],
  opts: { fallbackFile?: string | null; tuning?: Partial<RelayTuning>; authorization?: string; wrapSink?: (recording: RecordingSink) => PcmSink } = {},
): RelayUnderTest {
  const sink = new RecordingSink();
  const changes: RelayUnderTest['changes'] = [];
  const serving: RelayUnderTest['serving'] = [];
  const relay = new StreamRelay({
    urls,
    fallbackFile: opts.fallbackFile ?? null,
    sink: opts.wrapSink ? opts.wrapSink(sink) : sink,
    ffmpegPath: ffmpegBin(),
    fetch: globalThis.fetch,
    authorization: opts.authorization ?? null,
    clock: systemClock,
    logger: silentLogger(),
    volume: () => 100,
    onChange: (c) => changes.push({ ...c, t: performance.now() }),
    ...(opts.tuning ? { tuning: opts.tuning } : {}),
  });
  relay.on('serving', (url) => serving.push({ url, t: performance.now() }));
  const poll = async <T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; changes: ${JSON.stringify(changes.map((c) => [c.cause, c.url, c.detail]))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    relay,
    sink,
    changes,
    serving,
    waitChange: (pred, timeoutMs, what) => poll(() => changes.find(pred), timeoutMs, what),
    waitServing: (url, timeoutMs) => poll(() => serving.find((s) => s.url === url)?.t, timeoutMs, `serving ${url}`),
  };
}

/** A real Ogg/Opus file (a sine) for the fallback, as the server's pipeline would make it. */
export async function fallbackFile(t: Tap, frequencyHz = 880, seconds = 3): Promise<{ path: string; bytes: Buffer }> {
  const path = join(tempDir(t), 'fallback.ogg');
  await promisify(execFile)(ffmpegBin(), [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', `sine=frequency=${frequencyHz}:sample_rate=48000:duration=${seconds}`,
    '-ac', '1', '-c:a', 'libopus', '-b:a', '32k', path,
  ]);
  return { path, bytes: await readFile(path) };
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A reverse proxy in front of a source, keeping its paths (an HLS playlist and its segments too): with
 * `expected`, the server's restream as a box meets it (only with the box's own credentials, HTTP Basic);
 * `freeze()` makes it a hung server (connections stay open, no more bytes). `seen` lists the Authorization
 * of every request.
 */
export async function proxyTo(t: Tap, upstream: string, opts: { expected?: string } = {}): Promise<{ url: string; seen: string[]; freeze(): void }> {
  const origin = new URL(upstream).origin;
  const seen: string[] = [];
  let frozen = false;
  const flows = new Set<{ from: NodeJS.ReadableStream; to: NodeJS.WritableStream }>();
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    if (opts.expected !== undefined && req.headers.authorization !== opts.expected) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="restream"' }).end();
    }
    const up = httpGet(`${origin}${req.url ?? '/'}`, (u) => {
      res.writeHead(u.statusCode ?? 502, { 'content-type': u.headers['content-type'] ?? 'application/octet-stream' });
      if (frozen) return void u.resume();
      const flow = { from: u, to: res };
      flows.add(flow);
      u.pipe(res);
      u.on('close', () => flows.delete(flow));
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = new URL(upstream);
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: url.toString(),
    seen,
    freeze: () => {
      frozen = true;
      for (const f of flows) {
        f.from.unpipe(f.to);
        f.from.resume();
      }
    },
  };
}

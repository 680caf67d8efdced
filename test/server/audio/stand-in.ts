// A local HTTP stand-in for a cloud TTS provider: node:http on 127.0.0.1 with an ephemeral port. Each test
// file supplies the provider's rules; the helper records every request, counts requests in flight, and
// serves real audio made with ffmpeg, so the adapters' decoding is exercised for real.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runFfmpeg } from '../../../server/src/audio/index.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface StandIn {
  url: string;
  requests: RecordedRequest[];
  /** Requests that broke the provider's documented shape; a correct adapter leaves this empty. */
  violations: string[];
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startStandIn(handler: Handler): Promise<StandIn> {
  let inFlight = 0;
  const standIn: StandIn = { url: '', requests: [], violations: [], maxInFlight: 0, close: async () => {} };
  const server = createServer((req, res) => {
    inFlight++;
    standIn.maxInFlight = Math.max(standIn.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
      standIn.requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections(); // hanging requests included
      server.close(() => resolve());
    });
  return standIn;
}

/** Refuses a request that breaks the documented shape: 400 with the reason, and a recorded violation. */
export function refuse(standIn: StandIn, res: ServerResponse, why: string, status = 400): void {
  standIn.violations.push(why);
  json(res, status, { error: why });
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const toneCache = new Map<string, Promise<Buffer>>();

/** A sine tone encoded by ffmpeg, as a provider would send speech. Cached per format/length/rate. */
export function tone(format: 'mp3' | 'wav', seconds = 0.5, rate = 22050): Promise<Buffer> {
  const key = `${format}:${seconds}:${rate}`;
  let p = toneCache.get(key);
  if (!p) {
    const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'] : ['-c:a', 'pcm_s16le', '-f', 'wav'];
    p = runFfmpeg(['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}:duration=${seconds}`, '-ac', '1', ...codec, 'pipe:1'])
      .then((r) => r.stdout);
    toneCache.set(key, p);
  }
  return p;
}

export function sendAudio(res: ServerResponse, bytes: Buffer, format: 'mp3' | 'wav'): void {
  res.writeHead(200, { 'content-type': format === 'mp3' ? 'audio/mpeg' : 'audio/wav', 'content-length': bytes.length });
  res.end(bytes);
}

/** Seconds of audio in a PCM result. */
export function seconds(pcm: { samples: Int16Array; sampleRate: number }): number {
  return pcm.samples.length / pcm.sampleRate;
}

/** A stand-in's deliberate delay; unref'd so a test can end while a "slow provider" is still waiting. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

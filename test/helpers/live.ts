/**
 * Live voice (issue 16) in tests: a phone's recording made by ffmpeg as MediaRecorder makes it (Opus in WebM,
 * a cluster every 100 ms, sent one cluster a chunk at real-time pace), the operator's WebSocket, and a box
 * that listens to `/live/{id}` with its own credentials and decodes what it hears with ffmpeg as it arrives,
 * noting when a marker tone is heard.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import WebSocket from 'ws';
import { ffmpegBin, killChild, type Teardown } from './streams.js';

const RATE = 48_000;

export interface Speech {
  /** The recorder's chunks: the header with the first cluster, then one cluster (100 ms) each. */
  chunks: Buffer[];
  /** Where the marker tone starts in the speech, ms. */
  markerMs: number;
  durationMs: number;
}

/**
 * "Speech" of `durationMs`: a 300 Hz voice-band tone at −26 dBFS, silence, a 1 kHz marker at −14 dBFS for
 * 400 ms starting at `markerMs` with silence a second either side, then the tone again to the end.
 */
export function makeSpeech(dir: string, opts: { durationMs?: number; markerMs?: number } = {}): Speech {
  const durationMs = opts.durationMs ?? 7_000;
  const markerMs = opts.markerMs ?? 4_000;
  const m = markerMs / 1000;
  const expr = `if(lt(t,${m - 1}),0.05*sin(2*PI*300*t),if(lt(t,${m}),0,if(lt(t,${m + 0.4}),0.2*sin(2*PI*1000*t),if(lt(t,${m + 1.4}),0,0.05*sin(2*PI*300*t)))))`;
  const file = join(dir, 'phone.webm');
  execFileSync(ffmpegBin(), [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc='${expr}':s=${RATE}:d=${durationMs / 1000}`,
    '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', '-cluster_time_limit', '100', file,
  ]);
  return { chunks: splitClusters(readFileSync(file)), markerMs, durationMs };
}

/** Cuts a WebM at its Cluster elements (ID 1F 43 B6 75), the first chunk holding the header too. */
export function splitClusters(webm: Buffer): Buffer[] {
  const id = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
  const starts: number[] = [];
  for (let at = webm.indexOf(id); at >= 0; at = webm.indexOf(id, at + 4)) starts.push(at);
  if (starts.length < 2) return [webm];
  const chunks: Buffer[] = [];
  const bounds = [0, ...starts.slice(1), webm.length];
  for (let i = 0; i + 1 < bounds.length; i++) chunks.push(webm.subarray(bounds[i], bounds[i + 1]));
  return chunks;
}

export interface Operator {
  ws: WebSocket;
  messages: Array<{ type: string; [k: string]: unknown }>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens the operator's socket as a browser on `origin` would, with the session cookie (or a bearer token). */
export function openOperator(base: string, path: string, auth: { cookie?: string; bearer?: string; origin?: string }): Promise<Operator> {
  const headers: Record<string, string> = {};
  if (auth.cookie) headers.cookie = `loaxa_session=${auth.cookie}`;
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth.origin) headers.origin = auth.origin;
  const ws = new WebSocket(base.replace(/^http/, 'ws') + path, { headers });
  const messages: Operator['messages'] = [];
  ws.on('message', (d, binary) => {
    if (!binary) messages.push(JSON.parse(d.toString()) as Operator['messages'][number]);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

/**
 * Sends `start`, then chunk k at `t0 + (k + 1) × 100 ms` — when a recorder with a 100 ms timeslice hands it
 * over. Answers t0 (performance.now): the instant the speech's first sample was "spoken".
 */
export async function speak(op: Operator, speech: Speech, mimeType = 'audio/webm;codecs=opus'): Promise<number> {
  op.ws.send(JSON.stringify({ type: 'start', mimeType }));
  const t0 = performance.now();
  for (let k = 0; k < speech.chunks.length; k++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (k + 1) * 100 - performance.now())));
    op.ws.send(speech.chunks[k]!);
  }
  return t0;
}

export interface ListeningBox {
  status: Promise<number>;
  /** performance.now when the marker was first heard (after a second of silence). */
  marker: Promise<number>;
  /** performance.now when the stream ended, and the PCM decoded from it. */
  ended: Promise<{ at: number; pcm: Buffer; bytes: number }>;
}

/**
 * A box tuning in to `url` with HTTP Basic credentials and decoding the MP3 as it arrives (ffmpeg, no probing
 * delay). The marker is a 10 ms block above −30 dBFS after speech and then at least 500 ms below −50 dBFS.
 */
export function listenAsBox(t: Teardown, url: string, user: string, password: string): ListeningBox {
  const dec = spawn(ffmpegBin(), ['-hide_banner', '-loglevel', 'error', '-probesize', '32', '-analyzeduration', '0', '-fflags', '+nobuffer', '-f', 'mp3', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.teardown(() => killChild(dec));
  dec.stdin.on('error', () => undefined);
  const pcm: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let quietMs = 0;
  let heard = false;
  /** The speech before the marker was heard (the server sends silence before the voice begins). */
  let spoke = false;
  let bytes = 0;
  let onMarker!: (at: number) => void;
  const marker = new Promise<number>((r) => (onMarker = r));
  dec.stdout.on('data', (d: Buffer) => {
    const at = performance.now();
    pcm.push(d);
    pending = Buffer.concat([pending, d]);
    const block = (RATE / 100) * 2;
    while (pending.length >= block) {
      let sum = 0;
      for (let i = 0; i < block; i += 2) sum += pending.readInt16LE(i) ** 2;
      const db = 10 * Math.log10(sum / (block / 2) / 32768 ** 2 + 1e-12);
      pending = pending.subarray(block);
      // A fade between (the onset's first milliseconds, the limiter's release) neither counts nor resets.
      if (db > -30) {
        if (spoke && quietMs >= 500 && !heard) {
          heard = true;
          onMarker(at);
        }
        spoke = true;
        quietMs = 0;
      } else if (db < -50) quietMs += 10;
    }
  });
  const decoded = new Promise<void>((r) => dec.stdout.on('end', () => r()));
  let onStatus!: (s: number) => void;
  const status = new Promise<number>((r) => (onStatus = r));
  const ended = new Promise<{ at: number; pcm: Buffer; bytes: number }>((resolve) => {
    const req = http.get(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } }, (res) => {
      onStatus(res.statusCode ?? 0);
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        dec.stdin.write(c);
      });
      res.on('end', () => {
        const at = performance.now();
        dec.stdin.end();
        void decoded.then(() => resolve({ at, pcm: Buffer.concat(pcm), bytes }));
      });
    });
    req.on('error', () => {
      onStatus(0);
      dec.stdin.end();
      resolve({ at: performance.now(), pcm: Buffer.alloc(0), bytes });
    });
  });
  return { status, marker, ended };
}

/** A plain GET with HTTP Basic credentials: the status only (the body, if any, is dropped). */
export function boxStatus(url: string, user: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', () => resolve(0));
  });
}

/** The HTTP status an attempt to open the operator's socket got (101 when it opened; it is closed again). */
export async function operatorStatus(base: string, path: string, auth: { cookie?: string; bearer?: string; origin?: string }): Promise<number> {
  try {
    const op = await openOperator(base, path, auth);
    op.ws.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? 0;
  }
}

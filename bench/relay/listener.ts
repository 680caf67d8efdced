/**
 * bench:relay's listeners (a child process of bench/relay.ts, over IPC): many lightweight HTTP listeners of
 * one live stream, each a box with its own credentials, each counting the seconds of audio it actually
 * receives from the stream's framing (./frames.ts) and the longest stall between two pieces of audio.
 * Not the agent: 2,000 ffmpeg decoders cannot run on two cores, and decoding would measure the box, not
 * what the server delivers to it.
 *
 * Protocol: `connect` (open every listener, at most `inFlight` waiting for their response headers at once,
 * so the storm measures the servers and not the kernel's SYN retransmits) → `connected`; `mark` (start of
 * the measured window) → `marked`; `stop` (end of the window: per-listener results, every socket closed)
 * → `stopped`. The orchestrator gone, the process exits.
 */
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { audioKind, createAudioCounter, type AudioCounter } from './frames.js';

export interface ConnectTask {
  type: 'connect';
  port: number;
  path: string;
  /** One `Authorization` header per listener. */
  authorizations: string[];
  inFlight: number;
  /** A listener without audio this long after it started connecting has failed. */
  timeoutMs: number;
}

export interface ListenerResult {
  ok: boolean;
  /** Why it failed or ended: HTTP status, socket error, the server closing the stream. */
  why?: string;
  /** Connection attempts it took (see ATTEMPT_MS). */
  attempts: number;
  /** From the start of its first attempt to the response headers, and to its first whole frame of audio. */
  connectMs: number | null;
  firstAudioMs: number | null;
  /** Seconds of audio received within the window, and the window's wall length. */
  receivedS: number;
  windowS: number;
  /** Longest time without new audio within the window (a dead listener: the rest of the window). */
  maxGapMs: number;
  /** Pieces the stream arrived in within the window (≈ the server's writes to this listener, on loopback), and bytes. */
  chunks: number;
  bytes: number;
  skippedBytes: number;
}

export type ToListener = ConnectTask | { type: 'mark' } | { type: 'stop' } | { type: 'exit' };
export type FromListener =
  | { type: 'connected'; ok: number; failed: number; why: string[] }
  | { type: 'marked' }
  | { type: 'stopped'; results: ListenerResult[]; cpuMs: number; loopDelayP99Ms: number; loopDelayMaxMs: number };

interface Listener {
  req: ClientRequest | null;
  counter: AudioCounter | null;
  t0: number;
  attempts: number;
  connectMs: number | null;
  firstAudioMs: number | null;
  failed: string | null;
  atMark: number;
  lastAudioAt: number;
  maxGapMs: number;
  chunks: number;
  bytes: number;
}

let listeners: Listener[] = [];
let markAt = 0;
let agent: Agent | null = null;
let cpuAtMark = process.cpuUsage();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

/**
 * A connection attempt without its response headers after this long is abandoned and made again, as a box's
 * player would: a SYN dropped by a full listen backlog (Icecast 2.4's is 5) is otherwise retransmitted by the
 * kernel only after 1, 3, 7, 15, 31 s. Refusals (HTTP 4xx/5xx) are not retried: they are answers.
 */
const ATTEMPT_MS = 5_000;

function open(task: ConnectTask, auth: string, onHeaders: () => void, onSettled: () => void): Listener {
  const l: Listener = { req: null, counter: null, t0: performance.now(), attempts: 0, connectMs: null, firstAudioMs: null, failed: null, atMark: 0, lastAudioAt: 0, maxGapMs: 0, chunks: 0, bytes: 0 };
  let settled = false;
  let headers = false;
  const gotHeaders = (): void => {
    if (!headers) {
      headers = true;
      onHeaders();
    }
  };
  const settle = (): void => {
    gotHeaders();
    if (!settled) {
      settled = true;
      onSettled();
    }
  };
  const fail = (why: string): void => {
    if (!l.failed) l.failed = why;
    settle();
  };
  const attempt = (): void => {
    l.attempts++;
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port: task.port, path: task.path, agent: agent!, headers: { authorization: auth } }, (res) => {
      answered = true;
      l.connectMs = performance.now() - l.t0;
      gotHeaders();
      if (res.statusCode !== 200) {
        res.resume();
        fail(`HTTP ${res.statusCode}`);
        req.destroy();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        l.chunks++;
        l.bytes += chunk.length;
        if (!l.counter) {
          const kind = audioKind(res.headers['content-type'], chunk);
          if (!kind) {
            fail(`not audio (${res.headers['content-type'] ?? 'no content-type'})`);
            req.destroy();
            return;
          }
          l.counter = createAudioCounter(kind);
        }
        if (l.counter.push(chunk) <= 0) return;
        const now = performance.now();
        if (l.firstAudioMs === null) {
          l.firstAudioMs = now - l.t0;
          // Audio flows: from now on only the stall measure judges it (a live stream has no end to wait for).
          req.setTimeout(0);
          settle();
        }
        if (markAt) l.maxGapMs = Math.max(l.maxGapMs, now - Math.max(l.lastAudioAt, markAt));
        l.lastAudioAt = now;
      });
      res.on('end', () => fail('the server ended the stream'));
      res.on('error', (err) => fail(err.message));
    });
    l.req = req;
    const left = task.timeoutMs - (performance.now() - l.t0);
    req.setTimeout(Math.max(1, Math.min(ATTEMPT_MS, left)), () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (l.failed || settled) return fail(err.code ?? err.message);
      // Not in yet, and time left: again, like a box (an answer without audio in time is not retried).
      if (!answered && performance.now() - l.t0 + 100 < task.timeoutMs) return void setTimeout(attempt, 100);
      fail(err.message === 'timeout' ? `no audio within ${task.timeoutMs} ms (${l.attempts} attempts)` : (err.code ?? err.message));
    });
    req.end();
  };
  attempt();
  return l;
}

function connectAll(task: ConnectTask): void {
  agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  listeners = [];
  let next = 0;
  let waiting = 0;
  let settled = 0;
  let reported = false;
  const total = task.authorizations.length;
  const pump = (): void => {
    while (waiting < task.inFlight && next < total) {
      waiting++;
      listeners.push(
        open(
          task,
          task.authorizations[next++]!,
          () => {
            waiting--;
            pump();
          },
          () => {
            if (++settled === total && !reported) {
              reported = true;
              const failed = listeners.filter((l) => l.failed);
              process.send!({ type: 'connected', ok: total - failed.length, failed: failed.length, why: [...new Set(failed.map((l) => l.failed!))] } satisfies FromListener);
            }
          },
        ),
      );
    }
  };
  if (total === 0) process.send!({ type: 'connected', ok: 0, failed: 0, why: [] } satisfies FromListener);
  pump();
}

function mark(): void {
  markAt = performance.now();
  for (const l of listeners) {
    l.atMark = l.counter?.seconds ?? 0;
    l.maxGapMs = 0;
    l.chunks = 0;
    l.bytes = 0;
  }
  cpuAtMark = process.cpuUsage();
  loopDelay.reset();
  loopDelay.enable();
}

function stop(): void {
  const stopAt = performance.now();
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuAtMark);
  const windowS = (stopAt - markAt) / 1000;
  const results: ListenerResult[] = listeners.map((l) => {
    // Silence until the end of the window is a stall too (a listener whose stream died counts as starved).
    const tailGap = stopAt - Math.max(l.lastAudioAt, markAt);
    return {
      ok: !l.failed,
      ...(l.failed ? { why: l.failed } : {}),
      attempts: l.attempts,
      connectMs: l.connectMs === null ? null : Math.round(l.connectMs),
      firstAudioMs: l.firstAudioMs === null ? null : Math.round(l.firstAudioMs),
      receivedS: Math.round(((l.counter?.seconds ?? 0) - l.atMark) * 1000) / 1000,
      windowS: Math.round(windowS * 1000) / 1000,
      maxGapMs: Math.round(Math.max(l.maxGapMs, tailGap)),
      chunks: l.chunks,
      bytes: l.bytes,
      skippedBytes: l.counter?.skippedBytes ?? 0,
    };
  });
  markAt = 0;
  for (const l of listeners) l.req?.destroy();
  listeners = [];
  agent?.destroy();
  agent = null;
  process.send!({
    type: 'stopped',
    results,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
    loopDelayMaxMs: Math.round(loopDelay.max / 1e5) / 10,
  } satisfies FromListener);
}

export function listenerMain(): void {
  process.on('message', (msg: ToListener) => {
    if (msg.type === 'connect') connectAll(msg);
    else if (msg.type === 'mark') {
      mark();
      process.send!({ type: 'marked' } satisfies FromListener);
    } else if (msg.type === 'stop') stop();
    else if (msg.type === 'exit') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--listener')) listenerMain();

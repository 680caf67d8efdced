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
import { crc32 } from 'node:zlib';
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
  /**
   * bench:live (issue 16): each listener also notes, within the window, when each frame arrived (its CRC-32 and
   * the epoch ms, at most `frames` of them), and plays the frames through a model of the box's jitter buffer
   * (device-agent's live tuning: output starts once `prebufferMs` is held, at most `maxMs` held, drained at
   * real-time pace) to count the times it would have run dry: dropouts a listener of the box would hear.
   */
  live?: { frames: number; prebufferMs: number; maxMs: number };
}

/** bench:live: a frame to look for in every listener's record, arrived no earlier than `from` (epoch ms). */
export interface WatchedFrame {
  crc: number;
  from: number;
  to: number;
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
  /** bench:live: when each watched frame arrived (epoch ms; null: not within the window), and the jitter model's dropouts. */
  arrivals?: Array<number | null>;
  dropouts?: number;
  /** When the buffer was found dry (epoch ms, the first 50): dropouts of many boxes at once come from upstream. */
  dropoutTimes?: number[];
}

export type ToListener = ConnectTask | { type: 'mark' } | { type: 'stop'; watch?: WatchedFrame[] } | { type: 'exit' };
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
  live: LiveRecord | null;
}

/** bench:live's per-listener record (see ConnectTask.live). */
interface LiveRecord {
  crcs: Uint32Array;
  at: Float64Array;
  n: number;
  /** The jitter model: ms held, whether output flows, when it was last drained, dropouts within the window. */
  heldMs: number;
  flowing: boolean;
  lastAt: number;
  dropouts: number;
  dropoutTimes: number[];
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** One frame through the jitter model and, within the window, into the record. */
function liveFrame(rec: LiveRecord, opts: NonNullable<ConnectTask['live']>, frame: Buffer, seconds: number): void {
  const now = epochNow();
  if (rec.flowing) {
    rec.heldMs -= now - rec.lastAt;
    if (rec.heldMs < 0) {
      // Ran dry before this frame came: the box would have gone silent and waited for the prebuffer again.
      if (markAt) {
        rec.dropouts++;
        if (rec.dropoutTimes.length < 50) rec.dropoutTimes.push(rec.lastAt + (rec.heldMs + (now - rec.lastAt)));
      }
      rec.flowing = false;
      rec.heldMs = 0;
    }
  }
  rec.lastAt = now;
  rec.heldMs = Math.min(opts.maxMs, rec.heldMs + seconds * 1000);
  if (!rec.flowing && rec.heldMs >= opts.prebufferMs) rec.flowing = true;
  if (markAt && rec.n < rec.crcs.length) {
    rec.crcs[rec.n] = crc32(frame);
    rec.at[rec.n++] = now;
  }
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
  const live = task.live;
  const rec: LiveRecord | null = live ? { crcs: new Uint32Array(live.frames), at: new Float64Array(live.frames), n: 0, heldMs: 0, flowing: false, lastAt: 0, dropouts: 0, dropoutTimes: [] } : null;
  const l: Listener = { req: null, counter: null, t0: performance.now(), attempts: 0, connectMs: null, firstAudioMs: null, failed: null, atMark: 0, lastAudioAt: 0, maxGapMs: 0, chunks: 0, bytes: 0, live: rec };
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
          l.counter = rec && live ? createAudioCounter(kind, (frame, seconds) => liveFrame(rec, live, frame, seconds)) : createAudioCounter(kind);
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
    if (l.live) {
      l.live.n = 0;
      l.live.dropouts = 0;
      l.live.dropoutTimes = [];
    }
  }
  cpuAtMark = process.cpuUsage();
  loopDelay.reset();
  loopDelay.enable();
}

/** When the listener received the watched frame (the first arrival within its span), or null. */
function arrivalOf(rec: LiveRecord, w: WatchedFrame): number | null {
  for (let i = 0; i < rec.n; i++) if (rec.crcs[i] === w.crc && rec.at[i]! >= w.from && rec.at[i]! <= w.to) return rec.at[i]!;
  return null;
}

function stop(watch: WatchedFrame[] = []): void {
  const stopAt = performance.now();
  const stopEpoch = epochNow();
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
      ...(l.live ? { arrivals: watch.map((w) => arrivalOf(l.live!, w)), dropouts: l.live.dropouts + (l.live.flowing && l.live.heldMs - (stopEpoch - l.live.lastAt) < 0 ? 1 : 0), dropoutTimes: l.live.dropoutTimes } : {}),
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
    } else if (msg.type === 'stop') stop(msg.watch);
    else if (msg.type === 'exit') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--listener')) listenerMain();

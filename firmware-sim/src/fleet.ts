/**
 * Fleet mode of the firmware simulator (issue 8): thousands of lightweight protocol-level boxes
 * (fleet-box.ts) spread over several child processes, for load tests of the server and its broker.
 * The full device agent (sim.ts) is too heavy for 10,000 boxes on one machine, and one process may hold
 * only ~20,000 open files, so the boxes are split over `processes` children (4 × 2,500 for 10,000).
 *
 * The parent (`startFleet`) talks to each child over the IPC channel of `fork`: it hands out the boxes,
 * says when to connect and when to send heartbeats, and asks for reports; each child sends its progress
 * (connected, subscribed, commands, deliveries…) twice a second. Every message either way is checked with
 * zod. A child whose parent goes away (the IPC channel closes) drops its connections and exits, so a
 * killed benchmark leaves no box behind.
 *
 * Over 300 lines: the IPC schemas, the child's loop and the parent are in one file so both ends of each
 * message read together; splitting them into three files is the next tidy-up (noted with issue 14).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { areaCodeSchema, deliveryStateSchema, idSchema } from '@loaxa/shared';
import { FleetBox, type FleetBoxSpec } from './fleet-box.js';

export { FleetBox, FLEET_AGENT_VERSION, type FleetBoxSpec, type BoxDelivery } from './fleet-box.js';

// ---- the IPC protocol ------------------------------------------------------------------------------

const boxSpecSchema = z.object({
  id: idSchema,
  areaCode: areaCodeSchema,
  areaAncestors: z.array(areaCodeSchema),
  mqtt: z.object({ url: z.string().min(1), username: z.string().min(1).optional(), password: z.string().min(1).optional() }),
});

const boxOptionsSchema = z.object({
  bootAt: z.number().int().nonnegative(),
  keepaliveSeconds: z.number().int().min(0).max(65_535),
  connectTimeoutMs: z.number().int().positive(),
  reconnectMaxMs: z.number().int().positive(),
  retainedStatus: z.boolean(),
});
export type FleetBoxSettings = z.infer<typeof boxOptionsSchema>;

/** Parent → child. */
export const toChildSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), boxes: z.array(boxSpecSchema).max(20_000), options: boxOptionsSchema }),
  /**
   * Connects every box: each at a random moment within `spreadMs`, or (spreadMs 0, a connect storm) as fast
   * as the broker takes them with at most `inFlight` attempts of this child under way at once.
   */
  z.object({ type: z.literal('connect'), spreadMs: z.number().int().nonnegative(), inFlight: z.number().int().positive().optional() }),
  /** Starts heartbeats at this period (first beat random within one period), or stops them (null). */
  z.object({ type: z.literal('heartbeat'), periodMs: z.number().int().positive().nullable() }),
  z.object({ type: z.literal('report'), requestId: z.number().int() }),
  z.object({ type: z.literal('stop'), timeoutMs: z.number().int().positive(), abrupt: z.boolean().optional() }),
]);
export type ToChild = z.infer<typeof toChildSchema>;

const countsSchema = z.object({
  boxes: z.number().int(),
  connected: z.number().int(),
  subscribed: z.number().int(),
  /** Boxes that have been subscribed at least once since the fleet started. */
  everSubscribed: z.number().int(),
  connects: z.number().int(),
  linkFailures: z.number().int(),
  commands: z.number().int(),
  deliveries: z.number().int(),
  playing: z.number().int(),
  played: z.number().int(),
  heartbeats: z.number().int(),
  heartbeatsFailed: z.number().int(),
  /** One error seen by some box, to say why boxes do not connect. */
  lastError: z.string().nullable(),
});
export type FleetCounts = z.infer<typeof countsSchema>;

const deliveryRecordSchema = z.object({
  deviceId: idSchema,
  broadcastId: z.string(),
  occurrenceAt: z.number(),
  state: deliveryStateSchema,
  firstAt: z.number(),
  via: z.enum(['device', 'area', 'agenda']),
  copies: z.number().int(),
  playingAt: z.number().nullable(),
  playingAckedAt: z.number().nullable(),
  playedAt: z.number().nullable(),
});
export type FleetDeliveryRecord = z.infer<typeof deliveryRecordSchema>;

const boxRecordSchema = z.object({
  deviceId: idSchema,
  connectStartedAt: z.number().nullable(),
  connectedAt: z.number().nullable(),
  subscribedAt: z.number().nullable(),
  connects: z.number().int(),
  /** `uptimeS` of each heartbeat sent since the previous report. */
  heartbeats: z.array(z.number()),
});
export type FleetBoxRecord = z.infer<typeof boxRecordSchema>;

/** Child → parent. */
export const fromChildSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), counts: countsSchema }),
  z.object({ type: z.literal('report'), requestId: z.number().int(), counts: countsSchema, boxes: z.array(boxRecordSchema), deliveries: z.array(deliveryRecordSchema) }),
  z.object({ type: z.literal('stopped') }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type FromChild = z.infer<typeof fromChildSchema>;

// ---- the child side --------------------------------------------------------------------------------

const PROGRESS_EVERY_MS = 500;

/** Runs in a forked child (fleet-child.ts): obeys the parent, reports progress, exits when told or orphaned. */
export function runFleetChild(proc: NodeJS.Process = process): void {
  const send = (m: FromChild): void => {
    if (proc.connected) proc.send?.(m);
  };
  let boxes: FleetBox[] = [];
  let changed = true;
  const counts = (): FleetCounts => {
    const c: FleetCounts = { boxes: boxes.length, connected: 0, subscribed: 0, everSubscribed: 0, connects: 0, linkFailures: 0, commands: 0, deliveries: 0, playing: 0, played: 0, heartbeats: 0, heartbeatsFailed: 0, lastError: null };
    for (const b of boxes) {
      if (b.connected) c.connected += 1;
      if (b.subscribed && b.connected) c.subscribed += 1;
      if (b.subscribedAt !== null) c.everSubscribed += 1;
      c.connects += b.connects;
      c.linkFailures += b.linkFailures;
      c.commands += b.commands;
      c.heartbeats += b.heartbeatCount;
      c.heartbeatsFailed += b.heartbeatsFailed;
      c.lastError ??= b.lastError;
      const d = b.deliveryCounts();
      c.deliveries += d.deliveries;
      c.playing += d.playing;
      c.played += d.played;
    }
    return c;
  };
  const ticker = setInterval(() => {
    if (!changed) return;
    changed = false;
    send({ type: 'progress', counts: counts() });
  }, PROGRESS_EVERY_MS);

  let stopping = false;
  const stop = async (timeoutMs: number, abrupt: boolean): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    await Promise.allSettled(boxes.map((b) => b.stop({ timeoutMs, abrupt })));
    send({ type: 'stopped' });
    // Exit even if a socket lingers: the parent is waiting for this process to end.
    setTimeout(() => proc.exit(0), 50);
  };

  proc.on('message', (raw: unknown) => {
    const parsed = toChildSchema.safeParse(raw);
    if (!parsed.success) return send({ type: 'error', message: `bad message from the parent: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
    const m = parsed.data;
    switch (m.type) {
      case 'init':
        boxes = m.boxes.map((spec) => new FleetBox(spec, { ...m.options, onChange: () => (changed = true) }));
        send({ type: 'ready' });
        return;
      case 'connect': {
        if (m.spreadMs > 0) {
          for (const b of boxes) setTimeout(() => b.start(), Math.random() * m.spreadMs);
          return;
        }
        // Thousands of SYNs at once overflow the broker's listen backlog (Node's 511, Mosquitto's 100): the
        // dropped ones wait for the kernel's 1 s, 3 s, 7 s… retransmits and CONNACKs time out. Paced by
        // answers instead, the storm runs at the rate the broker accepts.
        const queue = [...boxes];
        const limit = m.inFlight ?? Number.POSITIVE_INFINITY;
        let inFlight = 0;
        const next = (): void => {
          while (inFlight < limit && queue.length > 0) {
            inFlight += 1;
            queue.shift()!.start(() => {
              inFlight -= 1;
              next();
            });
          }
        };
        next();
        return;
      }
      case 'heartbeat':
        for (const b of boxes) {
          if (m.periodMs === null) b.stopHeartbeats();
          else b.startHeartbeats(m.periodMs);
        }
        changed = true;
        return;
      case 'report': {
        const records: FleetBoxRecord[] = boxes.map((b) => {
          return { deviceId: b.spec.id, connectStartedAt: b.connectStartedAt, connectedAt: b.connectedAt, subscribedAt: b.subscribedAt, connects: b.connects, heartbeats: b.takeHeartbeats() };
        });
        const deliveries = boxes.flatMap((b) => b.deliveries().map((d) => ({ deviceId: b.spec.id, ...d })));
        send({ type: 'report', requestId: m.requestId, counts: counts(), boxes: records, deliveries });
        return;
      }
      case 'stop':
        void stop(m.timeoutMs, m.abrupt ?? false);
        return;
    }
  });
  // The parent died or closed the channel: nobody will ever stop these boxes otherwise.
  proc.on('disconnect', () => void stop(2_000, true));
  send({ type: 'ready' });
}

// ---- the parent side -------------------------------------------------------------------------------

export interface FleetOptions {
  boxes: FleetBoxSpec[];
  /** Child processes (default: enough for 2,500 boxes each, at least 1). */
  processes?: number;
  /** Telemetry `uptimeS` counts from this instant (default: now). */
  bootAt?: number;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  reconnectMaxMs?: number;
  /**
   * Retained `online` status and will, as real agents send them (default true). False only to measure a
   * bare broker without them: the Loa Xã server learns presence from the retained status.
   */
  retainedStatus?: boolean;
  /** Called with the fleet's totals whenever a child reports progress. */
  onProgress?: (counts: FleetCounts) => void;
  /** Called when a child reports an error or exits unexpectedly. */
  onError?: (message: string) => void;
  /** How long a child may take to start (default 30 s). */
  startTimeoutMs?: number;
}

export interface FleetReport {
  counts: FleetCounts;
  boxes: FleetBoxRecord[];
  deliveries: FleetDeliveryRecord[];
}

export interface Fleet {
  /** Process ids of the children. */
  readonly pids: number[];
  readonly size: number;
  /** Sum of the children's latest progress. */
  counts(): FleetCounts;
  /**
   * Connects every box: spread at random over `spreadMs`, or (0, the default) a storm in which each child
   * keeps `inFlight` attempts under way (default: no limit).
   */
  connect(spreadMs?: number, inFlight?: number): void;
  /** Resolves with the totals once `done(totals)` holds, or rejects after `timeoutMs`. */
  waitFor(what: string, done: (c: FleetCounts) => boolean, timeoutMs: number): Promise<FleetCounts>;
  startHeartbeats(periodMs: number): void;
  stopHeartbeats(): void;
  /** Every child's records (heartbeats sent since the previous report, deliveries, connect times). */
  report(timeoutMs?: number): Promise<FleetReport>;
  /** Stops every box (clean goodbye unless `abrupt`) and ends the children; kills those that linger. */
  stop(opts?: { timeoutMs?: number; abrupt?: boolean }): Promise<void>;
}

/** Boxes per child process by default: well under the ~20,000 open files a process may hold. */
export const BOXES_PER_PROCESS = 2_500;
const CHILD_ENTRY = fileURLToPath(new URL('./fleet-child.ts', import.meta.url));

const emptyCounts = (): FleetCounts => ({ boxes: 0, connected: 0, subscribed: 0, everSubscribed: 0, connects: 0, linkFailures: 0, commands: 0, deliveries: 0, playing: 0, played: 0, heartbeats: 0, heartbeatsFailed: 0, lastError: null });

function addCounts(a: FleetCounts, b: FleetCounts): FleetCounts {
  return {
    boxes: a.boxes + b.boxes,
    connected: a.connected + b.connected,
    subscribed: a.subscribed + b.subscribed,
    everSubscribed: a.everSubscribed + b.everSubscribed,
    connects: a.connects + b.connects,
    linkFailures: a.linkFailures + b.linkFailures,
    commands: a.commands + b.commands,
    deliveries: a.deliveries + b.deliveries,
    playing: a.playing + b.playing,
    played: a.played + b.played,
    heartbeats: a.heartbeats + b.heartbeats,
    heartbeatsFailed: a.heartbeatsFailed + b.heartbeatsFailed,
    lastError: a.lastError ?? b.lastError,
  };
}

interface Child {
  proc: ChildProcess;
  counts: FleetCounts;
  exited: Promise<void>;
  pending: Map<number, (r: Extract<FromChild, { type: 'report' }>) => void>;
}

/** Forks the children, hands each its share of the boxes, and resolves once every child holds them. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const total = opts.boxes.length;
  if (total === 0) throw new Error('a fleet needs at least one box');
  const processes = Math.max(1, Math.min(total, opts.processes ?? Math.ceil(total / BOXES_PER_PROCESS)));
  const settings: FleetBoxSettings = {
    bootAt: opts.bootAt ?? Date.now(),
    keepaliveSeconds: opts.keepaliveSeconds ?? 60,
    connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
    reconnectMaxMs: opts.reconnectMaxMs ?? 30_000,
    retainedStatus: opts.retainedStatus ?? true,
  };
  // TypeScript children need tsx's loader, resolved here so the child's working directory does not matter.
  const execArgv = ['--import', import.meta.resolve('tsx')];
  const children: Child[] = [];
  let stopping = false;
  let requestSeq = 0;
  const waiters = new Set<() => void>();
  const totals = (): FleetCounts => children.reduce((acc, c) => addCounts(acc, c.counts), emptyCounts());
  const notify = (): void => {
    const t = totals();
    opts.onProgress?.(t);
    for (const w of [...waiters]) w();
  };

  const spawnChild = (share: FleetBoxSpec[]): Promise<Child> =>
    new Promise((resolve, reject) => {
      const proc = fork(CHILD_ENTRY, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const child: Child = {
        proc,
        counts: { ...emptyCounts(), boxes: share.length },
        exited: new Promise((r) => proc.once('exit', () => r())),
        pending: new Map(),
      };
      let initialised = false;
      const timer = setTimeout(() => reject(new Error(`a fleet child did not start within ${opts.startTimeoutMs ?? 30_000} ms`)), opts.startTimeoutMs ?? 30_000);
      proc.on('message', (raw: unknown) => {
        const parsed = fromChildSchema.safeParse(raw);
        if (!parsed.success) return opts.onError?.(`unreadable message from fleet child ${proc.pid}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        const m = parsed.data;
        if (m.type === 'ready') {
          if (!initialised) {
            // The first `ready` says the child is listening; the second that it holds its boxes.
            initialised = true;
            proc.send({ type: 'init', boxes: share, options: settings } satisfies ToChild);
          } else {
            clearTimeout(timer);
            resolve(child);
          }
        } else if (m.type === 'progress') {
          child.counts = m.counts;
          notify();
        } else if (m.type === 'report') {
          child.counts = m.counts;
          child.pending.get(m.requestId)?.(m);
          child.pending.delete(m.requestId);
        } else if (m.type === 'error') {
          opts.onError?.(`fleet child ${proc.pid}: ${m.message}`);
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!stopping) {
          opts.onError?.(`fleet child ${proc.pid} exited (${signal ?? code})`);
          reject(new Error(`fleet child exited during start (${signal ?? code})`));
        }
      });
      proc.once('error', reject);
      children.push(child);
    });

  const per = Math.ceil(total / processes);
  const shares = Array.from({ length: processes }, (_, i) => opts.boxes.slice(i * per, (i + 1) * per)).filter((s) => s.length > 0);
  try {
    await Promise.all(shares.map(spawnChild));
  } catch (err) {
    stopping = true;
    for (const c of children) c.proc.kill('SIGKILL');
    throw err;
  }

  const broadcast = (m: ToChild): void => {
    for (const c of children) if (c.proc.connected) c.proc.send(m);
  };

  return {
    pids: children.map((c) => c.proc.pid!).filter((p) => p !== undefined),
    size: total,
    counts: totals,
    connect(spreadMs = 0, inFlight) {
      broadcast({ type: 'connect', spreadMs: Math.round(spreadMs), ...(inFlight !== undefined ? { inFlight } : {}) });
    },
    waitFor(what, done, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const t = totals();
          if (!done(t)) return;
          cleanup();
          resolve(t);
        };
        const timer = setTimeout(() => {
          cleanup();
          const t = totals();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${t.subscribed}/${t.boxes} subscribed${t.lastError ? `; last error: ${t.lastError}` : ''})`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    startHeartbeats(periodMs) {
      broadcast({ type: 'heartbeat', periodMs: Math.round(periodMs) });
    },
    stopHeartbeats() {
      broadcast({ type: 'heartbeat', periodMs: null });
    },
    async report(timeoutMs = 30_000) {
      const requestId = ++requestSeq;
      const answers = await Promise.all(
        children.map(
          (c) =>
            new Promise<Extract<FromChild, { type: 'report' }>>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`fleet child ${c.proc.pid} did not report within ${timeoutMs} ms`)), timeoutMs);
              c.pending.set(requestId, (r) => {
                clearTimeout(timer);
                resolve(r);
              });
              c.proc.send({ type: 'report', requestId } satisfies ToChild);
            }),
        ),
      );
      return {
        counts: answers.reduce((acc, a) => addCounts(acc, a.counts), emptyCounts()),
        boxes: answers.flatMap((a) => a.boxes),
        deliveries: answers.flatMap((a) => a.deliveries),
      };
    },
    async stop(stopOpts = {}) {
      if (stopping) {
        await Promise.all(children.map((c) => c.exited));
        return;
      }
      stopping = true;
      const timeoutMs = stopOpts.timeoutMs ?? 5_000;
      broadcast({ type: 'stop', timeoutMs, ...(stopOpts.abrupt ? { abrupt: true } : {}) });
      await Promise.all(
        children.map(async (c) => {
          const hard = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs + 2_000);
          await c.exited;
          clearTimeout(hard);
        }),
      );
    },
  };
}

/**
 * The three measured phases of the scale benchmarks (issue 8 § 1–3), run against any Target with the
 * same fleet: connect storm, emergency fan-out, heartbeat ingest. Each returns plain numbers (ms, CPU
 * seconds, MiB) for the JSON results; none throws on a missed target, only on a broken run. Over 300 lines
 * because the three phases share their waiting and measuring, and each reads best next to the others.
 */
import type { Fleet, FleetCounts } from '../../firmware-sim/src/index.js';
import { monotonicUs } from './cpuprofile.js';
import { cpuSeconds, memoryMiB, sleep, spread, type Spread } from './proc.js';
import type { Target } from './targets.js';

export interface PhaseContext {
  target: Target;
  fleet: Fleet;
  /** Instant the fleet booted (telemetry `uptimeS` counts from it). */
  bootAt: number;
  log: (s: string) => void;
  /** Milliseconds left before the benchmark's own deadline (phases shorten their waits to fit). */
  remaining: () => number;
  /** Each measured phase's span on the monotonic clock, to cut a CPU profile of the server into phases. */
  spans: Array<{ phase: string; from: number; to: number }>;
}

export type CpuByProcess = Record<string, number>;
export type MemoryByProcess = Record<string, { rss: number; peak: number }>;

function cpuOf(target: Target): CpuByProcess {
  return Object.fromEntries(target.processes().map((p) => [p.name, cpuSeconds(p.pid) ?? Number.NaN]));
}

function cpuSince(target: Target, before: CpuByProcess): CpuByProcess {
  const now = cpuOf(target);
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, round(v - (before[k] ?? 0), 2)]));
}

export function memoryOf(target: Target): MemoryByProcess {
  return Object.fromEntries(target.processes().map((p) => [p.name, memoryMiB(p.pid) ?? { rss: Number.NaN, peak: Number.NaN }]));
}

const total = (c: CpuByProcess): number => round(Object.values(c).reduce((a, b) => a + b, 0), 2);
export const round = (x: number, d = 0): number => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

/** Prints a progress line at most every `everyMs`. */
function throttled(log: (s: string) => void, everyMs = 2_000): (s: string) => void {
  let last = 0;
  return (s) => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    log(s);
  };
}

/** Polls `ok` until it holds (true) or `timeoutMs` has passed (false). */
async function waitUntil(ok: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * Waits until the target's processes are nearly idle (< 10 % of a core over 1 s, twice in a row): the
 * server has finished what the last phase caused (presence, agenda syncs, delivery reports).
 */
export async function settle(ctx: PhaseContext, maxMs: number): Promise<number> {
  const started = Date.now();
  const deltas: number[] = [];
  let before = total(cpuOf(ctx.target));
  while (Date.now() - started < Math.min(maxMs, ctx.remaining() - 30_000)) {
    await sleep(1_000);
    const now = total(cpuOf(ctx.target));
    deltas.push(round(now - before, 2));
    before = now;
    if (deltas.length >= 2 && deltas.slice(-2).every((d) => d < 0.1)) return Date.now() - started;
  }
  ctx.log(`    not idle after ${((Date.now() - started) / 1000).toFixed(0)} s (CPU-s per second: ${deltas.slice(-10).join(', ')}); going on`);
  return Date.now() - started;
}

// ---- 1. connect storm ------------------------------------------------------------------------------

export interface ConnectResult {
  boxes: number;
  subscribed: number;
  /** From the first CONNECT to the last box subscribed (null: not all did within the time allowed). */
  allSubscribedMs: number | null;
  /** How long the storm was given (all subscribed, or the time allowed ran out). */
  waitedMs: number;
  /** Per box: the instant its SUBACK arrived, from the start of the storm. */
  subscribedMs: Spread;
  /** Connection attempts beyond one per box (refused, timed out, reset). */
  retries: number;
  /** When the server's store had every box online (null: not within a minute, or the reference, which keeps no presence). */
  serverOnlineMs: number | null;
  /** How many boxes the server's store counted online when the bench stopped waiting (null for the reference). */
  serverOnline: number | null;
  /** From the start until the target was idle again. */
  settledMs: number;
  /** CPU seconds from the start until settled. */
  cpuSeconds: CpuByProcess;
  cpuSecondsTotal: number;
  memoryMiB: MemoryByProcess;
  inFlightPerProcess: number;
  lastError: string | null;
}

export async function connectStorm(ctx: PhaseContext, opts: { inFlight: number; timeoutMs: number }): Promise<ConnectResult> {
  const { target, fleet, log } = ctx;
  const n = fleet.size;
  const progress = throttled(log);
  const cpu0 = cpuOf(target);
  const mono0 = monotonicUs();
  const t0 = Date.now();
  fleet.connect(0, opts.inFlight);
  let counts: FleetCounts;
  try {
    counts = await fleet.waitFor(
      'every box subscribed',
      (c) => {
        progress(`    connect: ${c.everSubscribed} / ${n} subscribed after ${((Date.now() - t0) / 1000).toFixed(1)} s${c.lastError ? ` (last error: ${c.lastError})` : ''}`);
        return c.everSubscribed >= n;
      },
      Math.min(opts.timeoutMs, ctx.remaining() - 60_000),
    );
  } catch (err) {
    log(`    connect: ${(err as Error).message}`);
    counts = fleet.counts();
  }
  const waitedMs = Date.now() - t0;
  const report = await fleet.report();
  const subscribedMs = report.boxes.filter((b) => b.subscribedAt !== null).map((b) => b.subscribedAt! - t0);
  const all = subscribedMs.length === n ? Math.max(...subscribedMs) : null;
  log(`    connect: ${subscribedMs.length} / ${n} subscribed${all !== null ? ` in ${(all / 1000).toFixed(2)} s` : ''}`);
  let serverOnlineMs: number | null = null;
  if (target.onlineCount() !== null) {
    const ok = await waitUntil(() => target.onlineCount()! >= subscribedMs.length, Math.min(60_000, ctx.remaining() - 60_000), 200);
    serverOnlineMs = ok ? Date.now() - t0 : null;
    log(`    connect: the server has ${target.onlineCount()} online${ok ? ` after ${((Date.now() - t0) / 1000).toFixed(2)} s` : ' (not all)'}`);
  }
  await settle(ctx, 60_000);
  const settledMs = Date.now() - t0;
  const cpu = cpuSince(target, cpu0);
  ctx.spans.push({ phase: 'connect', from: mono0, to: monotonicUs() });
  return {
    boxes: n,
    subscribed: subscribedMs.length,
    allSubscribedMs: all,
    waitedMs,
    subscribedMs: spread(subscribedMs),
    retries: Math.max(0, report.boxes.reduce((a, b) => a + b.connects, 0) - subscribedMs.length) + counts.linkFailures,
    serverOnlineMs,
    serverOnline: target.onlineCount(),
    settledMs,
    cpuSeconds: cpu,
    cpuSecondsTotal: total(cpu),
    memoryMiB: memoryOf(target),
    inFlightPerProcess: opts.inFlight,
    lastError: counts.lastError,
  };
}

// ---- 2. emergency fan-out -------------------------------------------------------------------------

export interface FanoutResult {
  round: number;
  broadcastId: string;
  /** How long `POST /api/v1/broadcasts` took to answer (null: the reference publishes directly). */
  requestMs: number | null;
  boxes: number;
  /** Per box, from t0: the first command carrying the item (area or own topic). */
  command: Spread & { within1s: number; within2s: number; viaArea: number; viaDevice: number; viaAgenda: number };
  /** Per box, from t0: when it started playing (its own clock, same machine). */
  playing: Spread;
  /** Per box, from t0: when the server stored its `playing` report (the reference: received it). */
  playingStored: Spread;
  /** Max − min of the boxes' start instants. */
  startSkewMs: number;
  cpuSeconds: CpuByProcess;
  cpuSecondsTotal: number;
  memoryMiB: MemoryByProcess;
}

export async function fanOut(ctx: PhaseContext, round: number, opts: { timeoutMs: number }): Promise<FanoutResult> {
  const { target, fleet, log } = ctx;
  const expected = fleet.counts().subscribed;
  const before = fleet.counts();
  const cpu0 = cpuOf(target);
  const mono0 = monotonicUs();
  const progress = throttled(log);
  const cast = await target.fanOut(round);
  log(`    fan-out ${round}: ${cast.broadcastId}${cast.requestMs !== null ? `, POST answered in ${cast.requestMs} ms` : ''}`);
  const limit = () => Math.min(opts.timeoutMs, ctx.remaining() - 45_000);
  const playingOk = await fleet
    .waitFor(
      'every box playing',
      (c) => {
        progress(`    fan-out ${round}: ${c.playing - before.playing} / ${expected} playing after ${((Date.now() - cast.t0) / 1000).toFixed(1)} s`);
        return c.playing - before.playing >= expected;
      },
      limit(),
    )
    .then(
      () => true,
      (err: Error) => (log(`    fan-out ${round}: ${err.message}`), false),
    );
  let stored = new Map<string, number>();
  // Until every report is stored, or none more has been for 5 s (a broker that dropped them: see notes).
  let lastSize = -1;
  let lastChange = Date.now();
  await waitUntil(
    async () => {
      stored = await target.playingReceived(cast.broadcastId);
      if (stored.size !== lastSize) [lastSize, lastChange] = [stored.size, Date.now()];
      return stored.size >= expected || Date.now() - lastChange > 5_000;
    },
    playingOk ? Math.min(30_000, ctx.remaining() - 45_000) : 0,
    250,
  );
  const report = await fleet.report();
  const mine = report.deliveries.filter((d) => d.broadcastId === cast.broadcastId);
  const cmd = mine.map((d) => d.firstAt - cast.t0);
  const play = mine.filter((d) => d.playingAt !== null).map((d) => d.playingAt! - cast.t0);
  const storedMs = [...stored.values()].map((at) => at - cast.t0);
  const s = spread(cmd);
  const result: FanoutResult = {
    round,
    broadcastId: cast.broadcastId,
    requestMs: cast.requestMs,
    boxes: expected,
    command: {
      ...s,
      within1s: round1(cmd.filter((x) => x <= 1_000).length / Math.max(1, expected)),
      within2s: round1(cmd.filter((x) => x <= 2_000).length / Math.max(1, expected)),
      viaArea: mine.filter((d) => d.via === 'area').length,
      viaDevice: mine.filter((d) => d.via === 'device').length,
      viaAgenda: mine.filter((d) => d.via === 'agenda').length,
    },
    playing: spread(play),
    playingStored: spread(storedMs),
    startSkewMs: play.length ? Math.max(...play) - Math.min(...play) : Number.NaN,
    cpuSeconds: {},
    cpuSecondsTotal: 0,
    memoryMiB: {},
  };
  log(`    fan-out ${round}: command p50 ${s.p50} / p99 ${s.p99} / max ${s.max} ms to ${cmd.length} boxes; playing stored ${storedMs.length}, p99 ${result.playingStored.p99} ms`);
  // Every box finishes the item (→ played) and the server catches up before anything else is measured.
  await fleet
    .waitFor('every box played', (c) => c.played - before.played >= expected, Math.min(cast.durationMs + 30_000, Math.max(0, ctx.remaining() - 45_000)))
    .catch((err: Error) => log(`    fan-out ${round}: ${err.message}`));
  await settle(ctx, 60_000);
  result.cpuSeconds = cpuSince(target, cpu0);
  ctx.spans.push({ phase: `fanout-${round}`, from: mono0, to: monotonicUs() });
  result.cpuSecondsTotal = total(result.cpuSeconds);
  result.memoryMiB = memoryOf(target);
  return result;
}

const round1 = (x: number): number => Math.round(x * 1000) / 10; // a share as a percentage with one decimal

// ---- 3. heartbeat ingest --------------------------------------------------------------------------

export interface HeartbeatResult {
  windowMs: number;
  periodMs: number;
  /** Heartbeats the boxes handed to their sockets within the window. */
  sent: number;
  /** Of those, how many were found in the store (matched one by one by the uptime each carried). */
  stored: number;
  /** The server's own count of heartbeats stored over the window, when it keeps one (null otherwise). */
  serverCounted: number | null;
  /** Rows that appeared in the store but match no heartbeat sent in the window (should be 0). */
  unmatched: number;
  /** Per heartbeat: from the instant the box sent it to the time the store wrote down for it. */
  storeTimeMs: Spread;
  /** Per heartbeat: from the instant the box sent it until a reader of the SQLite file saw it (polled every 200 ms). */
  visibleMs: Spread;
  /** The reference's batch transactions (ms each); null for the server, which does not expose its writes. */
  batchMs: Spread | null;
  /**
   * The server's own account (GET /api/v1/metrics, when it has the route): heartbeats received and stored
   * over the window, write latency from arrival in its handler to the commit that stored them, and the
   * duration of its write transactions, both over its last minute.
   */
  server: { received: number; stored: number; writeLatencyMs: { p50: number | null; p99: number | null; max: number | null }; batches: number; batchP99Ms: number | null } | null;
  cpuSeconds: CpuByProcess;
  cpuSecondsTotal: number;
  cpuSecondsPerMinute: number;
  /** CPU seconds of the fleet processes over the window (the load generator's own cost, for context). */
  fleetCpuSeconds: number;
  memoryMiB: MemoryByProcess;
}

const POLL_MS = 200;

export async function heartbeatIngest(ctx: PhaseContext, opts: { windowMs: number; periodMs: number }): Promise<HeartbeatResult> {
  const { target, fleet, log } = ctx;
  await fleet.report(); // empties the boxes' lists of heartbeats sent
  await target.batchDurations();
  target.newHeartbeats();
  const metrics0 = await target.ingestMetrics();
  const fleetCpu = (): number => fleet.pids.reduce((a, pid) => a + (cpuSeconds(pid) ?? 0), 0);
  const window = Math.min(opts.windowMs, Math.max(10_000, ctx.remaining() - 40_000));
  const before = fleet.counts().heartbeats;
  const counted0 = target.heartbeatCount();
  // Each row as it appeared: [device, uptime, the store's time, when the poller saw it].
  const seen: Array<[string, number, number, number]> = [];
  const poll = (): void => {
    const at = Date.now();
    for (const [d, u, storedAt] of target.newHeartbeats()) seen.push([d, u, storedAt, at]);
  };
  const cpu0 = cpuOf(target);
  const fleet0 = fleetCpu();
  const mono0 = monotonicUs();
  const t0 = Date.now();
  fleet.startHeartbeats(opts.periodMs);
  // The server keeps only each box's latest heartbeat: its store is read often enough that none goes unseen.
  let nextLog = t0 + 10_000;
  while (Date.now() - t0 < window) {
    await sleep(Math.min(POLL_MS, window - (Date.now() - t0)));
    poll();
    if (Date.now() >= nextLog) {
      nextLog += 10_000;
      log(`    heartbeats: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${fleet.counts().heartbeats - before} sent, ${seen.length} in the store`);
    }
  }
  fleet.stopHeartbeats();
  const t1 = Date.now();
  const cpu = cpuSince(target, cpu0);
  ctx.spans.push({ phase: 'heartbeat', from: mono0, to: monotonicUs() });
  const fleetCpuSeconds = round(fleetCpu() - fleet0, 2);
  // Heartbeats still on their way (or waiting in a write-behind buffer) get a moment to land.
  for (const until = Date.now() + 3_000; Date.now() < until; ) {
    await sleep(POLL_MS);
    poll();
  }
  const counted1 = target.heartbeatCount();
  const metrics1 = metrics0 ? await target.ingestMetrics() : null;
  const report = await fleet.report();
  const sent = new Map<string, number[]>();
  for (const b of report.boxes) if (b.heartbeats.length) sent.set(b.deviceId, b.heartbeats);
  const sentCount = [...sent.values()].reduce((a, l) => a + l.length, 0);
  // A stored row is a sent heartbeat when it carries that heartbeat's uptime (±0.5 s allows a store that
  // rounds; one box's heartbeats are ≥ 27 s apart, so no two can be confused).
  const matched = new Set<string>();
  const storeTimes: number[] = [];
  const visible: number[] = [];
  let unmatched = 0;
  for (const [deviceId, u, storedAt, seenAt] of seen) {
    const hit = sent.get(deviceId)?.find((x) => Math.abs(x - u) <= 0.5);
    if (hit === undefined) {
      unmatched += 1;
      continue;
    }
    const key = `${deviceId}@${hit}`;
    if (matched.has(key)) continue;
    matched.add(key);
    const sentAt = ctx.bootAt + hit * 1000;
    storeTimes.push(storedAt - sentAt);
    visible.push(seenAt - sentAt);
  }
  const batches = await target.batchDurations();
  const cpuTotal = total(cpu);
  const result: HeartbeatResult = {
    windowMs: t1 - t0,
    periodMs: opts.periodMs,
    sent: sentCount,
    stored: matched.size,
    serverCounted: counted0 !== null && counted1 !== null ? counted1 - counted0 : null,
    unmatched,
    storeTimeMs: spread(storeTimes),
    visibleMs: spread(visible),
    batchMs: batches ? spread(batches.map((b) => round(b, 2))) : null,
    server:
      metrics0 && metrics1
        ? {
            received: metrics1.ingest.heartbeats.received - metrics0.ingest.heartbeats.received,
            stored: metrics1.ingest.heartbeats.stored - metrics0.ingest.heartbeats.stored,
            writeLatencyMs: { p50: metrics1.ingest.heartbeats.writeLatency.p50Ms, p99: metrics1.ingest.heartbeats.writeLatency.p99Ms, max: metrics1.ingest.heartbeats.writeLatency.maxMs },
            batches: metrics1.ingest.batches.presence.count,
            batchP99Ms: metrics1.ingest.batches.presence.p99Ms,
          }
        : null,
    cpuSeconds: cpu,
    cpuSecondsTotal: cpuTotal,
    cpuSecondsPerMinute: round((cpuTotal * 60_000) / (t1 - t0), 2),
    fleetCpuSeconds,
    memoryMiB: memoryOf(target),
  };
  log(
    `    heartbeats: ${result.sent} sent, ${result.stored} stored${result.serverCounted !== null ? ` (the server counts ${result.serverCounted})` : ''}; ` +
      `${result.cpuSecondsTotal} CPU-s in ${(result.windowMs / 1000).toFixed(1)} s; visible p99 ${result.visibleMs.p99} ms`,
  );
  return result;
}

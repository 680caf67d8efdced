/**
 * bench:relay's figures: per side (the server's restream, Icecast2), CPU per minute of listening, memory,
 * and what the listeners received; the ratios to Icecast; the generated block of bench/README.md.
 */
import type { ListenerResult } from './listener.js';

export type Side = 'loaxa' | 'icecast';

export const TARGET_CPU_RATIO = 1.5;
/** Starved: received under this share of the window's wall time, or a stall longer than STALL_MS. */
export const STARVED_BELOW = 0.95;
export const STALL_MS = 2_000;

export interface PhaseResult {
  side: Side;
  windowS: number;
  /** CPU seconds of both sides' process trees over this window (the side not listened to is idle). */
  cpuS: Record<Side, number>;
  /** Of the server's: its Node process alone (the rest is its children: the restream's ffmpeg). */
  serverNodeCpuS: number;
  /** Before the listeners connected, and the highest sample (every 0.5 s) within the window. */
  idleRssMiB: Record<Side, number>;
  peakRssMiB: Record<Side, number>;
  connectWallMs: number;
  connectCpuS: number;
  /** The server's child processes seen during the window (its restream's ffmpeg; none while it is idle). */
  serverChildren: string[];
  listenerCpuS: number;
  listenerLoopDelayMaxMs: number;
  results: ListenerResult[];
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
/** Nearest-rank quantile of sorted values. */
const q = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]! : Number.NaN);

export interface SideSummary {
  windows: number;
  listenedS: number;
  cpuS: number;
  cpuPerMinute: number;
  /** The server only: its Node process's share, per minute (the rest: the restream's ffmpeg). */
  nodeCpuPerMinute: number | null;
  /** The same process tree's CPU per minute while the other side was being listened to. */
  idleCpuPerMinute: number;
  idleRssMiB: number;
  peakRssMiB: number;
  /** Peak within the windows minus idle: what 2,000 listeners cost in memory. */
  listenersRssMiB: number;
  connect: { wallMs: number; cpuS: number; failed: number; why: string[]; firstAudioP50Ms: number; firstAudioP99Ms: number; retried: number };
  /** received ÷ window, over every listener of every window of this side. */
  received: { min: number; p1: number; p50: number; minSeconds: number; windowS: number };
  stallMs: { p99: number; max: number };
  /** Listener-windows starved, and distinct boxes starved at least once. */
  starved: number;
  boxesStarved: number;
  skippedBytes: number;
  /** Per listener and second of the window (median): pieces the audio arrived in, and bytes. */
  chunksPerSecond: number;
  bytesPerSecond: number;
  serverChildren: string[];
  /** The server's children seen while the other side was listened to. */
  idleServerChildren: string[];
  listenerCpuS: number;
  listenerLoopDelayMaxMs: number;
}

/** "2 × ffmpeg": the most processes of each name seen in one window (a name with its pid per process). */
function names(ps: PhaseResult[]): string[] {
  const most = new Map<string, number>();
  for (const p of ps) {
    const here = new Map<string, number>();
    for (const n of p.serverChildren) here.set(n.replace(/\(\d+\)$/, ''), (here.get(n.replace(/\(\d+\)$/, '')) ?? 0) + 1);
    for (const [n, c] of here) most.set(n, Math.max(most.get(n) ?? 0, c));
  }
  return [...most].map(([n, c]) => `${c} × ${n}`);
}

function sideSummary(phases: PhaseResult[], side: Side): SideSummary {
  const own = phases.filter((p) => p.side === side);
  const other = phases.filter((p) => p.side !== side);
  const listenedS = own.reduce((s, p) => s + p.windowS, 0);
  const cpuS = own.reduce((s, p) => s + p.cpuS[side], 0);
  const otherS = other.reduce((s, p) => s + p.windowS, 0);
  const idleCpu = other.reduce((s, p) => s + p.cpuS[side], 0);
  const ratios: number[] = [];
  const chunkRates: number[] = [];
  const byteRates: number[] = [];
  const gaps: number[] = [];
  const firstAudio: number[] = [];
  const starvedBoxes = new Set<number>();
  let starved = 0;
  let failed = 0;
  let minSeconds = Number.POSITIVE_INFINITY;
  const why = new Set<string>();
  for (const p of own) {
    p.results.forEach((r, i) => {
      const ratio = r.windowS > 0 ? r.receivedS / r.windowS : 0;
      ratios.push(ratio);
      if (r.ok && r.windowS > 0) {
        chunkRates.push(r.chunks / r.windowS);
        byteRates.push(r.bytes / r.windowS);
      }
      gaps.push(r.maxGapMs);
      minSeconds = Math.min(minSeconds, r.receivedS);
      if (r.firstAudioMs !== null) firstAudio.push(r.firstAudioMs);
      if (!r.ok) {
        failed++;
        if (r.why) why.add(r.why);
      }
      if (!r.ok || ratio < STARVED_BELOW || r.maxGapMs > STALL_MS) {
        starved++;
        starvedBoxes.add(i);
      }
    });
  }
  ratios.sort((a, b) => a - b);
  chunkRates.sort((a, b) => a - b);
  byteRates.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  firstAudio.sort((a, b) => a - b);
  const idleRss = own.length ? Math.min(...own.map((p) => p.idleRssMiB[side])) : Number.NaN;
  const peakRss = own.length ? Math.max(...own.map((p) => p.peakRssMiB[side])) : Number.NaN;
  return {
    windows: own.length,
    listenedS: round(listenedS, 1),
    cpuS: round(cpuS),
    cpuPerMinute: round((cpuS / listenedS) * 60),
    nodeCpuPerMinute: side === 'loaxa' ? round((own.reduce((n, p) => n + p.serverNodeCpuS, 0) / listenedS) * 60) : null,
    idleCpuPerMinute: otherS ? round((idleCpu / otherS) * 60) : Number.NaN,
    idleRssMiB: round(idleRss, 0),
    peakRssMiB: round(peakRss, 0),
    listenersRssMiB: round(peakRss - idleRss, 0),
    connect: {
      wallMs: Math.max(...own.map((p) => p.connectWallMs)),
      cpuS: round(Math.max(...own.map((p) => p.connectCpuS))),
      failed,
      why: [...why],
      firstAudioP50Ms: q(firstAudio, 0.5),
      firstAudioP99Ms: q(firstAudio, 0.99),
      retried: own.reduce((n, p) => n + p.results.filter((r) => r.attempts > 1).length, 0),
    },
    received: { min: round(ratios[0] ?? 0, 3), p1: round(q(ratios, 0.01), 3), p50: round(q(ratios, 0.5), 3), minSeconds: round(minSeconds, 1), windowS: round(Math.min(...own.map((p) => p.windowS)), 1) },
    stallMs: { p99: q(gaps, 0.99), max: gaps[gaps.length - 1] ?? Number.NaN },
    starved,
    boxesStarved: starvedBoxes.size,
    skippedBytes: own.reduce((s, p) => s + p.results.reduce((n, r) => n + r.skippedBytes, 0), 0),
    chunksPerSecond: round(q(chunkRates, 0.5), 1),
    bytesPerSecond: Math.round(q(byteRates, 0.5)),
    serverChildren: names(own),
    idleServerChildren: names(other),
    listenerCpuS: round(own.reduce((s, p) => s + p.listenerCpuS, 0), 1),
    listenerLoopDelayMaxMs: Math.max(...own.map((p) => p.listenerLoopDelayMaxMs)),
  };
}

export function summarize(phases: PhaseResult[]) {
  const loaxa = sideSummary(phases, 'loaxa');
  const icecast = sideSummary(phases, 'icecast');
  const cpuRatio = round(loaxa.cpuPerMinute / icecast.cpuPerMinute);
  return {
    sides: { loaxa, icecast },
    cpuRatio,
    rssRatio: round(loaxa.peakRssMiB / icecast.peakRssMiB, 1),
    listenersRssRatio: icecast.listenersRssMiB > 0 ? round(loaxa.listenersRssMiB / icecast.listenersRssMiB, 1) : null,
    target: TARGET_CPU_RATIO,
    starvedBelow: STARVED_BELOW,
    stallMs: STALL_MS,
    met: cpuRatio <= TARGET_CPU_RATIO && loaxa.starved === 0,
  };
}

export interface RelayRun extends ReturnType<typeof summarize> {
  date: string;
  commit: string;
  machine: { cpus: number; model: string; node: string; icecast2: string; loadAverage: { before: string; after: string } };
  boxes: number;
  processes: number;
  order: Side[];
  serverNodeArgs: string;
  formats: Record<Side, string>;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

export function relayBlock(r: RelayRun): string {
  const { loaxa, icecast } = r.sides;
  const row = (label: string, s: SideSummary, cpuVs: string, rssVs: string): string =>
    `| ${label} | ${s.cpuPerMinute.toFixed(2)} | ${cpuVs} | ${s.peakRssMiB} MiB (${rssVs}) | +${s.listenersRssMiB} MiB | ${r.boxes * s.windows - s.connect.failed} / ${r.boxes * s.windows} | ${pct(s.received.min)} / ${pct(s.received.p1)} / ${pct(s.received.p50)} | ${s.stallMs.p99} / ${s.stallMs.max} ms | ${s.starved} |`;
  const ordered = r.order.map((s) => (s === 'loaxa' ? 'server' : 'Icecast')).join(', ');
  return [
    `Measured ${r.date.slice(0, 10)} at ${r.commit}, ${r.machine.cpus} cores (${r.machine.model}), Node ${r.machine.node}, icecast2 ${r.machine.icecast2}, load average ${r.machine.loadAverage.before} before / ${r.machine.loadAverage.after} after.`,
    `${r.boxes} boxes in ${r.processes} listener processes on loopback, each with its own credentials; the source: ${r.formats.icecast} from ffmpeg into Icecast; the server's restream serves ${r.formats.loaxa}. ` +
      `Windows of ${Math.min(icecast.received.windowS, loaxa.received.windowS).toFixed(0)}–${Math.max(icecast.received.windowS, loaxa.received.windowS).toFixed(0)} s, in the order ${ordered}; ${(loaxa.listenedS + icecast.listenedS).toFixed(0)} s listened in all.`,
    '',
    `| serving ${r.boxes.toLocaleString('en')} listeners | CPU-s per minute | vs Icecast | peak RSS | for the listeners | listening / connects | received ÷ wall: min / p1 / p50 | longest stall p99 / max | starved |`,
    '|---|---|---|---|---|---|---|---|---|',
    row(`Loa Xã restream (server + ${loaxa.serverChildren.join(', ') || 'no child'}; the Node process alone: ${loaxa.nodeCpuPerMinute?.toFixed(2)} CPU-s)`, loaxa, `**${r.cpuRatio.toFixed(2)}×**`, `${r.rssRatio}×`),
    row('Icecast2 (reference)', icecast, '1×', '1×'),
    '',
    `Idle (while the other side was listened to): server ${loaxa.idleCpuPerMinute.toFixed(2)} CPU-s per minute (${loaxa.idleServerChildren.length ? `its restream still running: ${loaxa.idleServerChildren.join(', ')}` : 'its restream stopped'}), Icecast ${icecast.idleCpuPerMinute.toFixed(2)}. ` +
      `Connecting all listeners: server ${(loaxa.connect.wallMs / 1000).toFixed(1)} s (first audio p50 / p99 ${loaxa.connect.firstAudioP50Ms} / ${loaxa.connect.firstAudioP99Ms} ms), Icecast ${(icecast.connect.wallMs / 1000).toFixed(1)} s (${icecast.connect.firstAudioP50Ms} / ${icecast.connect.firstAudioP99Ms} ms); ` +
      `listeners that had to connect again after 5 s without an answer (a dropped SYN): server ${loaxa.connect.retried}, Icecast ${icecast.connect.retried}` +
      `${loaxa.connect.failed + icecast.connect.failed ? `; failures: ${[...loaxa.connect.why, ...icecast.connect.why].join(', ')}` : ''}. ` +
      `Each listener got its audio in ${loaxa.chunksPerSecond} pieces a second from the server, ${icecast.chunksPerSecond} from Icecast (${loaxa.bytesPerSecond} and ${icecast.bytesPerSecond} bytes a second). ` +
      `Starved: received < ${r.starvedBelow * 100} % of the window or a stall > ${r.stallMs / 1000} s. The listener processes' longest event-loop delay: ${Math.max(loaxa.listenerLoopDelayMaxMs, icecast.listenerLoopDelayMaxMs)} ms.`,
    r.met
      ? `Target (server CPU ≤ ${r.target}× Icecast's, no box starved): met.`
      : `Target (server CPU ≤ ${r.target}× Icecast's, no box starved): **missed** (${r.cpuRatio.toFixed(2)}×${loaxa.starved ? `, ${loaxa.boxesStarved} boxes starved` : ''}) — see below, and "Icecast in front" in README.md.`,
  ].join('\n');
}

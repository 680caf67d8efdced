/**
 * bench:live's figures (issue 16): bench:relay's per-side CPU, memory and received audio (../relay/report.ts),
 * plus what a live voice adds — the latency from each marker leaving the speaker to each box receiving the
 * frame it is decoded from, and the dropouts of each box's jitter buffer — and the generated block of
 * bench/README.md.
 */
import { summarize, type PhaseResult, type Side } from '../relay/report.js';

export const TARGET_P99_MS = 2_000;

export interface LivePhase extends PhaseResult {
  /** Markers found by the side's reference box within the window: when each left the speaker, its own latency. */
  markers: Array<{ mouthAt: number; referenceMs: number }>;
  referenceFrames: number;
  referenceDroppedFrames: number;
}

const round = (x: number, d = 0): number => Math.round(x * 10 ** d) / 10 ** d;
const q = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]! : Number.NaN);

/**
 * When the dropouts happened, to tell whose they are: in 250 ms slots, those that hit at least a tenth of the
 * boxes of every listener process at once came from upstream (the speaker, the server, Icecast); those that hit
 * the boxes of one listener process only came from that process (its event loop held up: the measuring
 * apparatus, not the stream).
 */
function dropoutMoments(phases: LivePhase[], processes: number, speakerLateAt: number[]) {
  let moments = 0;
  /** Fleet-wide slots that began within a second after a chunk the speaker sent late. */
  let afterLateSpeaker = 0;
  let fleetWide = 0;
  let fleetWideDropouts = 0;
  let oneProcessDropouts = 0;
  let widest = 0;
  for (const p of phases) {
    const per = Math.ceil(p.results.length / processes);
    const slots = new Map<number, { boxes: number; procs: Map<number, number> }>();
    p.results.forEach((r, i) => {
      for (const at of r.dropoutTimes ?? []) {
        const k = Math.floor(at / 250);
        const slot = slots.get(k) ?? { boxes: 0, procs: new Map<number, number>() };
        slot.boxes++;
        slot.procs.set(Math.floor(i / per), (slot.procs.get(Math.floor(i / per)) ?? 0) + 1);
        slots.set(k, slot);
      }
    });
    for (const [k, slot] of slots) {
      moments++;
      widest = Math.max(widest, slot.boxes);
      if (slot.procs.size === processes && [...slot.procs.values()].every((n) => n >= per / 10)) {
        fleetWide++;
        if (speakerLateAt.some((at) => at >= k * 250 - 1_000 && at <= k * 250 + 250)) afterLateSpeaker++;
        fleetWideDropouts += slot.boxes;
      } else if (slot.procs.size === 1) oneProcessDropouts += slot.boxes;
    }
  }
  return { moments, widest, fleetWide, fleetWideDropouts, afterLateSpeaker, oneProcessDropouts };
}

function latency(phases: LivePhase[], side: Side, processes: number, speakerLateAt: number[]) {
  const own = phases.filter((p) => p.side === side);
  const ms: number[] = [];
  let missed = 0;
  const boxesWithDropout = new Set<number>();
  let dropouts = 0;
  let markers = 0;
  for (const p of own) {
    markers += p.markers.length;
    p.results.forEach((r, i) => {
      (r.arrivals ?? []).forEach((a, k) => {
        if (a === null) missed++;
        else ms.push(a - p.markers[k]!.mouthAt);
      });
      dropouts += r.dropouts ?? 0;
      if ((r.dropouts ?? 0) > 0) boxesWithDropout.add(i);
    });
  }
  ms.sort((a, b) => a - b);
  return {
    markers,
    measured: ms.length,
    /** Box × marker pairs where the box did not receive the onset's frame within 10 s (or not at all). */
    missed,
    p50Ms: round(q(ms, 0.5)),
    p99Ms: round(q(ms, 0.99)),
    maxMs: round(ms.at(-1) ?? Number.NaN),
    minMs: round(ms[0] ?? Number.NaN),
    dropouts,
    boxesWithDropout: boxesWithDropout.size,
    listenerWindowsWithDropout: own.reduce((n, p) => n + p.results.filter((r) => (r.dropouts ?? 0) > 0).length, 0),
    dropoutMoments: dropoutMoments(own, processes, speakerLateAt),
  };
}

export function liveSummary(phases: LivePhase[], processes: number, speakerLateAt: number[]) {
  const base = summarize(phases);
  const loaxa = latency(phases, 'loaxa', processes, speakerLateAt);
  const icecast = latency(phases, 'icecast', processes, speakerLateAt);
  const s = base.sides;
  // The fan-out alone: the server's CPU serving its listeners minus what it spent meanwhile on the encoder and
  // the push to Icecast alone (its CPU while Icecast's listeners were served).
  const fanoutRatio = round((s.loaxa.cpuPerMinute - s.loaxa.idleCpuPerMinute) / s.icecast.cpuPerMinute, 2);
  return {
    ...base,
    fanoutCpuRatio: fanoutRatio,
    latency: { loaxa, icecast },
    targets: { p99Ms: TARGET_P99_MS, cpuRatio: base.target, dropouts: 0 },
    met: {
      p99: loaxa.p99Ms <= TARGET_P99_MS && loaxa.missed === 0,
      cpu: base.cpuRatio <= base.target,
      dropouts: loaxa.boxesWithDropout === 0,
    },
  };
}

type Summary = ReturnType<typeof liveSummary>;
export interface LiveRun extends Summary {
  date: string;
  commit: string;
  machine: { cpus: number; model: string; node: string; icecast2: string; loadAverage: { before: string; after: string } };
  boxes: number;
  processes: number;
  order: Side[];
  serverNodeArgs: string;
  formats: Record<Side, string>;
  jitterModel: { prebufferMs: number; maxMs: number };
  speaker: { chunks: number; lateMaxMs: number; lateChunks: number; nice: number } | null;
  airing: { endReason: string | null; airedMs: number };
}

const yes = (b: boolean): string => (b ? 'met' : '**missed**');

export function liveBlock(r: LiveRun): string {
  const { loaxa, icecast } = r.sides;
  const L = r.latency;
  const row = (label: string, side: Side, cpuVs: string, rssVs: string): string => {
    const s = r.sides[side];
    const l = L[side];
    return `| ${label} | ${l.p50Ms} / ${l.p99Ms} / ${l.maxMs} ms | ${l.measured}${l.missed ? ` (+${l.missed} missed)` : ''} | ${s.cpuPerMinute.toFixed(2)} | ${cpuVs} | ${s.peakRssMiB} MiB (${rssVs}) | +${s.listenersRssMiB} MiB | ${r.boxes * s.windows - s.connect.failed} / ${r.boxes * s.windows} | ${l.boxesWithDropout} (${l.dropouts} dropouts) | ${s.stallMs.p99} / ${s.stallMs.max} ms |`;
  };
  const ordered = r.order.map((s) => (s === 'loaxa' ? 'server' : 'Icecast')).join(', ');
  return [
    `Measured ${r.date.slice(0, 10)} at ${r.commit}, ${r.machine.cpus} cores (${r.machine.model}), Node ${r.machine.node}, icecast2 ${r.machine.icecast2}, load average ${r.machine.loadAverage.before} before / ${r.machine.loadAverage.after} after; the server's Node options: \`${r.serverNodeArgs}\`.`,
    `${r.boxes} boxes in ${r.processes} listener processes on loopback; one emergency airing, the speaker sending Opus/WebM in 100 ms chunks as a browser does; the server serves ${r.formats.loaxa} and pushes it into the Icecast mount (${r.formats.icecast}, burst 2,400 bytes). ` +
      `Windows of ${Math.min(icecast.received.windowS, loaxa.received.windowS).toFixed(0)}–${Math.max(icecast.received.windowS, loaxa.received.windowS).toFixed(0)} s in the order ${ordered}; ${(loaxa.listenedS + icecast.listenedS).toFixed(0)} s listened in all.`,
    '',
    `| ${r.boxes.toLocaleString('en')} boxes on one live airing | mouth → box p50 / p99 / max | marker arrivals | CPU-s per minute | vs Icecast | peak RSS | for the listeners | listening / connects | boxes with a dropout | longest stall p99 / max |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    row(`Loa Xã \`/live/{id}\` (server + ${loaxa.serverChildren.join(', ') || 'no child'}; the Node process alone: ${loaxa.nodeCpuPerMinute?.toFixed(2)} CPU-s)`, 'loaxa', `**${r.cpuRatio.toFixed(2)}×**`, `${r.rssRatio}×`),
    row('Icecast2 mount fed by the server (reference)', 'icecast', '1×', '1×'),
    '',
    `Latency: from a marker leaving the speaker's side (the instant it is spoken; the recorder's 100 ms chunk leaves after it) to each box receiving the MP3 frame a decoder first hears its onset in (found by a reference box of each side decoding the stream with ffmpeg; every box gets the same frames). ` +
      `A box's jitter buffer (${r.jitterModel.prebufferMs} ms before output, ${r.jitterModel.maxMs} ms at most) adds up to ${r.jitterModel.prebufferMs} ms before its speaker. ` +
      `Dropouts: each box's frames played through a model of that buffer, counted when it ran dry; ` +
      `${(['loaxa', 'icecast'] as const).map((side) => { const m = L[side].dropoutMoments; return `${side === 'loaxa' ? 'the server' : 'Icecast'}: at ${m.moments} moments (250 ms slots), ${m.fleetWideDropouts} in ${m.fleetWide} that hit every listener process at once (upstream; ${m.afterLateSpeaker} of them within a second after a chunk the speaker sent late), ${m.oneProcessDropouts} in slots of one listener process only (that process held up), the widest ${m.widest} boxes`; }).join('; ')}. ` +
      `The server while Icecast's listeners were served (its encoder and the push): ${loaxa.idleCpuPerMinute.toFixed(2)} CPU-s per minute, so its fan-out alone is ${r.fanoutCpuRatio.toFixed(2)}× Icecast's; Icecast while the server's were: ${icecast.idleCpuPerMinute.toFixed(2)}. ` +
      `Connecting all listeners: server ${(loaxa.connect.wallMs / 1000).toFixed(1)} s, Icecast ${(icecast.connect.wallMs / 1000).toFixed(1)} s (its listen backlog of 5; ${icecast.connect.retried} listeners connected again after 5 s without an answer). ` +
      `Each listener got its audio in ${loaxa.chunksPerSecond} pieces a second from the server, ${icecast.chunksPerSecond} from Icecast. ` +
      `${r.speaker ? `The speaker (nice ${r.speaker.nice}) sent ${r.speaker.chunks} chunks, ${r.speaker.lateChunks} of them more than 50 ms late, at most ${r.speaker.lateMaxMs} ms; ` : ''}the airing ended \`${r.airing.endReason ?? 'not yet'}\` after ${(r.airing.airedMs / 1000).toFixed(0)} s of voice. The listener processes' longest event-loop delay: ${Math.max(loaxa.listenerLoopDelayMaxMs, icecast.listenerLoopDelayMaxMs)} ms.`,
    `Targets: p99 ≤ ${r.targets.p99Ms / 1000} s: ${yes(r.met.p99)} (${L.loaxa.p99Ms} ms); no box with a dropout: ${yes(r.met.dropouts)} (${L.loaxa.boxesWithDropout}); server CPU ≤ ${r.targets.cpuRatio}× Icecast's: ${yes(r.met.cpu)} (${r.cpuRatio.toFixed(2)}×).`,
  ].join('\n');
}

/**
 * The results blocks of bench/README.md for the scale benchmarks: one table per benchmark, ratios to the
 * bare reference of the same run, and whether each target of issue 8 was met (with the figure when not).
 */
import type { ConnectResult, FanoutResult, HeartbeatResult, MemoryByProcess } from './phases.js';
import type { HotSpot } from './cpuprofile.js';
import { OURS, TARGET_LABELS, type TargetName } from './targets.js';

export interface TargetResult {
  name: TargetName;
  label: string;
  info: Record<string, string | number>;
  connect?: ConnectResult;
  fanout?: FanoutResult[];
  heartbeat?: HeartbeatResult;
  /** Peak resident memory of each process over the whole run (VmHWM), MiB. */
  peakMiB?: MemoryByProcess;
  /** With BENCH_CPU_PROF=1: where the server's main thread spent its time in each measured phase. */
  profile?: { file: string; phases: Array<{ phase: string; busyMs: number; spanMs: number; hot: HotSpot[]; byPackage: Array<{ pkg: string; selfMs: number; pct: number }> }> };
  error?: string;
  notes?: string[];
}

export interface RunResults {
  benchmark: string;
  date: string;
  machine: { cpus: number; model: string; node: string; loadBefore: string; loadAfter: string; openFiles: number };
  commit: string;
  /** HEAD when the run ended: another commit landing during a run makes what was measured unclear. */
  commitAfter?: string;
  /** Files changed under server/, shared/ and deploy/mosquitto/ against the commit (the code measured). */
  uncommitted: string[];
  boxes: number;
  fleetProcesses: number;
  targets: TargetResult[];
}

export const TARGETS = {
  connectRatio: 1.2,
  rssMiB: 1024,
  within1s: 99,
  within2s: 100,
  heartbeatCpuRatio: 1.3,
} as const;

const s = (ms: number | null | undefined): string => (ms === null || ms === undefined || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);
const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${Math.round(x)}`);
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a && b && Number.isFinite(a) && Number.isFinite(b) ? a / b : null);
const x = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);
const met = (ok: boolean | null): string => (ok === null ? 'not measured' : ok ? 'met' : '**missed**');
const peakOf = (t: TargetResult): number => Object.values(t.peakMiB ?? {}).reduce((a, m) => a + (Number.isFinite(m.peak) ? m.peak : 0), 0);
/**
 * The memory target is the server's ("server memory < 1 GiB"): the Loa Xã process alone when the run names it
 * (a RabbitMQ cluster's two Erlang VMs are the broker's, shown beside it), else everything measured.
 */
const serverPeakOf = (t: TargetResult): number => {
  const own = t.peakMiB?.server?.peak;
  return own !== undefined && Number.isFinite(own) ? own : peakOf(t);
};
const memText = (t: TargetResult): string =>
  Object.entries(t.peakMiB ?? {})
    .map(([k, m]) => `${k} ${m.peak}`)
    .join(' + ') + ' MiB';

function header(r: RunResults): string {
  const dirty = r.uncommitted.length ? ` plus ${r.uncommitted.length} uncommitted files under server/, shared/ or deploy/mosquitto/` : '';
  const moved = r.commitAfter && r.commitAfter !== r.commit ? ` (HEAD moved to ${r.commitAfter.slice(0, 7)} during the run)` : '';
  return (
    `Measured ${r.date.slice(0, 10)} at ${r.commit.slice(0, 7)}${moved}${dirty}, ${r.machine.cpus} cores (${r.machine.model}), Node ${r.machine.node}, ` +
    `load average ${r.machine.loadBefore} before / ${r.machine.loadAfter} after; ${r.boxes.toLocaleString('en')} boxes in ${r.fleetProcesses} fleet processes on loopback.`
  );
}

function byName(r: RunResults): Partial<Record<TargetName, TargetResult>> {
  return Object.fromEntries(r.targets.map((t) => [t.name, t]));
}

function errors(r: RunResults): string[] {
  return [
    ...r.targets.flatMap((t) => (t.notes ?? []).map((n) => `- ${t.label}: ${n}`)),
    ...r.targets.filter((t) => t.error).map((t) => `- ${t.label}: run failed: ${t.error}`),
  ];
}

export function connectBlock(r: RunResults): string {
  const rows = r.targets
    .filter((t) => t.connect)
    .map((t) => {
      const c = t.connect!;
      const online = c.serverOnlineMs !== null ? s(c.serverOnlineMs) : c.serverOnline == null ? '—' : `**${c.serverOnline} of ${c.subscribed}** a minute later`;
      return `| ${t.label} | ${c.subscribed} / ${c.boxes} | ${c.allSubscribedMs === null ? `not all in ${s(c.waitedMs)}` : s(c.allSubscribedMs)} | ${ms(c.subscribedMs.p50)} / ${ms(c.subscribedMs.p99)} ms | ${c.retries} | ${online} | ${s(c.settledMs)} | ${c.cpuSecondsTotal} | ${Object.entries(c.memoryMiB).map(([k, m]) => `${k} ${m.rss}`).join(' + ')} MiB |`;
    });
  const t = byName(r);
  const lines = [header(r), '', '| | subscribed | all subscribed | per box p50 / p99 | retries | server has all online | idle again | CPU-s until idle | RSS after |', '|---|---|---|---|---|---|---|---|---|', ...rows, ''];
  for (const name of OURS) {
    const ours = t[name];
    if (!ours?.connect) continue;
    // Not all connected: the time waited is a lower bound of the time to all.
    const partial = ours.connect.allSubscribedMs === null;
    const mine = ours.connect.allSubscribedMs ?? ours.connect.waitedMs;
    const at = (r: number | null): string => (r === null ? '—' : `${partial ? '> ' : ''}${x(r)}`);
    const rc = ratio(mine, t.reference?.connect?.allSubscribedMs);
    const rr = ratio(mine, t['reference-retained']?.connect?.allSubscribedMs);
    lines.push(
      `${TARGET_LABELS[name]}: ${partial ? `${ours.connect.subscribed} of ${ours.connect.boxes} subscribed within ${s(mine)}, ` : ''}${at(rc)} the bare reference's time to all subscribed ` +
        `(target ≤ ${TARGETS.connectRatio}×: ${met(rc === null ? null : rc <= TARGETS.connectRatio)})` +
        `${rr !== null ? `; ${at(rr)} the reference's with retained statuses` : ''}; peak RSS ${memText(ours)} (server < 1 GiB: ${met(serverPeakOf(ours) > 0 ? serverPeakOf(ours) < TARGETS.rssMiB : null)}).`,
    );
  }
  return [...lines, ...errors(r)].join('\n');
}

export function fanoutBlock(r: RunResults): string {
  const rows: string[] = [];
  for (const t of r.targets) {
    for (const f of t.fanout ?? []) {
      rows.push(
        `| ${t.label} | ${f.round === 1 ? 'first' : `later (${f.round})`} | ${f.command.n} / ${f.boxes} | ${ms(f.command.p50)} / ${ms(f.command.p99)} / ${ms(f.command.max)} | ${f.command.within1s} % / ${f.command.within2s} % | ` +
          `${ms(f.playing.p50)} / ${ms(f.playing.p99)} / ${ms(f.playing.max)} | ${f.playingStored.n}: ${ms(f.playingStored.p99)} / ${ms(f.playingStored.max)} | ${ms(f.startSkewMs)} | ${f.requestMs === null ? '—' : ms(f.requestMs)} | ${f.cpuSecondsTotal} |`,
      );
    }
  }
  const t = byName(r);
  const lines = [
    header(r),
    '',
    '| | round | boxes with the command | command p50 / p99 / max (ms) | within 1 s / 2 s | playing p50 / p99 / max (ms) | playing reports stored: p99 / max (ms) | start skew (ms) | POST answered (ms) | CPU-s until idle |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Times are from the instant the emergency was requested (ours: `POST /api/v1/broadcasts`; reference: its one QoS 1 publish); the boxes treat the audio as cached.',
  ];
  for (const name of OURS) {
    const first = t[name]?.fanout?.[0];
    if (!first) continue;
    const ref = t.reference?.fanout?.[0];
    const ok = first.command.within1s >= TARGETS.within1s && first.command.within2s >= TARGETS.within2s && first.command.n >= first.boxes;
    lines.push(
      `${TARGET_LABELS[name]}, first emergency: ${first.command.within1s} % of boxes within 1 s, ${first.command.within2s} % within 2 s (target 99 % / 100 %: ${met(ok)}); ` +
        `p99 ${x(ratio(first.command.p99, ref?.command.p99))} the reference's.`,
    );
  }
  return [...lines, ...errors(r)].join('\n');
}

export function heartbeatBlock(r: RunResults): string {
  const rows = r.targets
    .filter((t) => t.heartbeat)
    .map((t) => {
      const h = t.heartbeat!;
      const stored = `${h.stored}${h.unmatched ? ` (+${h.unmatched} unmatched)` : ''}${h.server ? `; the server says ${h.server.received} received, ${h.server.stored} stored` : ''}`;
      const write = h.server
        ? `${ms(h.server.writeLatencyMs.p50)} / ${ms(h.server.writeLatencyMs.p99)} / ${ms(h.server.writeLatencyMs.max)} (the server's: arrival → commit)`
        : h.batchMs
          ? `${ms(h.storeTimeMs.p50)} / ${ms(h.storeTimeMs.p99)} / ${ms(h.storeTimeMs.max)} (send → commit)`
          : 'not exposed';
      const batches = h.server ? `${h.server.batches}, p99 ${h.server.batchP99Ms ?? '—'} ms` : h.batchMs ? `${h.batchMs.n}, p99 ${h.batchMs.p99} ms` : 'not exposed';
      return (
        `| ${t.label} | ${h.sent} | ${stored} | ${h.cpuSecondsTotal} in ${(h.windowMs / 1000).toFixed(0)} s → ${h.cpuSecondsPerMinute} | ${write} | ${batches} | ` +
        `${ms(h.visibleMs.p50)} / ${ms(h.visibleMs.p99)} / ${ms(h.visibleMs.max)} | ${Object.entries(h.memoryMiB).map(([k, m]) => `${k} ${m.rss}`).join(' + ')} MiB |`
      );
    });
  const t = byName(r);
  const lines = [
    header(r),
    '',
    '| | heartbeats sent | stored (matched one by one in the file) | CPU-s (per minute) | write latency p50 / p99 / max (ms) | write transactions | send → visible in the file p50 / p99 / max (ms) | RSS |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '"Visible": a read-only connection to the SQLite file polls it every 200 ms, so these include up to 200 ms of polling.',
  ];
  for (const name of OURS) {
    const h = t[name]?.heartbeat;
    if (!h) continue;
    const rc = ratio(h.cpuSecondsPerMinute, t.reference?.heartbeat?.cpuSecondsPerMinute);
    lines.push(
      `${TARGET_LABELS[name]}: ${x(rc)} the reference's CPU (target ≤ ${TARGETS.heartbeatCpuRatio}×: ${met(rc === null ? null : rc <= TARGETS.heartbeatCpuRatio)}); ` +
        `${h.stored} of ${h.sent} heartbeats stored${h.stored < h.sent ? ' (**not all**)' : ''}.`,
    );
  }
  return [...lines, ...errors(r)].join('\n');
}

export function brokersBlock(r: RunResults): string {
  const t = byName(r);
  const ref = t.reference;
  const rows = r.targets.map((tr) => {
    const c = tr.connect;
    const f = tr.fanout?.[0];
    const h = tr.heartbeat;
    return (
      `| ${tr.label} | ${c ? (c.allSubscribedMs === null ? `${c.subscribed} of ${c.boxes} in ${s(c.waitedMs)} (> ${x(ratio(c.waitedMs, ref?.connect?.allSubscribedMs))})` : `${s(c.allSubscribedMs)} (${x(ratio(c.allSubscribedMs, ref?.connect?.allSubscribedMs))})`) : '—'}` +
      // Boxes connected are not boxes the server knows about: say when its store lags behind.
      `${c && c.serverOnline != null && c.serverOnline < c.subscribed ? `; **the server counted ${c.serverOnline} online** a minute later` : ''} | ` +
      `${f ? `${ms(f.command.p99)} / ${ms(f.command.max)} ms, ${f.command.within1s} % ≤ 1 s (${x(ratio(f.command.p99, ref?.fanout?.[0]?.command.p99))})` : '—'} | ` +
      `${f ? `${f.playingStored.n < f.boxes ? `**${f.playingStored.n} of ${f.boxes}**` : `${f.playingStored.n}`}${f.playingStored.n ? `, p99 ${ms(f.playingStored.p99)} ms` : ''}` : '—'} | ` +
      `${h ? `${h.cpuSecondsPerMinute} (${x(ratio(h.cpuSecondsPerMinute, ref?.heartbeat?.cpuSecondsPerMinute))})` : '—'} | ${h ? `${h.stored} / ${h.sent}` : '—'} | ${h ? `${ms(h.visibleMs.p99)} ms` : '—'} | ${memText(tr)} |`
    );
  });
  return [
    header(r),
    '',
    '| | connect storm: all subscribed (× ref.) | emergency, first: command p99 / max (× ref. p99) | `playing` reports stored | heartbeat CPU-s / min (× ref.) | heartbeats stored / sent | heartbeat send → visible p99 | peak RSS |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Phases in this order: connect storm, heartbeats for ${(() => {
      const w = r.targets.find((x) => x.heartbeat)?.heartbeat?.windowMs;
      return w ? `${Math.round(w / 1000)} s` : 'one period';
    })()}, one emergency. Peak RSS is the VmHWM over the run of the server and of its broker (Mosquitto, each RabbitMQ node's Erlang VM); the < 1 GiB target is the server's. ` +
      `Node options of every Node process measured (server and reference): ${[...new Set(r.targets.map((x) => String(x.info.nodeArgs ?? '')))].map((a) => `\`${a || '(none)'}\``).join(', ')}.`,
    ...OURS.flatMap((name) => {
      const o = t[name];
      if (!o) return [];
      const c = o.connect;
      const f = o.fanout?.[0];
      const h = o.heartbeat;
      const rc = c ? ratio(c.allSubscribedMs ?? c.waitedMs, ref?.connect?.allSubscribedMs) : null;
      const rh = h ? ratio(h.cpuSecondsPerMinute, ref?.heartbeat?.cpuSecondsPerMinute) : null;
      const fan = f ? f.command.within1s >= TARGETS.within1s && f.command.within2s >= TARGETS.within2s && f.command.n >= f.boxes : null;
      return [
        `${TARGET_LABELS[name]}: connect ≤ ${TARGETS.connectRatio}× ${met(rc === null ? null : c!.allSubscribedMs !== null && rc <= TARGETS.connectRatio)}; ` +
          `emergency 99 % ≤ 1 s and 100 % ≤ 2 s ${met(fan)}; heartbeat CPU ≤ ${TARGETS.heartbeatCpuRatio}× ${met(rh === null ? null : rh <= TARGETS.heartbeatCpuRatio)}; ` +
          `server RSS < 1 GiB ${met(serverPeakOf(o) > 0 ? serverPeakOf(o) < TARGETS.rssMiB : null)}.`,
      ];
    }),
    ...(t['ours-mosquitto-files']?.info.registerMs !== undefined
      ? [`Mosquitto's files: the ${r.boxes.toLocaleString('en')} boxes registered through the bulk route (2,500 per request, one rewrite and reload each) in ${s(Number(t['ours-mosquitto-files'].info.registerMs))}.`]
      : []),
    ...(t['ours-rabbitmq']?.info.clusterStartMs !== undefined
      ? [
          `RabbitMQ ${t['ours-rabbitmq'].info.rabbitmq} (deploy/rabbitmq/rabbitmq.conf, ${t['ours-rabbitmq'].info.rabbitmqMirror === 'off' ? '**without** mirroring the MQTT session queues' : 'MQTT session queues mirrored on both nodes'}): the two nodes booted and clustered in ${s(Number(t['ours-rabbitmq'].info.clusterStartMs))}; half the boxes on each node, ` +
            `every login, queue and topic check asked of the server over HTTP${t['ours-rabbitmq'].info.rabbitmqErlArgs ? `; Erlang flags \`${t['ours-rabbitmq'].info.rabbitmqErlArgs}\`` : ''}.`,
        ]
      : []),
    ...(t['ours-mosquitto']?.info.dynsecProbe
      ? [`Registering boxes through the server into Mosquitto's dynsec, 200 per request (boxes in all: time of that request): ${t['ours-mosquitto'].info.dynsecProbe}; the ${r.boxes.toLocaleString('en')} were written into its file by the bench.`]
      : []),
    ...errors(r),
  ].join('\n');
}

/**
 * What the benchmarks of issue 8 need to read from the server itself: for the heartbeats, statuses and
 * delivery reports devices send, how many arrived, how many were stored, and the write latency — the time
 * from a message's arrival in its handler to the commit of the batch that stored it — over a sliding
 * window (p50, p99, max), with the duration of the batches themselves. Served by `GET /api/v1/metrics`
 * and logged once a minute while devices report.
 */
import { performance } from 'node:perf_hooks';
import { Histogram, LATENCY_BUCKETS_SECONDS, type HistogramSnapshot } from '../metrics/exposition.js';

export const INGEST_KINDS = ['heartbeats', 'statuses', 'deliveryReports'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

export interface LatencySummary {
  windowSeconds: number;
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/**
 * Samples of the last `windowMs`, in a fixed ring: at 10,000 boxes every 30 s a minute holds 20,000
 * heartbeats; beyond `capacity` samples the oldest are overwritten, so the window only shortens.
 */
export class LatencyWindow {
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    readonly windowMs = 60_000,
    private readonly capacity = 1 << 16,
  ) {
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
  }

  record(latencyMs: number, at = performance.now()): void {
    this.at[this.next] = at;
    this.ms[this.next] = latencyMs;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  summary(now = performance.now()): LatencySummary {
    const values: number[] = [];
    for (let i = 0; i < this.size; i++) if (now - this.at[i]! <= this.windowMs) values.push(this.ms[i]!);
    values.sort((a, b) => a - b);
    const pick = (q: number) => (values.length ? round(values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!) : null);
    return { windowSeconds: this.windowMs / 1000, count: values.length, p50Ms: pick(0.5), p99Ms: pick(0.99), maxMs: values.length ? round(values.at(-1)!) : null };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

class KindMetrics {
  received = 0;
  stored = 0;
  /** Arrival instants (performance.now()) of messages not yet committed, oldest first. */
  private waiting: number[] = [];
  readonly latency: LatencyWindow;
  /** The same latencies since start, in seconds, for Prometheus (`GET /metrics`): the window above forgets. */
  readonly histogram = new Histogram(LATENCY_BUCKETS_SECONDS);

  constructor(windowMs: number) {
    this.latency = new LatencyWindow(windowMs);
  }

  arrived(at: number): void {
    this.received++;
    this.waiting.push(at);
  }

  /** Everything waiting is settled: stored, except `lost` of it. */
  committed(at: number, lost = 0): void {
    if (lost < this.waiting.length) {
      for (const t of this.waiting) {
        this.latency.record(at - t, at);
        this.histogram.observe((at - t) / 1000);
      }
    }
    this.stored += this.waiting.length - lost;
    this.waiting = [];
  }

  failed(count = this.waiting.length): void {
    this.lost += count;
    this.committed(performance.now(), count);
  }

  lost = 0;

  get pending(): number {
    return this.waiting.length;
  }
}

export class IngestMetrics {
  private readonly kinds: Record<IngestKind, KindMetrics>;
  /** How long each batch transaction took (heartbeats and statuses together; delivery reports apart). */
  readonly presenceBatches: LatencyWindow;
  readonly reportBatches: LatencyWindow;
  /** Delivery reports processed without a change: repeated, stale (QoS 1 redeliveries) or for no known delivery. */
  reportsIgnored = 0;

  constructor(readonly windowMs = 60_000) {
    this.kinds = { heartbeats: new KindMetrics(windowMs), statuses: new KindMetrics(windowMs), deliveryReports: new KindMetrics(windowMs) };
    this.presenceBatches = new LatencyWindow(windowMs);
    this.reportBatches = new LatencyWindow(windowMs);
  }

  arrived(kind: IngestKind, at = performance.now()): void {
    this.kinds[kind].arrived(at);
  }

  /** Everything of this kind still waiting could not be written (the database refused the batch), or `count` of it. */
  failed(kind: IngestKind, count?: number): void {
    this.kinds[kind].failed(count);
  }

  /** Everything of these kinds that arrived so far is now committed. */
  committed(kinds: readonly IngestKind[], at = performance.now()): void {
    for (const k of kinds) this.kinds[k].committed(at);
  }

  /** Counts since start and the write-latency histogram of one kind (`GET /metrics`). */
  totals(kind: IngestKind): { received: number; stored: number; lost: number; pending: number; latency: HistogramSnapshot } {
    const m = this.kinds[kind];
    return { received: m.received, stored: m.stored, lost: m.lost, pending: m.pending, latency: m.histogram.snapshot() };
  }

  snapshot(now = performance.now()) {
    const kind = (k: IngestKind) => {
      const m = this.kinds[k];
      return { received: m.received, stored: m.stored, pending: m.pending, lost: m.lost, writeLatency: m.latency.summary(now) };
    };
    return {
      heartbeats: kind('heartbeats'),
      statuses: kind('statuses'),
      deliveryReports: { ...kind('deliveryReports'), ignored: this.reportsIgnored },
      batches: { presence: this.presenceBatches.summary(now), deliveryReports: this.reportBatches.summary(now) },
    };
  }
}

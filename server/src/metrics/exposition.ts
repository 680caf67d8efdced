/**
 * The Prometheus text exposition format, version 0.0.4, written by hand: it is a few dozen lines, and
 * prom-client would bring a global default registry (state shared between the servers a test starts)
 * and its own names for process metrics. Pure: no Fastify, no SQLite; `routes/prometheus.ts` gathers
 * the values, this module only spells them.
 *
 * Format (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
 * `# HELP name text` and `# TYPE name type` once per family, before its samples; a sample is
 * `name{label="value",…} number`; in HELP, `\` and newline are escaped; in label values `\`, `"` and
 * newline. Counters end in `_total`; a histogram is `_bucket{le=…}` cumulative, ending with `le="+Inf"`,
 * then `_sum` and `_count` (= the +Inf bucket).
 */

export type Labels = Readonly<Record<string, string>>;
export type FamilyType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  labels?: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  /** Counters and gauges. */
  samples?: readonly Sample[];
  /** Histograms: one series per label set. */
  histograms?: ReadonlyArray<{ labels?: Labels; histogram: HistogramSnapshot }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
export const escapeLabelValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Go's float formatting as Prometheus reads it: +Inf, -Inf, NaN, else the shortest JS form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (!pairs.length) return '';
  for (const [k] of pairs) if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(k)}`);
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/**
 * The whole exposition. Throws on a name that would make the scrape fail (bad characters, a counter not
 * ending in `_total`, a family twice): a programming error here should fail the tests, not Prometheus.
 */
export function renderExposition(families: readonly Family[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
    if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`counter ${f.name} must end in _total`);
    if (seen.has(f.name)) throw new Error(`metric family ${f.name} twice`);
    seen.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === 'histogram') {
      for (const { labels, histogram: h } of f.histograms ?? []) {
        let cumulative = 0;
        h.bounds.forEach((le, i) => {
          cumulative += h.counts[i]!;
          out.push(`${f.name}_bucket${labelText(labels, ['le', formatValue(le)])} ${cumulative}`);
        });
        out.push(`${f.name}_bucket${labelText(labels, ['le', '+Inf'])} ${h.count}`);
        out.push(`${f.name}_sum${labelText(labels)} ${formatValue(h.sum)}`, `${f.name}_count${labelText(labels)} ${h.count}`);
      }
    } else {
      for (const s of f.samples ?? []) out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

export interface HistogramSnapshot {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last bucket past `bounds` is `count − Σ counts`. */
  counts: readonly number[];
  sum: number;
  count: number;
}

/** Seconds, from a millisecond to a minute: ingest writes, HTTP answers. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
/** Seconds a bulletin takes to synthesize: a second to ten minutes (a long bulletin on a slow engine). */
export const SYNTHESIS_BUCKETS_SECONDS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] as const;

/**
 * A cumulative histogram since start, as Prometheus wants it (rates come from its counters, quantiles
 * from `histogram_quantile`). Fixed buckets: memory does not grow with observations.
 */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new Error('histogram bounds must ascend');
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    this.sum += v;
    this.count++;
    // Linear: 15 bounds, and cheaper than a binary search at this size.
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.bounds, counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

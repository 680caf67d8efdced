/** One health reading of a box over time: min, average and max per 15 minutes (loaded on demand: uPlot). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { HEALTH_BUCKET_MS, type HealthMetric, type HealthPoint } from '@loaxa/shared/api';
import { fmtDateTime, fmtDayMonth, fmtTime } from '../../logic/format.js';
import { s } from './strings.js';

/** Readings in the unit the label names: the cache in MB, uptime in hours. */
const SCALE: Partial<Record<HealthMetric, number>> = { cache: 1 / (1024 * 1024), uptime: 1 / 3600 };
const num = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 });

/**
 * uPlot's columns: bucket middles (s) and min, avg, max in the label's unit; a null between buckets more than
 * one apart, so a silent box shows as a gap, not a line across the time it said nothing.
 */
export function chartData(points: readonly HealthPoint[], metric: HealthMetric): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  const k = SCALE[metric] ?? 1;
  const xs: number[] = [];
  const cols: [(number | null)[], (number | null)[], (number | null)[]] = [[], [], []];
  let prev: number | null = null;
  for (const p of points) {
    const r = p.readings[metric];
    if (!r) continue;
    const at = Date.parse(p.at);
    if (prev !== null && at - prev > HEALTH_BUCKET_MS) {
      xs.push((prev + HEALTH_BUCKET_MS) / 1000 + HEALTH_BUCKET_MS / 2000);
      for (const c of cols) c.push(null);
    }
    xs.push((at + HEALTH_BUCKET_MS / 2) / 1000);
    cols[0].push(r.min * k);
    cols[1].push(r.avg * k);
    cols[2].push(r.max * k);
    prev = at;
  }
  return [xs, ...cols];
}

export default function HealthChart({ points, metric, from, to }: { points: HealthPoint[]; metric: HealthMetric; from: number; to: number }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const spanS = (to - from) / 1000;
    const value = (_u: uPlot, v: number | null) => (v === null ? '—' : num.format(v));
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        // A tenth of the spread above and below, so the highest and lowest points are drawn whole.
        scales: { x: { time: true, range: [from / 1000, to / 1000] }, y: { range: (_u, min, max) => [min - ((max - min) * 0.1 || 1), max + ((max - min) * 0.1 || 1)] } },
        legend: { show: true },
        axes: [
          // Vietnam time, 24 h; days and months over a week (uPlot's own labels are the browser's locale).
          { values: (_u, ticks) => ticks.map((t) => (spanS > 2 * 86_400 ? fmtDayMonth(t * 1000) : fmtTime(t * 1000).slice(0, 5))), stroke: '#444' },
          { values: (_u, ticks) => ticks.map((v) => num.format(v)), stroke: '#444', size: 56 },
        ],
        series: [
          { label: s.seriesAt, value: (_u, v) => (v === null ? '—' : fmtDateTime(v * 1000)) },
          { label: s.seriesMin, stroke: '#7aa7d6', width: 1, value, points: { show: true, size: 4 } },
          { label: s.seriesAvg, stroke: '#0b5cad', width: 2, value, points: { show: true, size: 5 } },
          { label: s.seriesMax, stroke: '#c0392b', width: 1, value, points: { show: true, size: 4 } },
        ],
      },
      chartData(points, metric),
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [points, metric, from, to]);
  return <div ref={host} class="box-chart" data-testid="box-chart" data-points={points.length} role="img" aria-label={s.metrics[metric]} />;
}

/** Installed and working coverage over 30 days, from the snapshots the server keeps (loaded on demand: uPlot). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CoverageTrend } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtDayMonth, fmtPct, fmtTime } from '../../logic/format.js';

export function trendSeries(items: CoverageTrend['items']): [number[], number[], number[]] {
  const sorted = [...items].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return [sorted.map((i) => Date.parse(i.at) / 1000), sorted.map((i) => i.installedPct), sorted.map((i) => i.workingPct)];
}

export default function TrendChart({ items }: { items: CoverageTrend['items'] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const data = trendSeries(items);
    const spanS = (data[0].at(-1) ?? 0) - (data[0][0] ?? 0);
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        scales: { y: { range: [0, 100] } },
        legend: { show: true },
        axes: [
          // Days when the history spans days; hours and minutes on a young installation.
          { values: (_u, ticks) => ticks.map((s) => (spanS > 2 * 86_400 ? fmtDayMonth(s * 1000) : fmtTime(s * 1000).slice(0, 5))), stroke: '#444' },
          { values: (_u, ticks) => ticks.map((v) => `${v}%`), stroke: '#444' },
        ],
        series: [
          { label: t.dashboard.trendAt, value: (_u, v) => (v === null ? '—' : fmtDateTime(v * 1000)) },
          { label: t.dashboard.trendInstalled, stroke: '#0b5cad', width: 2, value: (_u, v) => (v === null ? '—' : fmtPct(v)) },
          { label: t.dashboard.trendWorking, stroke: '#1a7f37', width: 2, fill: 'rgba(26,127,55,0.10)', value: (_u, v) => (v === null ? '—' : fmtPct(v)) },
        ],
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [items]);
  return <div ref={host} class="trend" role="img" aria-label={t.dashboard.trend} />;
}

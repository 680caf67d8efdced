/** Installed and working coverage over 30 days, from the snapshots the server keeps (loaded on demand: uPlot). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CoverageTrend } from '../../api/types.js';
import { t, TIME_ZONE } from '../../i18n/vi.js';
import { fmtDateTime, fmtDayMonth, fmtPct, fmtTime } from '../../logic/format.js';

export function trendSeries(items: CoverageTrend['items']): [number[], number[], number[]] {
  const sorted = [...items].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return [sorted.map((i) => Date.parse(i.at) / 1000), sorted.map((i) => i.installedPct), sorted.map((i) => i.workingPct)];
}

const DAY_S = 86_400;
/** Tick steps the time axis may use (seconds): never under a minute, whole hours and days beyond. */
const X_INCRS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S];

/**
 * The time axis's labels (issue 20, broken 11: with a day or two of snapshots the axis read "00:00 · 12:00 ·
 * 00:00", the days never named). Ticks a day or more apart are days ("06/12"); closer ticks are times, and a
 * tick at midnight (Vietnam time), or the first one, names its day so the reader knows which day it is.
 */
export function trendTickLabels(ticks: readonly number[], incrS: number): string[] {
  if (incrS >= DAY_S) return ticks.map((s) => fmtDayMonth(s * 1000));
  return ticks.map((s, i) => {
    const time = fmtTime(s * 1000).slice(0, 5);
    if (time === '00:00') return fmtDayMonth(s * 1000);
    return i === 0 ? `${fmtDayMonth(s * 1000)} ${time}` : time;
  });
}

export default function TrendChart({ items }: { items: CoverageTrend['items'] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = () => Math.max(260, el.clientWidth);
    const data = trendSeries(items);
    const first = data[0][0] ?? 0;
    const last = data[0].at(-1) ?? 0;
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        // Ticks fall on Vietnam's hours and midnights whatever the computer's time zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
        scales: {
          y: { range: [0, 100] },
          // A single snapshot (or a few minutes of them) is drawn over an hour, not over seconds of ticks.
          x: { time: true, range: (_u, min, max) => (max - min < 3600 ? [Math.min(min, first) - 1800, Math.max(max, last) + 1800] : [min, max]) },
        },
        legend: { show: true },
        axes: [
          {
            incrs: X_INCRS,
            space: 70,
            values: (_u, ticks, _axis, _space, incr) => {
              const labels = trendTickLabels(ticks, incr);
              el.dataset.xTicks = labels.join('|');
              return labels;
            },
            stroke: '#444',
          },
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

/**
 * A box's health readings over time (issue 20): one reading at a time over 24 hours, 7 or 30 days, drawn by
 * the chart chunk (uPlot, loaded only when there is something to draw); when the box was heard, and the spans
 * it was silent, from the same 15-minute buckets (a bucket without heartbeats is time offline).
 */
import { useMemo, useState } from 'preact/hooks';
import { HEALTH_BUCKET_MS, HEALTH_METRICS, type Device, type HealthMetric, type HealthPoint } from '@loaxa/shared/api';
import { useAsync } from '../../app/hooks.js';
import { errorMessage } from '../../app/errors.js';
import { Lazy } from '../../app/lazy.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { fmtDateTime } from '../../logic/format.js';
import { useBoxApi } from './api.js';
import { s } from './strings.js';

const SPANS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;
type Span = keyof typeof SPANS;
const chart = () => import('./HealthChart.js');

/** Silent spans between heard buckets, and after the last one when it is not the current one; newest first. */
export function silences(points: readonly HealthPoint[], to: number): Array<{ from: number; to: number | null }> {
  const out: Array<{ from: number; to: number | null }> = [];
  for (let i = 1; i < points.length; i++) {
    const end = Date.parse(points[i - 1]!.at) + HEALTH_BUCKET_MS;
    const next = Date.parse(points[i]!.at);
    if (next > end) out.push({ from: end, to: next });
  }
  const last = points.at(-1);
  // The bucket in progress and the one before it may still be folding: only older silence counts as open.
  if (last && Date.parse(last.at) + 2 * HEALTH_BUCKET_MS < to) out.push({ from: Date.parse(last.at) + HEALTH_BUCKET_MS, to: null });
  return out.reverse();
}

export function HealthCard({ device }: { device: Device }) {
  const box = useBoxApi();
  const [span, setSpan] = useState<Span>('day');
  const [metric, setMetric] = useState<HealthMetric>('temp');
  // Asked again when the box's last contact moves, so a box coming online shows its first readings.
  const [history] = useAsync(
    (signal) => {
      const to = Date.now();
      return box.history(device.id, new Date(to - SPANS[span]).toISOString(), new Date(to).toISOString(), signal);
    },
    [device.id, span, device.lastSeenAt],
  );
  const points = history.status === 'ok' ? history.value.points : [];
  const to = history.status === 'ok' ? Date.parse(history.value.to) : Date.now();
  const from = history.status === 'ok' ? Date.parse(history.value.from) : to - SPANS[span];
  const gaps = useMemo(() => silences(points, to), [points, to]);
  // Buckets the box could have been heard in: since it was registered (or first heard, if earlier), within the span.
  const since = Math.min(Date.parse(device.createdAt), points.length ? Date.parse(points[0]!.at) : Infinity);
  const possible = Math.max(1, Math.ceil((to - Math.max(from, since)) / HEALTH_BUCKET_MS));
  const withMetric = points.filter((p) => p.readings[metric]);

  return (
    <Card title={s.health}>
      <div class="row wrap filters">
        <fieldset class="segmented" aria-label={s.span}>
          <legend class="sr-only">{s.span}</legend>
          {(Object.keys(SPANS) as Span[]).map((k) => (
            <label key={k} class={span === k ? 'active' : ''}>
              <input type="radio" name="box-span" checked={span === k} onChange={() => setSpan(k)} />
              {s.spans[k]}
            </label>
          ))}
        </fieldset>
        <label class="field" for="box-metric">
          <span>{s.metric}</span>
          <select id="box-metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value as HealthMetric)}>
            {HEALTH_METRICS.map((m) => (
              <option key={m} value={m}>
                {s.metrics[m]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {history.status === 'loading' ? (
        <Loading />
      ) : history.status === 'error' ? (
        <Alert>{errorMessage(history.error)}</Alert>
      ) : !points.length ? (
        <Empty>{s.noHealth}</Empty>
      ) : (
        <>
          <p class="muted" data-testid="box-heard">
            {s.heard(Math.min(points.length, possible), possible)}
          </p>
          {/* Drawn from a little before the box was first heard, not across empty hours before it existed. */}
          {withMetric.length ? <Lazy load={chart} props={{ points: withMetric, metric, from: Math.max(from, since - HEALTH_BUCKET_MS), to }} /> : <Empty>{s.noReading}</Empty>}
          <h3>{s.silences}</h3>
          {gaps.length ? (
            <ul class="box-list" data-testid="box-silences">
              {gaps.slice(0, 20).map((g) => (
                <li key={g.from}>{g.to === null ? s.silenceOpen(fmtDateTime(g.from)) : s.silence(fmtDateTime(g.from), fmtDateTime(g.to))}</li>
              ))}
            </ul>
          ) : (
            <p class="muted">{s.noSilence}</p>
          )}
        </>
      )}
    </Card>
  );
}

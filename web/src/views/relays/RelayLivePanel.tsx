/**
 * A relay broadcast on its live page (issue 15: "shown in the reports and the live status page"): which URL
 * each box relays now (the SSE `relay` events the page's feed hands over) and, per box, the minutes relayed so
 * far, the gaps with their causes and the time each URL served — the report re-read every 10 s and soon
 * after each relay event.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { RelayEvent, RelayReport } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Card, Empty } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtLength, fmtMinutes } from '../../logic/relays.js';
import { RelayReportTable } from './RelayReportTable.js';

const REFRESH_MS = 10_000;
const AFTER_EVENT_MS = 1_500;

export function RelayLivePanel({ broadcastId, occurrenceAt, sourceName, live, eventCount }: { broadcastId: string; occurrenceAt: string | null; sourceName: string | null; live: ReadonlyMap<string, RelayEvent>; eventCount: number }) {
  const { api } = useSession();
  const [report, reload] = useAsync<{ report: RelayReport; at: number }>(
    async (signal) => ({ report: await api.relayReport({ broadcastId, ...(occurrenceAt ? { occurrenceAt } : {}) }, signal), at: Date.now() }),
    [broadcastId, occurrenceAt],
  );
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  // A burst of events (every box starting at once) is one re-read, not one each.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!eventCount || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      reload();
    }, AFTER_EVENT_MS);
  }, [eventCount]);
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);

  const value = report.status === 'ok' ? report.value.report : null;
  const reportAt = report.status === 'ok' ? report.value.at : 0;
  return (
    <Card title={sourceName ? t.relayReport.titleOf(sourceName) : t.relayReport.title} id="relay-live">
      <p class="muted small">{t.relayReport.intro}</p>
      {report.status === 'error' && <Alert kind="warning">{errorMessage(report.error)}</Alert>}
      {value && (
        <p class="small" data-testid="relay-totals">
          {t.relayReport.totals(value.totals.boxes, t.relayReport.minutes(fmtMinutes(value.totals.relayedMs)), fmtLength(value.totals.gapMs))}
        </p>
      )}
      {value && !value.items.length ? <Empty>{t.relayReport.empty}</Empty> : value && <RelayReportTable items={value.items} live={live} reportAt={reportAt} />}
    </Card>
  );
}

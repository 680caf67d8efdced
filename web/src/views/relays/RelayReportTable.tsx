/**
 * The as-run of a relay per box (issue 15 § As-run: "minutes actually relayed per box, gaps with their causes,
 * which URL served; shown in the reports and the live status page"), from `GET /api/v1/reports/relays`.
 * With `live` (the SSE `relay` events of the live page) a column says which URL each box relays now.
 */
import type { RelayEvent, RelayReportItem } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtTime } from '../../logic/format.js';
import { causeLabel, fmtLength, fmtMinutes, nowFromReport, type RelayGroup } from '../../logic/relays.js';

/**
 * Which URL a box relays now: from its latest `relay` event, else (the page opened mid-relay) from its report
 * as read at `reportAt` (`nowFromReport`), said so.
 */
export function NowServing({ e, item, reportAt }: { e: RelayEvent | undefined; item: RelayReportItem; reportAt: number }) {
  const derived = e ? null : nowFromReport(item, reportAt);
  const cur = e ?? (derived ? { ...derived, at: new Date(reportAt).toISOString() } : null);
  if (!cur) return <span class="muted">{t.relayReport.nowUnknown}</span>;
  const when = (
    <small class="muted">
      {fmtTime(cur.at)} · {causeLabel(cur.cause)}
      {derived && ` · ${t.relayReport.fromReport}`}
    </small>
  );
  if (cur.url && cur.cause !== 'ended' && cur.cause !== 'fallback') {
    return (
      <span data-testid="relay-now">
        <code class="url">{cur.url}</code>
        <br />
        {when}
      </span>
    );
  }
  return (
    <span data-testid="relay-now">
      {t.relayReport.nowNone(causeLabel(cur.cause))}
      <br />
      <small class="muted">
        {fmtTime(cur.at)}
        {derived && ` · ${t.relayReport.fromReport}`}
      </small>
    </span>
  );
}

export function RelayReportTable({ items, live, reportAt = 0 }: { items: readonly RelayReportItem[]; live?: ReadonlyMap<string, RelayEvent>; reportAt?: number }) {
  return (
    <div class="table-wrap">
      <table class="table relay-table" data-testid="relay-report">
        <thead>
          <tr>
            <th scope="col">{t.relayReport.device}</th>
            {live && <th scope="col">{t.relayReport.now}</th>}
            <th scope="col">{t.relayReport.relayed}</th>
            <th scope="col">{t.relayReport.gaps}</th>
            <th scope="col">{t.relayReport.urls}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={`${i.deviceId} ${i.occurrenceAt}`} data-device={i.deviceId}>
              <th scope="row">
                {i.deviceName}
                <br />
                <small class="muted">{i.deviceId}</small>
              </th>
              {live && (
                <td>
                  <NowServing e={live.get(i.deviceId)} item={i} reportAt={reportAt} />
                </td>
              )}
              <td class="num" data-testid="relayed-minutes">
                {t.relayReport.minutes(fmtMinutes(i.relayedMs))}
              </td>
              <td>
                {!i.gaps.length && !i.switches.length ? (
                  <span class="muted">{t.relayReport.noGaps}</span>
                ) : (
                  <ul class="plain-list small">
                    {i.gaps.map((g) => (
                      <li key={g.from} data-cause={g.cause}>
                        {t.relayReport.gap(fmtTime(g.from), fmtTime(g.to), fmtLength(g.ms), causeLabel(g.cause))}
                        {g.detail && <small class="muted tech"> — {g.detail}</small>}
                      </li>
                    ))}
                    {i.switches.map((w) => (
                      <li key={`s${w.at}`} data-cause={w.cause}>
                        {t.relayReport.switchLine(fmtTime(w.at), causeLabel(w.cause), w.url)}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <ul class="plain-list small">
                  {i.urls.map((u) => (
                    <li key={u.url}>
                      <code class="url">{u.url}</code>: {fmtLength(u.servedMs)}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A group's heading: "Tiếp sóng VOV1 · VOV1 · 07/12/2026, 18:00–18:30". */
export function RelayGroupHeading({ g }: { g: RelayGroup }) {
  return (
    <p class="small">
      <strong>{g.title}</strong>
      {g.sourceName && ` · ${t.relayReport.source}: ${g.sourceName}`} · {t.relayReport.window}: {fmtDateTime(g.occurrenceAt)}–{fmtTime(g.windowEndsAt).slice(0, 5)}
    </p>
  );
}

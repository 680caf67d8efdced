/**
 * "Hệ thống cấp dưới": the central dashboard — per child system its boxes, online, faulty, communes with a
 * working box out of those with boxes, airings of the last 24 h and its last report (warned when older than
 * 15 minutes); a table on a desk, cards on a phone. Choosing a child shows its as-run.
 */
import { useEffect, useState } from 'preact/hooks';
import type { NationalChildSummary } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtDuration, fmtNumber, fmtPct } from '../../logic/format.js';
import { coveragePct, isStale, nationalError, type PeerLookup } from './national-logic.js';

const s = t.national.children;
const REFRESH_MS = 30_000;

export function ChildrenPanel({ lookup }: { lookup: PeerLookup }) {
  const { api } = useSession();
  const [state, reload] = useAsync((signal) => api.nationalChildren(signal), []);
  const [open, setOpen] = useState<NationalChildSummary | null>(null);
  useEffect(() => {
    const id = setInterval(reload, REFRESH_MS);
    return () => clearInterval(id);
  }, []);

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <Alert>{nationalError(state.error)}</Alert>;
  const items = state.value.items;
  const now = Date.now();

  return (
    <>
      <Card
        title={s.title}
        actions={
          <button type="button" class="btn btn-small btn-ghost" onClick={reload}>
            ↻ {t.national.reload}
          </button>
        }
      >
        <p class="muted small">{s.intro}</p>
        {!items.length ? (
          <Empty>{s.empty}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table nat-children" data-testid="children">
              <thead>
                <tr>
                  <th scope="col">{s.system}</th>
                  <th scope="col">{s.boxes}</th>
                  <th scope="col">{s.online}</th>
                  <th scope="col">{s.faulty}</th>
                  <th scope="col">{s.coverage}</th>
                  <th scope="col">{s.airings}</th>
                  <th scope="col">{s.lastReport}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => {
                  const pct = coveragePct(c.communesCovered, c.communesWithBoxes);
                  const stale = isStale(c.lastReportAt, now);
                  return (
                    <tr key={c.peerId} data-child={c.sourceId} class={open?.peerId === c.peerId ? 'selected' : ''}>
                      <th scope="row" class="nat-child-name">
                        <button type="button" class="linklike" aria-expanded={open?.peerId === c.peerId} onClick={() => setOpen(open?.peerId === c.peerId ? null : c)} title={s.showAirings(c.name)}>
                          {c.name}
                        </button>
                        <small class="muted"> {c.sourceId}</small>
                      </th>
                      <td data-label={s.boxes} data-testid="child-boxes">
                        {fmtNumber(c.boxes)}
                      </td>
                      <td data-label={s.online} data-testid="child-online">
                        {fmtNumber(c.online)}
                      </td>
                      <td data-label={s.faulty} class={c.faulty ? 'bad' : ''}>
                        {fmtNumber(c.faulty)}
                      </td>
                      <td data-label={s.coverage} data-testid="child-coverage">
                        {s.coverageOf(c.communesCovered, c.communesWithBoxes)}
                        {pct !== null && <strong class="nat-pct"> {fmtPct(pct)}</strong>}
                      </td>
                      <td data-label={s.airings} data-testid="child-airings">
                        {s.airingsOkFailed(c.airings.ok, c.airings.failed)}
                      </td>
                      <td data-label={s.lastReport}>
                        {c.lastReportAt ? fmtDateTime(c.lastReportAt) : s.never}
                        {stale && (
                          <>
                            {' '}
                            <Badge tone="stale">⚠ {c.lastReportAt ? s.stale : s.never}</Badge>
                          </>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {open && <ChildAirings key={open.peerId} child={open} lookup={lookup} onClose={() => setOpen(null)} />}
    </>
  );
}

function ChildAirings({ child, lookup, onClose }: { child: NationalChildSummary; lookup: PeerLookup; onClose: () => void }) {
  const { api } = useSession();
  const [state] = useAsync((signal) => api.nationalChildAirings(child.peerId, signal), [child.peerId]);
  return (
    <Card
      title={s.airingsTitle(child.name)}
      id="nat-child-airings"
      actions={
        <button type="button" class="btn btn-small btn-ghost" onClick={onClose}>
          ✕ {s.hide}
        </button>
      }
    >
      {state.status === 'loading' ? (
        <Loading />
      ) : state.status === 'error' ? (
        <Alert>{nationalError(state.error)}</Alert>
      ) : !state.value.items.length ? (
        <Empty>{s.airingsEmpty}</Empty>
      ) : (
        <ul class="item-list" data-testid="child-airings-list">
          {state.value.items.map((a) => {
            const result = a.ok === null ? 'open' : a.ok ? 'ok' : 'failed';
            return (
              <li key={a.airingKey} class="item column">
                <div class="row wrap">
                  <strong class="grow">{a.title}</strong>
                  {a.priority && a.priority !== 'normal' && <Badge tone={a.priority}>{t.priorities[a.priority as keyof typeof t.priorities] ?? a.priority}</Badge>}
                  <Badge tone={result === 'ok' ? 'accepted' : result === 'failed' ? 'declined' : 'pending'}>{s.result[result]}</Badge>
                </div>
                <span class="small muted">
                  {s.box(a.boxNationalId ?? '—')}
                  {a.areaCode ? ` · ${lookup.areaName(a.areaCode)}` : ''}
                  {a.relaySource ? ` · ${t.national.events.relay} ${a.relaySource}` : ''}
                </span>
                <span class="small">
                  {fmtDateTime(a.startedAt)}
                  {a.endedAt ? ` → ${fmtDateTime(a.endedAt)}` : ''}
                  {a.airedS !== null ? ` · ${s.aired(fmtDuration(a.airedS * 1000))}` : ''}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

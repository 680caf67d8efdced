/**
 * Programme airings in the as-run report (issue 15: "the as-run report lists programmes and their items"):
 * one line per box and occurrence, opened to show each item's state, when it started and how long it aired,
 * and why an item was skipped or failed.
 */
import type { AsRunProgrammeItem } from '../../api/types.js';
import { usePaged } from '../../app/hooks.js';
import { Empty, Pager } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtTime } from '../../logic/format.js';
import { itemReasonLabel, playedItems, type ProgrammeAiring } from '../../logic/programme-runs.js';
import { fmtLength } from '../../logic/relays.js';

const PAGE = 20;

export function ProgrammeItemsTable({ items }: { items: readonly AsRunProgrammeItem[] }) {
  const r = t.programmeRun;
  return (
    <div class="table-wrap">
      <table class="table" data-testid="programme-run-items">
        <thead>
          <tr>
            <th scope="col">{r.item}</th>
            <th scope="col">{r.state}</th>
            <th scope="col">{r.started}</th>
            <th scope="col">{r.aired}</th>
            <th scope="col">{r.reason}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.index} data-state={i.state ?? 'none'}>
              <th scope="row">
                {i.index + 1}. {i.title}
                <br />
                <small class="muted">{t.programmes.kinds[i.kind]}</small>
              </th>
              <td>
                <span class={`state st-${i.state === 'skipped' ? 'cancelled' : (i.state ?? 'queued')}`}>{i.state ? (r.states[i.state] ?? i.state) : r.notYet}</span>
              </td>
              <td>{i.startedAt ? fmtTime(i.startedAt) : '—'}</td>
              <td class="num">{i.airedMs !== null ? fmtLength(i.airedMs) : '—'}</td>
              <td class="small">
                {itemReasonLabel(i.reason)}
                {i.reason && (
                  <small class="muted tech" title={i.reason}>
                    {i.reason}
                  </small>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ProgrammeRuns({ airings }: { airings: readonly ProgrammeAiring[] }) {
  const paged = usePaged(airings, PAGE);
  const r = t.programmeRun;
  if (!airings.length) return <Empty>{r.empty}</Empty>;
  return (
    <>
      <p class="muted small">{r.intro}</p>
      <ul class="plain-list programme-runs" data-testid="programme-runs">
        {paged.slice.map((a) => (
          <li key={a.key}>
            <details>
              <summary>
                <strong>{a.title}</strong> · {a.deviceName} ({a.commune}) · {fmtDateTime(a.occurrenceAt)} · {t.deliveryStates[a.state as keyof typeof t.deliveryStates] ?? a.state} · {r.itemsOf(playedItems(a.items), a.items.length)} · {r.version(a.version)}
              </summary>
              <ProgrammeItemsTable items={a.items} />
            </details>
          </li>
        ))}
      </ul>
      <Pager page={paged.page} pages={paged.pages} onPage={paged.setPage} total={airings.length} size={PAGE} />
    </>
  );
}

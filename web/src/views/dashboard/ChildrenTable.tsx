/** Coverage of each child area (the communes of a province), worst first, filterable, paged. */
import { useMemo, useState } from 'preact/hooks';
import type { ChildCoverage } from '../../api/types.js';
import { usePaged } from '../../app/hooks.js';
import { Pager } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { matchesQuery } from '../../logic/area-tree.js';
import { fmtNumber, fmtPct } from '../../logic/format.js';

const PAGE = 25;
type SortKey = 'working' | 'installed' | 'name';

export function sortChildren(list: readonly ChildCoverage[], key: SortKey): ChildCoverage[] {
  const byName = (a: ChildCoverage, b: ChildCoverage) => a.area.name.localeCompare(b.area.name, 'vi');
  return [...list].sort((a, b) => (key === 'name' ? byName(a, b) : key === 'working' ? a.workingPct - b.workingPct || byName(a, b) : a.installedPct - b.installedPct || byName(a, b)));
}

function Bar({ pct, tone }: { pct: number; tone: string }) {
  return (
    <span class="cellbar">
      <span class={`cellbar-fill ${tone}`} style={{ width: `${Math.max(0, Math.min(100, pct))}%` }} />
      <span class="cellbar-text">{fmtPct(pct)}</span>
    </span>
  );
}

export function ChildrenTable({ items, onOpen }: { items: ChildCoverage[]; onOpen: (code: string) => void }) {
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<SortKey>('working');
  const rows = useMemo(() => sortChildren(items.filter((c) => matchesQuery({ name: c.area.name, code: c.area.code }, query)), sort), [items, query, sort]);
  const paged = usePaged(rows, PAGE);
  return (
    <div>
      <div class="row wrap filters">
        <label class="field">
          <span>{t.dashboard.filterName}</span>
          <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t.dashboard.sortBy}</span>
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as SortKey)}>
            <option value="working">{t.dashboard.working} ↑</option>
            <option value="installed">{t.dashboard.installed} ↑</option>
            <option value="name">{t.dashboard.childName}</option>
          </select>
        </label>
      </div>
      <div class="table-wrap">
        <table class="table" data-testid="children">
          <thead>
            <tr>
              <th scope="col">{t.dashboard.childName}</th>
              <th scope="col">{t.dashboard.installed}</th>
              <th scope="col">{t.dashboard.working}</th>
              <th scope="col">{t.dashboard.devices}</th>
            </tr>
          </thead>
          <tbody>
            {paged.slice.map((c) => (
              <tr key={c.area.code}>
                <th scope="row">
                  <button type="button" class="linklike" onClick={() => onOpen(c.area.code)}>
                    {c.area.name}
                  </button>
                </th>
                <td>
                  <Bar pct={c.installedPct} tone="installed" />
                </td>
                <td>
                  <Bar pct={c.workingPct} tone="working" />
                </td>
                <td class="num">
                  {fmtNumber(c.devices.online)}/{fmtNumber(c.devices.total)}
                  {c.devices.faulty ? <span class="faulty-count"> · {fmtNumber(c.devices.faulty)} ⚠</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={paged.page} pages={paged.pages} onPage={paged.setPage} total={rows.length} size={PAGE} />
    </div>
  );
}

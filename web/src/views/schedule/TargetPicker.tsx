/** Where to broadcast: areas from the tree (a commune stands for all its boxes) or single speaker boxes. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Device } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { Alert, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { flattenTree, foldVietnamese, matchesQuery, type FlatArea } from '../../logic/area-tree.js';

const SHOWN = 80;

export function TargetPicker({ areaCodes, deviceIds, onChange }: { areaCodes: string[]; deviceIds: string[]; onChange: (v: { areaCodes: string[]; deviceIds: string[] }) => void }) {
  const [mode, setMode] = useState<'area' | 'device'>('area');
  const total = areaCodes.length + deviceIds.length;
  return (
    <fieldset class="targets">
      <legend>{t.schedule.targets}</legend>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'area'} class={mode === 'area' ? 'active' : ''} onClick={() => setMode('area')}>
          {t.schedule.byArea} {areaCodes.length ? `(${areaCodes.length})` : ''}
        </button>
        <button type="button" role="tab" aria-selected={mode === 'device'} class={mode === 'device' ? 'active' : ''} onClick={() => setMode('device')}>
          {t.schedule.byDevice} {deviceIds.length ? `(${deviceIds.length})` : ''}
        </button>
      </div>
      {mode === 'area' ? <AreaList selected={areaCodes} onChange={(a) => onChange({ areaCodes: a, deviceIds })} /> : <DeviceList selected={deviceIds} onChange={(d) => onChange({ areaCodes, deviceIds: d })} />}
      <div class="row wrap">
        <span class="muted">{t.schedule.selected(total)}</span>
        {total > 0 && (
          <button type="button" class="btn btn-small btn-ghost" onClick={() => onChange({ areaCodes: [], deviceIds: [] })}>
            {t.schedule.clear}
          </button>
        )}
      </div>
    </fieldset>
  );
}

function toggle(list: string[], v: string, on: boolean): string[] {
  return on ? [...new Set([...list, v])] : list.filter((x) => x !== v);
}

export function AreaList({ selected, onChange }: { selected: string[]; onChange: (v: string[]) => void }) {
  const session = useSession();
  const [flat, setFlat] = useState<FlatArea[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    session.areas().then((tree) => setFlat(flattenTree(tree)), (err: unknown) => setError(errorMessage(err)));
  }, []);
  const matches = useMemo(() => (flat ? flat.filter((a) => matchesQuery(a, query)) : []), [flat, query]);
  if (error) return <Alert>{error}</Alert>;
  if (!flat) return <Loading />;
  return (
    <div>
      <label class="field">
        <span>{t.schedule.areaFilter}</span>
        <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </label>
      <ul class="checklist" aria-label={t.schedule.byArea}>
        {matches.slice(0, SHOWN).map((a) => (
          <li key={a.code} style={{ paddingLeft: `${query ? 0 : a.depth * 1.2}em` }}>
            <label class="check">
              <input type="checkbox" checked={selected.includes(a.code)} onChange={(e) => onChange(toggle(selected, a.code, e.currentTarget.checked))} />
              <span>
                {query ? a.path : a.name} <small class="muted">{a.code}</small>
              </span>
            </label>
          </li>
        ))}
      </ul>
      {matches.length > SHOWN && <p class="muted">{t.showing(1, SHOWN, matches.length)}</p>}
    </div>
  );
}

function DeviceList({ selected, onChange }: { selected: string[]; onChange: (v: string[]) => void }) {
  const { api } = useSession();
  const [items, setItems] = useState<Device[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState(0);
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const load = async (cursor: string | null) => {
    setBusy(true);
    try {
      const page = await api.devices({ limit: 500, cursor });
      setItems((old) => (cursor ? [...old, ...page.items] : page.items));
      setNext(page.next);
      setTotal(page.total);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void load(null), []);
  const q = foldVietnamese(query.trim());
  const matches = q ? items.filter((d) => foldVietnamese(d.name).includes(q) || d.id.includes(q) || d.areaCode.startsWith(q)) : items;
  return (
    <div>
      {error && <Alert>{error}</Alert>}
      <label class="field">
        <span>{t.schedule.deviceFilter}</span>
        <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </label>
      <ul class="checklist" aria-label={t.schedule.byDevice}>
        {matches.slice(0, SHOWN).map((d) => (
          <li key={d.id}>
            <label class="check">
              <input type="checkbox" checked={selected.includes(d.id)} onChange={(e) => onChange(toggle(selected, d.id, e.currentTarget.checked))} />
              <span>
                <span class={`dot dot-${d.state}`} aria-hidden="true" /> {d.name} <small class="muted">{d.areaCode}</small>
              </span>
            </label>
          </li>
        ))}
      </ul>
      {busy && <Loading />}
      <p class="muted">{t.showing(Math.min(1, matches.length), Math.min(SHOWN, matches.length), matches.length)} · {t.devices.count(total)}</p>
      {next && !busy && (
        <button type="button" class="btn btn-small" onClick={() => void load(next)}>
          {t.more}
        </button>
      )}
    </div>
  );
}

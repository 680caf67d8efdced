/** Choose one area from the caller's tree; a filter box narrows long lists (3,321 communes nationwide). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useSession } from '../app/session.js';
import { flattenTree, matchesQuery, type FlatArea } from '../logic/area-tree.js';
import { t } from '../i18n/vi.js';

const MAX_OPTIONS = 300;

export function useFlatAreas(): FlatArea[] | null {
  const { areas } = useSession();
  const [flat, setFlat] = useState<FlatArea[] | null>(null);
  useEffect(() => {
    areas().then((tree) => setFlat(flattenTree(tree)), () => setFlat([]));
  }, []);
  return flat;
}

/** The area a page starts on: the user's own, else the first root of the tree (a province). */
export function defaultArea(flat: readonly FlatArea[], own: string | null): string | null {
  return own ?? flat[0]?.code ?? null;
}

export function AreaSelect({ id, label, value, onChange, flat, maxDepth = 1 }: { id: string; label: string; value: string | null; onChange: (code: string) => void; flat: readonly FlatArea[]; maxDepth?: number }) {
  const [query, setQuery] = useState('');
  const baseDepth = flat[0]?.depth ?? 0;
  const options = useMemo(() => {
    const within = flat.filter((a) => a.depth - baseDepth <= maxDepth);
    const hits = query ? within.filter((a) => matchesQuery(a, query)) : within;
    const shown = hits.slice(0, MAX_OPTIONS);
    const current = flat.find((a) => a.code === value);
    if (current && !shown.includes(current)) shown.unshift(current);
    return shown;
  }, [flat, query, value, maxDepth]);
  const long = flat.length > 40;
  return (
    <div class="area-select">
      <label class="field" for={id}>
        <span>{label}</span>
        <select id={id} value={value ?? ''} onChange={(e) => onChange(e.currentTarget.value)}>
          {options.map((a) => (
            <option key={a.code} value={a.code}>
              {query ? a.path : `${'\u00a0\u00a0'.repeat(a.depth - baseDepth)}${a.name}`}
            </option>
          ))}
        </select>
      </label>
      {long && (
        <label class="field">
          <span>{t.searchArea}</span>
          <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="Tân Lập, 99003…" />
        </label>
      )}
    </div>
  );
}

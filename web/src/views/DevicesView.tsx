/**
 * Speaker boxes in an area, filtered by state and searched by a box's name or id (issue 20: the only search
 * box was the area picker's, so looking for a box found areas), one server page at a time.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Device, DeviceStateFilter, Page } from '../api/types.js';
import { useAsync } from '../app/hooks.js';
import { useSession } from '../app/session.js';
import { useQueryState } from '../app/url-state.js';
import { errorMessage } from '../app/errors.js';
import { AreaSelect, defaultArea, useFlatAreas } from '../components/AreaSelect.js';
import { Alert, Card, Empty, Link, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { areaNames } from '../logic/area-tree.js';
import { deviceLook } from '../logic/device-state.js';
import { fmtDateTime } from '../logic/format.js';
import { devicePath } from '../logic/routes.js';

const PAGE = 50;
const STATES: DeviceStateFilter[] = ['online', 'offline', 'faulty'];
const KEYS = ['q', 'khu-vuc', 'trang-thai'] as const;
const STATE_LABEL: Record<DeviceStateFilter, string> = { online: t.dashboard.online, offline: t.dashboard.offline, faulty: t.dashboard.faulty };

export function DeviceTable({ area, state, q = '' }: { area: string | null; state: DeviceStateFilter | ''; q?: string }) {
  const { api } = useSession();
  const flat = useFlatAreas();
  const names = flat ? areaNames(flat) : new Map();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const [page] = useAsync<Page<Device>>((signal) => api.devices({ ...(area ? { area } : {}), ...(state ? { state } : {}), ...(q ? { q } : {}), limit: PAGE, cursor }, signal), [area, state, q, cursor]);
  if (page.status === 'loading') return <Loading />;
  if (page.status === 'error') return <Alert>{errorMessage(page.error)}</Alert>;
  const { items, total, next } = page.value;
  return (
    <div>
      <p class="muted">{t.devices.count(total)}</p>
      {!items.length ? (
        <Empty>{q ? t.devices.noMatch(q) : t.devices.empty}</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="devices">
            <thead>
              <tr>
                <th scope="col">{t.devices.name}</th>
                <th scope="col">{t.devices.state}</th>
                <th scope="col">{t.devices.area}</th>
                <th scope="col">{t.devices.lastSeen}</th>
                <th scope="col">{t.devices.faults}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => {
                const look = deviceLook(d);
                return (
                  <tr key={d.id}>
                    <td>
                      {/* Issue 20: each box opens its page. */}
                      <Link href={devicePath(d.id)}>{d.name}</Link>
                      <br />
                      <small class="muted">{d.id}</small>
                    </td>
                    <td>
                      <span class={`dot dot-${look}`} aria-hidden="true" /> {look === 'faulty' ? t.dashboard.faulty : look === 'playing' ? t.dashboard.playing : STATE_LABEL[d.state]}
                    </td>
                    <td>{names.get(d.areaCode)?.name ?? d.areaCode}</td>
                    <td>{fmtDateTime(d.lastSeenAt)}</td>
                    <td>{d.faults.map((f) => t.devices.faultNames[f] ?? f).join(', ')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label={t.devices.title}>
        <button type="button" class="btn btn-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ‹ {t.prev}
        </button>
        <span>{t.page(cursors.length, Math.ceil(total / PAGE))}</span>
        <button type="button" class="btn btn-small" disabled={!next} onClick={() => setCursors([...cursors, next])}>
          {t.next} ›
        </button>
      </nav>
    </div>
  );
}

export default function DevicesView() {
  const { me } = useSession();
  const flat = useFlatAreas();
  // The filters live in the address (issue 20: a link reopens the same search).
  const [f, setF] = useQueryState(KEYS);
  const area = f['khu-vuc'] || null;
  const setArea = (code: string | null) => setF({ 'khu-vuc': code ?? '' });
  const state = (STATES as readonly string[]).includes(f['trang-thai']) ? (f['trang-thai'] as DeviceStateFilter) : '';
  const setState = (s: DeviceStateFilter | '') => setF({ 'trang-thai': s });
  const q = f.q;
  const [typed, setTyped] = useState(q);
  // Ask the server once typing pauses, not on every key.
  useEffect(() => {
    const timer = setTimeout(() => typed.trim() !== q && setF({ q: typed.trim() }), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  if (!flat) return <Loading />;
  const current = area ?? defaultArea(flat, me.areaCode);
  return (
    <div>
      <h1>{t.devices.title}</h1>
      <Card>
        <div class="row wrap filters">
          <label class="field" for="devices-search">
            <span>{t.devices.search}</span>
            <input id="devices-search" type="search" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder={t.devices.searchHint} data-testid="devices-search" />
          </label>
          <AreaSelect id="devices-area" label={t.devices.area} value={current} onChange={setArea} flat={flat} maxDepth={2} />
          <fieldset class="segmented" aria-label={t.devices.state}>
            <legend class="sr-only">{t.devices.state}</legend>
            {(['', ...STATES] as const).map((s) => (
              <label key={s || 'all'} class={state === s ? 'active' : ''}>
                <input type="radio" name="device-state" checked={state === s} onChange={() => setState(s)} />
                {s ? STATE_LABEL[s] : t.devices.all}
              </label>
            ))}
          </fieldset>
        </div>
        <DeviceTable key={`${current}|${state}|${q}`} area={current} state={state} q={q} />
      </Card>
    </div>
  );
}

/**
 * Broadcasts by status, each linking to its live delivery view; found by words of the title, priority and the
 * days of the first airing (issue 20), the filters kept in the address.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { BroadcastStatus, BroadcastSummary, Page, Priority } from '../api/types.js';
import { useAsync, useDebounced } from '../app/hooks.js';
import { useQueryState } from '../app/url-state.js';
import { DayRange, dayRangeQuery } from '../components/DayRange.js';
import { useSession } from '../app/session.js';
import { errorMessage } from '../app/errors.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { fmtDateTime } from '../logic/format.js';
import { broadcastPath } from '../logic/routes.js';
import { useBulletinTitles } from './live/useDeviceNames.js';

const STATUSES: BroadcastStatus[] = ['approved', 'submitted', 'rejected', 'cancelled'];

/** A broadcast's title (linking to its live view), priority, start and schedule; the lists and the approval queue share it. */
export function BroadcastHeading({ b, title, startLabel, children }: { b: BroadcastSummary; title: string; startLabel: string; children?: ComponentChildren }) {
  return (
    <>
      <Link href={broadcastPath(b.id)}>
        <strong>{title}</strong>
      </Link>
      <div class="row wrap small">
        <Badge tone={b.priority}>{t.priorities[b.priority]}</Badge>
        <span>{b.airsWhenApproved ? t.broadcasts.whenApproved : `${startLabel}: ${fmtDateTime(b.startAt)}`}</span>
        <span>{scheduleLabel(b)}</span>
        {children}
      </div>
    </>
  );
}

function scheduleLabel(b: Pick<BroadcastSummary, 'schedule'>): string {
  const s = b.schedule;
  if (!s) return t.broadcasts.once;
  if (s.kind === 'every') return t.schedule.every(s.minutes, fmtDateTime(Date.parse(s.until)));
  const kind = s.kind === 'once' ? 'once' : s.kind;
  const times = 'times' in s ? ` · ${s.times.join(', ')}` : '';
  return `${t.schedule.kinds[kind]}${times}`;
}

/** Address keys of the filters (issue 20: a link reopens the same search). */
const KEYS = ['q', 'trang-thai', 'uu-tien', 'tu', 'den'] as const;
const PRIORITIES: Priority[] = ['normal', 'priority', 'emergency'];

export default function BroadcastsView() {
  const { api } = useSession();
  const [f, setF] = useQueryState(KEYS);
  const status = (f['trang-thai'] || 'approved') as BroadcastStatus | 'all';
  const [typed, setTyped] = useState(f.q);
  const q = useDebounced(typed.trim(), 300);
  useEffect(() => {
    if (q !== f.q) setF({ q });
  }, [q]);
  const filterKey = JSON.stringify(f);
  // The cursor belongs to one search: another search starts at its first page.
  const [paging, setPaging] = useState<{ key: string; cursor: string | null }>({ key: filterKey, cursor: null });
  const cursor = paging.key === filterKey ? paging.cursor : null;
  const query = { ...(f.q ? { q: f.q } : {}), ...(f['uu-tien'] ? { priority: f['uu-tien'] as Priority } : {}), ...dayRangeQuery(f.tu, f.den) };
  const [state] = useAsync<Page<BroadcastSummary>>((signal) => api.broadcasts(status, { ...query, limit: 50, cursor }, signal), [filterKey, cursor]);
  const items = state.status === 'ok' ? state.value.items : [];
  const titles = useBulletinTitles(api, items.map((b) => b.bulletinId));
  const filtered = !!(f.q || f['uu-tien'] || f.tu || f.den);
  return (
    <div>
      <h1>{t.broadcasts.title}</h1>
      <Card>
        <div class="row wrap filters" role="search">
          <label class="field grow" for="broadcasts-q">
            <span>{bs.search}</span>
            <input id="broadcasts-q" type="search" value={typed} maxLength={100} placeholder={bs.searchHint} onInput={(e) => setTyped(e.currentTarget.value)} data-testid="broadcasts-q" />
          </label>
          <label class="field narrow" for="broadcasts-status">
            <span>{t.broadcasts.status}</span>
            <select id="broadcasts-status" value={status} onChange={(e) => setF({ 'trang-thai': e.currentTarget.value === 'approved' ? '' : e.currentTarget.value })} data-testid="broadcasts-status">
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t.broadcastStatus[s]}
                </option>
              ))}
              <option value="all">{bs.allStatuses}</option>
            </select>
          </label>
          <label class="field narrow" for="broadcasts-priority">
            <span>{bs.priority}</span>
            <select id="broadcasts-priority" value={f['uu-tien']} onChange={(e) => setF({ 'uu-tien': e.currentTarget.value })} data-testid="broadcasts-priority">
              <option value="">{bs.any}</option>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {t.priorities[p]}
                </option>
              ))}
            </select>
          </label>
          <DayRange idPrefix="broadcasts" from={f.tu} to={f.den} onChange={(v) => setF({ ...(v.from !== undefined ? { tu: v.from } : {}), ...(v.to !== undefined ? { den: v.to } : {}) })} labels={bs} />
        </div>
      </Card>
      <Card>
        {state.status === 'loading' && <Loading />}
        {state.status === 'error' && <Alert>{errorMessage(state.error)}</Alert>}
        {state.status === 'ok' && !items.length && <Empty>{filtered ? bs.noMatch : t.broadcasts.empty}</Empty>}
        {items.length > 0 && (
          <ul class="item-list" data-testid="broadcasts-list">
            {items.map((b) => (
              <li key={b.id} class="item" data-testid="broadcast-item">
                <div class="item-main">
                  <BroadcastHeading b={b} title={titles.get(b.bulletinId) ?? '…'} startLabel={t.broadcasts.startAt}>
                    {status === 'all' && <Badge tone={b.status}>{t.broadcastStatus[b.status] ?? b.status}</Badge>}
                  </BroadcastHeading>
                </div>
                <Link href={broadcastPath(b.id)} class="btn btn-small">
                  {t.broadcasts.open}
                </Link>
              </li>
            ))}
          </ul>
        )}
        {state.status === 'ok' && state.value.next && (
          <button type="button" class="btn btn-small" onClick={() => setPaging({ key: filterKey, cursor: state.value.next })}>
            {t.next} ›
          </button>
        )}
      </Card>
    </div>
  );
}

/** The filter bar's words (issue 20), kept with the page. */
const bs = {
  search: 'Tìm theo tiêu đề',
  searchHint: 'Từ trong tiêu đề bản tin',
  priority: 'Mức ưu tiên',
  any: 'Tất cả',
  allStatuses: 'Mọi trạng thái',
  from: 'Phát từ ngày',
  to: 'Đến ngày',
  noMatch: 'Không có lượt phát nào khớp bộ lọc.',
};

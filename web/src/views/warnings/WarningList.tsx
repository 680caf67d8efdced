/** The warnings of the user's area: pending ones first with their count, filtered by state, refreshed while any airs. */
import { useEffect, useState } from 'preact/hooks';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { warningPath } from '../../logic/routes.js';
import { warningsApi, type Warning, type WarningState } from './warnings-api.js';
import { fmtVn, isLive, STATES, kindName, pendingFirst, reachPct, reachText, stateLabel, stateTone, warningError } from './warnings-logic.js';
import { tw } from './warnings-vi.js';
import { RiskChip } from './RiskChip.js';

const PAGE = 50;
const REFRESH_MS = 10_000;

export function WarningList() {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const [filter, setFilter] = useState<WarningState | ''>('');
  const [more, setMore] = useState<{ items: Warning[]; next: string | null } | null>(null);
  const [state, reload] = useAsync(async (signal) => {
    const [pending, page] = await Promise.all([wapi.list({ state: 'pending', limit: 100 }, signal), wapi.list({ state: filter || undefined, limit: PAGE }, signal)]);
    return { pending, page };
  }, [filter]);
  useEffect(() => setMore(null), [filter]);

  const airing = state.status === 'ok' && [...state.value.page.items, ...(more?.items ?? [])].some((w) => isLive(w.state));
  useEffect(() => {
    if (!airing) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [airing]);

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <Alert>{warningError(state.error)}</Alert>;
  const { pending, page } = state.value;
  const listed = [...page.items, ...(more?.items ?? [])];
  const items = filter === '' ? pendingFirst([...pending.items, ...listed]) : listed;
  const next = more ? more.next : page.next;

  const loadMore = async () => {
    if (!next) return;
    try {
      const r = await wapi.list({ state: filter || undefined, limit: PAGE, cursor: next });
      setMore({ items: [...(more?.items ?? []), ...r.items], next: r.next });
    } catch {
      /* the button stays; pressing it again retries */
    }
  };

  return (
    <div>
      <div class="row wrap filters">
        <label class="field" for="wrn-filter">
          <span>{tw.list.filter}</span>
          <select id="wrn-filter" value={filter} onChange={(e) => setFilter(e.currentTarget.value as WarningState | '')}>
            <option value="">{tw.list.all}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </label>
        {pending.total > 0 && (
          <button type="button" class="btn btn-small wrn-pending-count" data-testid="pending-count" onClick={() => setFilter('pending')}>
            {tw.list.pendingCount(pending.total)}
          </button>
        )}
        {airing && (
          <span class="small muted" role="status">
            <span class="wrn-live-dot" aria-hidden="true" /> {tw.list.live}
          </span>
        )}
      </div>
      {!items.length ? (
        <Empty>{filter ? tw.list.emptyState(stateLabel(filter)) : tw.list.empty}</Empty>
      ) : (
        <ul class="item-list" data-testid="warnings">
          {items.map((w) => (
            <WarningRow key={w.id} w={w} />
          ))}
        </ul>
      )}
      {next && (
        <button type="button" class="btn btn-small" onClick={() => void loadMore()}>
          {t.more}
        </button>
      )}
    </div>
  );
}

function WarningRow({ w }: { w: Warning }) {
  return (
    <li class={`item column wrn-row wrn-${w.state}`} data-warning={w.id} data-state={w.state}>
      <div class="row wrap wrn-row-head">
        <RiskChip level={w.riskLevel} />
        <Badge tone={stateTone(w.state)}>{stateLabel(w.state)}</Badge>
      </div>
      <Link href={warningPath(w.id)} class="wrn-title">
        <strong>{kindName(w.kind ?? null) === '—' ? w.headline || w.event : kindName(w.kind)}</strong>
        {w.headline && w.kind ? <span class="muted"> — {w.headline}</span> : null}
      </Link>
      <span class="small">
        {tw.source}: {w.sourceId === null ? tw.formSource : w.sourceName} · {tw.validUntil}: {w.expiresAt ? fmtVn(w.expiresAt) : tw.noEnd}
      </span>
      {w.reach.targeted > 0 && (
        <div class="wrn-reach small" data-testid="reach">
          <span class="wrn-bar" aria-hidden="true">
            <span style={{ width: `${reachPct(w.reach)}%` }} />
          </span>
          {reachText(w.reach)}
        </div>
      )}
    </li>
  );
}

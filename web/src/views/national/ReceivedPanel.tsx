/**
 * "Từ cấp trên": bulletins a parent sent down and the Circular 39 path each took here (inbox, scheduled, aired,
 * deleted, failed and why); and "Nhật ký nhận": every request that reached our served interface, the refused
 * ones marked with the reason.
 */
import { useState } from 'preact/hooks';
import type { NationalInbound } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { broadcastPath } from '../../logic/routes.js';
import { nationalError, type PeerLookup } from './national-logic.js';

const r = t.national.received;
const n = t.national.inbound;
const STATE_TONE: Record<string, string> = { fetching: 'pending', inbox: 'submitted', scheduled: 'scheduled', aired: 'accepted', deleted: 'cancelled', failed: 'declined' };

export function ReceivedPanel({ lookup }: { lookup: PeerLookup }) {
  const { api } = useSession();
  const [received, reload] = useAsync((signal) => api.nationalReceived(100, signal).then((x) => x.items), []);
  return (
    <>
      <Card
        title={r.title}
        actions={
          <button type="button" class="btn btn-small btn-ghost" onClick={reload}>
            ↻ {t.national.reload}
          </button>
        }
      >
        <p class="muted small">{r.intro}</p>
        {received.status === 'loading' ? (
          <Loading />
        ) : received.status === 'error' ? (
          <Alert>{nationalError(received.error)}</Alert>
        ) : !received.value.length ? (
          <Empty>{r.empty}</Empty>
        ) : (
          <ul class="item-list" data-testid="received">
            {received.value.map((b) => (
              <li key={`${b.peerId}/${b.upstreamId}`} class="item column">
                <div class="row wrap">
                  <strong class="grow">{b.title || '—'}</strong>
                  {b.priority && b.priority !== 'normal' && <Badge tone={b.priority}>{t.priorities[b.priority as keyof typeof t.priorities] ?? b.priority}</Badge>}
                  <Badge tone={STATE_TONE[b.state] ?? 'pending'}>{r.states[b.state] ?? b.state}</Badge>
                </div>
                <span class="small muted">
                  {r.from(lookup.nameOf(b.peerId))} · {r.receivedAt(fmtDateTime(b.receivedAt))}
                </span>
                {b.detail && <span class="small">{b.detail}</span>}
                {b.broadcastIds[0] && (
                  <Link class="small" href={broadcastPath(b.broadcastIds[0])}>
                    {r.openBroadcast}
                  </Link>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <InboundLog lookup={lookup} />
    </>
  );
}

function InboundLog({ lookup }: { lookup: PeerLookup }) {
  const { api } = useSession();
  const [refusedOnly, setRefusedOnly] = useState(false);
  const [more, setMore] = useState<{ items: NationalInbound[]; next: string | null } | null>(null);
  const [state, reload] = useAsync(
    (signal) => {
      setMore(null);
      return api.nationalInbound({ limit: 50, ...(refusedOnly ? { accepted: 'false' as const } : {}) }, signal);
    },
    [refusedOnly],
  );
  const [loadingMore, setLoadingMore] = useState(false);

  const items = state.status === 'ok' ? [...state.value.items, ...(more?.items ?? [])] : [];
  const next = more ? more.next : state.status === 'ok' ? state.value.next : null;
  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await api.nationalInbound({ limit: 50, cursor: next, ...(refusedOnly ? { accepted: 'false' as const } : {}) });
      setMore({ items: [...(more?.items ?? []), ...page.items], next: page.next });
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <Card
      title={n.title}
      actions={
        <button type="button" class="btn btn-small btn-ghost" onClick={reload}>
          ↻ {t.national.reload}
        </button>
      }
    >
      <p class="muted small">{n.intro}</p>
      <fieldset class="segmented" aria-label={n.title}>
        <label class={!refusedOnly ? 'active' : ''}>
          <input type="radio" name="nat-inbound" checked={!refusedOnly} onChange={() => setRefusedOnly(false)} />
          {n.all}
        </label>
        <label class={refusedOnly ? 'active' : ''}>
          <input type="radio" name="nat-inbound" checked={refusedOnly} onChange={() => setRefusedOnly(true)} />
          {n.refusedOnly}
        </label>
      </fieldset>
      {state.status === 'loading' ? (
        <Loading />
      ) : state.status === 'error' ? (
        <Alert>{nationalError(state.error)}</Alert>
      ) : !items.length ? (
        <Empty>{n.empty}</Empty>
      ) : (
        <ul class="item-list" data-testid="inbound">
          {items.map((i) => (
            <li key={i.id} class={`item column ${i.accepted ? '' : 'nat-refused'}`} data-accepted={String(i.accepted)}>
              <div class="row wrap">
                <strong class="grow">{n.kinds[i.kind] ?? i.kind}</strong>
                <Badge tone={i.accepted ? 'accepted' : 'declined'}>{i.accepted ? n.accepted : n.refused}</Badge>
              </div>
              <span class="small muted">
                {lookup.nameOf(i.peerId)} · {fmtDateTime(i.receivedAt)}
              </span>
              {i.detail && <span class={i.accepted ? 'small' : 'small nat-why'}>{i.detail}</span>}
            </li>
          ))}
        </ul>
      )}
      {next && (
        <button type="button" class="btn btn-small" disabled={loadingMore} onClick={() => void loadMore()}>
          {loadingMore ? t.loading : n.more}
        </button>
      )}
    </Card>
  );
}

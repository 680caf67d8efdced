/** Broadcasts by status, each linking to its live delivery view. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { BroadcastStatus, BroadcastSummary, Page } from '../api/types.js';
import { useAsync } from '../app/hooks.js';
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

export default function BroadcastsView() {
  const { api } = useSession();
  const [status, setStatus] = useState<BroadcastStatus>('approved');
  const [cursor, setCursor] = useState<string | null>(null);
  const [state] = useAsync<Page<BroadcastSummary>>(() => api.broadcasts(status, { limit: 50, cursor }), [status, cursor]);
  const items = state.status === 'ok' ? state.value.items : [];
  const titles = useBulletinTitles(api, items.map((b) => b.bulletinId));
  return (
    <div>
      <h1>{t.broadcasts.title}</h1>
      <Card
        actions={
          <label class="field inline">
            <span>{t.broadcasts.status}</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.currentTarget.value as BroadcastStatus);
                setCursor(null);
              }}
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t.broadcastStatus[s]}
                </option>
              ))}
            </select>
          </label>
        }
      >
        {state.status === 'loading' && <Loading />}
        {state.status === 'error' && <Alert>{errorMessage(state.error)}</Alert>}
        {state.status === 'ok' && !items.length && <Empty>{t.broadcasts.empty}</Empty>}
        {items.length > 0 && (
          <ul class="item-list">
            {items.map((b) => (
              <li key={b.id} class="item">
                <div class="item-main">
                  <BroadcastHeading b={b} title={titles.get(b.bulletinId) ?? '…'} startLabel={t.broadcasts.startAt} />
                </div>
                <Link href={broadcastPath(b.id)} class="btn btn-small">
                  {t.broadcasts.open}
                </Link>
              </li>
            ))}
          </ul>
        )}
        {state.status === 'ok' && state.value.next && (
          <button type="button" class="btn btn-small" onClick={() => setCursor(state.value.next)}>
            {t.next} ›
          </button>
        )}
      </Card>
    </div>
  );
}

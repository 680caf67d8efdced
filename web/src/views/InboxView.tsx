/** Bulletins offered down by the province: accept (now or at a time) or decline with a reason. */
import { useEffect, useState } from 'preact/hooks';
import type { Offer, OfferStatus } from '../api/types.js';
import { useSession } from '../app/session.js';
import { errorMessage } from '../app/errors.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { areaNames, flattenTree, type FlatArea } from '../logic/area-tree.js';
import { fmtDateTime } from '../logic/format.js';
import { can } from '../logic/roles.js';
import { broadcastPath } from '../logic/routes.js';
import { localInstant } from '../logic/schedule.js';
import { useBulletinTitles } from './live/useDeviceNames.js';

const STATUSES: OfferStatus[] = ['pending', 'scheduled', 'accepted', 'declined', 'expired'];

export default function InboxView() {
  const { api, me, areas } = useSession();
  const [status, setStatus] = useState<OfferStatus | ''>('pending');
  const [items, setItems] = useState<Offer[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [names, setNames] = useState<Map<string, FlatArea>>(new Map());
  useEffect(() => {
    setItems(null);
    api.inbox({ limit: 100, ...(status ? { status } : {}) }).then((p) => setItems(p.items), (err: unknown) => setError(errorMessage(err)));
  }, [status]);
  useEffect(() => {
    areas().then((tree) => setNames(areaNames(flattenTree(tree))), () => undefined);
  }, []);
  const titles = useBulletinTitles(api, (items ?? []).map((o) => o.bulletinId));
  const writer = can(me.role, 'offer-act');
  const update = (o: Offer, message: string) => {
    setItems((list) => (list ?? []).map((x) => (x.id === o.id ? o : x)));
    setNotice(message);
  };

  return (
    <div>
      <h1>{t.inbox.title}</h1>
      <Card
        actions={
          <label class="field inline">
            <span>{t.inbox.status}</span>
            <select value={status} onChange={(e) => setStatus(e.currentTarget.value as OfferStatus | '')}>
              <option value="">{t.inbox.filterAll}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t.offerStatus[s]}
                </option>
              ))}
            </select>
          </label>
        }
      >
        {notice && <Alert kind="success">{notice}</Alert>}
        {error && <Alert>{error}</Alert>}
        {!items && !error && <Loading />}
        {items && !items.length && <Empty>{t.inbox.empty}</Empty>}
        <ul class="item-list">
          {items?.map((o) => (
            <li key={o.id} class="item column">
              <div class="item-main">
                <strong>{titles.get(o.bulletinId) ?? o.bulletinId}</strong>
                <div class="row wrap small">
                  <Badge tone={o.priority}>{t.priorities[o.priority]}</Badge>
                  <Badge tone={o.status}>{t.offerStatus[o.status]}</Badge>
                  <span>
                    {t.inbox.area}: {names.get(o.areaCode)?.name ?? o.areaCode}
                  </span>
                  <span>
                    {t.inbox.received}: {fmtDateTime(o.createdAt)}
                  </span>
                  {o.startAt && (
                    <span>
                      {t.inbox.startAt}: {fmtDateTime(o.startAt)}
                    </span>
                  )}
                  {o.expiresAt && (
                    <span>
                      {t.inbox.expiresAt}: {fmtDateTime(o.expiresAt)}
                    </span>
                  )}
                </div>
                <p class="small muted">{t.offerAction[o.action]}</p>
                {o.reason && <p class="small">{o.reason}</p>}
                {o.broadcastId && (
                  <Link href={broadcastPath(o.broadcastId)} class="small">
                    {t.broadcasts.open}
                  </Link>
                )}
              </div>
              {writer && o.status === 'pending' && <OfferActions offer={o} onDone={update} />}
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}

function OfferActions({ offer, onDone }: { offer: Offer; onDone: (o: Offer, message: string) => void }) {
  const { api } = useSession();
  const [at, setAt] = useState('');
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<Offer>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      onDone(await fn(), message);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const accept = () => {
    const body = at ? { startAt: localInstant(at.slice(0, 10), at.slice(11, 16)) } : {};
    return run(() => api.acceptOffer(offer.id, body), t.inbox.accepted);
  };
  const decline = () => {
    if (!reason.trim()) return setError(t.inbox.declineNeedReason);
    return run(() => api.declineOffer(offer.id, reason.trim()), t.inbox.declined);
  };
  return (
    <div class="decide">
      {error && <Alert>{error}</Alert>}
      <div class="row wrap">
        <label class="field">
          <span>{t.inbox.acceptAt}</span>
          <input type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} />
        </label>
        <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void accept()}>
          ✓ {t.inbox.accept}
        </button>
        {offer.priority === 'normal' && !declining && (
          <button type="button" class="btn" disabled={busy} onClick={() => setDeclining(true)}>
            ✕ {t.inbox.decline}
          </button>
        )}
      </div>
      {declining && (
        <div class="row wrap">
          <label class="field grow">
            <span>{t.inbox.declineReason}</span>
            <textarea rows={2} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} required />
          </label>
          <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void decline()}>
            {t.inbox.decline}
          </button>
          <button type="button" class="btn btn-ghost" onClick={() => setDeclining(false)}>
            {t.cancel}
          </button>
        </div>
      )}
    </div>
  );
}

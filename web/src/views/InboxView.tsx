/**
 * Bulletins offered down by the province: listen to and read each one, accept it (now, once, or on a schedule,
 * on all of the commune's boxes or some) or decline it with a reason. Issue 20, broken 5: the inbox showed the
 * server's English text, could not play or show the bulletin, and took a single time on every box.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Bulletin, Device, Offer, OfferStatus } from '../api/types.js';
import { useSession } from '../app/session.js';
import { errorMessage } from '../app/errors.js';
import { ListenPlayer } from '../components/ListenPlayer.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { areaNames, flattenTree, type FlatArea } from '../logic/area-tree.js';
import { fmtDateTime } from '../logic/format.js';
import { can } from '../logic/roles.js';
import { broadcastPath } from '../logic/routes.js';
import { emptyForm, formToDraft, type FormError, type ScheduleForm } from '../logic/schedule.js';
import { ScheduleFields } from './schedule/ScheduleFields.js';
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
                <OfferContent bulletinId={o.bulletinId} />
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

/** The offered bulletin itself: its text and a player, loaded when asked for (phones pay for what they open). */
function OfferContent({ bulletinId }: { bulletinId: string }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [b, setB] = useState<Bulletin | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (open && !b) api.bulletin(bulletinId).then(setB, (err: unknown) => setError(errorMessage(err)));
  }, [open]);
  return (
    <details class="offer-content" onToggle={(e) => setOpen((e.currentTarget).open)}>
      <summary>{t.inbox.listenRead}</summary>
      {error && <Alert>{error}</Alert>}
      {open && !b && !error && <Loading />}
      {b && (
        <div data-testid="offer-content">
          {b.audio ? <ListenPlayer src={b.audio.signedUrl} signed={{ expiresAt: b.audio.signedUrlExpiresAt, onExpired: () => void api.bulletin(bulletinId).then(setB, () => undefined) }} label={t.inbox.listen} buttonLabel={t.inbox.listen} /> : <p class="muted small">{t.inbox.noAudio}</p>}
          {b.text.trim() && <p class="offer-text">{b.text}</p>}
        </div>
      )}
    </details>
  );
}

function OfferActions({ offer, onDone }: { offer: Offer; onDone: (o: Offer, message: string) => void }) {
  const { api } = useSession();
  const [form, setForm] = useState<ScheduleForm>(() => emptyForm());
  const [errors, setErrors] = useState<FormError[]>([]);
  const [boxes, setBoxes] = useState<Device[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (patch: Partial<ScheduleForm>) => setForm((f) => ({ ...f, ...patch }));
  useEffect(() => {
    api.devices({ area: offer.areaCode, limit: 500 }).then(
      (p) => {
        setBoxes(p.items);
        setChosen(new Set(p.items.map((d) => d.id)));
      },
      () => setBoxes([]),
    );
  }, [offer.areaCode]);
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
    // The offer's commune is the target; the form gives the when (now, once or a schedule).
    const r = formToDraft({ ...form, areaCodes: [offer.areaCode], deviceIds: [] }, offer.bulletinId);
    if (!r.ok) return setErrors(r.errors);
    setErrors([]);
    if (boxes && boxes.length > 0 && chosen.size === 0) return setError(t.inbox.noBoxes);
    const some = boxes && chosen.size > 0 && chosen.size < boxes.length;
    const body = { ...(r.draft.startAt ? { startAt: r.draft.startAt } : {}), ...(r.draft.schedule ? { schedule: r.draft.schedule } : {}), ...(some ? { deviceIds: [...chosen] } : {}) };
    return run(() => api.acceptOffer(offer.id, body), t.inbox.accepted);
  };
  const decline = () => {
    if (!reason.trim()) return setError(t.inbox.declineNeedReason);
    return run(() => api.declineOffer(offer.id, reason.trim()), t.inbox.declined);
  };
  const toggle = (id: string, on: boolean) =>
    setChosen((c) => {
      const n = new Set(c);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  return (
    <div class="decide">
      {error && <Alert>{error}</Alert>}
      <ScheduleFields form={form} set={set} errors={errors} />
      {boxes && boxes.length > 1 && (
        <fieldset class="offer-boxes">
          <legend>{t.inbox.boxes(chosen.size, boxes.length)}</legend>
          {boxes.map((d) => (
            <label key={d.id} class="check">
              <input type="checkbox" checked={chosen.has(d.id)} onChange={(e) => toggle(d.id, e.currentTarget.checked)} /> {d.name}
            </label>
          ))}
        </fieldset>
      )}
      <div class="row wrap">
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

/**
 * One broadcast, live: every device's delivery state for the current or next occurrence; for a relay (issue
 * 15), which URL each box relays now and the minutes relayed so far (RelayLivePanel); for a programme, the
 * item each box is at (ProgrammeLivePanel). While the server cannot be reached, the page says since when and
 * marks what it shows as possibly old (issue 20, broken 4: it kept showing "Đang phát" with no warning).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DELIVERY_STATES, type BroadcastDetail, type DeliveryState, type ProgrammeItemEvent, type RelayEvent } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { usePaged } from '../../app/hooks.js';
import { Alert, Badge, Card, Empty, Loading, Pager } from '../../components/ui.js';
import { DateField, TimeField } from '../../components/DateTimeField.js';
import { OfferAction } from '../settings/OfferPanel.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtTime } from '../../logic/format.js';
import { can } from '../../logic/roles.js';
import { defaultFeed, ServerUnreachable } from './feed.js';
import { useDeviceNames } from './useDeviceNames.js';
import { RelayLivePanel } from '../relays/RelayLivePanel.js';
import { ProgrammeLivePanel } from '../programmes/ProgrammeLivePanel.js';
import { laterItemEvent } from '../../logic/programme-runs.js';
import { localInstant, localTimeIn, localToday } from '../../logic/schedule.js';

const PAGE = 50;
const DONE: DeliveryState[] = ['played'];
const TERMINAL: DeliveryState[] = ['played', 'failed', 'missed', 'cancelled', 'expired'];
/** States of a box that has not started the airing yet: its time is the airing's, not the last change's. */
const WAITING: DeliveryState[] = ['queued', 'sent', 'acknowledged', 'cached'];

export function StateBar({ summary, total }: { summary: Partial<Record<DeliveryState, number>>; total: number }) {
  return (
    <div class="statebar" role="img" aria-label={DELIVERY_STATES.filter((s) => summary[s]).map((s) => `${t.deliveryStates[s]}: ${summary[s]}`).join(', ')}>
      {DELIVERY_STATES.map((s) => {
        const n = summary[s] ?? 0;
        return n ? <span key={s} class={`seg st-${s}`} style={{ width: `${(100 * n) / Math.max(1, total)}%` }} title={`${t.deliveryStates[s]}: ${n}`} /> : null;
      })}
    </div>
  );
}

export default function BroadcastLiveView({ id }: { id: string }) {
  const { api, me } = useSession();
  const [detail, setDetail] = useState<BroadcastDetail | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [title, setTitle] = useState<string>('');
  /** A ready bulletin of text or a recording, which the province may offer down to communes (offers.ts). */
  const [ready, setReady] = useState(false);
  const [filter, setFilter] = useState<DeliveryState | ''>('');
  const [notice, setNotice] = useState<string | null>(null);
  /** A relay's source (null: not a relay), and the latest `relay` event of each box. */
  const [relay, setRelay] = useState<{ sourceId: string; sourceName: string | null } | null>(null);
  const [relayNow, setRelayNow] = useState<{ map: Map<string, RelayEvent>; count: number }>({ map: new Map(), count: 0 });
  /** A programme (its id; null: not one), and the item each box is at from its `programme-item` events. */
  const [programmeId, setProgrammeId] = useState<string | null>(null);
  const [itemNow, setItemNow] = useState<Map<string, ProgrammeItemEvent>>(new Map());

  useEffect(() => {
    setDetail(null);
    return defaultFeed(api).subscribe(
      id,
      (d, at) => {
        setDetail(d);
        setUpdatedAt(at);
        setError(null);
      },
      setError,
      (e) =>
        setRelayNow((cur) => {
          const prev = cur.map.get(e.deviceId);
          // Events of an earlier occurrence, or late ones, do not overwrite what the box does now.
          if (prev && (Date.parse(prev.occurrenceAt) > Date.parse(e.occurrenceAt) || (prev.occurrenceAt === e.occurrenceAt && Date.parse(prev.at) > Date.parse(e.at)))) return cur;
          return { map: new Map(cur.map).set(e.deviceId, e), count: cur.count + 1 };
        }),
      (e) =>
        setItemNow((cur) => {
          const kept = laterItemEvent(cur.get(e.deviceId), e);
          return kept === cur.get(e.deviceId) ? cur : new Map(cur).set(e.deviceId, kept);
        }),
    );
  }, [id]);
  useEffect(() => {
    if (detail?.bulletinId && !title)
      api.bulletin(detail.bulletinId).then((b) => {
        setTitle(b.title);
        setReady(b.status === 'ready' && (b.source === 'text' || b.source === 'recording'));
        if (b.programme) setProgrammeId(b.id);
        if (b.relay) {
          const sourceId = b.relay.sourceId;
          setRelay({ sourceId, sourceName: null });
          api.source(sourceId).then((s) => setRelay({ sourceId, sourceName: s.name }), () => undefined);
        }
      }, () => undefined);
  }, [detail?.bulletinId]);

  const rows = useMemo(() => (detail ? detail.deliveries.filter((d) => !filter || d.state === filter).sort((a, b) => a.deviceId.localeCompare(b.deviceId)) : []), [detail, filter]);
  const paged = usePaged(rows, PAGE);
  const names = useDeviceNames(api, paged.slice.map((d) => d.deviceId));
  const itemNames = useDeviceNames(api, [...itemNow.keys()]);

  const lostSince = error instanceof ServerUnreachable ? error.since : null;
  const lostAlert = lostSince && (
    <div class="alert alert-error" role="alert" data-testid="live-unreachable">
      {t.live.unreachable(fmtTime(lostSince))}
    </div>
  );
  if (!detail) return lostAlert || (error ? <Alert>{errorMessage(error)}</Alert> : <Loading />);
  /** A state as the page may say it: one that could have changed since the outage began says it may be old. */
  const stateText = (s: DeliveryState) => (lostSince && !TERMINAL.includes(s) ? t.live.staleState(t.deliveryStates[s]) : t.deliveryStates[s]);
  const total = detail.deliveries.length;
  const done = DONE.reduce((n, s) => n + (detail.summary[s] ?? 0), 0);
  const finished = detail.schedule === null && total > 0 && detail.deliveries.every((d) => TERMINAL.includes(d.state));
  const canCancel = can(me.role, 'cancel-broadcast') && (detail.status === 'approved' || detail.status === 'submitted') && !finished;

  // Issue 20, broken 2: "Dừng phát" on a daily broadcast said "this airing" and cancelled the whole series.
  // A series offers the airing shown (cancel or move it) and the whole series, each saying which it is; a
  // one-off offers the one; a submitted broadcast is withdrawn, not "stopped" (nothing airs yet).
  const series = detail.schedule !== null;
  const occurrence = detail.occurrenceAt;
  const cancel = async (which: 'airing' | 'series') => {
    const question = detail.status === 'submitted' ? t.live.confirmWithdraw : which === 'airing' && series && occurrence ? t.live.confirmCancelAiring(fmtDateTime(occurrence)) : series ? t.live.confirmCancelSeries : t.live.confirmCancel;
    if (!window.confirm(question)) return;
    try {
      const r = await api.cancelBroadcast(id, which === 'airing' && series && occurrence ? occurrence : undefined);
      setNotice(which === 'airing' && series ? t.live.cancelledAiring(r.cancelledDeliveries) : t.live.cancelled(r.cancelledDeliveries));
    } catch (err) {
      setNotice(errorMessage(err));
    }
  };

  return (
    <div class="live">
      <h1>
        {t.live.title}: {title || '…'}
      </h1>
      <div class="row wrap meta">
        <Badge tone={detail.status}>{t.broadcastStatus[detail.status] ?? detail.status}</Badge>
        <Badge tone={detail.priority}>{t.priorities[detail.priority]}</Badge>
        <span>
          {t.live.occurrence}: <strong>{fmtDateTime(detail.occurrenceAt)}</strong>
        </span>
        {updatedAt && (
          <span class="muted" aria-live="off">
            {t.live.updated(fmtTime(updatedAt))}
          </span>
        )}
        {canCancel && detail.status === 'submitted' && (
          <button type="button" class="btn btn-small" onClick={() => void cancel('series')}>
            ↩ {t.live.withdraw}
          </button>
        )}
        {canCancel && detail.status === 'approved' && !series && (
          <button type="button" class="btn btn-danger btn-small" onClick={() => void cancel('airing')}>
            ■ {t.live.cancel}
          </button>
        )}
        {canCancel && detail.status === 'approved' && series && occurrence && (
          <button type="button" class="btn btn-danger btn-small" onClick={() => void cancel('airing')}>
            ■ {t.live.cancelAiring}
          </button>
        )}
        {canCancel && detail.status === 'approved' && series && (
          <button type="button" class="btn btn-danger btn-small" onClick={() => void cancel('series')}>
            ■■ {t.live.cancelSeries}
          </button>
        )}
      </div>
      {detail.status === 'submitted' && (
        <Alert kind="success">
          <span data-testid="submitted-notice">{t.live.submittedNotice}</span>
        </Alert>
      )}
      {detail.status === 'rejected' && (
        <Alert kind="warning">
          <span data-testid="rejected-notice">{t.live.rejectedNotice(detail.decisionReason)}</span>
        </Alert>
      )}
      {/* Issue 20: the province offers the bulletin of what it broadcasts down to communes' inboxes too. */}
      {can(me.role, 'approve') && ready && <OfferAction bulletinId={detail.bulletinId} />}
      {canCancel && detail.status === 'approved' && series && occurrence && <MoveAiring id={id} occurrenceAt={occurrence} onDone={setNotice} />}
      {lostAlert}
      {error !== null && !lostSince && <Alert kind="warning">{t.live.pollError}</Alert>}
      {notice && <Alert kind="info">{notice}</Alert>}
      <Card class={lostSince ? 'stale' : undefined}>
        {detail.occurrenceAt === null ? (
          <Empty>{t.live.noOccurrence}</Empty>
        ) : (
          <>
            <p class="big-progress" data-testid="live-progress" role="status">
              {lostSince && updatedAt ? t.live.progressAt(t.live.progress(done, total), fmtTime(updatedAt)) : t.live.progress(done, total)}
            </p>
            <StateBar summary={detail.summary} total={total} />
            <ul class="state-legend">
              {DELIVERY_STATES.filter((s) => detail.summary[s]).map((s) => (
                <li key={s}>
                  <span class={`swatch st-${s}`} aria-hidden="true" /> {stateText(s)}: <strong>{detail.summary[s]}</strong>
                </li>
              ))}
            </ul>
          </>
        )}
      </Card>
      {relay && <RelayLivePanel broadcastId={id} occurrenceAt={detail.occurrenceAt} sourceName={relay.sourceName} live={relayNow.map} eventCount={relayNow.count} />}
      {programmeId && <ProgrammeLivePanel programmeId={programmeId} live={itemNow} names={itemNames} />}
      {total > 0 && (
        <Card
          title={t.live.device}
          actions={
            <label class="field inline">
              <span>{t.live.filter}</span>
              <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as DeliveryState | '')}>
                <option value="">{t.live.all}</option>
                {DELIVERY_STATES.filter((s) => detail.summary[s]).map((s) => (
                  <option key={s} value={s}>
                    {t.deliveryStates[s]} ({detail.summary[s]})
                  </option>
                ))}
              </select>
            </label>
          }
        >
          <div class="table-wrap">
            <table class="table" data-testid="deliveries">
              <thead>
                <tr>
                  <th scope="col">{t.live.device}</th>
                  <th scope="col">{t.live.state}</th>
                  <th scope="col">{t.live.at}</th>
                  <th scope="col">{t.live.reason}</th>
                </tr>
              </thead>
              <tbody>
                {paged.slice.map((d) => (
                  <tr key={d.deviceId}>
                    <td>
                      {names.get(d.deviceId) ?? d.deviceId}
                    </td>
                    <td>
                      <span class={`state st-${d.state}${lostSince ? ' stale' : ''}`} data-state={d.state}>
                        {stateText(d.state)}
                      </span>
                    </td>
                    {/* Issue 20, broken 11: a box that has not played yet showed when the delivery was made (the
                        submit time); it shows when it airs, and once it has played or failed, when that was. */}
                    <td data-testid="delivery-at">{WAITING.includes(d.state) ? t.live.airsAt(fmtDateTime(d.occurrenceAt)) : fmtTime(d.at)}</td>
                    <td>{d.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={paged.page} pages={paged.pages} onPage={paged.setPage} total={rows.length} size={PAGE} />
        </Card>
      )}
    </div>
  );
}

/** Moves the airing shown to another local date and time (Vietnam), the rest of the series untouched. */
function MoveAiring({ id, occurrenceAt, onDone }: { id: string; occurrenceAt: string; onDone: (message: string) => void }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [date, setDate] = useState(() => localToday(Date.parse(occurrenceAt)));
  const [time, setTime] = useState(() => localTimeIn(0, Date.parse(occurrenceAt)));
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <p>
        <button type="button" class="btn btn-small" onClick={() => setOpen(true)}>
          ⇢ {t.live.moveAiring}
        </button>
      </p>
    );
  const move = async () => {
    setBusy(true);
    try {
      const r = await api.moveOccurrence(id, occurrenceAt, localInstant(date, time));
      onDone(t.live.moved(fmtDateTime(r.movedTo)));
      setOpen(false);
    } catch (err) {
      onDone(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t.live.moveAiring}>
      <div class="row wrap">
        <label class="field">
          <span>{t.live.moveDate}</span>
          <DateField value={date} onChange={setDate} />
        </label>
        <label class="field">
          <span>{t.live.moveTime}</span>
          <TimeField value={time} onChange={setTime} />
        </label>
        <button type="button" class="btn btn-primary" disabled={busy || !date || !time} onClick={() => void move()}>
          {t.live.moveConfirm}
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => setOpen(false)}>
          {t.cancel}
        </button>
      </div>
    </Card>
  );
}

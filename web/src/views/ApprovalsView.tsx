/** The approval queue: submitted broadcasts in the approver's area, approve or reject with a reason. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { BroadcastSummary } from '../api/types.js';
import { useSession } from '../app/session.js';
import { errorMessage } from '../app/errors.js';
import { Alert, Card, Empty, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { flattenTree, areaNames, type FlatArea } from '../logic/area-tree.js';
import { fmtDateTime } from '../logic/format.js';
import { can } from '../logic/roles.js';
import { BroadcastHeading } from './BroadcastsView.js';
import { useBulletinTitles } from './live/useDeviceNames.js';
import { ReadingCheckbox, ReadingSpanList, type FlaggedSpan } from '../components/ReadingSpans.js';

/**
 * A one-off at a time its author chose whose last possible start has passed while it waited: the server
 * refuses to approve it (issue 20, broken 1), so the queue says so and offers only the rejection.
 */
function late(b: BroadcastSummary): boolean {
  return !b.airsWhenApproved && b.lastStartAt !== null && Date.parse(b.lastStartAt) < Date.now();
}

export default function ApprovalsView() {
  const { api, me, areas } = useSession();
  const [items, setItems] = useState<BroadcastSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [names, setNames] = useState<Map<string, FlatArea>>(new Map());
  useEffect(() => {
    api.broadcasts('submitted', { limit: 100 }).then((p) => setItems(p.items), (err: unknown) => setError(errorMessage(err)));
    areas().then((tree) => setNames(areaNames(flattenTree(tree))), () => undefined);
  }, []);
  const titles = useBulletinTitles(api, (items ?? []).map((b) => b.bulletinId));
  const allowed = can(me.role, 'approve');

  const done = (id: string, message: string) => {
    setItems((list) => (list ?? []).filter((b) => b.id !== id));
    setNotice(message);
  };

  return (
    <div>
      <h1>{t.approvals.title}</h1>
      {notice && <Alert kind="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      {!items && !error && <Loading />}
      {items && !items.length && <Empty>{t.approvals.empty}</Empty>}
      {items?.map((b) => (
        <Card key={b.id} class="approval">
          <div class="item-main">
            <BroadcastHeading b={b} title={titles.get(b.bulletinId) ?? '…'} startLabel={t.approvals.startAt}>
              <span>
                {t.approvals.submittedAt}: {fmtDateTime(b.createdAt)}
              </span>
            </BroadcastHeading>
            <p class="small">
              {t.approvals.targets}: {(b.target.areaCodes ?? []).map((c) => names.get(c)?.name ?? c).join(', ')}
              {b.target.deviceIds?.length ? ` · ${t.approvals.devices(b.target.deviceIds.length)}` : ''}
            </p>
          </div>
          {late(b) && <Alert>{t.approvals.late(fmtDateTime(b.startAt))}</Alert>}
          {allowed && <Decide id={b.id} onDone={done} late={late(b)} spans={b.readingSpans ?? []} emergency={b.priority === 'emergency'} />}
        </Card>
      ))}
    </div>
  );
}

/**
 * Approve or reject one broadcast. Issue 19: a bulletin whose text the reader guessed or could not read in
 * places lists them, and "Phê duyệt" waits for "Đã kiểm tra cách đọc" (the server refuses it otherwise; an
 * emergency is never held, so there the box is only asked for).
 */
function Decide({ id, onDone, late, spans, emergency }: { id: string; onDone: (id: string, message: string) => void; late: boolean; spans: readonly FlaggedSpan[]; emergency: boolean }) {
  const { api } = useSession();
  const [checked, setChecked] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reasonId = useMemo(() => `reason-${id}`, [id]);
  const act = async (approve: boolean) => {
    if (!approve && !reason.trim()) return setError(t.approvals.needReason);
    setBusy(true);
    setError(null);
    try {
      if (approve) await api.approve(id, spans.length ? { checked } : {});
      else await api.reject(id, reason.trim());
      onDone(id, approve ? t.approvals.approved : t.approvals.rejected);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <div class="decide">
      {error && <Alert>{error}</Alert>}
      {spans.length > 0 && (
        <div class="reading-review" data-testid={`reading-${id}`}>
          <h3 class="small">{t.reading.title}</h3>
          <p class="muted small">{t.reading.intro(spans.length)}</p>
          <ReadingSpanList spans={spans} />
          <ReadingCheckbox checked={checked} onChange={setChecked} emergency={emergency} />
        </div>
      )}
      {rejecting ? (
        <div class="row wrap">
          <label class="field grow" for={reasonId}>
            <span>{t.approvals.reason}</span>
            <textarea id={reasonId} rows={2} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} required />
          </label>
          <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void act(false)}>
            {t.approvals.reject}
          </button>
          <button type="button" class="btn btn-ghost" onClick={() => setRejecting(false)}>
            {t.cancel}
          </button>
        </div>
      ) : (
        <div class="row wrap">
          <button type="button" class="btn btn-primary" disabled={busy || late || (spans.length > 0 && !checked && !emergency)} onClick={() => void act(true)}>
            ✓ {t.approvals.approve}
          </button>
          <button type="button" class="btn" disabled={busy} onClick={() => setRejecting(true)}>
            ✕ {t.approvals.reject}
          </button>
        </div>
      )}
    </div>
  );
}

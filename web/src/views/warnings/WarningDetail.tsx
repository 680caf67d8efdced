/**
 * One warning: what it says, where it goes (communes, boxes, boxes without coordinates, what matched nothing),
 * its versions, its reach refreshed every 5 s while it airs, and its as-run (which box aired which version
 * when). Approvers and province admins approve (priority, the announcement as edited, the reading checked),
 * reject with a reason, or stop it with a reason after a question.
 */
import { useEffect, useState } from 'preact/hooks';
import type { TtsPreview } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { flagged, ReadingCheckbox, ReadingSpanList } from '../../components/ReadingSpans.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { warningPath } from '../../logic/routes.js';
import { previewSource } from '../../logic/spans.js';
import { HighlightedText } from '../compose/HighlightedText.js';
import { RiskChip } from './RiskChip.js';
import { warningsApi, type Warning, type WarningAsRun } from './warnings-api.js';
import { actionsFor, fmtVn, isLive, kindName, reachPct, reachText, stateLabel, stateTone, warningError, warningName, type WarningPriority } from './warnings-logic.js';
import { tw } from './warnings-vi.js';

const LIVE_MS = 5000;

export function WarningDetail({ id, mayAct }: { id: string; mayAct: boolean }) {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const [changed, setChanged] = useState<Warning | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [state, reload] = useAsync(async (signal) => {
    const [warning, asRun] = await Promise.all([wapi.get(id, signal), wapi.asRun(id, signal).catch((): WarningAsRun => ({ items: [], total: 0 }))]);
    return { warning, asRun, at: Date.now() };
  }, [id]);
  const loaded = state.status === 'ok' ? state.value.warning : null;
  // An action's answer shows at once; the next refresh replaces it when it is newer.
  const w = changed && loaded && Date.parse(changed.updatedAt) >= Date.parse(loaded.updatedAt) ? changed : loaded;
  const live = w !== null && isLive(w.state);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, LIVE_MS);
    return () => clearInterval(timer);
  }, [live]);

  const back = (
    <p>
      <Link href={warningPath()}>{tw.detail.back}</Link>
    </p>
  );
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return (
    <>
      {back}
      <Alert>{warningError(state.error)}</Alert>
    </>
  );
  if (!w) return <Loading />;
  const asRun = state.value.asRun;
  const actions = actionsFor(w.state, mayAct);
  const done = (next: Warning, text: string) => {
    setChanged(next);
    setNotice(text);
    reload();
  };

  return (
    <div class="wrn-detail" data-testid="warning-detail" data-state={w.state}>
      {back}
      <Card
        title={
          <>
            {w.kind ? kindName(w.kind) : w.headline || w.event}
            {w.headline && w.kind ? <span class="muted small"> — {w.headline}</span> : null}
          </>
        }
      >
        <div class="row wrap wrn-row-head">
          <RiskChip level={w.riskLevel} />
          <Badge tone={stateTone(w.state)}>
            <span data-testid="warning-state">{stateLabel(w.state)}</span>
          </Badge>
          {w.priority && <Badge tone={w.priority}>{tw.priorities[w.priority]}</Badge>}
        </div>
        {w.reason && <p class="small">{w.reason}</p>}
        <ul class="plain-list small wrn-facts">
          <li>
            {tw.source}: {w.sourceId === null ? tw.formSource : w.sourceName} · {w.sender}
          </li>
          <li>
            {tw.validUntil}: <strong>{w.expiresAt ? fmtVn(w.expiresAt) : tw.noEnd}</strong>
          </li>
          <li>{tw.detail.repeat(w.repeatMinutes)}</li>
          {w.decidedBy && <li>{tw.detail.decidedBy(w.decidedBy)}</li>}
        </ul>
        {notice && <Alert kind="success">{notice}</Alert>}
      </Card>

      <Card title={tw.detail.reach}>
        <div class="wrn-reach wrn-reach-big" data-testid="reach" aria-live="polite">
          <span class="wrn-bar" aria-hidden="true">
            <span style={{ width: `${reachPct(w.reach)}%` }} />
          </span>
          <strong>{reachText(w.reach)}</strong>
        </div>
        <p class="small muted">
          {tw.reachDetail(w.reach.playing, w.reach.failed)}
          {live && (
            <>
              {' · '}
              <span class="wrn-live-dot" aria-hidden="true" /> {tw.list.live}
            </>
          )}{' '}
          · {tw.detail.updated(fmtVn(state.value.at))}
        </p>
      </Card>

      {(actions.approve || actions.reject || actions.cancel) && <Actions w={w} actions={actions} onDone={done} />}

      <Card title={tw.detail.announcement}>
        <p class="wrn-announcement" lang="vi" data-testid="announcement">
          {w.announcement}
        </p>
      </Card>

      <Card title={tw.detail.communes(w.communes.length)}>
        <p>
          <strong data-testid="boxes">{tw.detail.boxes(w.boxes)}</strong>
        </p>
        {w.communes.length ? (
          <ul class="nat-chips" data-testid="communes">
            {w.communes.map((c) => (
              <li key={c.code}>{c.name}</li>
            ))}
          </ul>
        ) : (
          <Empty>{t.none}</Empty>
        )}
        {w.boxesWithoutCoordinates > 0 && <Alert kind="info">{tw.detail.withoutCoordinates(w.boxesWithoutCoordinates)}</Alert>}
        {w.unmatched.length > 0 && (
          <>
            <h3>{tw.detail.unmatched}</h3>
            <ul class="small" data-testid="unmatched">
              {w.unmatched.map((u, i) => (
                <li key={i}>{tw.detail.unmatchedItem(u.what, u.value)}</li>
              ))}
            </ul>
          </>
        )}
      </Card>

      <Card title={tw.detail.versions}>
        <div class="table-wrap">
          <table class="table" data-testid="versions">
            <thead>
              <tr>
                <th>{tw.detail.version}</th>
                <th>{tw.detail.msgType}</th>
                <th>{tw.detail.sent}</th>
                <th>{tw.detail.received}</th>
              </tr>
            </thead>
            <tbody>
              {w.versions.map((v) => (
                <tr key={v.version}>
                  <td>{v.version}</td>
                  <td>{tw.detail.msgTypes[v.msgType] ?? v.msgType}</td>
                  <td>{fmtVn(v.sent)}</td>
                  <td>{fmtVn(v.receivedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>

      <Card title={`${tw.detail.asRun} (${asRun.total})`}>
        {!asRun.items.length ? (
          <Empty>{tw.detail.asRunEmpty}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table" data-testid="as-run">
              <thead>
                <tr>
                  <th>{tw.detail.box}</th>
                  <th>{tw.detail.version}</th>
                  <th>{tw.detail.time}</th>
                  <th>{tw.detail.state}</th>
                </tr>
              </thead>
              <tbody>
                {asRun.items.map((r) => (
                  <tr key={`${r.deviceId}-${r.version}-${r.occurrenceAt}`}>
                    <td>{r.deviceName}</td>
                    <td>{r.version}</td>
                    <td>{fmtVn(r.startedAt ?? r.occurrenceAt)}</td>
                    <td>{(t.deliveryStates as Record<string, string>)[r.state] ?? r.state}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

type Acts = ReturnType<typeof actionsFor>;

function Actions({ w, actions, onDone }: { w: Warning; actions: Acts; onDone: (w: Warning, notice: string) => void }) {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const [open, setOpen] = useState<'approve' | 'reject' | 'cancel' | null>(null);
  const [priority, setPriority] = useState<WarningPriority>(w.priority ?? 'emergency');
  const [text, setText] = useState(w.announcement);
  const [checked, setChecked] = useState(false);
  const [reading, setReading] = useState<{ source: string; result: TtsPreview } | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const run = async (what: string, call: () => Promise<Warning>, notice: string) => {
    setBusy(what);
    setProblem(null);
    try {
      onDone(await call(), notice);
      setOpen(null);
      setReason('');
    } catch (err) {
      setProblem(warningError(err));
    } finally {
      setBusy(null);
    }
  };

  const readThrough = async () => {
    const source = previewSource(text).slice(0, 5000);
    if (!source) return;
    setBusy('reading');
    setProblem(null);
    try {
      setReading({ source, result: await api.ttsPreview({ text: source, voice: 'vi' }) });
    } catch (err) {
      setProblem(warningError(err));
    } finally {
      setBusy(null);
    }
  };

  const approve = () => {
    if (!window.confirm(tw.act.confirmApprove(w.boxes, tw.priorities[priority]))) return;
    const edited = text.trim() !== w.announcement.trim();
    void run('approve', () => wapi.approve(w.id, { priority, checked, ...(edited ? { announcement: text.trim() } : {}) }), tw.act.approved);
  };
  const reasoned = (what: 'reject' | 'cancel') => {
    if (!reason.trim()) return setProblem(tw.act.needReason);
    if (what === 'cancel') {
      if (!window.confirm(tw.act.confirmCancel(warningName(w)))) return;
      void run('cancel', () => wapi.cancel(w.id, reason.trim()), tw.act.cancelled);
    } else void run('reject', () => wapi.reject(w.id, reason.trim()), tw.act.rejected);
  };

  const fresh = reading !== null && reading.source === previewSource(text).slice(0, 5000);
  const spans = fresh ? flagged(reading.result.report) : [];
  return (
    <Card title={open === 'approve' ? tw.act.approveTitle : undefined} class="wrn-actions">
      <div class="row wrap">
        {actions.approve && (
          <button type="button" class="btn btn-primary" aria-expanded={open === 'approve'} onClick={() => setOpen(open === 'approve' ? null : 'approve')}>
            {tw.act.approve}
          </button>
        )}
        {actions.reject && (
          <button type="button" class="btn" aria-expanded={open === 'reject'} onClick={() => setOpen(open === 'reject' ? null : 'reject')}>
            {tw.act.reject}
          </button>
        )}
        {actions.cancel && (
          <button type="button" class="btn btn-danger" aria-expanded={open === 'cancel'} onClick={() => setOpen(open === 'cancel' ? null : 'cancel')}>
            ■ {tw.act.cancel}
          </button>
        )}
      </div>
      {open === 'approve' && (
        <div class="decide">
          <fieldset class="segmented" aria-label={tw.form.priority}>
            {(['emergency', 'priority'] as const).map((p) => (
              <label key={p} class={priority === p ? 'active' : ''}>
                <input type="radio" name="wrn-approve-priority" value={p} checked={priority === p} onChange={() => setPriority(p)} />
                {tw.priorities[p]}
              </label>
            ))}
          </fieldset>
          <p class="small muted">{tw.priorityHint}</p>
          <label class="field" for="wrn-approve-text">
            <span>{tw.act.editAnnouncement}</span>
            <textarea id="wrn-approve-text" rows={8} maxLength={20_000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <button type="button" class="btn btn-small" disabled={busy !== null} onClick={() => void readThrough()}>
            {busy === 'reading' ? tw.act.checkingReading : tw.act.checkReading}
          </button>
          {fresh && (
            <>
              <HighlightedText text={reading.source} rewritten={reading.result.report.rewritten} guessed={reading.result.report.guessed} unread={reading.result.report.unread} />
              {spans.length ? (
                <>
                  <p class="muted small">{t.reading.intro(spans.length)}</p>
                  <ReadingSpanList spans={spans} />
                </>
              ) : (
                <p class="small">{tw.act.readingOk}</p>
              )}
            </>
          )}
          <ReadingCheckbox checked={checked} onChange={setChecked} emergency={false} />
          <button type="button" class={`btn btn-primary ${priority === 'emergency' ? 'btn-danger' : ''}`} disabled={busy !== null || (spans.length > 0 && !checked)} onClick={approve}>
            {busy === 'approve' ? tw.act.approving : tw.act.approve}
          </button>
        </div>
      )}
      {(open === 'reject' || open === 'cancel') && (
        <div class="decide">
          <label class="field" for="wrn-reason">
            <span>{open === 'reject' ? tw.act.rejectReason : tw.act.cancelReason}</span>
            <input id="wrn-reason" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="button" class={`btn ${open === 'cancel' ? 'btn-danger' : ''}`} disabled={busy !== null} onClick={() => reasoned(open)}>
            {open === 'reject' ? (busy === 'reject' ? tw.act.rejecting : tw.act.reject) : busy === 'cancel' ? tw.act.cancelling : tw.act.cancel}
          </button>
        </div>
      )}
      {problem && <Alert>{problem}</Alert>}
    </Card>
  );
}

/**
 * The sheet an airing opens (issue 20): on a phone it rises from the bottom, on a desktop it sits in the
 * middle. "Dời giờ lượt này", "Hủy lượt này", "Hủy cả chuỗi", and a link to the broadcast's own page; after a
 * drag, the question "move it there?" with the choice of this airing or the whole series.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CalendarItem } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { Alert, Link } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { broadcastPath } from '../../logic/routes.js';
import { tc } from './calendar-vi.js';
import { fmtDate, fmtHm, fmtWhen, hm, minuteOfDay, parseDate, parseTime } from './week.js';

export type SheetMode = 'actions' | 'move' | 'drop';

/** The server's refusals (English, for operators' logs) in the words of the page. */
export function refusal(err: unknown): string {
  if (!(err instanceof ApiFailure)) return errorMessage(err);
  const m = err.message;
  if (/in the past/i.test(m)) return tc.errors.past;
  if (/was cancelled; it cannot be moved/i.test(m)) return tc.errors.wasCancelled;
  if (/no occurrence at|not an occurrence/i.test(m)) return tc.errors.notOccurrence;
  if (/only the author or an approver/i.test(m)) return tc.errors.notYours;
  if (/outside your area|unknown (area|device)/i.test(m)) return tc.errors.outside;
  if (/is (cancelled|rejected)|already (cancelled|rejected)/i.test(m)) return tc.errors.ended;
  if (/only a daily, weekly or monthly/i.test(m)) return tc.errors.notSeries;
  if (/already airs at the new time/i.test(m)) return tc.errors.timeTaken;
  if (/series has ended/i.test(m)) return tc.errors.seriesEnded;
  return errorMessage(err);
}

export function AiringSheet({ item, mode: initial, proposed, onClose, onDone }: { item: CalendarItem; mode: SheetMode; proposed?: number; onClose: () => void; onDone: (message: string) => void }) {
  const { api } = useSession();
  const [mode, setMode] = useState<SheetMode>(initial);
  const at = Date.parse(item.startAt);
  const [date, setDate] = useState(fmtDate(proposed ?? at));
  const [time, setTime] = useState(fmtHm(proposed ?? at));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, []);

  const id = encodeURIComponent(item.broadcastId);
  const run = async (call: () => Promise<unknown>, message: string) => {
    setBusy(true);
    setError(null);
    try {
      await call();
      onDone(message);
    } catch (err) {
      setError(refusal(err));
    } finally {
      setBusy(false);
    }
  };
  const moveOne = (to: number) => run(() => api.request('PATCH', `/api/v1/broadcasts/${id}/occurrences/${encodeURIComponent(item.occurrenceAt)}`, { startAt: new Date(to).toISOString() }), tc.done.moveOne(fmtWhen(to)));
  const moveSeries = (minute: number) => run(() => api.request('POST', `/api/v1/broadcasts/${id}/series/time`, { time: item.seriesTime, to: hm(minute) }), tc.done.moveSeries(hm(minute)));
  const cancelOne = () => {
    if (!confirm(tc.confirm.cancelOne(fmtWhen(at)))) return;
    void run(() => api.request('POST', `/api/v1/broadcasts/${id}/cancel`, { occurrenceAt: item.occurrenceAt }), tc.done.cancelOne);
  };
  const cancelSeries = () => {
    if (!confirm(tc.confirm.cancelSeries)) return;
    void run(() => api.request('POST', `/api/v1/broadcasts/${id}/cancel`, {}), tc.done.cancelSeries);
  };
  /** The typed date and time, or null with the reason shown. */
  const typed = (): number | null => {
    const day = parseDate(date);
    if (day === null) return setError(tc.errors.badDate), null;
    const minute = parseTime(time);
    if (minute === null) return setError(tc.errors.badTime), null;
    return day + minute * 60_000;
  };
  const seriesOk = item.series && item.seriesTime !== null && item.canChange;
  const len = item.durationMs ? (item.durationMs < 60_000 ? tc.seconds(Math.round(item.durationMs / 1000)) : tc.minutes(Math.round(item.durationMs / 60_000))) : null;

  return (
    <div class="cal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="cal-sheet" role="dialog" aria-modal="true" aria-label={item.title} tabIndex={-1} ref={ref}>
        <header class="cal-sheet-head">
          <span class={`cal-chip cal-p-${item.priority}`}>{t.priorities[item.priority]}</span>
          <h2>{item.title}</h2>
          <button type="button" class="btn btn-small btn-ghost" onClick={onClose}>
            {tc.sheet.close}
          </button>
        </header>
        <p>
          <strong>{fmtWhen(at)}</strong>
          {len ? ` · ${len}` : ''} · {tc.kinds[item.kind]} · {tc.statuses[item.status]}
          {item.series ? ` · ${tc.series}` : ''}
        </p>
        {item.movedTo && <p class="muted">{tc.movedTo(fmtWhen(Date.parse(item.movedTo)))}</p>}
        {item.movedFrom && <p class="muted">{tc.movedFrom(fmtWhen(Date.parse(item.movedFrom)))}</p>}
        {error && <Alert>{error}</Alert>}
        {mode === 'actions' && (
          <div class="cal-actions">
            {item.canChange ? (
              <>
                <button type="button" class="btn btn-block" disabled={busy} onClick={() => setMode('move')}>
                  {tc.sheet.moveOne}
                </button>
                <button type="button" class="btn btn-block btn-danger" disabled={busy} onClick={cancelOne}>
                  {tc.sheet.cancelOne}
                </button>
                {item.series && (
                  <button type="button" class="btn btn-block btn-danger" disabled={busy} onClick={cancelSeries}>
                    {tc.sheet.cancelSeries}
                  </button>
                )}
              </>
            ) : (
              <p class="muted">{tc.sheet.readOnly}</p>
            )}
            <Link class="btn btn-block btn-ghost" href={broadcastPath(item.broadcastId)}>
              {tc.sheet.open}
            </Link>
          </div>
        )}
        {mode === 'move' && (
          <form
            class="cal-actions"
            onSubmit={(e) => {
              e.preventDefault();
              const to = typed();
              if (to !== null) void moveOne(to);
            }}
          >
            <label class="field">
              <span>{tc.sheet.newDate}</span>
              <input inputMode="numeric" autoComplete="off" value={date} onInput={(e) => setDate(e.currentTarget.value)} placeholder="07/12/2026" />
            </label>
            <label class="field">
              <span>{tc.sheet.newTime}</span>
              <input inputMode="numeric" autoComplete="off" value={time} onInput={(e) => setTime(e.currentTarget.value)} placeholder="07:30" />
            </label>
            <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
              {tc.sheet.save}
            </button>
            {seriesOk && parseTime(time) !== null && hm(parseTime(time)!) !== item.seriesTime && (
              <button type="button" class="btn btn-block" disabled={busy} onClick={() => void moveSeries(parseTime(time)!)}>
                {tc.sheet.moveSeries(hm(parseTime(time)!))}
              </button>
            )}
            <button type="button" class="btn btn-block btn-ghost" onClick={() => setMode('actions')}>
              {tc.sheet.back}
            </button>
          </form>
        )}
        {mode === 'drop' && proposed !== undefined && (
          <div class="cal-actions">
            <p>{tc.sheet.dropAsk(fmtWhen(proposed))}</p>
            <button type="button" class="btn btn-primary btn-block" disabled={busy} onClick={() => void moveOne(proposed)}>
              {tc.sheet.moveOne}
            </button>
            {seriesOk && hm(minuteOfDay(proposed)) !== item.seriesTime && (
              <button type="button" class="btn btn-block" disabled={busy} onClick={() => void moveSeries(minuteOfDay(proposed))}>
                {tc.sheet.moveSeries(hm(minuteOfDay(proposed)))}
              </button>
            )}
            <button type="button" class="btn btn-block btn-ghost" onClick={onClose}>
              {tc.sheet.back}
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

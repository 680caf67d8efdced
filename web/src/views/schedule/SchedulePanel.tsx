/** Schedule a ready bulletin: when, how urgent, where; check for conflicts; then save (or submit for approval). */
import { useState } from 'preact/hooks';
import type { BroadcastCheck, Priority } from '../../api/types.js';
import { navigate } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { broadcastPath } from '../../logic/routes.js';
import { emptyForm, formToDraft, type FormError, type ScheduleForm } from '../../logic/schedule.js';
import { CheckReport } from './CheckReport.js';
import { fieldError, ScheduleFields } from './ScheduleFields.js';
import { TargetPicker } from './TargetPicker.js';
import { ReadingCheckbox, ReadingSpanList } from '../../components/ReadingSpans.js';

const PRIORITIES: Priority[] = ['normal', 'priority', 'emergency'];

export function SchedulePanel({ bulletinId, bulletinTitle }: { bulletinId: string; bulletinTitle: string }) {
  const { api } = useSession();
  const [form, setForm] = useState<ScheduleForm>(() => emptyForm());
  const [errors, setErrors] = useState<FormError[]>([]);
  const [check, setCheck] = useState<{ key: string; result: BroadcastCheck } | null>(null);
  const [busy, setBusy] = useState<'check' | 'save' | null>(null);
  const [apiError, setApiError] = useState<string | null>(null);
  /** "Đã kiểm tra cách đọc" (issue 19): aired without an approver, the spans the reader guessed are the sender's to check. */
  const [readingChecked, setReadingChecked] = useState(false);
  const set = (patch: Partial<ScheduleForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    // The server's refusal was about the form as it was; it is not shown against the changed one.
    setApiError(null);
  };

  const draft = () => {
    const r = formToDraft(form, bulletinId);
    setErrors(r.ok ? [] : r.errors);
    return r.ok ? r.draft : null;
  };
  const current = formToDraft(form, bulletinId);
  const currentKey = current.ok ? JSON.stringify(current.draft) : null;
  // Issue 20, broken 11: an error stayed under a field after it was fixed (errors were recomputed only on
  // "Kiểm tra"/save). Once shown, each error stays only while the form still has it.
  const shown = errors.length ? (current.ok ? [] : current.errors.filter((e) => errors.some((x) => x.field === e.field))) : [];
  const fresh = check !== null && check.key === currentKey;
  const spans = fresh ? (check.result.readingSpans ?? []) : [];
  const mustCheck = spans.length > 0 && form.priority !== 'emergency' && !readingChecked;

  const runCheck = async () => {
    const d = draft();
    if (!d) return;
    setBusy('check');
    setApiError(null);
    try {
      setCheck({ key: JSON.stringify(d), result: await api.checkBroadcast(d) });
    } catch (err) {
      setApiError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!fresh) return runCheck();
    const d = draft();
    if (!d) return;
    setBusy('save');
    setApiError(null);
    try {
      const created = await api.createBroadcast(spans.length && readingChecked ? { ...d, readingChecked: true } : d);
      navigate(broadcastPath(created.id));
    } catch (err) {
      setApiError(errorMessage(err));
      setBusy(null);
    }
  };

  const targetErr = fieldError(shown, 'targets');
  return (
    <form class="card schedule" onSubmit={(e) => void save(e)} aria-labelledby="schedule-title" noValidate>
      <header class="card-head">
        <h2 id="schedule-title">{t.schedule.title}</h2>
        <span class="muted">
          {t.schedule.bulletin}: <strong>{bulletinTitle}</strong>
        </span>
      </header>
      <div class="schedule-grid">
        <div>
          <ScheduleFields form={form} set={set} errors={shown} />
          <label class="field">
            <span>{t.schedule.priority}</span>
            <select name="priority" value={form.priority} onChange={(e) => set({ priority: e.currentTarget.value as Priority })} aria-describedby="priority-hint">
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {t.priorities[p]}
                </option>
              ))}
            </select>
            <small id="priority-hint" class="muted">
              {t.schedule.priorityHint}
            </small>
          </label>
        </div>
        <div>
          <TargetPicker areaCodes={form.areaCodes} deviceIds={form.deviceIds} onChange={(v) => set(v)} />
          {targetErr && <p class="field-error">{targetErr}</p>}
        </div>
      </div>
      {apiError && <Alert>{apiError}</Alert>}
      {check && <div class={fresh ? '' : 'dimmed'}>{<CheckReport check={check.result} />}</div>}
      {spans.length > 0 && (
        <div class="reading-review" data-testid="schedule-reading">
          <h3 class="small">{t.reading.title}</h3>
          <p class="muted small">{t.reading.intro(spans.length)}</p>
          <ReadingSpanList spans={spans} />
          <ReadingCheckbox checked={readingChecked} onChange={setReadingChecked} emergency={form.priority === 'emergency'} />
        </div>
      )}
      {!fresh && <p class="muted">{t.schedule.checkFirst}</p>}
      <div class="row wrap actions">
        <button type="button" class="btn" onClick={() => void runCheck()} disabled={busy !== null}>
          {busy === 'check' ? t.schedule.checking : t.schedule.check}
        </button>
        <button type="submit" class={`btn btn-primary ${form.priority === 'emergency' ? 'btn-danger' : ''}`} disabled={!fresh || busy !== null || mustCheck}>
          {busy === 'save' ? t.schedule.submitting : t.schedule.submit[check?.result.status ?? 'submitted']}
        </button>
      </div>
    </form>
  );
}

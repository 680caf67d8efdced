/**
 * "Soạn cảnh báo": the province's warning form. "Xem trước" asks the server what it would become — the
 * standard announcement of the kind's template (editable here), how it will be read (guessed and unread
 * spans highlighted, issue 19), the communes and boxes it reaches — and only a fresh preview may be sent,
 * after a question naming how many communes and boxes will hear it.
 */
import { useMemo, useState } from 'preact/hooks';
import { navigate } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { ReadingCheckbox, ReadingSpanList } from '../../components/ReadingSpans.js';
import { Alert, Card, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { warningPath } from '../../logic/routes.js';
import { HighlightedText } from '../compose/HighlightedText.js';
import { AreaList } from '../schedule/TargetPicker.js';
import { warningsApi, type WarningFormBody, type WarningPreview } from './warnings-api.js';
import { defaultPriority, defaultValidUntil, emptyWarningForm, formToBody, KIND_IDS, kindName, LEVELS, riskColours, riskLabel, warningError, type WarningForm as Form, type WarningFormField } from './warnings-logic.js';
import { tw } from './warnings-vi.js';

type Preview = { key: string; body: WarningFormBody; result: WarningPreview };

export function WarningForm() {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const flat = useFlatAreas();
  const [form, setForm] = useState<Form>(() => emptyWarningForm(Date.now()));
  const [priorityTouched, setPriorityTouched] = useState(false);
  const [errors, setErrors] = useState<WarningFormField[]>([]);
  const [preview, setPreview] = useState<Preview | null>(null);
  /** The announcement as shown in the preview's box; `edited` once the person changed it. */
  const [text, setText] = useState('');
  const [edited, setEdited] = useState(false);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState<'preview' | 'send' | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const names = useMemo(() => new Map((flat ?? []).map((a) => [a.code, a.name])), [flat]);

  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const setLevel = (riskLevel: Form['riskLevel']) => set(priorityTouched ? { riskLevel } : { riskLevel, priority: defaultPriority(riskLevel) });
  const built = formToBody(form, Date.now());
  const key = built.ok ? JSON.stringify(built.body) : null;
  const fresh = preview !== null && preview.key === key && (!edited || text.trim() === preview.result.announcement.trim());
  const spans = fresh ? preview.result.readingSpans : [];

  const runPreview = async (opts: { regenerate?: boolean } = {}) => {
    const r = formToBody(form, Date.now());
    setErrors(r.ok ? [] : r.errors);
    if (!r.ok) return;
    const keep = edited && !opts.regenerate && text.trim() !== '';
    const body: WarningFormBody = keep ? { ...r.body, announcement: text.trim() } : r.body;
    setBusy('preview');
    setProblem(null);
    try {
      const result = await wapi.preview(body);
      setPreview({ key: JSON.stringify(r.body), body, result });
      setText(result.announcement);
      setEdited(keep);
      setChecked(false);
    } catch (err) {
      setProblem(warningError(err));
    } finally {
      setBusy(null);
    }
  };

  const send = async () => {
    if (!fresh || !preview) return;
    const { result } = preview;
    if (!window.confirm(tw.form.confirmSend(result.communes.length, result.boxes, tw.priorities[form.priority]))) return;
    setBusy('send');
    setProblem(null);
    try {
      const body: WarningFormBody = { ...preview.body, ...(edited ? { announcement: text.trim() } : {}), checked: spans.length > 0 ? checked : false };
      const created = await wapi.create(body);
      navigate(warningPath(created.id));
    } catch (err) {
      setProblem(warningError(err));
      setBusy(null);
    }
  };

  const err = (f: WarningFormField) => (errors.includes(f) ? <small class="field-error">{tw.form.errors[f === 'areas' ? 'areas' : f]}</small> : null);

  return (
    <div class="wrn-form">
      <Card title={tw.form.title}>
        <p class="muted small">{tw.form.intro}</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void runPreview();
          }}
          noValidate
        >
          <label class="field" for="wrn-kind">
            <span>{tw.form.kind}</span>
            <select id="wrn-kind" value={form.kind} onChange={(e) => set({ kind: e.currentTarget.value as Form['kind'] })}>
              {KIND_IDS.map((k) => (
                <option key={k} value={k}>
                  {kindName(k)}
                </option>
              ))}
            </select>
          </label>
          <fieldset class="wrn-levels">
            <legend>{tw.form.risk}</legend>
            {LEVELS.map((l) => (
              <label key={l} class={`wrn-level ${form.riskLevel === l ? 'active' : ''}`} style={form.riskLevel === l ? riskColours(l) : { borderColor: riskColours(l).background }}>
                <input type="radio" name="wrn-level" value={l} checked={form.riskLevel === l} onChange={() => setLevel(l)} />
                <span class="wrn-swatch" style={{ background: riskColours(l).background }} aria-hidden="true" />
                {riskLabel(l)}
              </label>
            ))}
          </fieldset>
          <label class="field" for="wrn-agency">
            <span>{tw.form.agency}</span>
            <input id="wrn-agency" maxLength={300} placeholder={tw.form.agencyHint} value={form.agency} onInput={(e) => set({ agency: e.currentTarget.value })} aria-invalid={errors.includes('agency')} />
            {err('agency')}
          </label>
          <label class="field" for="wrn-agency-text">
            <span>{tw.form.agencyText}</span>
            <textarea id="wrn-agency-text" rows={6} maxLength={20_000} value={form.agencyText} onInput={(e) => set({ agencyText: e.currentTarget.value })} aria-invalid={errors.includes('agencyText')} />
            {err('agencyText')}
          </label>
          <fieldset>
            <legend>{tw.form.areas}</legend>
            <p class="muted small">{tw.form.areasHint}</p>
            {form.areaCodes.length ? (
              <ul class="nat-chips" data-testid="warning-areas">
                {form.areaCodes.map((a) => (
                  <li key={a}>
                    {names.get(a) ?? a}{' '}
                    <button type="button" class="linklike" aria-label={tw.form.removeArea(names.get(a) ?? a)} onClick={() => set({ areaCodes: form.areaCodes.filter((x) => x !== a) })}>
                      ✕
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="small muted">{tw.form.noAreas}</p>
            )}
            <AreaList selected={form.areaCodes} onChange={(areaCodes) => set({ areaCodes })} />
            {err('areas')}
          </fieldset>
          <fieldset>
            <legend>{tw.validUntil}</legend>
            <div class="row wrap">
              <label class="field" for="wrn-date">
                <span>{tw.form.validDate}</span>
                <input id="wrn-date" inputMode="numeric" autocomplete="off" placeholder="dd/mm/yyyy" size={11} value={form.validDate} onInput={(e) => set({ validDate: e.currentTarget.value })} aria-invalid={errors.includes('date') || errors.includes('past')} aria-describedby="wrn-valid-hint" />
              </label>
              <label class="field" for="wrn-time">
                <span>{tw.form.validTime}</span>
                <input id="wrn-time" inputMode="numeric" autocomplete="off" placeholder="HH:mm" size={6} value={form.validTime} onInput={(e) => set({ validTime: e.currentTarget.value })} aria-invalid={errors.includes('time') || errors.includes('past')} aria-describedby="wrn-valid-hint" />
              </label>
            </div>
            <div class="row wrap">
              {[6, 12, 24].map((h) => (
                <button key={h} type="button" class="btn btn-small btn-ghost" onClick={() => set(toFields(defaultValidUntil(Date.now(), h)))}>
                  {tw.form.plusHours(h)}
                </button>
              ))}
            </div>
            <small id="wrn-valid-hint" class="muted">
              {tw.form.validHint}
            </small>
            {err('date')}
            {err('time')}
            {err('past')}
          </fieldset>
          <div class="row wrap">
            <label class="field narrow" for="wrn-repeat">
              <span>{tw.form.repeat}</span>
              <input id="wrn-repeat" type="number" inputMode="numeric" min={0} max={1440} value={form.repeatMinutes} onInput={(e) => set({ repeatMinutes: e.currentTarget.value })} aria-describedby="wrn-repeat-hint" aria-invalid={errors.includes('repeat')} />
              <small id="wrn-repeat-hint" class="muted">
                {tw.form.repeatHint}
              </small>
              {err('repeat')}
            </label>
          </div>
          <label class="check">
            <input type="checkbox" checked={form.attention} onChange={(e) => set({ attention: e.currentTarget.checked })} />
            {tw.form.attention}
          </label>
          <fieldset class="segmented wrn-priority" aria-label={tw.form.priority}>
            <span class="small">{tw.form.priority}:</span>
            {(['emergency', 'priority'] as const).map((p) => (
              <label key={p} class={form.priority === p ? 'active' : ''}>
                <input
                  type="radio"
                  name="wrn-priority"
                  value={p}
                  checked={form.priority === p}
                  onChange={() => {
                    setPriorityTouched(true);
                    set({ priority: p });
                  }}
                />
                {tw.priorities[p]}
              </label>
            ))}
          </fieldset>
          <p class="small muted">{tw.priorityHint}</p>
          <div class="row wrap actions">
            <button type="submit" class="btn btn-primary" disabled={busy !== null}>
              {busy === 'preview' ? tw.form.previewing : preview ? tw.form.previewAgain : tw.form.preview}
            </button>
          </div>
        </form>
      </Card>
      {busy === 'preview' && !preview && <Loading label={tw.form.previewing} />}
      {problem && !preview && <Alert>{problem}</Alert>}
      {preview && (
        <Card title={tw.form.previewTitle} class={`wrn-preview ${fresh ? '' : 'wrn-stale'}`} id="wrn-preview">
          {!fresh && <Alert kind="warning">{tw.form.stale}</Alert>}
          <p class="wrn-reach-line" data-testid="preview-reach">
            <strong>{tw.form.reach(preview.result.communes.length, preview.result.boxes)}</strong>
          </p>
          {preview.result.boxes === 0 && <Alert kind="warning">{tw.form.noBoxes}</Alert>}
          <ul class="nat-chips" data-testid="preview-communes">
            {preview.result.communes.map((c) => (
              <li key={c.code}>{c.name}</li>
            ))}
          </ul>
          {preview.result.boxesWithoutCoordinates > 0 && <p class="small muted">{tw.detail.withoutCoordinates(preview.result.boxesWithoutCoordinates)}</p>}
          {preview.result.unmatched.length > 0 && (
            <>
              <h3>{tw.detail.unmatched}</h3>
              <ul class="small">
                {preview.result.unmatched.map((u, i) => (
                  <li key={i}>{tw.detail.unmatchedItem(u.what, u.value)}</li>
                ))}
              </ul>
            </>
          )}
          <label class="field" for="wrn-announcement">
            <span>{tw.form.announcement}</span>
            <textarea
              id="wrn-announcement"
              rows={10}
              maxLength={20_000}
              value={text}
              onInput={(e) => {
                setText(e.currentTarget.value);
                setEdited(true);
              }}
            />
          </label>
          <div class="row wrap">
            {!fresh && (
              <button type="button" class="btn" disabled={busy !== null} onClick={() => void runPreview()}>
                {tw.form.previewAgain}
              </button>
            )}
            {edited && (
              <button type="button" class="btn btn-ghost btn-small" disabled={busy !== null} onClick={() => void runPreview({ regenerate: true })}>
                {tw.form.regenerate}
              </button>
            )}
          </div>
          {fresh && (
            <>
              <h3>{tw.form.highlighted}</h3>
              <div class="legend" aria-label={t.preview.legend}>
                <span>
                  <mark class="hl-guessed">abc</mark> {t.preview.guessed}
                </span>
                <span>
                  <mark class="hl-unread">abc</mark> {t.preview.unread}
                </span>
              </div>
              <HighlightedText text={preview.result.announcement} rewritten={[]} guessed={spans.filter((s) => s.kind === 'guessed')} unread={spans.filter((s) => s.kind === 'unread')} />
              {spans.length > 0 && (
                <div class="reading-review" data-testid="warning-reading">
                  <h3>{t.reading.title}</h3>
                  <p class="muted small">{t.reading.intro(spans.length)}</p>
                  <ReadingSpanList spans={spans} />
                  <ReadingCheckbox checked={checked} onChange={setChecked} emergency={false} />
                </div>
              )}
            </>
          )}
          {problem && <Alert>{problem}</Alert>}
          <div class="row wrap actions">
            <button type="button" class="btn btn-primary btn-danger" disabled={!fresh || busy !== null || (spans.length > 0 && !checked)} onClick={() => void send()}>
              {busy === 'send' ? tw.form.sending : tw.form.send}
            </button>
          </div>
        </Card>
      )}
    </div>
  );
}

function toFields(v: { date: string; time: string }): Partial<Form> {
  return { validDate: v.date, validTime: v.time };
}

/** Compose a bulletin, hear how it will be read, create it, then schedule it (operators, approvers, admins). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { BULLETIN_CATEGORIES, VOICES, type BulletinCategory, type Voice } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { useDebounced } from '../../app/hooks.js';
import { Alert, SpeakerIcon } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { previewSource } from '../../logic/spans.js';
import { PreviewPanel, type PreviewState } from './PreviewPanel.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';

const PREVIEW_MAX = 5000;
const TEXT_MAX = 50_000;

type BulletinState = { status: 'none' } | { status: 'creating'; progress: number } | { status: 'ready'; id: string; durationMs: number } | { status: 'failed'; message: string };

export default function ComposeView() {
  const { api } = useSession();
  const [title, setTitle] = useState('');
  const [category, setCategory] = useState<BulletinCategory>('general');
  const [voice, setVoice] = useState<Voice>('vi');
  const [text, setText] = useState('');
  const [auto, setAuto] = useState(true);
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });
  const [bulletin, setBulletin] = useState<BulletinState>({ status: 'none' });
  const [formError, setFormError] = useState<string | null>(null);
  const inflight = useRef<AbortController | null>(null);
  const debounced = useDebounced(text, 1200);

  const runPreview = async () => {
    const source = previewSource(text);
    if (!source) return;
    inflight.current?.abort();
    const ctl = new AbortController();
    inflight.current = ctl;
    setPreview((p) => ({ ...p, status: 'loading' }));
    try {
      const result = await api.ttsPreview({ text: source.slice(0, PREVIEW_MAX), voice }, ctl.signal);
      if (!ctl.signal.aborted) setPreview({ status: 'ok', source: source.slice(0, PREVIEW_MAX), result });
    } catch (err) {
      if (!ctl.signal.aborted) setPreview((p) => ({ ...p, status: 'error', error: errorMessage(err) }));
    }
  };

  useEffect(() => {
    if (auto && previewSource(debounced) && previewSource(debounced) !== preview.source) void runPreview();
  }, [debounced, auto, voice]);
  useEffect(() => () => inflight.current?.abort(), []);

  const locked = bulletin.status === 'creating' || bulletin.status === 'ready';

  const create = async (e: Event) => {
    e.preventDefault();
    if (!title.trim()) return setFormError(t.compose.needTitle);
    if (!text.trim()) return setFormError(t.compose.needText);
    setFormError(null);
    setBulletin({ status: 'creating', progress: 0 });
    try {
      const res = await api.createBulletin({ title: title.trim(), text: text.trim(), category, voice });
      if (res.status === 'ready') return setBulletin({ status: 'ready', id: res.id, durationMs: res.audio.durationMs });
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const b = await api.bulletin(res.id);
        if (b.status === 'ready' && b.audio) return setBulletin({ status: 'ready', id: b.id, durationMs: b.audio.durationMs });
        if (b.status === 'failed') return setBulletin({ status: 'failed', message: b.error ?? t.compose.failed });
        setBulletin({ status: 'creating', progress: b.progress });
      }
    } catch (err) {
      setBulletin({ status: 'failed', message: errorMessage(err) });
    }
  };

  const stale = preview.source !== undefined && preview.source !== previewSource(text).slice(0, PREVIEW_MAX);

  return (
    <div class="compose">
      <h1>{t.compose.title}</h1>
      <div class="compose-grid">
        <form class="card" onSubmit={create} aria-labelledby="compose-form-title" noValidate>
          <h2 id="compose-form-title" class="sr-only">
            {t.compose.title}
          </h2>
          <fieldset disabled={locked} class="plain">
            <label class="field">
              <span>{t.compose.bulletinTitle}</span>
              <input name="title" maxLength={200} placeholder={t.compose.bulletinTitleHint} value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
            </label>
            <div class="row wrap">
              <label class="field grow">
                <span>{t.compose.category}</span>
                <select name="category" value={category} onChange={(e) => setCategory(e.currentTarget.value as BulletinCategory)}>
                  {BULLETIN_CATEGORIES.map((c) => (
                    <option key={c} value={c}>
                      {t.categories[c]}
                    </option>
                  ))}
                </select>
              </label>
              <label class="field">
                <span>{t.compose.voice}</span>
                <select name="voice" value={voice} onChange={(e) => setVoice(e.currentTarget.value as Voice)}>
                  {VOICES.map((v) => (
                    <option key={v} value={v}>
                      {t.compose.voices[v]}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <label class="field">
              <span>{t.compose.text}</span>
              <textarea name="text" rows={10} maxLength={TEXT_MAX} value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby="text-hint text-count" required />
              <small id="text-hint" class="muted">
                {t.compose.textHint}
              </small>
              <small id="text-count" class="muted">
                {t.compose.chars(Array.from(text).length, PREVIEW_MAX)}
              </small>
            </label>
            <div class="row wrap">
              <button type="button" class="btn" onClick={() => void runPreview()} disabled={!text.trim()}>
                <SpeakerIcon /> {t.compose.preview}
              </button>
              <label class="check">
                <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} />
                {t.compose.autoPreview}
              </label>
            </div>
          </fieldset>
          {formError && <Alert>{formError}</Alert>}
          {bulletin.status === 'failed' && <Alert>{bulletin.message}</Alert>}
          {bulletin.status === 'creating' && (
            <div role="status" class="progress-line">
              <progress max={100} value={bulletin.progress} /> {t.compose.progress(Math.round(bulletin.progress))}
            </div>
          )}
          {bulletin.status === 'ready' ? (
            <div class="row wrap">
              <Alert kind="success">{t.compose.ready(fmtDuration(bulletin.durationMs))}</Alert>
              <button type="button" class="btn" onClick={() => setBulletin({ status: 'none' })}>
                ✎ {t.compose.edit}
              </button>
            </div>
          ) : (
            <button type="submit" class="btn btn-primary" disabled={bulletin.status === 'creating'}>
              {bulletin.status === 'creating' ? t.compose.creating : t.compose.create}
            </button>
          )}
        </form>
        <PreviewPanel state={preview} stale={stale} />
      </div>
      {bulletin.status === 'ready' && <SchedulePanel bulletinId={bulletin.id} bulletinTitle={title} />}
    </div>
  );
}

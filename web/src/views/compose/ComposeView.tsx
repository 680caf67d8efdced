/**
 * Compose a bulletin — type its text and hear how it will be read, upload a recording, record one here (issue
 * 16; InAppRecorder), or relay a live source for a while (issue 15; RelayForm) — create it, then schedule it
 * (operators, approvers, admins).
 * Over 300 lines because the screen's steps (type or upload, hear, create, schedule) share one state; the
 * panels that stand alone (PreviewPanel, RecordingPanel, SchedulePanel) are their own files.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { BULLETIN_CATEGORIES, BULLETIN_MAX_CHARS, VOICES, type BulletinCategory, type BulletinCreated, type Voice } from '../../api/types.js';
import type { VoiceSetting } from '@loaxa/shared/api';
import { useSession } from '../../app/session.js';
import { errorMessage, recordingRefusal, uploadErrorMessage } from '../../app/errors.js';
import { useDebounced } from '../../app/hooks.js';
import { Alert, SpeakerIcon } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtBytes, fmtDuration } from '../../logic/format.js';
import { previewSource } from '../../logic/spans.js';
import { RECORDING_ACCEPT, recordingProblem, UPLOAD_MAX_BYTES } from '../../logic/upload.js';
import { encodeWav, mixTrimmed, recordingFileName, wavBytes } from '../../logic/live.js';
import { InAppRecorder, type Take } from './InAppRecorder.js';
import { PreviewPanel, type PreviewState } from './PreviewPanel.js';
import { RecordingPanel } from './RecordingPanel.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';
import { RelayForm } from './RelayForm.js';
import { COPY_PARAM } from '../../logic/routes.js';

const PREVIEW_MAX = 5000;
// The server refuses longer bulletins (issue 13: memory is bounded by the audio length).
const TEXT_MAX = BULLETIN_MAX_CHARS;

type Source = 'text' | 'upload' | 'record' | 'relay';
const SOURCES: Source[] = ['text', 'upload', 'record', 'relay'];
/** `/soan-tin?tiep-song=<source id>`: opened from the sources page on a relay of that source. */
const RELAY_PARAM = 'tiep-song';
type BulletinState =
  | { status: 'none' }
  /** The recording is on its way: `sent` is the percentage of its bytes the server has received. */
  | { status: 'uploading'; sent: number }
  | { status: 'creating'; progress: number }
  | { status: 'ready'; id: string; durationMs: number; sha256: string; audioUrl: string; audioUrlExpiresAt: string }
  | { status: 'failed'; message: string };

function fileProblemMessage(file: File): string | null {
  switch (recordingProblem(file)) {
    case 'empty':
      return t.upload.errors.empty;
    case 'type':
      return t.upload.errors.type(file.name);
    case 'size':
      return t.upload.errors.size(fmtBytes(file.size), fmtBytes(UPLOAD_MAX_BYTES));
    default:
      return null;
  }
}

export default function ComposeView() {
  const { api } = useSession();
  const [relaySourceId] = useState(() => new URLSearchParams(location.search).get(RELAY_PARAM));
  const [source, setSource] = useState<Source>(relaySourceId ? 'relay' : 'text');
  const [title, setTitle] = useState('');
  const [category, setCategory] = useState<BulletinCategory>('general');
  // Issue 22: published on the commune's web page (podcast, notices, player) once it has aired there.
  const [publish, setPublish] = useState(false);
  const [voice, setVoice] = useState<Voice>('vi');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [take, setTake] = useState<Take | null>(null);
  const [auto, setAuto] = useState(true);
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });
  const [bulletin, setBulletin] = useState<BulletinState>({ status: 'none' });
  const [formError, setFormError] = useState<string | null>(null);
  const inflight = useRef<AbortController | null>(null);
  /** The bulletin being created or uploaded: aborted on cancel and when the view goes away. */
  const job = useRef<AbortController | null>(null);
  const debounced = useDebounced(text, 1200);
  // `/soan-tin?chep=<id>`, the library's "Chép và sửa" (issue 20): the form starts with a text bulletin's title,
  // text and category; saving makes a new bulletin, the original stays as it was.
  useEffect(() => {
    const copyOf = new URLSearchParams(location.search).get(COPY_PARAM);
    if (!copyOf) return;
    api.bulletin(copyOf).then(
      (b) => {
        if (b.source !== 'text') return;
        setTitle(b.title);
        setText(b.text);
        if ((BULLETIN_CATEGORIES as readonly string[]).includes(b.category ?? '')) setCategory(b.category as BulletinCategory);
      },
      (err: unknown) => setFormError(errorMessage(err)),
    );
  }, []);
  /** The voice was chosen here: the area's default (below) no longer replaces it. */
  const voiceChosen = useRef(false);

  // Issue 20 ("set reading speed and voice"): the form starts on the area's default voice; its speed applies
  // on the server, as the form sends none.
  useEffect(() => {
    api.request<VoiceSetting>('GET', '/api/v1/tts/voice').then(
      (s) => !voiceChosen.current && (VOICES as readonly string[]).includes(s.effective.voice) && setVoice(s.effective.voice as Voice),
      () => undefined,
    );
  }, []);

  // Issue 20, broken 11: "Nhập tiêu đề" stayed on screen after the title was typed. A missing-field error
  // now goes as soon as the field is filled.
  useEffect(() => {
    if ((formError === t.compose.needTitle && title.trim()) || (formError === t.compose.needText && text.trim()) || (formError === t.record.needTake && take)) setFormError(null);
  }, [title, text, take, formError]);

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
    if (source === 'text' && auto && previewSource(debounced) && previewSource(debounced) !== preview.source) void runPreview();
  }, [debounced, auto, voice, source]);
  useEffect(
    () => () => {
      inflight.current?.abort();
      job.current?.abort();
    },
    [],
  );

  const busy = bulletin.status === 'creating' || bulletin.status === 'uploading';
  const locked = busy || bulletin.status === 'ready';

  const startJob = () => {
    job.current?.abort();
    const ctl = new AbortController();
    job.current = ctl;
    return ctl;
  };

  /** Waits for the server to finish the audio (201 now, or 202 and then polling), as for a text bulletin. */
  const follow = async (res: BulletinCreated, ctl: AbortController, failed: (error: string | null) => string) => {
    if (res.status === 'ready') {
      const a = res.audio;
      return setBulletin({ status: 'ready', id: res.id, durationMs: a.durationMs, sha256: a.sha256, audioUrl: a.signedUrl, audioUrlExpiresAt: a.signedUrlExpiresAt });
    }
    setBulletin({ status: 'creating', progress: res.progress });
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      if (ctl.signal.aborted) return;
      const b = await api.bulletin(res.id);
      if (ctl.signal.aborted) return;
      if (b.status === 'ready' && b.audio) {
        const a = b.audio;
        return setBulletin({ status: 'ready', id: b.id, durationMs: a.durationMs, sha256: a.sha256, audioUrl: a.signedUrl, audioUrlExpiresAt: a.signedUrlExpiresAt });
      }
      if (b.status === 'failed') return setBulletin({ status: 'failed', message: failed(b.error) });
      setBulletin({ status: 'creating', progress: b.progress });
    }
  };

  /** The recording's link expired while the page stayed open: the bulletin again, with a fresh one. */
  const refreshRecordingLink = async () => {
    if (bulletin.status !== 'ready') return;
    try {
      const b = await api.bulletin(bulletin.id);
      if (b.audio) {
        const a = b.audio;
        setBulletin((cur) => (cur.status === 'ready' && cur.id === b.id ? { ...cur, audioUrl: a.signedUrl, audioUrlExpiresAt: a.signedUrlExpiresAt } : cur));
      }
    } catch {
      /* the player keeps showing its error; pressing play again retries */
    }
  };

  const createFromText = async () => {
    if (!text.trim()) return setFormError(t.compose.needText);
    setFormError(null);
    const ctl = startJob();
    setBulletin({ status: 'creating', progress: 0 });
    try {
      const res = await api.createBulletin({ title: title.trim(), text: text.trim(), category, voice, ...(publish ? { public: true } : {}) });
      await follow(res, ctl, (error) => error ?? t.compose.failed);
    } catch (err) {
      if (!ctl.signal.aborted) setBulletin({ status: 'failed', message: errorMessage(err) });
    }
  };

  /**
   * A take recorded here: the kept part, mixed to mono, as a WAV made in the browser. The upload route then
   * treats it as any uploaded file (decoded, brought to broadcast loudness) — one path for every recording.
   */
  const takeFile = (): File | null => {
    if (!take) {
      setFormError(t.record.needTake);
      return null;
    }
    const bytes = wavBytes(take.trim, take.sampleRate);
    if (bytes > UPLOAD_MAX_BYTES) {
      setFormError(t.record.tooLarge(fmtBytes(bytes), fmtBytes(UPLOAD_MAX_BYTES)));
      return null;
    }
    const wav = encodeWav(mixTrimmed(take.channels, take.sampleRate, take.trim), take.sampleRate);
    return new File([wav], recordingFileName(title), { type: 'audio/wav' });
  };

  const createFromRecording = async () => {
    const chosen = source === 'record' ? takeFile() : file;
    if (source === 'record' && !chosen) return;
    if (!chosen) return setFormError(t.upload.needFile);
    const problem = fileProblemMessage(chosen);
    if (problem) return (source === 'record' ? setFormError : setFileError)(problem);
    setFormError(null);
    const ctl = startJob();
    setBulletin({ status: 'uploading', sent: 0 });
    try {
      const res = await api.uploadBulletin(
        { title: title.trim(), category, file: chosen },
        { signal: ctl.signal, onProgress: (sent, total) => setBulletin({ status: 'uploading', sent: total > 0 ? (sent / total) * 100 : 0 }) },
      );
      await follow(res, ctl, (error) => recordingRefusal(error ?? ''));
    } catch (err) {
      if (ctl.signal.aborted) return;
      setBulletin({ status: 'failed', message: uploadErrorMessage(err) });
    }
  };

  const create = (e: Event) => {
    e.preventDefault();
    if (!title.trim()) return setFormError(t.compose.needTitle);
    void (source === 'text' ? createFromText() : createFromRecording());
  };

  const cancelUpload = () => {
    job.current?.abort();
    setBulletin({ status: 'none' });
  };

  const chooseFile = (input: HTMLInputElement) => {
    const chosen = input.files?.[0] ?? null;
    setFile(chosen);
    setFileError(chosen ? fileProblemMessage(chosen) : null);
    setFormError(null);
    if (bulletin.status === 'failed') setBulletin({ status: 'none' });
  };

  const chooseSource = (next: Source) => {
    setSource(next);
    setFormError(null);
    if (bulletin.status === 'failed') setBulletin({ status: 'none' });
  };

  const switcher = (
    <fieldset class="segmented source-switch">
      <legend class="sr-only">{t.compose.source}</legend>
      {SOURCES.map((s) => (
        <label key={s} class={source === s ? 'active' : ''}>
          <input type="radio" name="source" value={s} checked={source === s} onChange={() => chooseSource(s)} />
          {t.compose.sources[s]}
        </label>
      ))}
    </fieldset>
  );
  // A relay has no text or audio of its own: its own form, with the same switch on top and the same schedule
  // panel after it. This screen's state stays, so switching back finds the text and the file as they were.
  if (source === 'relay')
    return (
      <div class="compose">
        <h1>{t.compose.title}</h1>
        <RelayForm switcher={switcher} initialSourceId={relaySourceId} />
      </div>
    );

  const stale = preview.source !== undefined && preview.source !== previewSource(text).slice(0, PREVIEW_MAX);
  // A recording made here goes the upload's way: the same fields, progress, panel and result.
  const uploading = source === 'upload' || source === 'record';

  return (
    <div class="compose">
      <h1>{t.compose.title}</h1>
      <div class="compose-grid">
        <form class="card" onSubmit={create} aria-labelledby="compose-form-title" noValidate>
          <h2 id="compose-form-title" class="sr-only">
            {t.compose.title}
          </h2>
          <fieldset disabled={locked} class="plain">
            {switcher}
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
              <label class="field" hidden={uploading}>
                <span>{t.compose.voice}</span>
                <select name="voice" value={voice} onChange={(e) => {
                    voiceChosen.current = true;
                    setVoice(e.currentTarget.value as Voice);
                  }}>
                  {VOICES.map((v) => (
                    <option key={v} value={v}>
                      {t.compose.voices[v]}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {/* Both sources stay mounted so switching back and forth keeps the text and the chosen file. */}
            <div hidden={uploading}>
              <label class="field">
                <span>{t.compose.text}</span>
                <textarea name="text" rows={10} maxLength={TEXT_MAX} value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby="text-hint text-count" required />
                <small id="text-hint" class="muted">
                  {t.compose.textHint}
                </small>
                <small id="text-count" class="muted">
                  {/* Issue 20, broken 11: the counter said 5,000 (the preview's share) while 20,000 are kept. */}
                  {t.compose.chars(Array.from(text).length, TEXT_MAX)}
                  {Array.from(text).length > PREVIEW_MAX && ` · ${t.compose.previewPart(PREVIEW_MAX)}`}
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
              <label class="check">
                <input type="checkbox" name="public" checked={publish} onChange={(e) => setPublish(e.currentTarget.checked)} />
                {t.compose.publish}
              </label>
            </div>
            <div hidden={source !== 'record'} class="field">
              <InAppRecorder disabled={locked} onTake={setTake} />
            </div>
            <div hidden={source !== 'upload'} class="field">
              <label for="recording-file">{t.upload.file}</label>
              {/* The native input lies, transparent, over a drop zone worded in Vietnamese: click or drop a file on it. */}
              <div class={`file-drop${fileError ? ' invalid' : ''}`}>
                <input
                  id="recording-file"
                  type="file"
                  name="file"
                  accept={RECORDING_ACCEPT}
                  onChange={(e) => chooseFile(e.currentTarget)}
                  aria-describedby={fileError ? 'file-hint file-error' : 'file-hint'}
                  aria-invalid={fileError ? 'true' : undefined}
                  required
                />
                <span class="btn btn-small" aria-hidden="true">
                  {file ? t.upload.chooseOther : t.upload.choose}
                </span>
                <span class="muted" aria-hidden="true">
                  {t.upload.dropHint}
                </span>
              </div>
              <small id="file-hint" class="muted">
                {t.upload.hint(fmtBytes(UPLOAD_MAX_BYTES))}
              </small>
              {file && !fileError && (
                <small class="muted" data-testid="file-chosen">
                  {t.upload.chosen(file.name, fmtBytes(file.size))}
                </small>
              )}
              {fileError && (
                <span id="file-error" class="field-error" role="alert">
                  {fileError}
                </span>
              )}
            </div>
          </fieldset>
          {formError && <Alert>{formError}</Alert>}
          {bulletin.status === 'failed' && <Alert>{bulletin.message}</Alert>}
          {bulletin.status === 'uploading' && (
            <div role="status" class="progress-line" data-testid="upload-progress">
              {bulletin.sent < 100 ? (
                <>
                  <progress max={100} value={bulletin.sent} aria-label={t.upload.uploading} /> {t.upload.sent(Math.floor(bulletin.sent))}
                </>
              ) : (
                <>
                  <span class="spinner" aria-hidden="true" /> {t.upload.processing}
                </>
              )}
            </div>
          )}
          {bulletin.status === 'creating' && (
            <div role="status" class="progress-line">
              <progress max={100} value={bulletin.progress} /> {(uploading ? t.upload.progress : t.compose.progress)(Math.round(bulletin.progress))}
            </div>
          )}
          {bulletin.status === 'ready' ? (
            <div class="row wrap">
              <Alert kind="success">{t.compose.ready(fmtDuration(bulletin.durationMs))}</Alert>
              <button type="button" class="btn" onClick={() => setBulletin({ status: 'none' })}>
                ✎ {source === 'record' ? t.record.another : uploading ? t.upload.another : t.compose.edit}
              </button>
            </div>
          ) : bulletin.status === 'uploading' ? (
            <button type="button" class="btn" onClick={cancelUpload}>
              {t.upload.cancel}
            </button>
          ) : (
            <button type="submit" class="btn btn-primary" disabled={busy || (source === 'upload' && !!fileError)}>
              {busy ? (uploading ? t.upload.processing : t.compose.creating) : source === 'record' ? t.record.submit : uploading ? t.upload.submit : t.compose.create}
            </button>
          )}
        </form>
        {uploading ? (
          <RecordingPanel audio={bulletin.status === 'ready' ? bulletin : null} busy={busy} title={title.trim()} fileName={source === 'upload' ? (file?.name ?? null) : null} empty={source === 'record' ? t.record.panelEmpty : t.upload.panelEmpty} onExpired={() => void refreshRecordingLink()} />
        ) : (
          <PreviewPanel state={preview} stale={stale} onExpired={() => void runPreview()} />
        )}
      </div>
      {bulletin.status === 'ready' && <SchedulePanel bulletinId={bulletin.id} bulletinTitle={title} />}
    </div>
  );
}

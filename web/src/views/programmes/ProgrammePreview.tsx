/**
 * "Nghe thử cả chương trình" (issue 15: "listen to the whole programme before saving"): the items as they
 * stand sent to `POST /api/v1/programmes/preview`, the MP3 answer played from a blob URL (freed when replaced
 * and when the page goes away), a busy state while the server renders, and a note once the items changed
 * after the preview was made. Refusals go back to the builder, to be shown on the items they name.
 */
import { ListenPlayer } from '../../components/ListenPlayer.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { Alert, SpeakerIcon } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { programmeErrors } from '../../logic/programme-errors.js';
import { checkDraft, previewLengthMs, type ItemDraft, type ItemError, type Lengths } from '../../logic/programmes.js';
import { fmtLength } from '../../logic/relays.js';

type Preview = { status: 'idle' } | { status: 'loading'; key: string } | { status: 'ok'; key: string; url: string } | { status: 'error'; message: string };

export function ProgrammePreview({ items, lengths, onErrors }: { items: readonly ItemDraft[]; lengths: Lengths; onErrors: (errors: ItemError[]) => void }) {
  const { api } = useSession();
  const [preview, setPreview] = useState<Preview>({ status: 'idle' });
  const ctlRef = useRef<AbortController | null>(null);
  const url = preview.status === 'ok' ? preview.url : null;
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  useEffect(() => () => ctlRef.current?.abort(), []);

  const key = JSON.stringify(checkDraft(null, items));
  const length = previewLengthMs(items, lengths);
  const p = t.programmes;

  const run = async () => {
    const c = checkDraft(null, items);
    if (!c.ok) return onErrors(c.errors);
    onErrors([]);
    ctlRef.current?.abort();
    const ctl = new AbortController();
    ctlRef.current = ctl;
    setPreview({ status: 'loading', key });
    try {
      const blob = await api.programmePreview(c.items, ctl.signal);
      if (!ctl.signal.aborted) setPreview({ status: 'ok', key, url: URL.createObjectURL(blob) });
    } catch (err) {
      if (ctl.signal.aborted) return;
      const mapped = err instanceof ApiFailure ? programmeErrors(err, items) : [];
      onErrors(mapped);
      setPreview({ status: 'error', message: mapped.length ? p.errors.preview : errorMessage(err) });
    }
  };

  return (
    <div class="programme-preview">
      <div class="row wrap">
        <button type="button" class="btn" onClick={() => void run()} disabled={preview.status === 'loading' || !items.length} aria-describedby="programme-preview-hint">
          <SpeakerIcon /> {preview.status === 'loading' ? p.previewing : p.preview}
        </button>
        {preview.status === 'loading' && (
          <span class="muted small" role="status">
            <span class="spinner" aria-hidden="true" /> {p.previewing}
          </span>
        )}
      </div>
      <small id="programme-preview-hint" class="muted">
        {p.previewHint} {length !== null && p.previewLength(fmtLength(length))}
      </small>
      {preview.status === 'ok' && (
        <>
          <ListenPlayer src={preview.url} label={p.previewAudio} preload="auto" testId="programme-preview" />
          {preview.key !== key && <p class="muted small">{p.previewStale}</p>}
        </>
      )}
      {preview.status === 'error' && <Alert>{preview.message}</Alert>}
    </div>
  );
}

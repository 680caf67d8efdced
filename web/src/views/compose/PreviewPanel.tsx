/** "How will it sound?": the normalized reading, highlights, and the synthesized audio. */
import type { TtsPreview } from '../../api/types.js';
import { Alert, Loading } from '../../components/ui.js';
import { ListenPlayer } from '../../components/ListenPlayer.js';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { HighlightedText } from './HighlightedText.js';
import { flagged, ReadingSpanList } from '../../components/ReadingSpans.js';

export interface PreviewState {
  status: 'idle' | 'loading' | 'ok' | 'error';
  /** The exact text the server read (trimmed, NFC): the spans' offsets refer to it. */
  source?: string;
  result?: TtsPreview;
  error?: string;
}

/** `onExpired`: the audio link has expired while the page stayed open; preview again for a fresh one. */
export function PreviewPanel({ state, stale, onExpired }: { state: PreviewState; stale: boolean; onExpired: () => void }) {
  const r = state.result;
  return (
    <section class="card preview" aria-labelledby="preview-title" aria-busy={state.status === 'loading'}>
      <header class="card-head">
        <h2 id="preview-title">{t.preview.title}</h2>
      </header>
      {state.status === 'idle' && <p class="muted">{t.preview.empty}</p>}
      {state.status === 'loading' && <Loading label={t.compose.previewing} />}
      {state.status === 'error' && <Alert>{state.error}</Alert>}
      {r && state.source !== undefined && (
        <div class={state.status === 'loading' ? 'dimmed' : ''}>
          {stale && <Alert kind="warning">{t.preview.stale}</Alert>}
          {/* The app's one "Nghe thử" control (issue 20). */}
          <ListenPlayer src={r.audio.signedUrl} signed={{ expiresAt: r.audio.signedUrlExpiresAt, onExpired }} label={t.preview.play} buttonLabel={t.preview.play} buttonTestId="play-preview" testId="preview-audio" />
          <p class="muted small">
            {t.preview.duration(fmtDuration(r.audio.durationMs))} · {t.preview.engine(r.audio.engine)}
          </p>
          <div class="legend" aria-label={t.preview.legend}>
            <span>
              <mark class="hl-rewritten">abc</mark> {t.preview.rewritten} ({r.report.rewritten.length})
            </span>
            <span>
              <mark class="hl-guessed">abc</mark> {t.preview.guessed} ({r.report.guessed.length})
            </span>
            <span>
              <mark class="hl-unread">abc</mark> {t.preview.unread} ({r.report.unread.length})
            </span>
          </div>
          <h3>{t.preview.original}</h3>
          <HighlightedText text={state.source} rewritten={r.report.rewritten} guessed={r.report.guessed} unread={r.report.unread} />
          {r.report.guessed.length + r.report.unread.length > 0 && (
            <>
              <h3>{t.reading.title}</h3>
              <p class="muted small">{t.reading.intro(r.report.guessed.length + r.report.unread.length)}</p>
              <ReadingSpanList spans={flagged(r.report)} testId="preview-spans" />
            </>
          )}
          <h3>{t.preview.reading}</h3>
          <p class="reading" data-testid="reading" lang="vi">
            {r.words}
          </p>
        </div>
      )}
    </section>
  );
}

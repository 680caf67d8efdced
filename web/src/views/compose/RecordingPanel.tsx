/** The uploaded recording as it will be broadcast: what the server made of the file, ready to play. */
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { ListenPlayer } from '../../components/ListenPlayer.js';

export interface RecordingAudio {
  sha256: string;
  durationMs: number;
  /** The signed link the API gave for it, and when it stops working. */
  audioUrl: string;
  audioUrlExpiresAt: string;
}

/** `empty`: what to do first, for a file to upload or a recording to make here (issue 16). */
export function RecordingPanel({ audio, busy, title, fileName, empty = t.upload.panelEmpty, onExpired }: { audio: RecordingAudio | null; busy: boolean; title: string; fileName: string | null; empty?: string; onExpired: () => void }) {
  return (
    <section class="card preview" aria-labelledby="recording-title" aria-busy={busy}>
      <header class="card-head">
        <h2 id="recording-title">{t.upload.panel}</h2>
      </header>
      {audio ? (
        <div data-testid="recording-ready">
          {/* The app's one "Nghe thử" control (issue 20). */}
          <ListenPlayer src={audio.audioUrl} signed={{ expiresAt: audio.audioUrlExpiresAt, onExpired }} label={t.upload.audioLabel(title)} buttonLabel={t.upload.play} buttonTestId="play-recording" testId="recording-audio" preload="metadata" />
          <p class="muted small">{t.preview.duration(fmtDuration(audio.durationMs))}</p>
          <p class="muted small">{t.upload.processed}</p>
          {fileName && <p class="muted small">{t.upload.original(fileName)}</p>}
        </div>
      ) : busy ? (
        <p class="loading">
          <span class="spinner" aria-hidden="true" />
          {t.upload.panelBusy}
        </p>
      ) : (
        <p class="muted">{empty}</p>
      )}
    </section>
  );
}

/** The uploaded recording as it will be broadcast: what the server made of the file, ready to play. */
import { useRef } from 'preact/hooks';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { SignedAudio } from '../../components/SignedAudio.js';

export interface RecordingAudio {
  sha256: string;
  durationMs: number;
  /** The signed link the API gave for it, and when it stops working. */
  audioUrl: string;
  audioUrlExpiresAt: string;
}

/** `empty`: what to do first, for a file to upload or a recording to make here (issue 16). */
export function RecordingPanel({ audio, busy, title, fileName, empty = t.upload.panelEmpty, onExpired }: { audio: RecordingAudio | null; busy: boolean; title: string; fileName: string | null; empty?: string; onExpired: () => void }) {
  const player = useRef<HTMLAudioElement>(null);
  return (
    <section class="card preview" aria-labelledby="recording-title" aria-busy={busy}>
      <header class="card-head">
        <h2 id="recording-title">{t.upload.panel}</h2>
      </header>
      {audio ? (
        <div data-testid="recording-ready">
          <div class="audio-row">
            <button type="button" class="btn btn-primary" onClick={() => void player.current?.play()} data-testid="play-recording">
              ▶ {t.upload.play}
            </button>
            <SignedAudio audioRef={player} preload="metadata" src={audio.audioUrl} expiresAt={audio.audioUrlExpiresAt} onExpired={onExpired} label={t.upload.audioLabel(title)} testId="recording-audio" />
            <span class="muted">{t.preview.duration(fmtDuration(audio.durationMs))}</span>
          </div>
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

/**
 * After a live airing: its recording (the bulletin with the airing's id, issue 16: "every live airing is kept
 * as a recording … and can be aired again"), to hear, to download, and to schedule again through the usual
 * panel. The server keeps the recording once the airing ends; until then the bulletin is being made.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Bulletin } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { SignedAudio } from '../../components/SignedAudio.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';

const POLL_MS = 1000;
/** The server writes the recording in seconds; past this the page stops asking and says so. */
const GIVE_UP_MS = 90_000;

export function LiveRecording({ id, title }: { id: string; title: string }) {
  const { api } = useSession();
  const [bulletin, setBulletin] = useState<Bulletin | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [replay, setReplay] = useState(false);
  const player = useRef<HTMLAudioElement>(null);

  const load = async () => {
    const b = await api.bulletin(id);
    setBulletin(b);
    return b;
  };
  useEffect(() => {
    let live = true;
    const until = Date.now() + GIVE_UP_MS;
    const poll = async () => {
      try {
        const b = await api.bulletin(id);
        if (!live) return;
        setBulletin(b);
        if (b.status === 'ready' || b.status === 'failed') return;
      } catch (err) {
        // 404 while the server still files the recording; anything else is shown but still retried.
        if (!live) return;
        if (Date.now() > until) return setError(errorMessage(err));
      }
      if (Date.now() < until) setTimeout(() => void poll(), POLL_MS);
      else setError(t.golive.recordingFailed);
    };
    void poll();
    return () => {
      live = false;
    };
  }, [id]);

  const audio = bulletin?.status === 'ready' ? bulletin.audio : null;
  return (
    <>
      <section class="card" aria-labelledby="live-recording-title" data-testid="live-recording" data-bulletin={id}>
        <header class="card-head">
          <h2 id="live-recording-title">{t.golive.recording}</h2>
        </header>
        {audio ? (
          <div data-testid="live-recording-ready">
            <div class="audio-row">
              <SignedAudio audioRef={player} preload="metadata" src={audio.signedUrl} expiresAt={audio.signedUrlExpiresAt} onExpired={() => void load().catch(() => undefined)} label={t.golive.recordingAudio(title)} testId="live-recording-audio" />
              <span class="muted">{t.preview.duration(fmtDuration(audio.durationMs))}</span>
            </div>
            <div class="row wrap">
              <a class="btn" href={audio.signedUrl} download data-testid="live-recording-link">
                {t.golive.recordingLink}
              </a>
              <button type="button" class="btn btn-primary" onClick={() => setReplay(true)} disabled={replay}>
                {t.golive.replay}
              </button>
            </div>
          </div>
        ) : bulletin?.status === 'failed' ? (
          <Alert>{t.golive.recordingFailed}</Alert>
        ) : error ? (
          <Alert>{error}</Alert>
        ) : (
          <p class="loading" role="status">
            <span class="spinner" aria-hidden="true" />
            {t.golive.recordingWait}
          </p>
        )}
      </section>
      {replay && audio && <SchedulePanel bulletinId={id} bulletinTitle={title} />}
    </>
  );
}

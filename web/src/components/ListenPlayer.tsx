/**
 * The one "Nghe thử" control (issue 20, "one 'Nghe thử' control"): a big play/pause button over the browser's
 * player, with the length of what plays. The compose preview, the programme preview and the settings page's
 * dictionary and voice use it, so listening looks and works the same everywhere. A signed, expiring link
 * (`expiresAt`) plays through SignedAudio, which asks for a fresh one when it has expired.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration } from '../logic/format.js';
import { SignedAudio } from './SignedAudio.js';

export interface ListenPlayerProps {
  src: string;
  /** What plays, for the player's name ("Âm thanh nghe thử: …"). */
  label: string;
  /** A signed link's expiry and how to get a fresh one; absent: a link that does not expire (a blob URL). */
  signed?: { expiresAt: string; onExpired: () => void };
  durationMs?: number;
  /** Start playing as soon as it can (after the person pressed a button that fetched it). */
  autoPlay?: boolean;
  buttonLabel?: string;
  buttonTestId?: string;
  testId?: string;
  preload?: 'none' | 'metadata' | 'auto';
}

export function ListenPlayer({ src, label, signed, durationMs, autoPlay, buttonLabel = 'Nghe thử', buttonTestId, testId, preload = 'none' }: ListenPlayerProps) {
  const audio = useRef<HTMLAudioElement | null>(null);
  const [playing, setPlaying] = useState(false);
  const toggle = () => {
    const a = audio.current;
    if (!a) return;
    if (a.paused) void a.play().catch(() => undefined);
    else a.pause();
  };
  // Right after the press that fetched it (the person's gesture), once per link.
  useEffect(() => {
    if (autoPlay) void audio.current?.play().catch(() => undefined);
  }, [src]);
  // Media events do not bubble: caught on the way down to the player.
  return (
    <div class="audio-row listen-player" onPlayCapture={() => setPlaying(true)} onPauseCapture={() => setPlaying(false)} onEndedCapture={() => setPlaying(false)}>
      <button type="button" class="btn btn-primary" onClick={toggle} aria-pressed={playing} data-testid={buttonTestId}>
        {playing ? '❚❚' : '▶'} {buttonLabel}
      </button>
      {signed ? (
        <SignedAudio audioRef={audio} preload={preload === 'auto' ? 'metadata' : preload} src={src} expiresAt={signed.expiresAt} onExpired={signed.onExpired} label={label} {...(testId ? { testId } : {})} />
      ) : (
        <audio ref={audio} controls preload={preload} src={src} aria-label={label} data-testid={testId} />
      )}
      {durationMs !== undefined && <span class="muted">{fmtDuration(durationMs)}</span>}
    </div>
  );
}

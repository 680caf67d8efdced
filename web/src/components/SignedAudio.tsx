/**
 * An `<audio>` for a signed, expiring media link (the server does not open `/media` with the session cookie).
 * A link that has expired while the page stayed open fails to load; the player then asks for a fresh one
 * (`onExpired`); pressed play on an expired link, it plays the fresh one once it arrives.
 */
import type { Ref } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface SignedAudioProps {
  src: string;
  /** ISO instant after which `src` no longer opens. */
  expiresAt: string;
  /** Fetches a fresh link (the parent re-renders with the new `src`). */
  onExpired: () => void;
  preload: 'none' | 'metadata';
  audioRef: Ref<HTMLAudioElement>;
  label: string;
  testId?: string;
}

export const linkExpired = (expiresAt: string, now = Date.now()) => Date.parse(expiresAt) <= now + 5_000;

export function SignedAudio({ src, expiresAt, onExpired, preload, audioRef, label, testId }: SignedAudioProps) {
  const resume = useRef(false);
  /** The link a fresh one was already asked for (an expired link both refuses to load and fails to play). */
  const asked = useRef<{ src: string; at: number } | null>(null);
  const el = useRef<HTMLAudioElement | null>(null);
  const refresh = (play: boolean) => {
    if (play) resume.current = true;
    // Once per link, unless that attempt failed a while ago (then pressing play again retries).
    if (asked.current?.src === src && Date.now() - asked.current.at < 10_000) return;
    asked.current = { src, at: Date.now() };
    onExpired();
  };
  useEffect(() => {
    if (resume.current && el.current) {
      resume.current = false;
      void el.current.play().catch(() => undefined);
    }
  }, [src]);
  return (
    <audio
      ref={(node) => {
        el.current = node;
        if (typeof audioRef === 'function') audioRef(node);
        else if (audioRef) audioRef.current = node;
      }}
      controls
      preload={preload}
      src={src}
      aria-label={label}
      data-testid={testId}
      onPlay={(e) => {
        // Pressed play on a link that has expired meanwhile: fetch a fresh one first.
        if (linkExpired(expiresAt)) {
          e.currentTarget.pause();
          refresh(true);
        }
      }}
      onError={() => {
        if (linkExpired(expiresAt)) refresh(false);
      }}
    />
  );
}

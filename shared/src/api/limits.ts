/**
 * Limits of the HTTP contract that the web app checks before sending, without zod (so its bundle stays small).
 */

/**
 * The longest text a bulletin may have: ~23 minutes of eSpeak speech at speed 1 (18.7 spoken characters a
 * second), inside the pipeline's 30-minute limit on audio, which bounds its memory (server/src/audio/
 * pipeline.ts). A 50,000-character text was 59 minutes of audio and took 3.4 GB to render (issue 13).
 */
export const BULLETIN_MAX_CHARS = 20_000;

/** Slower speech takes longer to air: at speed 0.5 half the text fits in the same time. */
export function maxBulletinChars(speed: number): number {
  return Math.floor(BULLETIN_MAX_CHARS * Math.min(1, speed));
}

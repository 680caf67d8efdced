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

/** A source has 1 to 8 stream URLs, in order of preference (issue 15; `play.stream.urls` carries as many). */
export const SOURCE_MAX_URLS = 8;
/** A relay bulletin airs its source for 1 minute to 12 hours. */
export const RELAY_MIN_DURATION_MS = 60_000;
export const RELAY_MAX_DURATION_MS = 12 * 3600_000;

/** A programme has 1 to 100 items (issue 15: Quảng Nam's commune programmes are 10–15 minutes of a few items). */
export const PROGRAMME_MAX_ITEMS = 100;
/** A pause inside a programme lasts 0.5 s to 10 minutes. */
export const PROGRAMME_PAUSE_MIN_MS = 500;
export const PROGRAMME_PAUSE_MAX_MS = 10 * 60_000;
/** Music under speech: how far the music is lowered while the speech plays, dB (default 15). */
export const MUSIC_DUCK_MIN_DB = 3;
export const MUSIC_DUCK_MAX_DB = 40;
export const MUSIC_DUCK_DEFAULT_DB = 15;
/** The music alone before and after the speech, ms (default 3 s each). */
export const MUSIC_LEAD_MAX_MS = 30_000;
export const MUSIC_LEAD_DEFAULT_MS = 3_000;

/**
 * An area's default speaking rate (issue 20, `PUT /api/v1/tts/voice`): 0.7–1.5 in steps of 0.05. Slower drags,
 * faster is hard to follow outdoors over a loudspeaker; a bulletin's own speed still goes 0.5–2.
 */
export const VOICE_SPEED_MIN = 0.7;
export const VOICE_SPEED_MAX = 1.5;

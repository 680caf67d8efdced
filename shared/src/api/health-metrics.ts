/** The box page's health history constants (issue 20), without zod: the web bundle imports them. */

/** Length of one history bucket: one row per box per 15 minutes (migration 26). */
export const HEALTH_BUCKET_MS = 15 * 60_000;
/** How long the history is kept, and so the longest span one request may ask for. */
export const HEALTH_KEEP_DAYS = 30;

/**
 * The numeric readings kept over time, from every heartbeat: CPU temperature (°C), mobile signal (%), free
 * disk (% of the card), audio cache (bytes), volume (0–100), clock offset from the server (ms), agent
 * uptime (s) and 1-minute load.
 */
export const HEALTH_METRICS = ['temp', 'signal', 'diskFree', 'cache', 'volume', 'clock', 'uptime', 'load'] as const;
export type HealthMetric = (typeof HEALTH_METRICS)[number];

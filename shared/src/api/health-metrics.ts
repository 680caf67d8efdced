/** The box page's health history constants (issue 20), without zod: the web bundle imports them. */

/** Length of one history bucket: one row per box per 15 minutes (migration 26). */
export const HEALTH_BUCKET_MS = 15 * 60_000;
/** How long the history is kept, and so the longest span one request may ask for. */
export const HEALTH_KEEP_DAYS = 30;
/**
 * Buckets older than this many days are merged into one per hour: 15-minute rows for 30 days were ~0.6 MB a box
 * (5.8 GB for 10,000 boxes, copied by every nightly backup); 2 days fine and 28 hourly are ~3.3× fewer rows.
 */
export const HEALTH_FINE_DAYS = 2;
/** The length of a bucket once merged. */
export const HEALTH_COARSE_MS = 60 * 60_000;

/**
 * The numeric readings kept over time, from every heartbeat: CPU temperature (°C), mobile signal (%), free
 * disk (% of the card), audio cache (bytes), volume (0–100), clock offset from the server (ms), agent
 * uptime (s) and 1-minute load.
 */
export const HEALTH_METRICS = ['temp', 'signal', 'diskFree', 'cache', 'volume', 'clock', 'uptime', 'load'] as const;
export type HealthMetric = (typeof HEALTH_METRICS)[number];

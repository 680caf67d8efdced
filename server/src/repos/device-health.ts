/**
 * A box's health readings over time (issue 20, the box page; migration 26): each fold of `heartbeat_log`
 * (presence.ts) adds its heartbeats to one row per box per 15 minutes — min, max, sum and count of each
 * numeric reading — in the fold's own transaction, merges the rows older than 2 days into one per hour, and
 * drops rows older than 30 days. One statement for
 * every box, like the fold itself (issue 8: 10,000 boxes heartbeating every 30 s), so the log is read once
 * more per minute, not once per heartbeat; the readings are columns of the log (taken at ingest), not
 * read back from each payload's JSON.
 */
import { HEALTH_BUCKET_MS, HEALTH_COARSE_MS, HEALTH_FINE_DAYS, HEALTH_KEEP_DAYS, HEALTH_METRICS, type HealthMetric, type HealthPoint, type Payload } from '@loaxa/shared';
import type { Db } from '../db/database.js';

/** Column prefix of each reading in device_health_history. */
const COLUMN: Record<HealthMetric, string> = {
  temp: 'temp',
  signal: 'signal',
  diskFree: 'disk_free',
  cache: 'cache',
  volume: 'volume',
  clock: 'clock',
  uptime: 'uptime',
  load: 'load',
};

/** Each reading's column in heartbeat_log (migrations 14 and 26). */
const SOURCE: Record<HealthMetric, string> = {
  temp: 'cpu_temp_c',
  signal: 'signal_pct',
  diskFree: 'disk_free_pct',
  cache: 'cache_bytes',
  volume: 'volume',
  clock: 'clock_offset_ms',
  uptime: 'uptime_s',
  load: 'load1',
};

/** The readings of a heartbeat kept over time that are not columns of heartbeat_log already; null: not sent. */
export interface HeartbeatReadings {
  cpuTempC: number | null;
  signalPct: number | null;
  /** Free space on the card, % of its size. */
  diskFreePct: number | null;
  clockOffsetMs: number | null;
  load1: number | null;
}
export const NO_READINGS: HeartbeatReadings = { cpuTempC: null, signalPct: null, diskFreePct: null, clockOffsetMs: null, load1: null };

/** What the history keeps of a heartbeat the server has checked (ingest calls it with the decoded payload). */
export function heartbeatReadings(p: Payload<'telemetry'>): HeartbeatReadings {
  const h = p.health;
  return {
    cpuTempC: h?.cpuTempC ?? null,
    signalPct: h?.network?.signalPct ?? null,
    diskFreePct: h?.diskFreeBytes !== undefined && h.diskTotalBytes ? (100 * h.diskFreeBytes) / h.diskTotalBytes : null,
    clockOffsetMs: p.clockOffsetMs ?? null,
    load1: h?.load1 ?? null,
  };
}

const KEEP_MS = HEALTH_KEEP_DAYS * 86_400_000;
const FINE_MS = HEALTH_FINE_DAYS * 86_400_000;
/** How far back the first merge after a start looks: older quarters (a server stopped for days) stay as they are until pruned. */
const FIRST_ROLL_MS = 86_400_000;

export class DeviceHealthHistory {
  private readonly foldStmt;
  private readonly pruneStmt;
  private readonly readStmt;
  private readonly newestStmt;
  private readonly oldestStmt;
  private readonly rollStmt;
  private readonly dropRolledStmt;
  /** Buckets before this instant (on the hour) are merged already; null: not known since the start. */
  private rolledUntil: number | null = null;

  constructor(db: Db) {
    const cols = HEALTH_METRICS.map((m) => COLUMN[m]);
    // Per bucket of the log: the aggregates; merged into a row a previous fold began (min of mins, sums added).
    this.foldStmt = db.prepare(
      `INSERT INTO device_health_history (device_id, bucket_at, samples, ${cols.map((c) => `${c}_min, ${c}_max, ${c}_sum, ${c}_n`).join(', ')})
       SELECT device_id, (at / ${HEALTH_BUCKET_MS}) * ${HEALTH_BUCKET_MS} AS b, COUNT(*),
         ${HEALTH_METRICS.map((m) => `MIN(${SOURCE[m]}), MAX(${SOURCE[m]}), SUM(${SOURCE[m]}), COUNT(${SOURCE[m]})`).join(', ')}
       FROM heartbeat_log
       WHERE true
       GROUP BY device_id, b
       ON CONFLICT (device_id, bucket_at) DO UPDATE SET samples = samples + excluded.samples, ${cols
         .map(
           (c) =>
             `${c}_min = MIN(COALESCE(${c}_min, excluded.${c}_min), COALESCE(excluded.${c}_min, ${c}_min)), ` +
             `${c}_max = MAX(COALESCE(${c}_max, excluded.${c}_max), COALESCE(excluded.${c}_max, ${c}_max)), ` +
             `${c}_sum = CASE WHEN excluded.${c}_n > 0 THEN COALESCE(${c}_sum, 0) + excluded.${c}_sum ELSE ${c}_sum END, ` +
             `${c}_n = ${c}_n + excluded.${c}_n`,
         )
         .join(', ')}`,
    );
    const merge = cols
      .map(
        (c) =>
          `${c}_min = MIN(COALESCE(${c}_min, excluded.${c}_min), COALESCE(excluded.${c}_min, ${c}_min)), ` +
          `${c}_max = MAX(COALESCE(${c}_max, excluded.${c}_max), COALESCE(excluded.${c}_max, ${c}_max)), ` +
          `${c}_sum = CASE WHEN excluded.${c}_n > 0 THEN COALESCE(${c}_sum, 0) + excluded.${c}_sum ELSE ${c}_sum END, ` +
          `${c}_n = ${c}_n + excluded.${c}_n`,
      )
      .join(', ');
    // The quarters of an hour after its first, merged into the hour's row (the first quarter's row, which stays
    // and is never a source, so nothing counts twice); a range of bucket_at, read through its index.
    this.rollStmt = db.prepare<[number, number]>(
      `INSERT INTO device_health_history (device_id, bucket_at, samples, ${cols.map((c) => `${c}_min, ${c}_max, ${c}_sum, ${c}_n`).join(', ')})
       SELECT device_id, (bucket_at / ${HEALTH_COARSE_MS}) * ${HEALTH_COARSE_MS} AS h, SUM(samples),
         ${cols.map((c) => `MIN(${c}_min), MAX(${c}_max), SUM(${c}_sum), SUM(${c}_n)`).join(', ')}
       FROM device_health_history
       WHERE bucket_at >= ? AND bucket_at < ? AND bucket_at % ${HEALTH_COARSE_MS} != 0
       GROUP BY device_id, h
       ON CONFLICT (device_id, bucket_at) DO UPDATE SET samples = samples + excluded.samples, ${merge}`,
    );
    this.dropRolledStmt = db.prepare<[number, number]>(`DELETE FROM device_health_history WHERE bucket_at >= ? AND bucket_at < ? AND bucket_at % ${HEALTH_COARSE_MS} != 0`);
    this.newestStmt = db.prepare<[], { at: number | null }>('SELECT MAX(at) AS at FROM heartbeat_log');
    this.oldestStmt = db.prepare<[], { at: number | null }>('SELECT MIN(bucket_at) AS at FROM device_health_history');
    // Older than the keep, counted back from the newest heartbeat folded (the ingest's clock, a test's fake one).
    this.pruneStmt = db.prepare(`DELETE FROM device_health_history WHERE bucket_at < (SELECT MAX(at) FROM heartbeat_log) - ${KEEP_MS}`);
    this.readStmt = db.prepare<[string, number, number], Record<string, number>>(
      `SELECT bucket_at, samples, ${cols.map((c) => `${c}_min, ${c}_max, ${c}_sum, ${c}_n`).join(', ')}
       FROM device_health_history WHERE device_id = ? AND bucket_at >= ? AND bucket_at < ? ORDER BY bucket_at`,
    );
  }

  /**
   * Adds every heartbeat in heartbeat_log to its box's bucket and prunes the expired buckets; the caller
   * runs it inside the fold's transaction, before the log is emptied.
   */
  foldFromLog(): void {
    this.foldStmt.run();
    this.roll();
    this.pruneStmt.run();
  }

  /** Merges the quarters older than HEALTH_FINE_DAYS (from the newest heartbeat folded) into hours, once each. */
  private roll(): void {
    const newest = this.newestStmt.get()?.at;
    if (newest === null || newest === undefined) return;
    const cutoff = Math.floor((newest - FINE_MS) / HEALTH_COARSE_MS) * HEALTH_COARSE_MS;
    if (this.rolledUntil === null) {
      const oldest = this.oldestStmt.get()?.at ?? cutoff;
      this.rolledUntil = Math.floor(Math.max(oldest, cutoff - FIRST_ROLL_MS) / HEALTH_COARSE_MS) * HEALTH_COARSE_MS;
    }
    if (cutoff <= this.rolledUntil) return;
    this.rollStmt.run(this.rolledUntil, cutoff);
    this.dropRolledStmt.run(this.rolledUntil, cutoff);
    this.rolledUntil = cutoff;
  }

  /** The buckets of one box starting in [from, to), oldest first. */
  read(deviceId: string, from: number, to: number): HealthPoint[] {
    const start = Math.floor(from / HEALTH_BUCKET_MS) * HEALTH_BUCKET_MS;
    return this.readStmt.all(deviceId, start, to).map((r) => {
      const readings: HealthPoint['readings'] = {};
      for (const m of HEALTH_METRICS) {
        const c = COLUMN[m];
        const n = r[`${c}_n`]!;
        if (n > 0) readings[m] = { min: r[`${c}_min`]!, avg: r[`${c}_sum`]! / n, max: r[`${c}_max`]! };
      }
      return { at: new Date(r.bucket_at!).toISOString(), samples: r.samples!, readings };
    });
  }
}

/**
 * Write-behind of what boxes say about themselves (issue 8: 10,000 boxes heartbeating every 30 s): the one
 * owner of the buffer, the timer and the fold. Statuses are merged per device in memory and heartbeats kept
 * in arrival order; a batch writes both in one transaction — on a short timer once `start`ed, at once when
 * `maxBatch` messages wait, and before reads of presence (DeviceRepository asks through `fresh`) — appending
 * each heartbeat to `heartbeat_log` (migration 14). The log is folded into the devices rows every
 * `foldEveryMs`, by reads that need the readings, and at `stop`. Until `start` (and after `stop`) every
 * message is written, and folded, as it arrives. See bench/README.md § heartbeat for why it is built so.
 *
 * Path of a heartbeat: DeviceIngest.onDeviceMessage → `recordTelemetry` → `flush` (heartbeat_log) → `foldLog`
 * (its device's row).
 */
import { performance } from 'node:perf_hooks';
import { withRelaxedSync, type Db } from '../db/database.js';
import { DeviceHealthHistory, NO_READINGS, type HeartbeatReadings } from './device-health.js';

export interface Telemetry {
  /** When it arrived (server clock). */
  at: number;
  volume: number;
  cacheBytes: number;
  uptimeS: number;
  agentVersion: string | null;
  /** The heartbeat's payload as JSON text, as it came (`health` reads it back). */
  healthJson: string;
  /**
   * Issue 20: the readings the health history keeps (device-health.ts `heartbeatReadings`), taken from the
   * checked payload at ingest so that the fold aggregates columns instead of parsing 10,000 payloads again.
   */
  readings?: HeartbeatReadings;
}

/**
 * Statuses one device sent since the last write, merged so that one UPDATE has the effect of applying each
 * in arrival order: the latest status wins, `lastSeen` is the latest instant, the agent version is the
 * latest one given.
 */
interface PendingStatus {
  id: string;
  online: number;
  statusAt: number;
  lastSeen: number;
  agentVersion: string | null;
  /** When the status that gave `agentVersion` arrived. */
  versionAt: number | null;
}

/** How often heartbeats are folded into the devices table by default (see `heartbeat_log`, migration 14). */
export const FOLD_EVERY_MS = 60_000;

/** Who is told about batches: the ingest's metrics and log. */
export interface PresenceObserver {
  /** A batch was committed: how many messages, and how long its transaction took. */
  written(messages: number, ms: number): void;
  /** A batch (or its fold) failed on the timer or in `flushNow`; it stays in memory (or the log) and is tried again. */
  failed(err: unknown, pending: number): void;
}

export class PresenceWriter {
  private readonly statusStmt;
  private readonly appendStmt;
  private readonly foldStmt;
  private readonly clearLogStmt;
  private readonly logCountStmt;
  /** The 15-minute health history each fold adds to (issue 20, the box page; migration 26). */
  readonly history: DeviceHealthHistory;
  /** Statuses not written yet, by device. */
  private readonly pending = new Map<string, PendingStatus>();
  /** Heartbeats not appended to heartbeat_log yet, in arrival order. */
  private journal: Array<Omit<Telemetry, 'readings'> & HeartbeatReadings & { id: string }> = [];
  /**
   * Devices with heartbeats not folded into their rows yet (in heartbeat_log or the journal). Only ids: the
   * readings stay in the log, since holding 10,000 boxes' payloads for a minute made them outlive the young
   * generation and cost more in garbage collection than the fold saved.
   */
  private readonly unfolded = new Set<string>();
  /** When the oldest heartbeat not folded yet arrived (on `now`); a fold is due `foldEveryMs` after. */
  private unfoldedSince = 0;
  /** The clock the fold interval is measured on: monotonic performance.now unless `start` is given another. */
  private now: () => number = () => performance.now();
  /** A batch is written at once when this many messages wait; 0: not started, every message written at once. */
  private maxPending = 0;
  /** How long a batch may wait once started; null when not started (no timer). */
  private flushMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly observers: PresenceObserver[] = [];

  constructor(
    private readonly db: Db,
    /** How often appended heartbeats are folded into the devices table; reads that need them fold at once. */
    private readonly foldEveryMs = FOLD_EVERY_MS,
  ) {
    // Statuses and heartbeats always carry the server's own clock, so MAX equals "the latest". A status
    // without a version leaves the one known.
    this.statusStmt = db.prepare(
      `UPDATE devices SET online = @online, status_at = @statusAt, last_seen_at = MAX(COALESCE(last_seen_at, 0), @lastSeen),
         agent_version = COALESCE(@agentVersion, agent_version), version_at = CASE WHEN @agentVersion IS NULL THEN version_at ELSE @versionAt END
       WHERE id = @id`,
    );
    this.clearLogStmt = db.prepare('DELETE FROM heartbeat_log');
    this.history = new DeviceHealthHistory(db);
    this.logCountStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM heartbeat_log');
    this.appendStmt = db.prepare(
      `INSERT INTO heartbeat_log (device_id, at, volume, cache_bytes, uptime_s, agent_version, health_json, cpu_temp_c, signal_pct, disk_free_pct, clock_offset_ms, load1)
       VALUES (@id, @at, @volume, @cacheBytes, @uptimeS, @agentVersion, @healthJson, @cpuTempC, @signalPct, @diskFreePct, @clockOffsetMs, @load1)`,
    );
    // Each device's heartbeats in the log, counted, and its latest one's arrival and readings (SQLite gives
    // the bare columns of the row holding the MAX when the query has only one MIN or MAX; a reading missing
    // from a damaged row leaves the one known). The agent version is the latest one a heartbeat gave, unless
    // a status stated one after it.
    this.foldStmt = db.prepare(
      `UPDATE devices SET heartbeats = devices.heartbeats + l.beats, last_seen_at = MAX(COALESCE(devices.last_seen_at, 0), l.at),
         volume = COALESCE(l.volume, devices.volume), cache_bytes = COALESCE(l.cache_bytes, devices.cache_bytes),
         uptime_s = COALESCE(l.uptime_s, devices.uptime_s), health_json = COALESCE(l.h, devices.health_json),
         agent_version = CASE WHEN v.agent_version IS NOT NULL AND v.at >= COALESCE(devices.version_at, 0) THEN v.agent_version ELSE devices.agent_version END,
         version_at = CASE WHEN v.agent_version IS NOT NULL AND v.at >= COALESCE(devices.version_at, 0) THEN v.at ELSE devices.version_at END
       FROM (SELECT device_id, MAX(seq), COUNT(*) AS beats, at, volume, cache_bytes, uptime_s,
               CASE WHEN json_valid(health_json) THEN health_json END AS h FROM heartbeat_log GROUP BY device_id) AS l
       LEFT JOIN (SELECT device_id, MAX(seq), at, agent_version FROM heartbeat_log WHERE agent_version IS NOT NULL GROUP BY device_id) AS v
         ON v.device_id = l.device_id
       WHERE devices.id = l.device_id`,
    );
  }

  /** Tells `observer` of every batch written, from now on (whoever triggered it: the timer, a full batch, a read). */
  observe(observer: PresenceObserver): void {
    this.observers.push(observer);
  }

  /**
   * Turns write-behind on: a batch is written at most `flushMs` after its first message, or at once when
   * `maxBatch` messages wait. `now`, when given (a test's fake clock), measures the fold interval from then on.
   */
  start(opts: { flushMs: number; maxBatch: number; now?: () => number }): void {
    this.maxPending = Math.max(1, opts.maxBatch);
    this.flushMs = opts.flushMs;
    if (opts.now) {
      this.now = opts.now;
      // Before start each heartbeat is folded as it comes; one a failed fold left behind starts its interval
      // again on the new clock (the old clock's instants do not compare with it).
      if (this.unfolded.size > 0) this.unfoldedSince = this.now();
    }
  }

  /** Writes and folds everything waiting, and turns write-behind off again (shutdown). */
  stop(): void {
    this.flushMs = null;
    this.flushNow();
    this.flush(true);
    this.maxPending = 0;
  }

  /** Statuses and heartbeats waiting in memory, not yet in the database. */
  pendingCount(): number {
    return this.pending.size + this.journal.length;
  }

  setStatus(id: string, online: boolean, at: number, agentVersion: string | null): void {
    this.mergeStatus({ id, online: online ? 1 : 0, statusAt: at, lastSeen: at, agentVersion, versionAt: agentVersion === null ? null : at });
    this.written();
  }

  /** One heartbeat: its readings will replace the previous ones and the device's heartbeat count grows by one. */
  recordTelemetry(id: string, t: Telemetry): void {
    const { readings, ...rest } = t;
    this.journal.push({ id, ...rest, ...(readings ?? NO_READINGS) });
    if (this.unfolded.size === 0) this.unfoldedSince = this.now();
    this.unfolded.add(id);
    this.written();
  }

  /**
   * Writes every pending status and appends every pending heartbeat, in one transaction; then folds the log
   * into the devices rows, in a transaction of its own, when `fold` says so or a fold is due. Answers how
   * many messages were written. Throws what the database threw; nothing is lost then.
   */
  flush(fold = false): number {
    const n = this.pending.size + this.journal.length;
    if (n > 0) {
      const statuses = [...this.pending.values()];
      const beats = this.journal;
      this.pending.clear();
      this.journal = [];
      const t0 = performance.now();
      try {
        // Not synced at commit (issue 13, finding 12): heartbeats and presence may stay batched.
        withRelaxedSync(this.db, () =>
          this.db.transaction(() => {
            for (const r of statuses) this.statusStmt.run(r);
            for (const b of beats) this.appendStmt.run(b);
          })(),
        );
      } catch (err) {
        // Not lost: put back, for the next flush to write.
        for (const r of statuses) this.mergeStatus(r, true);
        this.journal = beats.concat(this.journal);
        throw err;
      }
      const ms = performance.now() - t0;
      for (const o of this.observers) o.written(n, ms);
    }
    fold ||= this.maxPending === 0 || this.now() - this.unfoldedSince >= this.foldEveryMs;
    // A fold that fails throws after the heartbeats are safe in the log; the next one folds them.
    if (fold && this.unfolded.size > 0) {
      this.foldLog();
      this.unfolded.clear();
    }
    return n;
  }

  /** `flush` now, on the timer's behalf: a failure is told to the observers and tried again on the timer. */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.flush();
    } catch (err) {
      // Kept in memory and tried again: a busy database must not cost heartbeats.
      for (const o of this.observers) o.failed(err, this.pendingCount());
      this.schedule();
    }
  }

  /**
   * Makes the database current before a read: for one device, only when it has heartbeats or a status
   * waiting (a fold takes every device's, in one statement); for all, when anything waits. Not inside a
   * caller's transaction: a rollback would take back what was written while memory had already let it go.
   */
  fresh(id?: string): void {
    if (this.db.inTransaction) return;
    if (id === undefined ? this.pending.size + this.journal.length + this.unfolded.size > 0 : this.unfolded.has(id)) this.flush(true);
    // Only a status waits: no fold, or a storm of first reports after a restart would fold once per box.
    else if (id !== undefined && this.pending.has(id)) this.flush();
  }

  /** The presence a status waiting in memory gives a device (1 online, 0 offline), or undefined when none waits. */
  pendingOnline(id: string): number | undefined {
    return this.pending.get(id)?.online;
  }

  /** Whether a status of this device waits in memory. */
  hasPendingStatus(id: string): boolean {
    return this.pending.has(id);
  }

  /** Forgets what waits for a device whose row is being removed (a registration taken back). */
  dropStatus(id: string): void {
    this.pending.delete(id);
  }

  /** Forgets the heartbeats waiting for devices removed (they have never connected; see DeviceRepository.deleteUnregistered). */
  dropHeartbeats(ids: ReadonlySet<string>): void {
    this.journal = this.journal.filter((b) => !ids.has(b.id));
  }

  /**
   * Heartbeats a crash left in heartbeat_log, folded into the devices rows (at start-up, before anything
   * reads them). Answers how many there were.
   */
  recoverLog(): number {
    const left = this.logCountStmt.get()!.n;
    if (left > 0) this.foldLog();
    return left;
  }

  /** Folds every heartbeat in the log into the devices rows and empties the log, in one transaction. */
  private foldLog(): void {
    // Heartbeats only, moved from the log into the rows in one commit: a power cut rolls back both halves.
    withRelaxedSync(this.db, () =>
      this.db.transaction(() => {
        this.foldStmt.run();
        // Issue 20: the readings over time, from the same log, before it is emptied (same commit, same rollback).
        this.history.foldFromLog();
        this.clearLogStmt.run();
      })(),
    );
  }

  private mergeStatus(u: PendingStatus, older = false): void {
    const cur = this.pending.get(u.id);
    if (!cur) {
      this.pending.set(u.id, { ...u });
    } else if (older) {
      // A failed batch put back under newer values: the newer ones win.
      cur.lastSeen = Math.max(cur.lastSeen, u.lastSeen);
      if (cur.agentVersion === null) {
        cur.agentVersion = u.agentVersion;
        cur.versionAt = u.versionAt;
      }
    } else {
      cur.online = u.online;
      cur.statusAt = u.statusAt;
      cur.lastSeen = Math.max(cur.lastSeen, u.lastSeen);
      if (u.agentVersion !== null) {
        cur.agentVersion = u.agentVersion;
        cur.versionAt = u.versionAt;
      }
    }
  }

  /** After each message: a full batch is written at once; otherwise the timer makes sure one follows. */
  private written(): void {
    if (this.pending.size + this.journal.length >= this.maxPending) this.flush();
    this.schedule();
  }

  private schedule(): void {
    if (this.flushMs === null || this.timer || this.pendingCount() === 0) return;
    this.timer = setTimeout(() => this.flushNow(), this.flushMs);
    this.timer.unref();
  }
}

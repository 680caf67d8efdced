import { performance } from 'node:perf_hooks';
import { withRelaxedSync, type Db } from '../db/database.js';

export interface Device {
  id: string;
  name: string;
  areaCode: string;
  lat: number | null;
  lon: number | null;
  createdAt: number;
  revokedAt: number | null;
  online: boolean;
  statusAt: number | null;
  lastSeenAt: number | null;
  agentVersion: string | null;
  volume: number | null;
  cacheBytes: number | null;
  uptimeS: number | null;
  /** The last heartbeat as sent (health readings), or null before the first one. */
  health: Record<string, unknown> | null;
  /** Heartbeats stored since the device was registered. */
  heartbeats: number;
}

interface Row {
  id: string;
  name: string;
  area_code: string;
  lat: number | null;
  lon: number | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  online: number;
  status_at: number | null;
  last_seen_at: number | null;
  agent_version: string | null;
  volume: number | null;
  cache_bytes: number | null;
  uptime_s: number | null;
  health_json: string | null;
  heartbeats: number;
}

const toDevice = (r: Row): Device => ({
  id: r.id,
  name: r.name,
  areaCode: r.area_code,
  lat: r.lat,
  lon: r.lon,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  online: r.online === 1,
  statusAt: r.status_at,
  lastSeenAt: r.last_seen_at,
  agentVersion: r.agent_version,
  volume: r.volume,
  cacheBytes: r.cache_bytes,
  uptimeS: r.uptime_s,
  health: r.health_json ? (JSON.parse(r.health_json) as Record<string, unknown>) : null,
  heartbeats: r.heartbeats,
});

export interface Telemetry {
  /** When it arrived (server clock). */
  at: number;
  volume: number;
  cacheBytes: number;
  uptimeS: number;
  agentVersion: string | null;
  /** The heartbeat's payload as JSON text, as it came (`health` reads it back). */
  healthJson: string;
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
const FOLD_EVERY_MS = 60_000;

export interface DeviceFilter {
  /** Root of an area subtree; devices in it or below. */
  areaCodes?: string[];
  state?: 'online' | 'offline' | 'faulty';
  afterId?: string;
  limit: number;
}

export class DeviceRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly secretStmt;
  private readonly statusStmt;
  private readonly appendStmt;
  private readonly foldStmt;
  private readonly clearLogStmt;
  private readonly onlineStmt;
  private readonly onlineAmongStmt;
  private readonly authStmt;
  private readonly areaStmt;
  /** Statuses not written yet, by device (write-behind, see `writeBehind`). */
  private readonly pending = new Map<string, PendingStatus>();
  /** Heartbeats not appended to heartbeat_log yet, in arrival order. */
  private journal: Array<Telemetry & { id: string }> = [];
  /**
   * Devices with heartbeats not folded into their rows yet (in heartbeat_log or the journal). Only ids: the
   * readings stay in the log, since holding 10,000 boxes' payloads for a minute made them outlive the young
   * generation and cost more in garbage collection than the fold saved.
   */
  private readonly unfolded = new Set<string>();
  /** When the oldest heartbeat not folded yet arrived (performance.now()); a fold is due `foldEveryMs` after. */
  private unfoldedSince = 0;
  private maxPending = 0;
  /** Told after each write of pending presence: messages written, and how long the transaction took. */
  onFlushed: ((messages: number, ms: number) => void) | null = null;
  /**
   * Told of devices just registered, once their rows are committed (not when registered inside a
   * caller's transaction, which may still roll back): the credential cache takes them.
   */
  onInserted: ((rows: ReadonlyArray<{ id: string; secretHash: string; revoked: boolean; areaCode: string }>) => void) | null = null;

  constructor(
    private readonly db: Db,
    /** How often appended heartbeats are folded into the devices table; reads that need them fold at once. */
    private readonly foldEveryMs = FOLD_EVERY_MS,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, name, area_code, lat, lon, secret_hash, created_at)
       VALUES (@id, @name, @areaCode, @lat, @lon, @secretHash, @createdAt)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM devices WHERE id = ?');
    this.secretStmt = db.prepare<[string], { secret_hash: string; revoked_at: number | null }>(
      'SELECT secret_hash, revoked_at FROM devices WHERE id = ?',
    );
    // Statuses and heartbeats always carry the server's own clock, so MAX equals "the latest". A status
    // without a version leaves the one known.
    this.statusStmt = db.prepare(
      `UPDATE devices SET online = @online, status_at = @statusAt, last_seen_at = MAX(COALESCE(last_seen_at, 0), @lastSeen),
         agent_version = COALESCE(@agentVersion, agent_version), version_at = CASE WHEN @agentVersion IS NULL THEN version_at ELSE @versionAt END
       WHERE id = @id`,
    );
    this.clearLogStmt = db.prepare('DELETE FROM heartbeat_log');
    this.appendStmt = db.prepare(
      'INSERT INTO heartbeat_log (device_id, at, volume, cache_bytes, uptime_s, agent_version, health_json) VALUES (@id, @at, @volume, @cacheBytes, @uptimeS, @agentVersion, @healthJson)',
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
    this.onlineStmt = db.prepare<[string], { online: number }>('SELECT online FROM devices WHERE id = ?');
    this.onlineAmongStmt = db.prepare<[string], { id: string }>('SELECT id FROM devices WHERE online = 1 AND id IN (SELECT value FROM json_each(?))');
    this.authStmt = db.prepare<[string], { secret_hash: string; revoked_at: number | null; area_code: string }>(
      'SELECT secret_hash, revoked_at, area_code FROM devices WHERE id = ?',
    );
    this.areaStmt = db.prepare<[string], { area_code: string }>('SELECT area_code FROM devices WHERE id = ?');
  }

  /**
   * Write-behind for heartbeats and statuses (issue 8: 10,000 boxes heartbeating every 30 s). Statuses are
   * merged per device in memory and written by `flushPending()`; heartbeats are appended to heartbeat_log by
   * the same transaction, and folded into the devices rows every `foldEveryMs`, by reads that need them, and
   * at shutdown. `flushPending()` is called on a short timer by ingest, at once when `maxPending` messages
   * wait, and before reads of presence, so readers of this repository never see a stale device. Off (every
   * write immediate and folded) until turned on; `writeThrough()` writes and folds what waits and turns it
   * off again, for shutdown.
   */
  writeBehind(maxPending: number): void {
    this.maxPending = Math.max(1, maxPending);
  }

  writeThrough(): void {
    this.flushPending(true);
    this.maxPending = 0;
  }

  /** Statuses and heartbeats waiting in memory, not yet in the database. */
  pendingCount(): number {
    return this.pending.size + this.journal.length;
  }

  /**
   * Writes every pending status and appends every pending heartbeat, in one transaction; then folds the log
   * into the devices rows, in a transaction of its own, when `fold` says so or a fold is due. Answers how
   * many messages were written.
   */
  flushPending(fold = false): number {
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
      this.onFlushed?.(n, performance.now() - t0);
    }
    fold ||= this.maxPending === 0 || performance.now() - this.unfoldedSince >= this.foldEveryMs;
    // A fold that fails throws after the heartbeats are safe in the log; the next one folds them.
    if (fold && this.unfolded.size > 0) {
      this.foldLog();
      this.unfolded.clear();
    }
    return n;
  }

  /**
   * Heartbeats a crash left in heartbeat_log, folded into the devices rows (at start-up, before anything
   * reads them). Answers how many there were.
   */
  recoverLog(): number {
    const left = (this.db.prepare('SELECT COUNT(*) AS n FROM heartbeat_log').get() as { n: number }).n;
    if (left > 0) this.foldLog();
    return left;
  }

  /** Folds every heartbeat in the log into the devices rows and empties the log, in one transaction. */
  private foldLog(): void {
    // Heartbeats only, moved from the log into the rows in one commit: a power cut rolls back both halves.
    withRelaxedSync(this.db, () =>
      this.db.transaction(() => {
        this.foldStmt.run();
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

  private written(): void {
    if (this.pending.size + this.journal.length >= this.maxPending) this.flushPending();
  }

  /**
   * Reads of presence and readings first write what is pending and fold the heartbeats (for one device:
   * only when it has some waiting; a fold takes them all, in one statement). Not inside a caller's
   * transaction: a rollback would take back what was written while memory had already let it go.
   */
  private fresh(id?: string): void {
    if (this.db.inTransaction) return;
    if (id === undefined ? this.pending.size + this.journal.length + this.unfolded.size > 0 : this.unfolded.has(id)) this.flushPending(true);
    // Only a status waits: no fold, or a storm of first reports after a restart would fold once per box.
    else if (id !== undefined && this.pending.has(id)) this.flushPending();
  }

  insert(d: { id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number }): void {
    this.insertStmt.run(d);
    this.inserted([d]);
  }

  /** Many devices in one transaction: registering 10,000 boxes takes a moment, not minutes. */
  insertMany(rows: Array<{ id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.insertStmt.run(r);
    })();
    this.inserted(rows);
  }

  /**
   * Removes devices registered a moment ago that nothing refers to yet: a registration whose broker step
   * failed is taken back whole, so no box exists whose secret nobody was shown.
   */
  deleteUnregistered(ids: readonly string[]): void {
    const stmt = this.db.prepare('DELETE FROM devices WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) {
        this.pending.delete(id);
        stmt.run(id);
      }
    })();
    // Boxes whose registration failed have never connected; a heartbeat under the same id would be refused.
    const gone = new Set(ids);
    this.journal = this.journal.filter((b) => !gone.has(b.id));
  }

  private inserted(rows: ReadonlyArray<{ id: string; areaCode: string; secretHash: string }>): void {
    if (!this.onInserted || this.db.inTransaction) return;
    this.onInserted(rows.map((r) => ({ id: r.id, secretHash: r.secretHash, revoked: false, areaCode: r.areaCode })));
  }

  /** Credentials and area of up to `limit` devices, to fill the credential cache at start. */
  allAuthInfo(limit: number): Array<{ id: string; secretHash: string; revoked: boolean; areaCode: string }> {
    return this.db
      .prepare<[number], { id: string; secret_hash: string; revoked_at: number | null; area_code: string }>('SELECT id, secret_hash, revoked_at, area_code FROM devices LIMIT ?')
      .all(limit)
      .map((r) => ({ id: r.id, secretHash: r.secret_hash, revoked: r.revoked_at !== null, areaCode: r.area_code }));
  }

  get(id: string): Device | null {
    this.fresh(id);
    const r = this.getStmt.get(id);
    return r ? toDevice(r) : null;
  }

  credentials(id: string): { secretHash: string; revoked: boolean } | null {
    const r = this.secretStmt.get(id);
    return r ? { secretHash: r.secret_hash, revoked: r.revoked_at !== null } : null;
  }

  /** Credentials and area in one read: what the broker needs on every connect. */
  authInfo(id: string): { secretHash: string; revoked: boolean; areaCode: string } | null {
    const r = this.authStmt.get(id);
    return r ? { secretHash: r.secret_hash, revoked: r.revoked_at !== null, areaCode: r.area_code } : null;
  }

  /** A device's area (null if unknown), without reading or writing anything else: who may see its events. */
  areaOf(id: string): string | null {
    return this.areaStmt.get(id)?.area_code ?? null;
  }

  /** Presence alone, pending statuses included without writing them (a disconnect storm stays batched). */
  isOnline(id: string): boolean {
    const p = this.pending.get(id);
    if (p) return p.online === 1;
    return this.onlineStmt.get(id)?.online === 1;
  }

  /** Which of these devices are online, in one query (pending statuses included, as in `isOnline`). */
  onlineAmong(ids: Iterable<string>): Set<string> {
    const list = [...new Set(ids)];
    if (list.length === 0) return new Set();
    const online = new Set(this.onlineAmongStmt.all(JSON.stringify(list)).map((r) => r.id));
    for (const id of list) {
      const p = this.pending.get(id);
      if (p?.online === 1) online.add(id);
      else if (p?.online === 0) online.delete(id);
    }
    return online;
  }

  setStatus(id: string, online: boolean, at: number, agentVersion: string | null): void {
    this.mergeStatus({ id, online: online ? 1 : 0, statusAt: at, lastSeen: at, agentVersion, versionAt: agentVersion === null ? null : at });
    this.written();
  }

  /** One heartbeat: its readings will replace the previous ones and the device's heartbeat count grows by one. */
  recordTelemetry(id: string, t: Telemetry): void {
    this.journal.push({ id, ...t });
    if (this.unfolded.size === 0) this.unfoldedSince = performance.now();
    this.unfolded.add(id);
    this.written();
  }

  /**
   * Heartbeats stored for every device, summed (the benchmarks' "stored" count): those folded into the
   * devices rows and those in the log, after writing what waits in memory.
   */
  heartbeatTotal(): number {
    this.flushPending();
    return (this.db.prepare('SELECT (SELECT COALESCE(SUM(heartbeats), 0) FROM devices) + (SELECT COUNT(*) FROM heartbeat_log) AS n').get() as { n: number }).n;
  }

  /** Marks every device offline; the embedded broker forgets sessions on restart, so presence restarts from nothing. */
  markAllOffline(): void {
    this.flushPending();
    this.db.prepare('UPDATE devices SET online = 0').run();
  }

  list(filter: DeviceFilter): { items: Device[]; total: number } {
    this.fresh();
    const where: string[] = ['revoked_at IS NULL'];
    const params: Record<string, unknown> = {};
    if (filter.areaCodes) {
      if (filter.areaCodes.length === 0) return { items: [], total: 0 };
      where.push(`area_code IN (SELECT value FROM json_each(@areas))`);
      params.areas = JSON.stringify(filter.areaCodes);
    }
    if (filter.state === 'faulty') {
      where.push('id IN (SELECT device_id FROM device_faults WHERE ended_at IS NULL)');
    } else if (filter.state) {
      where.push('online = @online');
      params.online = filter.state === 'online' ? 1 : 0;
    }
    const base = `FROM devices WHERE ${where.join(' AND ')}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${base}`).get(params) as { n: number }).n;
    const pageWhere = filter.afterId ? ' AND id > @afterId' : '';
    const rows = this.db
      .prepare(`SELECT * ${base}${pageWhere} ORDER BY id LIMIT @limit`)
      .all({ ...params, ...(filter.afterId ? { afterId: filter.afterId } : {}), limit: filter.limit }) as Row[];
    return { items: rows.map(toDevice), total };
  }

  /** Ids of active devices in any of the given areas. */
  idsInAreas(areaCodes: string[]): string[] {
    if (areaCodes.length === 0) return [];
    return (
      this.db
        .prepare(`SELECT id FROM devices WHERE revoked_at IS NULL AND area_code IN (SELECT value FROM json_each(?)) ORDER BY id`)
        .all(JSON.stringify(areaCodes)) as { id: string }[]
    ).map((r) => r.id);
  }

  /** Every active device in these areas with what coverage needs (one query, no pagination). */
  coverageRows(areaCodes: string[]): Array<{ id: string; areaCode: string; online: boolean; lastSeenAt: number | null; playing: boolean; lat: number | null; lon: number | null }> {
    if (areaCodes.length === 0) return [];
    this.fresh();
    const rows = this.db
      .prepare(
        `SELECT id, area_code, online, last_seen_at, lat, lon, json_extract(health_json, '$.playing') IS NOT NULL AS playing
         FROM devices WHERE revoked_at IS NULL AND area_code IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(areaCodes)) as Array<{ id: string; area_code: string; online: number; last_seen_at: number | null; playing: number; lat: number | null; lon: number | null }>;
    return rows.map((r) => ({ id: r.id, areaCode: r.area_code, online: r.online === 1, lastSeenAt: r.last_seen_at, playing: r.online === 1 && r.playing === 1, lat: r.lat, lon: r.lon }));
  }

  /** Revokes a device's credentials for good (a stolen or retired box). */
  revoke(id: string, now = Date.now()): boolean {
    // A status still pending must not mark a revoked box online again after this.
    if (this.pending.has(id)) this.flushPending();
    return this.db.prepare('UPDATE devices SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }
}

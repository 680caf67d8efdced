import { performance } from 'node:perf_hooks';
import { telemetryPayloadSchema } from '@loaxa/shared';
import type { Db } from '../db/database.js';

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
  at: number;
  volume: number;
  cacheBytes: number;
  uptimeS: number;
  agentVersion: string | null;
  /** The heartbeat's payload as sent: what the log keeps and `health` reads back. */
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
}

/**
 * A device's heartbeats not yet folded into its devices row (they are in heartbeat_log, or about to be):
 * the latest readings, the latest agent version given, and how many.
 */
interface Unfolded {
  id: string;
  lastSeen: number;
  agentVersion: string | null;
  volume: number | null;
  cacheBytes: number | null;
  uptimeS: number | null;
  healthJson: string | null;
  beats: number;
}

/** How often heartbeats are folded into the devices table by default (see `heartbeat_log`, migration 14). */
export const FOLD_EVERY_MS = 60_000;

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
  private journal: Array<{ id: string; at: number; healthJson: string }> = [];
  /** Heartbeats not folded into the devices table yet, merged by device. */
  private readonly unfolded = new Map<string, Unfolded>();
  private foldedAt = performance.now();
  private maxPending = 0;
  /** Told after each write of pending presence: devices written, and how long the transaction took. */
  onFlushed: ((devices: number, ms: number) => void) | null = null;
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
    // Status and telemetry always carry the server's own clock, so MAX equals "the latest"; a null leaves the
    // column as it is (no version given, a heartbeat without readings that could be read back).
    this.statusStmt = db.prepare(
      `UPDATE devices SET online = @online, status_at = @statusAt, last_seen_at = MAX(COALESCE(last_seen_at, 0), @lastSeen),
         agent_version = COALESCE(@agentVersion, agent_version) WHERE id = @id`,
    );
    this.clearLogStmt = db.prepare('DELETE FROM heartbeat_log');
    this.appendStmt = db.prepare('INSERT INTO heartbeat_log (device_id, at, health_json) VALUES (?, ?, ?)');
    this.foldStmt = db.prepare(
      `UPDATE devices SET last_seen_at = MAX(COALESCE(last_seen_at, 0), @lastSeen), agent_version = COALESCE(@agentVersion, agent_version),
         volume = COALESCE(@volume, volume), cache_bytes = COALESCE(@cacheBytes, cache_bytes), uptime_s = COALESCE(@uptimeS, uptime_s),
         health_json = COALESCE(@healthJson, health_json), heartbeats = heartbeats + @beats WHERE id = @id`,
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
   * Writes every pending status and appends every pending heartbeat, in one transaction; folds the heartbeats
   * into the devices rows too when `fold` says so or a fold is due. Answers how many messages were written.
   */
  flushPending(fold = false): number {
    const n = this.pending.size + this.journal.length;
    fold ||= this.maxPending === 0 || (this.unfolded.size > 0 && performance.now() - this.foldedAt >= this.foldEveryMs);
    if (n === 0 && !(fold && this.unfolded.size > 0)) return 0;
    const statuses = [...this.pending.values()];
    const beats = this.journal;
    this.pending.clear();
    this.journal = [];
    const t0 = performance.now();
    try {
      this.db.transaction(() => {
        for (const r of statuses) this.statusStmt.run(r);
        if (fold) {
          // Folding writes every unfolded heartbeat's count and readings (the pending ones included), so the
          // log is emptied rather than appended to.
          for (const u of this.unfolded.values()) this.foldStmt.run(u);
          this.clearLogStmt.run();
        } else {
          for (const b of beats) this.appendStmt.run(b.id, b.at, b.healthJson);
        }
      })();
    } catch (err) {
      // Not lost: put back, for the next flush to write (the unfolded readings were never cleared).
      for (const r of statuses) this.mergeStatus(r, true);
      this.journal = beats.concat(this.journal);
      throw err;
    }
    if (fold) {
      this.unfolded.clear();
      this.foldedAt = performance.now();
    }
    if (n > 0) this.onFlushed?.(n, performance.now() - t0);
    return n;
  }

  /**
   * Heartbeats a crash left in heartbeat_log, folded into the devices rows (at start-up, before anything
   * reads them). Answers how many there were.
   */
  recoverLog(): number {
    const rows = this.db
      .prepare<[], { device_id: string; at: number; health_json: string; status_at: number | null }>(
        'SELECT l.device_id, l.at, l.health_json, d.status_at FROM heartbeat_log l LEFT JOIN devices d ON d.id = l.device_id ORDER BY l.seq',
      )
      .all();
    if (rows.length === 0) return 0;
    for (const r of rows) {
      let p: ReturnType<typeof telemetryPayloadSchema.safeParse> | null = null;
      try {
        p = telemetryPayloadSchema.safeParse(JSON.parse(r.health_json));
      } catch {
        // Not JSON (a damaged file): the heartbeat still counts, its readings cannot be used.
      }
      const ok = p?.success ? p.data : null;
      // A status written after this heartbeat already set the version the box runs now.
      const version = ok && r.at >= (r.status_at ?? 0) ? (ok.agentVersion ?? null) : null;
      this.mergeBeat(r.device_id, { lastSeen: r.at, agentVersion: version, volume: ok?.volume ?? null, cacheBytes: ok?.cacheBytes ?? null, uptimeS: ok?.uptimeS ?? null, healthJson: ok ? r.health_json : null, beats: 1 });
    }
    this.flushPending(true);
    return rows.length;
  }

  private mergeStatus(u: PendingStatus, older = false): void {
    const cur = this.pending.get(u.id);
    if (!cur) {
      this.pending.set(u.id, { ...u });
    } else if (older) {
      // A failed batch put back under newer values: the newer ones win.
      cur.lastSeen = Math.max(cur.lastSeen, u.lastSeen);
      cur.agentVersion ??= u.agentVersion;
    } else {
      cur.online = u.online;
      cur.statusAt = u.statusAt;
      cur.lastSeen = Math.max(cur.lastSeen, u.lastSeen);
      if (u.agentVersion !== null) cur.agentVersion = u.agentVersion;
    }
  }

  private mergeBeat(id: string, u: Omit<Unfolded, 'id'>): void {
    const cur = this.unfolded.get(id);
    if (!cur) {
      this.unfolded.set(id, { id, ...u });
      return;
    }
    cur.lastSeen = Math.max(cur.lastSeen, u.lastSeen);
    if (u.agentVersion !== null) cur.agentVersion = u.agentVersion;
    if (u.volume !== null) cur.volume = u.volume;
    if (u.cacheBytes !== null) cur.cacheBytes = u.cacheBytes;
    if (u.uptimeS !== null) cur.uptimeS = u.uptimeS;
    if (u.healthJson !== null) cur.healthJson = u.healthJson;
    cur.beats += u.beats;
  }

  private written(): void {
    if (this.pending.size + this.journal.length >= this.maxPending) this.flushPending();
  }

  /**
   * Reads that filter or aggregate on presence in SQL first write what is pending and fold the heartbeats
   * (all of them, or when `id` is given, only if that device has some waiting).
   */
  private fresh(id?: string): void {
    const waiting = id === undefined ? this.pending.size + this.journal.length + this.unfolded.size > 0 : this.pending.has(id) || this.unfolded.has(id);
    if (waiting) this.flushPending(true);
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
        this.unfolded.delete(id);
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

  /** One device as it stands, statuses and heartbeats still in memory included (without writing them). */
  get(id: string): Device | null {
    const r = this.getStmt.get(id);
    if (!r) return null;
    const d = toDevice(r);
    // In the order they would be written: statuses, then the fold.
    const s = this.pending.get(id);
    if (s) {
      d.online = s.online === 1;
      d.statusAt = s.statusAt;
      d.lastSeenAt = Math.max(d.lastSeenAt ?? 0, s.lastSeen);
      d.agentVersion = s.agentVersion ?? d.agentVersion;
    }
    const u = this.unfolded.get(id);
    if (u) {
      d.lastSeenAt = Math.max(d.lastSeenAt ?? 0, u.lastSeen);
      d.agentVersion = u.agentVersion ?? d.agentVersion;
      d.volume = u.volume ?? d.volume;
      d.cacheBytes = u.cacheBytes ?? d.cacheBytes;
      d.uptimeS = u.uptimeS ?? d.uptimeS;
      if (u.healthJson !== null) d.health = JSON.parse(u.healthJson) as Record<string, unknown>;
      d.heartbeats += u.beats;
    }
    return d;
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
    // A version in a status is newer than one in a heartbeat still to be folded, which must not undo it.
    const u = agentVersion === null ? undefined : this.unfolded.get(id);
    if (u) u.agentVersion = null;
    this.mergeStatus({ id, online: online ? 1 : 0, statusAt: at, lastSeen: at, agentVersion });
    this.written();
  }

  /** One heartbeat: its readings replace the previous ones and the device's heartbeat count grows by one. */
  recordTelemetry(id: string, t: Telemetry): void {
    this.journal.push({ id, at: t.at, healthJson: t.healthJson });
    this.mergeBeat(id, { lastSeen: t.at, agentVersion: t.agentVersion, volume: t.volume, cacheBytes: t.cacheBytes, uptimeS: t.uptimeS, healthJson: t.healthJson, beats: 1 });
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

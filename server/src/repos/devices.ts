/**
 * The `devices` table: registration, reads for the API and the broker, presence (through PresenceWriter)
 * and the writes to a box's credentials. Over 300 lines because every write to a box's secret, revocation
 * or row has to be here, next to the watchers it tells (issue 14: the credential cache is refreshed where
 * secrets change); splitting the reads off would leave one class with half the table's SQL.
 */
import type { Db } from '../db/database.js';
import { PresenceWriter, FOLD_EVERY_MS, type Telemetry } from './presence.js';

export type { Telemetry } from './presence.js';

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
  /** *CumLoaID* (issue 17): the modem's IMEI as the installer recorded it, or null. */
  nationalId: string | null;
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
  national_id: string | null;
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
  nationalId: r.national_id ?? null,
});

/** What authenticating a box needs; the credential cache (auth/device-credentials.ts) keeps it per box. */
export interface DeviceAuth {
  secretHash: string;
  revoked: boolean;
  areaCode: string;
}

/** Told of every write to a box's DeviceAuth: see DeviceRepository.watchCredentials. */
export interface DeviceCredentialsWatcher {
  /** Boxes just registered, once their rows are committed. */
  registered(rows: ReadonlyArray<{ id: string } & DeviceAuth>): void;
  /** A box's secret or revocation changed, or its row is gone: whatever was remembered of it is stale. */
  changed(id: string): void;
}

export interface DeviceFilter {
  /** Root of an area subtree; devices in it or below. */
  areaCodes?: string[];
  state?: 'online' | 'offline' | 'faulty';
  /** Part of the box's name or id (case-insensitive for ASCII letters, as SQLite's LIKE is). */
  search?: string;
  afterId?: string;
  limit: number;
}

export class DeviceRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly secretStmt;
  private readonly onlineStmt;
  private readonly onlineAmongStmt;
  private readonly authStmt;
  private readonly areaStmt;
  /** Heartbeats and statuses written behind: the buffer, its timer and the fold (see PresenceWriter). */
  readonly presence: PresenceWriter;
  readonly #credentialWatchers: DeviceCredentialsWatcher[] = [];

  constructor(
    private readonly db: Db,
    /** How often appended heartbeats are folded into the devices table; reads that need them fold at once. */
    foldEveryMs = FOLD_EVERY_MS,
  ) {
    this.presence = new PresenceWriter(db, foldEveryMs);
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, name, area_code, lat, lon, secret_hash, created_at, national_id)
       VALUES (@id, @name, @areaCode, @lat, @lon, @secretHash, @createdAt, @nationalId)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM devices WHERE id = ?');
    this.secretStmt = db.prepare<[string], { secret_hash: string; revoked_at: number | null }>(
      'SELECT secret_hash, revoked_at FROM devices WHERE id = ?',
    );
    this.onlineStmt = db.prepare<[string], { online: number }>('SELECT online FROM devices WHERE id = ?');
    this.onlineAmongStmt = db.prepare<[string], { id: string }>('SELECT id FROM devices WHERE online = 1 AND id IN (SELECT value FROM json_each(?))');
    this.authStmt = db.prepare<[string], { secret_hash: string; revoked_at: number | null; area_code: string }>(
      'SELECT secret_hash, revoked_at, area_code FROM devices WHERE id = ?',
    );
    this.areaStmt = db.prepare<[string], { area_code: string }>('SELECT area_code FROM devices WHERE id = ?');
  }

  /**
   * Tells `watcher` of every change this repository makes to what DeviceAuth holds, right after the write:
   * boxes registered (not while inside a caller's transaction, which may still roll back), a secret rotated
   * (a claim), a box revoked or deleted. Only these methods write those columns (presence writes never do),
   * so the credential cache that watches stays exact without SQLite triggers (issue 14). A box's id and
   * area are set at registration and never change; a method that changes them must call credentialsChanged.
   */
  watchCredentials(watcher: DeviceCredentialsWatcher): void {
    this.#credentialWatchers.push(watcher);
  }

  private credentialsChanged(id: string): void {
    for (const w of this.#credentialWatchers) w.changed(id);
  }

  /** Statuses and heartbeats waiting in memory, not yet in the database (see PresenceWriter). */
  pendingCount(): number {
    return this.presence.pendingCount();
  }

  /** Writes what waits in memory now (and folds the heartbeats when `fold` says so or a fold is due); see PresenceWriter.flush. */
  flushPending(fold = false): number {
    return this.presence.flush(fold);
  }

  /** Heartbeats a crash left in heartbeat_log, folded into the devices rows at start-up; answers how many. */
  recoverLog(): number {
    return this.presence.recoverLog();
  }

  insert(d: { id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number; nationalId?: string | null }): void {
    this.insertStmt.run({ ...d, nationalId: d.nationalId ?? null });
    this.inserted([d]);
  }

  /** Many devices in one transaction: registering 10,000 boxes takes a moment, not minutes. */
  insertMany(rows: Array<{ id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number; nationalId?: string | null }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.insertStmt.run({ ...r, nationalId: r.nationalId ?? null });
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
        this.presence.dropStatus(id);
        stmt.run(id);
      }
    })();
    // Boxes whose registration failed have never connected; a heartbeat under the same id would be refused.
    this.presence.dropHeartbeats(new Set(ids));
    // They were remembered when inserted: a box that no longer exists must not authenticate.
    for (const id of ids) this.credentialsChanged(id);
  }

  private inserted(rows: ReadonlyArray<{ id: string; areaCode: string; secretHash: string }>): void {
    if (this.#credentialWatchers.length === 0 || this.db.inTransaction) return;
    const auth = rows.map((r) => ({ id: r.id, secretHash: r.secretHash, revoked: false, areaCode: r.areaCode }));
    for (const w of this.#credentialWatchers) w.registered(auth);
  }

  /** Credentials and area of up to `limit` devices, to fill the credential cache at start. */
  allAuthInfo(limit: number): Array<{ id: string } & DeviceAuth> {
    return this.db
      .prepare<[number], { id: string; secret_hash: string; revoked_at: number | null; area_code: string }>('SELECT id, secret_hash, revoked_at, area_code FROM devices LIMIT ?')
      .all(limit)
      .map((r) => ({ id: r.id, secretHash: r.secret_hash, revoked: r.revoked_at !== null, areaCode: r.area_code }));
  }

  get(id: string): Device | null {
    this.presence.fresh(id);
    const r = this.getStmt.get(id);
    return r ? toDevice(r) : null;
  }

  credentials(id: string): { secretHash: string; revoked: boolean } | null {
    const r = this.secretStmt.get(id);
    return r ? { secretHash: r.secret_hash, revoked: r.revoked_at !== null } : null;
  }

  /** Credentials and area in one read: what the broker needs on every connect. */
  authInfo(id: string): DeviceAuth | null {
    const r = this.authStmt.get(id);
    return r ? { secretHash: r.secret_hash, revoked: r.revoked_at !== null, areaCode: r.area_code } : null;
  }

  /** A device's area (null if unknown), without reading or writing anything else: who may see its events. */
  areaOf(id: string): string | null {
    return this.areaStmt.get(id)?.area_code ?? null;
  }

  /** Presence alone, pending statuses included without writing them (a disconnect storm stays batched). */
  isOnline(id: string): boolean {
    const p = this.presence.pendingOnline(id);
    if (p !== undefined) return p === 1;
    return this.onlineStmt.get(id)?.online === 1;
  }

  /** Which of these devices are online, in one query (pending statuses included, as in `isOnline`). */
  onlineAmong(ids: Iterable<string>): Set<string> {
    const list = [...new Set(ids)];
    if (list.length === 0) return new Set();
    const online = new Set(this.onlineAmongStmt.all(JSON.stringify(list)).map((r) => r.id));
    for (const id of list) {
      const p = this.presence.pendingOnline(id);
      if (p === 1) online.add(id);
      else if (p === 0) online.delete(id);
    }
    return online;
  }

  /** A status a box sent (or the broker's word that it left): written behind, see PresenceWriter. */
  setStatus(id: string, online: boolean, at: number, agentVersion: string | null): void {
    this.presence.setStatus(id, online, at, agentVersion);
  }

  /** One heartbeat, written behind: see PresenceWriter. */
  recordTelemetry(id: string, t: Telemetry): void {
    this.presence.recordTelemetry(id, t);
  }

  /**
   * Heartbeats stored for every device, summed (the benchmarks' "stored" count): those folded into the
   * devices rows and those in the log, after writing what waits in memory.
   */
  heartbeatTotal(): number {
    this.presence.flush();
    return (this.db.prepare('SELECT (SELECT COALESCE(SUM(heartbeats), 0) FROM devices) + (SELECT COUNT(*) FROM heartbeat_log) AS n').get() as { n: number }).n;
  }

  /** Marks every device offline; the embedded broker forgets sessions on restart, so presence restarts from nothing. */
  markAllOffline(): void {
    this.presence.flush();
    this.db.prepare('UPDATE devices SET online = 0').run();
  }

  list(filter: DeviceFilter): { items: Device[]; total: number } {
    this.presence.fresh();
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
    if (filter.search) {
      // LIKE's wildcards in what people type are literal characters.
      where.push(`(name LIKE @search ESCAPE '\\' OR id LIKE @search ESCAPE '\\')`);
      params.search = `%${filter.search.normalize('NFC').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const base = `FROM devices WHERE ${where.join(' AND ')}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${base}`).get(params) as { n: number }).n;
    const pageWhere = filter.afterId ? ' AND id > @afterId' : '';
    const rows = this.db
      .prepare(`SELECT * ${base}${pageWhere} ORDER BY id LIMIT @limit`)
      .all({ ...params, ...(filter.afterId ? { afterId: filter.afterId } : {}), limit: filter.limit }) as Row[];
    return { items: rows.map(toDevice), total };
  }

  /** Records a box's national id (issue 17); false when the box is unknown. Unique: the caller checks `byNationalId` first. */
  setNationalId(id: string, nationalId: string | null): boolean {
    return this.db.prepare('UPDATE devices SET national_id = ? WHERE id = ?').run(nationalId, id).changes > 0;
  }

  /** The box holding this national id, if any. */
  byNationalId(nationalId: string): string | null {
    return (this.db.prepare('SELECT id FROM devices WHERE national_id = ?').get(nationalId) as { id: string } | undefined)?.id ?? null;
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
    this.presence.fresh();
    const rows = this.db
      .prepare(
        `SELECT id, area_code, online, last_seen_at, lat, lon, json_extract(health_json, '$.playing') IS NOT NULL AS playing
         FROM devices WHERE revoked_at IS NULL AND area_code IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(areaCodes)) as Array<{ id: string; area_code: string; online: number; last_seen_at: number | null; playing: number; lat: number | null; lon: number | null }>;
    return rows.map((r) => ({ id: r.id, areaCode: r.area_code, online: r.online === 1, lastSeenAt: r.last_seen_at, playing: r.online === 1 && r.playing === 1, lat: r.lat, lon: r.lon }));
  }

  /** Gives a box a new secret (a claim); the old one stops working. False when the box is unknown or revoked. */
  rotateSecret(id: string, secretHash: string): boolean {
    const rotated = this.db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ? AND revoked_at IS NULL').run(secretHash, id).changes > 0;
    if (rotated) this.credentialsChanged(id);
    return rotated;
  }

  /** Revokes a device's credentials for good (a stolen or retired box). */
  revoke(id: string, now = Date.now()): boolean {
    // A status still pending must not mark a revoked box online again after this.
    if (this.presence.hasPendingStatus(id)) this.presence.flush();
    const revoked = this.db.prepare('UPDATE devices SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
    if (revoked) this.credentialsChanged(id);
    return revoked;
  }
}

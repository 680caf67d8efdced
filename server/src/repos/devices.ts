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
});

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
  private readonly telemetryStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, name, area_code, lat, lon, secret_hash, created_at)
       VALUES (@id, @name, @areaCode, @lat, @lon, @secretHash, @createdAt)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM devices WHERE id = ?');
    this.secretStmt = db.prepare<[string], { secret_hash: string; revoked_at: number | null }>(
      'SELECT secret_hash, revoked_at FROM devices WHERE id = ?',
    );
    this.statusStmt = db.prepare(
      `UPDATE devices SET online = @online, status_at = @at, last_seen_at = MAX(COALESCE(last_seen_at, 0), @at),
         agent_version = COALESCE(@agentVersion, agent_version) WHERE id = @id`,
    );
    this.telemetryStmt = db.prepare(
      `UPDATE devices SET last_seen_at = @at, volume = @volume, cache_bytes = @cacheBytes, uptime_s = @uptimeS,
         agent_version = COALESCE(@agentVersion, agent_version), health_json = COALESCE(@healthJson, health_json) WHERE id = @id`,
    );
  }

  insert(d: { id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number }): void {
    this.insertStmt.run(d);
  }

  /** Many devices in one transaction: registering 10,000 boxes takes a moment, not minutes. */
  insertMany(rows: Array<{ id: string; name: string; areaCode: string; lat: number | null; lon: number | null; secretHash: string; createdAt: number }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.insertStmt.run(r);
    })();
  }

  get(id: string): Device | null {
    const r = this.getStmt.get(id);
    return r ? toDevice(r) : null;
  }

  credentials(id: string): { secretHash: string; revoked: boolean } | null {
    const r = this.secretStmt.get(id);
    return r ? { secretHash: r.secret_hash, revoked: r.revoked_at !== null } : null;
  }

  setStatus(id: string, online: boolean, at: number, agentVersion: string | null): void {
    this.statusStmt.run({ id, online: online ? 1 : 0, at, agentVersion });
  }

  recordTelemetry(id: string, t: { at: number; volume: number; cacheBytes: number; uptimeS: number; agentVersion: string | null; healthJson: string | null }): void {
    this.telemetryStmt.run({ id, ...t });
  }

  /** Marks every device offline; the embedded broker forgets sessions on restart, so presence restarts from nothing. */
  markAllOffline(): void {
    this.db.prepare('UPDATE devices SET online = 0').run();
  }

  list(filter: DeviceFilter): { items: Device[]; total: number } {
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
    return this.db.prepare('UPDATE devices SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL').run(now, id).changes > 0;
  }
}

/**
 * What the upstream link reads from the server's own tables to report to the province (issue 17): every box
 * with its latest heartbeat readings (one query for the whole fleet, the heartbeat's JSON read by SQLite rather
 * than parsed 10,000 times in JavaScript every 30 s), and for an airing its broadcast, bulletin, relay source,
 * the upstream's id of a bulletin that came down, and when the airing started.
 */
import type { Db } from '../../db/database.js';
import type { BulletinSource } from '../../repos/bulletins.js';
import type { Priority } from '@loaxa/shared';

export interface BoxReading {
  id: string;
  nationalId: string | null;
  name: string;
  areaCode: string;
  areaName: string;
  lat: number | null;
  lon: number | null;
  online: boolean;
  volume: number | null;
  agentVersion: string | null;
  faulty: boolean;
  cpuTempC: number | null;
  diskFreeBytes: number | null;
  diskTotalBytes: number | null;
  networkType: string | null;
  accessTech: string | null;
  signalPct: number | null;
  /** The title of what the box said it plays in its last heartbeat, or null. */
  playingTitle: string | null;
}

interface BoxRow {
  id: string;
  national_id: string | null;
  name: string;
  area_code: string;
  area_name: string | null;
  lat: number | null;
  lon: number | null;
  online: number;
  volume: number | null;
  agent_version: string | null;
  faulty: number;
  cpu_temp: number | null;
  disk_free: number | null;
  disk_total: number | null;
  net_type: string | null;
  access_tech: string | null;
  signal: number | null;
  playing_title: string | null;
}

export interface AiringFacts {
  priority: Priority;
  bulletinId: string;
  /** The province's BanTinId when the bulletin came down from it. */
  upstreamId: string | null;
  title: string;
  text: string;
  category: string | null;
  durationMs: number | null;
  createdAt: number;
  source: BulletinSource;
  relaySourceName: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class NationalLinkReadings {
  private readonly boxesStmt;
  private readonly airingStmt;
  private readonly startedStmt;
  private readonly boxStmt;

  constructor(
    db: Db,
    /** Writes the heartbeats and statuses still batched in memory (DeviceRepository.presence.fresh), so a status is current. */
    private readonly fresh: () => void = () => undefined,
  ) {
    this.boxesStmt = db.prepare<[], BoxRow>(
      `SELECT d.id, d.national_id, d.name, d.area_code, a.name AS area_name, d.lat, d.lon, d.online, d.volume, d.agent_version,
              EXISTS (SELECT 1 FROM device_faults f WHERE f.device_id = d.id AND f.ended_at IS NULL) AS faulty,
              json_extract(d.health_json, '$.health.cpuTempC') AS cpu_temp,
              json_extract(d.health_json, '$.health.diskFreeBytes') AS disk_free,
              json_extract(d.health_json, '$.health.diskTotalBytes') AS disk_total,
              json_extract(d.health_json, '$.health.network.type') AS net_type,
              json_extract(d.health_json, '$.health.network.accessTech') AS access_tech,
              json_extract(d.health_json, '$.health.network.signalPct') AS signal,
              (SELECT bu.title FROM broadcasts b JOIN bulletins bu ON bu.id = b.bulletin_id
                WHERE b.id = json_extract(d.health_json, '$.playing.broadcastId')) AS playing_title
       FROM devices d LEFT JOIN areas a ON a.code = d.area_code
       WHERE d.revoked_at IS NULL ORDER BY d.id`,
    );
    this.boxStmt = db.prepare<[string], { id: string; national_id: string | null; name: string; area_code: string; area_name: string | null }>(
      `SELECT d.id, d.national_id, d.name, d.area_code, a.name AS area_name FROM devices d LEFT JOIN areas a ON a.code = d.area_code WHERE d.id = ?`,
    );
    this.airingStmt = db.prepare<[string], { priority: Priority; bulletin_id: string; upstream_id: string | null; title: string; text: string; category: string | null; duration_ms: number | null; created_at: number; source: BulletinSource; relay_name: string | null }>(
      `SELECT b.priority, bu.id AS bulletin_id, (SELECT nb.upstream_id FROM national_bulletins nb WHERE nb.bulletin_id = bu.id LIMIT 1) AS upstream_id,
              bu.title, bu.text, bu.category, bu.duration_ms, bu.created_at, bu.source, s.name AS relay_name
       FROM broadcasts b JOIN bulletins bu ON bu.id = b.bulletin_id LEFT JOIN stream_sources s ON s.id = bu.relay_source_id
       WHERE b.id = ?`,
    );
    this.startedStmt = db.prepare<[string, string, number], { at: number }>(
      `SELECT at FROM delivery_events WHERE broadcast_id = ? AND device_id = ? AND occurrence_at = ? AND state = 'playing' ORDER BY id LIMIT 1`,
    );
  }

  /** Every registered box (revoked ones are no longer ours to report). */
  boxes(): BoxReading[] {
    this.fresh();
    return this.boxesStmt.all().map((r) => ({
      id: r.id,
      nationalId: r.national_id,
      name: r.name,
      areaCode: r.area_code,
      areaName: r.area_name ?? '',
      lat: r.lat,
      lon: r.lon,
      online: r.online === 1,
      volume: r.volume,
      agentVersion: r.agent_version,
      faulty: r.faulty === 1,
      cpuTempC: num(r.cpu_temp),
      diskFreeBytes: num(r.disk_free),
      diskTotalBytes: num(r.disk_total),
      networkType: typeof r.net_type === 'string' ? r.net_type : null,
      accessTech: typeof r.access_tech === 'string' ? r.access_tech : null,
      signalPct: num(r.signal),
      playingTitle: r.playing_title,
    }));
  }

  box(id: string): { id: string; nationalId: string | null; name: string; areaCode: string; areaName: string } | null {
    const r = this.boxStmt.get(id);
    return r ? { id: r.id, nationalId: r.national_id, name: r.name, areaCode: r.area_code, areaName: r.area_name ?? '' } : null;
  }

  airing(broadcastId: string): AiringFacts | null {
    const r = this.airingStmt.get(broadcastId);
    if (!r) return null;
    return {
      priority: r.priority,
      bulletinId: r.bulletin_id,
      upstreamId: r.upstream_id,
      title: r.title,
      text: r.text,
      category: r.category,
      durationMs: r.duration_ms,
      createdAt: r.created_at,
      source: r.source,
      relaySourceName: r.relay_name,
    };
  }

  /** When the box began this airing (its first `playing`), or null. */
  startedAt(broadcastId: string, deviceId: string, occurrenceAt: number): number | null {
    return this.startedStmt.get(broadcastId, deviceId, occurrenceAt)?.at ?? null;
  }
}

import type { Db } from '../db/database.js';
import type { BulletinCategory, DeliveryState, Priority } from '@loaxa/shared';

export interface AsRunRow {
  broadcastId: string;
  bulletinTitle: string;
  /** The bulletin's category (Circular 39), null when it has none. */
  category: BulletinCategory | null;
  priority: Priority;
  deviceId: string;
  deviceName: string;
  areaCode: string;
  occurrenceAt: number;
  state: DeliveryState;
  reason: string | null;
  /** From the device's own reports: when it started and finished playing. */
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  /** A relay's source (issue 15), its name, and the ms the box reported it actually aired; null for files. */
  relaySourceId: string | null;
  relaySourceName: string | null;
  airedMs: number | null;
  /** A programme's version as the box took it (issue 15; its items come from the programme item log); null otherwise. */
  programmeVersion: number | null;
}

/** A row of one box's as-run (`forDevice`). */
export interface DeviceAsRunRow {
  broadcastId: string;
  title: string;
  category: BulletinCategory | null;
  priority: Priority;
  occurrenceAt: number;
  state: DeliveryState;
  reason: string | null;
  startedAt: number | null;
  endedAt: number | null;
}

/** The as-run log as rows: every delivery of the period in the given areas, with its play times. */
export class AsRunRepository {
  constructor(private readonly db: Db) {}

  rows(areaCodes: string[], from: number, to: number): AsRunRow[] {
    if (areaCodes.length === 0) return [];
    return this.db
      .prepare(
        `SELECT d.broadcast_id AS broadcastId, t.title AS bulletinTitle, t.category AS category, b.priority AS priority, d.device_id AS deviceId,
                v.name AS deviceName, v.area_code AS areaCode, d.occurrence_at AS occurrenceAt, d.state AS state, d.reason AS reason,
                (SELECT MIN(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'playing') AS startedAt,
                (SELECT MAX(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'played') AS endedAt,
                t.duration_ms AS durationMs, t.relay_source_id AS relaySourceId, d.aired_ms AS airedMs,
                (SELECT s.name FROM stream_sources s WHERE s.id = t.relay_source_id) AS relaySourceName,
                -- A programme's version as the box took it (issue 15 review (8): a later edit must not rewrite the
                -- as-run): the newest saved before the box acknowledged the airing, else the current one.
                CASE WHEN t.source = 'programme' THEN COALESCE(
                  (SELECT MAX(pv.version) FROM programme_versions pv WHERE pv.programme_id = t.id AND pv.created_at <=
                    (SELECT MIN(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                       AND e.occurrence_at = d.occurrence_at AND e.state IN ('acknowledged', 'cached', 'playing'))),
                  t.programme_version) END AS programmeVersion
         FROM deliveries d
         JOIN devices v ON v.id = d.device_id
         JOIN broadcasts b ON b.id = d.broadcast_id
         JOIN bulletins t ON t.id = b.bulletin_id
         WHERE v.area_code IN (SELECT value FROM json_each(?)) AND d.occurrence_at >= ? AND d.occurrence_at < ?
         ORDER BY v.area_code, d.device_id, d.occurrence_at`,
      )
      .all(JSON.stringify(areaCodes), from, to) as AsRunRow[];
  }

  /**
   * One box's deliveries, newest airing first, `limit` after the cursor (issue 20, the box page: what it
   * played). The cursor is the last row's `occurrenceAt:broadcastId`; the primary key orders ties.
   */
  forDevice(deviceId: string, limit: number, after: { occurrenceAt: number; broadcastId: string } | null): DeviceAsRunRow[] {
    return this.db
      .prepare(
        `SELECT d.broadcast_id AS broadcastId, t.title AS title, t.category AS category, b.priority AS priority, d.occurrence_at AS occurrenceAt,
                d.state AS state, d.reason AS reason,
                (SELECT MIN(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'playing') AS startedAt,
                (SELECT MAX(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'played') AS endedAt
         FROM deliveries d
         JOIN broadcasts b ON b.id = d.broadcast_id
         JOIN bulletins t ON t.id = b.bulletin_id
         WHERE d.device_id = @deviceId AND (@at IS NULL OR d.occurrence_at < @at OR (d.occurrence_at = @at AND d.broadcast_id < @id))
         ORDER BY d.occurrence_at DESC, d.broadcast_id DESC
         LIMIT @limit`,
      )
      .all({ deviceId, limit, at: after?.occurrenceAt ?? null, id: after?.broadcastId ?? null }) as DeviceAsRunRow[];
  }
}

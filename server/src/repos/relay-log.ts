/**
 * What boxes' relays did (issue 15 § As-run): every start, failover, return, fallback and end a box reported
 * on `event` (`kind: 'relay'`), and the relay deliveries the as-run of relays is built from.
 */
import type { Db } from '../db/database.js';
import type { DeliveryState, RelayCause } from '@loaxa/shared';

export interface RelayLogEntry {
  deviceId: string;
  broadcastId: string;
  occurrenceAt: number;
  /** The URL serving after this event; null while none does. */
  url: string | null;
  cause: RelayCause;
  /** On the server's clock (ingest corrects the box's offset). */
  at: number;
  detail: string | null;
}

/** One box's airing of a relay bulletin, or of a programme with relay segments (issue 15), with what the as-run needs. */
export interface RelayDeliveryRow {
  broadcastId: string;
  title: string;
  sourceId: string;
  sourceName: string | null;
  durationMs: number;
  deviceId: string;
  deviceName: string;
  areaCode: string;
  occurrenceAt: number;
  state: DeliveryState;
  airedMs: number | null;
  startedAt: number | null;
  endedAt: number | null;
}

interface EntryRow {
  device_id: string;
  broadcast_id: string;
  occurrence_at: number;
  url: string | null;
  cause: RelayCause;
  at: number;
  detail: string | null;
}

/**
 * The source a delivery relays: a relay bulletin's own, or (issue 15) the first relay segment's of a programme
 * (any version that has one: an airing of an older version stays in the report after an edit).
 */
const RELAYED_SOURCE = `COALESCE(t.relay_source_id, (SELECT pv.relay_source_id FROM programme_versions pv
  WHERE pv.programme_id = t.id AND pv.relay_source_id IS NOT NULL ORDER BY pv.version DESC LIMIT 1))`;
const DELIVERY_COLUMNS = `d.broadcast_id AS broadcastId, t.title AS title, ${RELAYED_SOURCE} AS sourceId, s.name AS sourceName, COALESCE(t.duration_ms, 0) AS durationMs,
  d.device_id AS deviceId, v.name AS deviceName, v.area_code AS areaCode, d.occurrence_at AS occurrenceAt, d.state AS state, d.aired_ms AS airedMs,
  (SELECT MIN(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id AND e.occurrence_at = d.occurrence_at AND e.state = 'playing') AS startedAt,
  (SELECT MAX(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id AND e.occurrence_at = d.occurrence_at AND e.state = 'played') AS endedAt`;
const DELIVERY_FROM = `FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id JOIN bulletins t ON t.id = b.bulletin_id
  JOIN devices v ON v.id = d.device_id LEFT JOIN stream_sources s ON s.id = ${RELAYED_SOURCE}`;

export class RelayLogRepository {
  private readonly insertStmt;
  private readonly entriesStmt;
  private readonly ofOccurrenceStmt;
  private readonly inAreasStmt;
  private readonly relayDeliveryStmt;

  constructor(db: Db) {
    // A QoS 1 redelivery is the same report: the unique index (migration 17) makes it change nothing.
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO relay_log (device_id, broadcast_id, occurrence_at, url, cause, at, received_at, detail)
       VALUES (@deviceId, @broadcastId, @occurrenceAt, @url, @cause, @at, @receivedAt, @detail)`,
    );
    this.entriesStmt = db.prepare<[string, number], EntryRow>('SELECT * FROM relay_log WHERE broadcast_id = ? AND occurrence_at = ? ORDER BY device_id, at, id');
    this.ofOccurrenceStmt = db.prepare<[string, number], RelayDeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} ${DELIVERY_FROM} WHERE d.broadcast_id = ? AND d.occurrence_at = ? AND ${RELAYED_SOURCE} IS NOT NULL ORDER BY v.area_code, d.device_id`,
    );
    this.inAreasStmt = db.prepare<[string, number, number], RelayDeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} ${DELIVERY_FROM}
       WHERE ${RELAYED_SOURCE} IS NOT NULL AND v.area_code IN (SELECT value FROM json_each(?)) AND d.occurrence_at >= ? AND d.occurrence_at < ?
       ORDER BY v.area_code, d.device_id, d.occurrence_at`,
    );
    this.relayDeliveryStmt = db.prepare<[string, string, number], { windowMs: number; durationMs: number; logged: number }>(
      // A programme with relay segments counts too (issue 15); one running "until" a time of day may last up
      // to a day past its nominal length.
      `SELECT b.window_ms AS windowMs, COALESCE(t.duration_ms, 0)
           + CASE WHEN EXISTS (SELECT 1 FROM programme_versions pv WHERE pv.programme_id = t.id AND pv.open_ended = 1) THEN 86400000 ELSE 0 END AS durationMs,
         (SELECT COUNT(*) FROM relay_log r WHERE r.broadcast_id = d.broadcast_id AND r.occurrence_at = d.occurrence_at AND r.device_id = d.device_id) AS logged
       FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id JOIN bulletins t ON t.id = b.bulletin_id
       WHERE d.broadcast_id = ? AND d.device_id = ? AND d.occurrence_at = ? AND ${RELAYED_SOURCE} IS NOT NULL`,
    );
  }

  /**
   * What a box's relay report is checked against (issue 15 review (6)): the occurrence's window and the relay's
   * length, and how many reports it already holds; undefined when it is not a relay delivery of this box.
   */
  relayDelivery(broadcastId: string, deviceId: string, occurrenceAt: number): { windowMs: number; durationMs: number; logged: number } | undefined {
    return this.relayDeliveryStmt.get(broadcastId, deviceId, occurrenceAt);
  }

  /** Stores one report; answers whether it was new. */
  record(e: RelayLogEntry, receivedAt = Date.now()): boolean {
    return this.insertStmt.run({ ...e, receivedAt }).changes === 1;
  }

  /** The reports of one occurrence of a broadcast, by device, then in the order they happened. */
  entries(broadcastId: string, occurrenceAt: number): RelayLogEntry[] {
    return this.entriesStmt.all(broadcastId, occurrenceAt).map((r) => ({ deviceId: r.device_id, broadcastId: r.broadcast_id, occurrenceAt: r.occurrence_at, url: r.url, cause: r.cause, at: r.at, detail: r.detail }));
  }

  /** The boxes' airings of one occurrence of a relay broadcast. */
  deliveriesOf(broadcastId: string, occurrenceAt: number): RelayDeliveryRow[] {
    return this.ofOccurrenceStmt.all(broadcastId, occurrenceAt);
  }

  /** Every airing of a relay on the boxes of these areas with an occurrence in [from, to). */
  deliveriesIn(areaCodes: readonly string[], from: number, to: number): RelayDeliveryRow[] {
    if (areaCodes.length === 0) return [];
    return this.inAreasStmt.all(JSON.stringify(areaCodes), from, to);
  }
}

/**
 * Disaster warnings (issue 18): one row per warning (a CAP identifier chain as it is now) and one row per CAP
 * message taken (`warning_versions`, with its XML). CAP 1.2 §3.2.1: sender, identifier and sent identify a
 * message, so the unique index on them (per source) is what makes a repeated message ignored.
 */
import type { CapCertainty, CapMsgType, CapSeverity, CapStatus, CapUrgency, DisasterKindId, WarningState } from '@loaxa/shared';
import type { Db } from '../db/database.js';
import type { BroadcastTarget } from './broadcasts.js';

export interface WarningRecord {
  id: string;
  sourceId: string | null;
  sourceName: string;
  identifier: string;
  sender: string;
  status: CapStatus;
  kind: DisasterKindId | null;
  riskLevel: number | null;
  event: string;
  headline: string | null;
  severity: CapSeverity;
  urgency: CapUrgency;
  certainty: CapCertainty;
  expiresAt: number | null;
  state: WarningState;
  reason: string | null;
  priority: 'emergency' | 'priority' | null;
  decidedBy: string | null;
  announcement: string;
  communes: { code: string; name: string }[];
  /** What the warning airs to: communes reached by geocode or name as areas, boxes reached only by geometry as boxes. */
  target: BroadcastTarget;
  boxes: number;
  boxesWithoutCoordinates: number;
  unmatched: { what: string; value: string }[];
  repeatMinutes: number;
  attention: boolean;
  version: number;
  bulletinId: string | null;
  broadcastId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface WarningVersionRecord {
  id: number;
  warningId: string | null;
  version: number;
  sourceKey: string;
  sender: string;
  identifier: string;
  sent: string;
  sentMs: number;
  msgType: CapMsgType;
  status: CapStatus;
  origin: string;
  receivedAt: number;
  xml: string;
  bulletinId: string | null;
  broadcastId: string | null;
  note: string | null;
}

interface Row {
  id: string;
  source_id: string | null;
  source_name: string;
  identifier: string;
  sender: string;
  status: CapStatus;
  kind: DisasterKindId | null;
  risk_level: number | null;
  event: string;
  headline: string | null;
  severity: CapSeverity;
  urgency: CapUrgency;
  certainty: CapCertainty;
  expires_at: number | null;
  state: WarningState;
  reason: string | null;
  priority: 'emergency' | 'priority' | null;
  decided_by: string | null;
  announcement: string;
  communes: string;
  target: string;
  boxes: number;
  boxes_without_coordinates: number;
  unmatched: string;
  repeat_minutes: number;
  attention: number;
  version: number;
  bulletin_id: string | null;
  broadcast_id: string | null;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  id: number;
  warning_id: string | null;
  version: number;
  source_key: string;
  sender: string;
  identifier: string;
  sent: string;
  sent_ms: number;
  msg_type: CapMsgType;
  status: CapStatus;
  origin: string;
  received_at: number;
  xml: string;
  bulletin_id: string | null;
  broadcast_id: string | null;
  note: string | null;
}

const toRecord = (r: Row): WarningRecord => ({
  id: r.id,
  sourceId: r.source_id,
  sourceName: r.source_name,
  identifier: r.identifier,
  sender: r.sender,
  status: r.status,
  kind: r.kind,
  riskLevel: r.risk_level,
  event: r.event,
  headline: r.headline,
  severity: r.severity,
  urgency: r.urgency,
  certainty: r.certainty,
  expiresAt: r.expires_at,
  state: r.state,
  reason: r.reason,
  priority: r.priority,
  decidedBy: r.decided_by,
  announcement: r.announcement,
  communes: JSON.parse(r.communes) as { code: string; name: string }[],
  target: JSON.parse(r.target) as BroadcastTarget,
  boxes: r.boxes,
  boxesWithoutCoordinates: r.boxes_without_coordinates,
  unmatched: JSON.parse(r.unmatched) as { what: string; value: string }[],
  repeatMinutes: r.repeat_minutes,
  attention: r.attention === 1,
  version: r.version,
  bulletinId: r.bulletin_id,
  broadcastId: r.broadcast_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toVersion = (r: VersionRow): WarningVersionRecord => ({
  id: r.id,
  warningId: r.warning_id,
  version: r.version,
  sourceKey: r.source_key,
  sender: r.sender,
  identifier: r.identifier,
  sent: r.sent,
  sentMs: r.sent_ms,
  msgType: r.msg_type,
  status: r.status,
  origin: r.origin,
  receivedAt: r.received_at,
  xml: r.xml,
  bulletinId: r.bulletin_id,
  broadcastId: r.broadcast_id,
  note: r.note,
});

const COLUMNS = [
  'id', 'source_id', 'source_name', 'identifier', 'sender', 'status', 'kind', 'risk_level', 'event', 'headline', 'severity', 'urgency', 'certainty',
  'expires_at', 'state', 'reason', 'priority', 'decided_by', 'announcement', 'communes', 'target', 'boxes', 'boxes_without_coordinates', 'unmatched',
  'repeat_minutes', 'attention', 'version', 'bulletin_id', 'broadcast_id', 'created_at', 'updated_at',
] as const;

const toRow = (w: WarningRecord): Row => ({
  id: w.id,
  source_id: w.sourceId,
  source_name: w.sourceName,
  identifier: w.identifier,
  sender: w.sender,
  status: w.status,
  kind: w.kind,
  risk_level: w.riskLevel,
  event: w.event,
  headline: w.headline,
  severity: w.severity,
  urgency: w.urgency,
  certainty: w.certainty,
  expires_at: w.expiresAt,
  state: w.state,
  reason: w.reason,
  priority: w.priority,
  decided_by: w.decidedBy,
  announcement: w.announcement,
  communes: JSON.stringify(w.communes),
  target: JSON.stringify(w.target),
  boxes: w.boxes,
  boxes_without_coordinates: w.boxesWithoutCoordinates,
  unmatched: JSON.stringify(w.unmatched),
  repeat_minutes: w.repeatMinutes,
  attention: w.attention ? 1 : 0,
  version: w.version,
  bulletin_id: w.bulletinId,
  broadcast_id: w.broadcastId,
  created_at: w.createdAt,
  updated_at: w.updatedAt,
});

export interface EmergencyRow {
  id: string;
  /** The broadcast's target, as JSON. */
  target: string;
  createdAt: number;
  status: string;
  text: string;
  title: string;
}

export class WarningRepository {
  constructor(private readonly db: Db) {}

  /** Runs `fn` in one transaction (a version and the warning it changes are written together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  put(w: WarningRecord): void {
    const cols = COLUMNS.join(', ');
    const vals = COLUMNS.map((c) => `@${c}`).join(', ');
    const sets = COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ');
    this.db.prepare(`INSERT INTO warnings (${cols}) VALUES (${vals}) ON CONFLICT(id) DO UPDATE SET ${sets}`).run(toRow(w));
  }

  get(id: string): WarningRecord | null {
    const r = this.db.prepare<[string], Row>('SELECT * FROM warnings WHERE id = ?').get(id);
    return r ? toRecord(r) : null;
  }

  /** Newest first; `before` continues a page. All rows (area scoping is the caller's: a warning's communes are JSON). */
  all(filter: { state?: WarningState | undefined } = {}): WarningRecord[] {
    const rows = filter.state
      ? this.db.prepare<[string], Row>('SELECT * FROM warnings WHERE state = ? ORDER BY created_at DESC, id DESC').all(filter.state)
      : this.db.prepare<[], Row>('SELECT * FROM warnings ORDER BY created_at DESC, id DESC').all();
    return rows.map(toRecord);
  }

  /** Warnings still on air or waiting whose expiry has passed. */
  expiring(now: number): WarningRecord[] {
    return this.db
      .prepare<[number], Row>(`SELECT * FROM warnings WHERE state IN ('airing', 'pending') AND expires_at IS NOT NULL AND expires_at <= ?`)
      .all(now)
      .map(toRecord);
  }

  /** Records a message; false when the same (source, sender, identifier, sent) was taken before. */
  addVersion(v: Omit<WarningVersionRecord, 'id'>): number | null {
    const r = this.db
      .prepare(
        `INSERT INTO warning_versions (warning_id, version, source_key, sender, identifier, sent, sent_ms, msg_type, status, origin, received_at, xml, bulletin_id, broadcast_id, note)
         VALUES (@warningId, @version, @sourceKey, @sender, @identifier, @sent, @sentMs, @msgType, @status, @origin, @receivedAt, @xml, @bulletinId, @broadcastId, @note)
         ON CONFLICT(source_key, sender, identifier, sent) DO NOTHING`,
      )
      .run(v);
    return r.changes === 0 ? null : Number(r.lastInsertRowid);
  }

  setVersionAiring(id: number, bulletinId: string | null, broadcastId: string | null): void {
    this.db.prepare('UPDATE warning_versions SET bulletin_id = ?, broadcast_id = ? WHERE id = ?').run(bulletinId, broadcastId, id);
  }

  setVersionWarning(id: number, warningId: string, version: number): void {
    this.db.prepare('UPDATE warning_versions SET warning_id = ?, version = ? WHERE id = ?').run(warningId, version, id);
  }

  hasVersion(sourceKey: string, sender: string, identifier: string, sent: string): boolean {
    return this.db.prepare('SELECT 1 FROM warning_versions WHERE source_key = ? AND sender = ? AND identifier = ? AND sent = ?').get(sourceKey, sender, identifier, sent) !== undefined;
  }

  /**
   * The warning a reference (§3.2.1 "sender,identifier,sent") names, among the messages of the same source:
   * a source cannot replace or stop another source's warning.
   */
  warningOfReference(sourceKey: string, ref: { sender: string; identifier: string; sent: string }): string | null {
    const r = this.db
      .prepare<[string, string, string, string], { warning_id: string | null }>(
        'SELECT warning_id FROM warning_versions WHERE source_key = ? AND sender = ? AND identifier = ? AND sent = ? AND warning_id IS NOT NULL',
      )
      .get(sourceKey, ref.sender, ref.identifier, ref.sent);
    return r?.warning_id ?? null;
  }

  versions(warningId: string): WarningVersionRecord[] {
    return this.db.prepare<[string], VersionRow>('SELECT * FROM warning_versions WHERE warning_id = ? ORDER BY id').all(warningId).map(toVersion);
  }

  version(id: number): WarningVersionRecord | null {
    const r = this.db.prepare<[number], VersionRow>('SELECT * FROM warning_versions WHERE id = ?').get(id);
    return r ? toVersion(r) : null;
  }

  /**
   * The messages the CAP feed publishes, received since `since`, newest first (with `id`: that one only, any
   * age): status Actual, and only what aired — an Alert or Update that became a broadcast, a Cancel of a
   * warning that aired. A message that waited and was rejected, was held or reached nothing is not ours to
   * publish.
   */
  published(since: number, limit: number, id?: number): WarningVersionRecord[] {
    return this.db
      .prepare<{ since: number; limit: number; id: number | null }, VersionRow>(
        `SELECT * FROM warning_versions v WHERE v.status = 'Actual' AND v.warning_id IS NOT NULL AND v.received_at >= @since AND (@id IS NULL OR v.id = @id)
           AND ((v.msg_type IN ('Alert', 'Update') AND v.broadcast_id IS NOT NULL)
             OR (v.msg_type = 'Cancel' AND EXISTS (SELECT 1 FROM warning_versions x WHERE x.warning_id = v.warning_id AND x.broadcast_id IS NOT NULL)))
         ORDER BY v.received_at DESC, v.id DESC LIMIT @limit`,
      )
      .all({ since, limit, id: id ?? null })
      .map(toVersion);
  }

  /** The broadcasts every version of a warning aired as, with the version each one is. */
  broadcastsOf(warningId: string): { version: number; broadcastId: string }[] {
    return this.db
      .prepare<[string], { version: number; broadcast_id: string }>('SELECT version, broadcast_id FROM warning_versions WHERE warning_id = ? AND broadcast_id IS NOT NULL ORDER BY id')
      .all(warningId)
      .map((r) => ({ version: r.version, broadcastId: r.broadcast_id }));
  }

  /** Whether a broadcast is a warning's (the CAP feed then publishes the warning, not the broadcast). */
  isWarningBroadcast(broadcastId: string): boolean {
    return this.db.prepare('SELECT 1 FROM warning_versions WHERE broadcast_id = ?').get(broadcastId) !== undefined;
  }

  /** One row per delivery of the broadcasts, with the box and its play times (the warning's as-run). */
  deliveries(broadcastIds: readonly string[]): Array<{ broadcastId: string; deviceId: string; deviceName: string; areaCode: string; occurrenceAt: number; state: string; startedAt: number | null; endedAt: number | null }> {
    if (broadcastIds.length === 0) return [];
    return this.db
      .prepare(
        `SELECT d.broadcast_id AS broadcastId, d.device_id AS deviceId, v.name AS deviceName, v.area_code AS areaCode, d.occurrence_at AS occurrenceAt, d.state AS state,
                (SELECT MIN(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'playing') AS startedAt,
                (SELECT MAX(e.at) FROM delivery_events e WHERE e.broadcast_id = d.broadcast_id AND e.device_id = d.device_id
                   AND e.occurrence_at = d.occurrence_at AND e.state = 'played') AS endedAt
         FROM deliveries d JOIN devices v ON v.id = d.device_id
         WHERE d.broadcast_id IN (SELECT value FROM json_each(?))
         ORDER BY d.occurrence_at, v.area_code, d.device_id`,
      )
      .all(JSON.stringify(broadcastIds)) as Array<{ broadcastId: string; deviceId: string; deviceName: string; areaCode: string; occurrenceAt: number; state: string; startedAt: number | null; endedAt: number | null }>;
  }

  /**
   * Emergency broadcasts made since `since` that are not a warning's (nor a live voice, which has no text),
   * newest first: the CAP feed's other entries. With `id`, that one broadcast only (any age).
   */
  emergencies(since: number, limit: number, id?: string): EmergencyRow[] {
    return this.db
      .prepare(
        `SELECT b.id AS id, b.target_json AS target, b.created_at AS createdAt, b.status AS status, t.text AS text, t.title AS title
         FROM broadcasts b JOIN bulletins t ON t.id = b.bulletin_id
         WHERE b.priority = 'emergency' AND b.status IN ('approved', 'cancelled') AND b.created_at >= @since AND (@id IS NULL OR b.id = @id)
           AND NOT EXISTS (SELECT 1 FROM warning_versions w WHERE w.broadcast_id = b.id)
           AND NOT EXISTS (SELECT 1 FROM warnings w WHERE w.broadcast_id = b.id)
         ORDER BY b.created_at DESC, b.id DESC LIMIT @limit`,
      )
      .all({ since, limit, id: id ?? null }) as EmergencyRow[];
  }
}

import type { Db } from '../db/database.js';
import type { Priority, DeliveryState } from '@loaxa/shared';
import type { OccurrenceException, Schedule } from '../scheduling/schedule.js';

export type BroadcastStatus = 'submitted' | 'approved' | 'rejected' | 'cancelled';

export interface BroadcastTarget {
  areaCodes?: string[];
  deviceIds?: string[];
}

export interface Broadcast {
  id: string;
  bulletinId: string;
  priority: Priority;
  target: BroadcastTarget;
  /** Null for a one-off broadcast at `startAt`. */
  schedule: Schedule | null;
  /** The first occurrence. */
  startAt: number;
  windowMs: number;
  status: BroadcastStatus;
  mediaBaseUrl: string;
  createdBy: string | null;
  createdAt: number;
  resumeMode: 'resume' | 'restart';
  decidedBy: string | null;
  decidedAt: number | null;
  decisionReason: string | null;
  materializedUntil: number;
}

export interface Delivery {
  broadcastId: string;
  deviceId: string;
  occurrenceAt: number;
  commandId: string;
  state: DeliveryState;
  at: number;
  reason: string | null;
}

interface BroadcastRow {
  id: string;
  bulletin_id: string;
  priority: Priority;
  target_json: string;
  schedule_json: string | null;
  start_at: number;
  window_ms: number;
  status: BroadcastStatus;
  media_base_url: string;
  created_by: string | null;
  created_at: number;
  resume_mode: 'resume' | 'restart';
  decided_by: string | null;
  decided_at: number | null;
  decision_reason: string | null;
  materialized_until: number;
}

interface DeliveryRow {
  broadcast_id: string;
  device_id: string;
  occurrence_at: number;
  command_id: string;
  state: DeliveryState;
  at: number;
  reason: string | null;
}

const toBroadcast = (r: BroadcastRow): Broadcast => ({
  id: r.id,
  bulletinId: r.bulletin_id,
  priority: r.priority,
  target: JSON.parse(r.target_json) as BroadcastTarget,
  schedule: r.schedule_json ? (JSON.parse(r.schedule_json) as Schedule) : null,
  startAt: r.start_at,
  windowMs: r.window_ms,
  status: r.status,
  mediaBaseUrl: r.media_base_url,
  createdBy: r.created_by,
  createdAt: r.created_at,
  resumeMode: r.resume_mode,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  decisionReason: r.decision_reason,
  materializedUntil: r.materialized_until,
});

const toDelivery = (r: DeliveryRow): Delivery => ({
  broadcastId: r.broadcast_id,
  deviceId: r.device_id,
  occurrenceAt: r.occurrence_at,
  commandId: r.command_id,
  state: r.state,
  at: r.at,
  reason: r.reason,
});

export class BroadcastRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly insertDeliveryStmt;
  private readonly deliveryStmt;
  private readonly setStateStmt;
  private readonly eventStmt;
  private readonly occurrenceStmt;
  private readonly nextOccurrenceStmt;
  private readonly lastOccurrenceStmt;
  private readonly pendingForDeviceStmt;
  private readonly overdueStmt;
  private readonly byCommandStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO broadcasts (id, bulletin_id, priority, target_json, schedule_json, start_at, window_ms, status, media_base_url, created_by, created_at,
         resume_mode, decided_by, decided_at, decision_reason, materialized_until)
       VALUES (@id, @bulletinId, @priority, @targetJson, @scheduleJson, @startAt, @windowMs, @status, @mediaBaseUrl, @createdBy, @createdAt,
         @resumeMode, @decidedBy, @decidedAt, @decisionReason, @materializedUntil)`,
    );
    this.getStmt = db.prepare<[string], BroadcastRow>('SELECT * FROM broadcasts WHERE id = ?');
    this.insertDeliveryStmt = db.prepare(
      `INSERT OR IGNORE INTO deliveries (broadcast_id, device_id, occurrence_at, command_id, state, at)
       VALUES (@broadcastId, @deviceId, @occurrenceAt, @commandId, 'queued', @at)`,
    );
    this.deliveryStmt = db.prepare<[string, string, number], DeliveryRow>(
      'SELECT * FROM deliveries WHERE broadcast_id = ? AND device_id = ? AND occurrence_at = ?',
    );
    this.setStateStmt = db.prepare(
      `UPDATE deliveries SET state = @state, at = @at, reason = @reason
       WHERE broadcast_id = @broadcastId AND device_id = @deviceId AND occurrence_at = @occurrenceAt`,
    );
    this.eventStmt = db.prepare(
      `INSERT INTO delivery_events (broadcast_id, device_id, occurrence_at, state, at, received_at, reason)
       VALUES (@broadcastId, @deviceId, @occurrenceAt, @state, @at, @receivedAt, @reason)`,
    );
    this.occurrenceStmt = db.prepare<[string, number], DeliveryRow>(
      'SELECT * FROM deliveries WHERE broadcast_id = ? AND occurrence_at = ? ORDER BY device_id',
    );
    this.nextOccurrenceStmt = db.prepare<[string, number], { occ: number | null }>(
      'SELECT MIN(occurrence_at) AS occ FROM deliveries WHERE broadcast_id = ? AND occurrence_at >= ?',
    );
    this.lastOccurrenceStmt = db.prepare<[string], { occ: number | null }>(
      'SELECT MAX(occurrence_at) AS occ FROM deliveries WHERE broadcast_id = ?',
    );
    this.pendingForDeviceStmt = db.prepare<[string], DeliveryRow>(
      `SELECT * FROM deliveries WHERE device_id = ? AND state IN ('queued', 'sent', 'acknowledged', 'cached') ORDER BY occurrence_at`,
    );
    this.byCommandStmt = db.prepare<[string, string], DeliveryRow>('SELECT * FROM deliveries WHERE command_id = ? AND device_id = ?');
    this.overdueStmt = db.prepare<[number], DeliveryRow & { window_ms: number }>(
      `SELECT d.*, b.window_ms FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.state IN ('queued', 'sent') AND d.occurrence_at + b.window_ms < ?`,
    );
  }

  /** Stores a broadcast and its queued deliveries in one transaction. */
  insertWithDeliveries(b: Broadcast, deliveries: Array<{ deviceId: string; occurrenceAt: number; commandId: string }>): void {
    this.db.transaction(() => {
      this.insertStmt.run({
        ...b,
        targetJson: JSON.stringify(b.target),
        scheduleJson: b.schedule == null ? null : JSON.stringify(b.schedule),
      });
      for (const d of deliveries) this.insertDeliveryStmt.run({ broadcastId: b.id, ...d, at: b.createdAt });
    })();
  }

  get(id: string): Broadcast | null {
    const r = this.getStmt.get(id);
    return r ? toBroadcast(r) : null;
  }

  delivery(broadcastId: string, deviceId: string, occurrenceAt: number): Delivery | null {
    const r = this.deliveryStmt.get(broadcastId, deviceId, occurrenceAt);
    return r ? toDelivery(r) : null;
  }

  /** Records a transition: the current state and the as-run log row, together. */
  transition(d: { broadcastId: string; deviceId: string; occurrenceAt: number; state: DeliveryState; at: number; reason: string | null }, receivedAt = Date.now()): void {
    this.db.transaction(() => {
      this.setStateStmt.run(d);
      this.eventStmt.run({ ...d, receivedAt });
    })();
  }

  deliveries(broadcastId: string, occurrenceAt: number): Delivery[] {
    return this.occurrenceStmt.all(broadcastId, occurrenceAt).map(toDelivery);
  }

  /** The next or current occurrence: the first not before `now - windowMs`, else the last one. */
  currentOccurrence(broadcastId: string, since: number): number | null {
    return this.nextOccurrenceStmt.get(broadcastId, since)?.occ ?? this.lastOccurrenceStmt.get(broadcastId)?.occ ?? null;
  }

  byCommand(commandId: string, deviceId: string): Delivery | null {
    const r = this.byCommandStmt.get(commandId, deviceId);
    return r ? toDelivery(r) : null;
  }

  pendingForDevice(deviceId: string): Delivery[] {
    return this.pendingForDeviceStmt.all(deviceId).map(toDelivery);
  }

  /** Deliveries that never reached their device before their window closed. */
  overdue(now: number): Delivery[] {
    return this.overdueStmt.all(now).map(toDelivery);
  }

  /** Inserts deliveries that do not exist yet; answers how many were new. */
  insertDeliveries(broadcastId: string, rows: Array<{ deviceId: string; occurrenceAt: number; commandId: string }>, now = Date.now()): number {
    let n = 0;
    this.db.transaction(() => {
      for (const r of rows) n += this.insertDeliveryStmt.run({ broadcastId, ...r, at: now }).changes;
    })();
    return n;
  }

  setMaterializedUntil(id: string, until: number): void {
    this.db.prepare('UPDATE broadcasts SET materialized_until = ? WHERE id = ?').run(until, id);
  }

  /** Approved broadcasts whose occurrences may still lie ahead. */
  active(): Broadcast[] {
    return (this.db.prepare(`SELECT * FROM broadcasts WHERE status = 'approved'`).all() as BroadcastRow[]).map(toBroadcast);
  }

  byStatus(status: BroadcastStatus, limit: number, afterId?: string): Broadcast[] {
    const rows = this.db
      .prepare(`SELECT * FROM broadcasts WHERE status = ? ${afterId ? 'AND id > ?' : ''} ORDER BY id LIMIT ?`)
      .all(...(afterId ? [status, afterId, limit] : [status, limit])) as BroadcastRow[];
    return rows.map(toBroadcast);
  }

  decide(id: string, status: 'approved' | 'rejected' | 'cancelled', userId: string | null, reason: string | null, now = Date.now()): void {
    this.db
      .prepare('UPDATE broadcasts SET status = @status, decided_by = @userId, decided_at = @now, decision_reason = @reason WHERE id = @id')
      .run({ id, status, userId, reason, now });
  }

  exceptions(broadcastId: string): OccurrenceException[] {
    const rows = this.db
      .prepare('SELECT occurrence_at, action, moved_to FROM occurrence_exceptions WHERE broadcast_id = ? ORDER BY occurrence_at')
      .all(broadcastId) as Array<{ occurrence_at: number; action: 'cancel' | 'move'; moved_to: number | null }>;
    return rows.map((r) => (r.action === 'move' ? { occurrenceAt: r.occurrence_at, action: 'move', to: r.moved_to! } : { occurrenceAt: r.occurrence_at, action: 'cancel' }));
  }

  addException(broadcastId: string, e: OccurrenceException, userId: string | null, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO occurrence_exceptions (broadcast_id, occurrence_at, action, moved_to, created_by, created_at)
         VALUES (@broadcastId, @occurrenceAt, @action, @movedTo, @userId, @now)
         ON CONFLICT(broadcast_id, occurrence_at) DO UPDATE SET action = excluded.action, moved_to = excluded.moved_to,
           created_by = excluded.created_by, created_at = excluded.created_at`,
      )
      .run({ broadcastId, occurrenceAt: e.occurrenceAt, action: e.action, movedTo: e.action === 'move' ? e.to : null, userId, now });
  }

  /** Not-yet-final deliveries of a broadcast (one occurrence, or all), for cancelling. */
  openDeliveries(broadcastId: string, occurrenceAt?: number): Delivery[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM deliveries WHERE broadcast_id = ? ${occurrenceAt === undefined ? '' : 'AND occurrence_at = ?'}
         AND state IN ('queued', 'sent', 'acknowledged', 'cached', 'playing')`,
      )
      .all(...(occurrenceAt === undefined ? [broadcastId] : [broadcastId, occurrenceAt])) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /** Queued deliveries of approved broadcasts due within `until` whose window is still open. */
  queuedDue(now: number, until: number): Delivery[] {
    return (
      this.db
        .prepare(
          `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
           WHERE d.state = 'queued' AND b.status = 'approved' AND d.occurrence_at <= ? AND d.occurrence_at + b.window_ms >= ?
           ORDER BY d.occurrence_at`,
        )
        .all(until, now) as DeliveryRow[]
    ).map(toDelivery);
  }

  /** Cancelled deliveries of a device whose item could still play: the device must be told to drop them. */
  cancelledOpenForDevice(deviceId: string, now: number): Delivery[] {
    return (
      this.db
        .prepare(
          `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
           WHERE d.device_id = ? AND d.state = 'cancelled' AND d.occurrence_at + b.window_ms >= ?`,
        )
        .all(deviceId, now) as DeliveryRow[]
    ).map(toDelivery);
  }

  /** Planned items on these devices in [from, to), with what conflict detection needs. */
  plannedOn(deviceIds: string[], from: number, to: number): Array<Delivery & { priority: Priority; durationMs: number }> {
    if (deviceIds.length === 0) return [];
    return (
      this.db
        .prepare(
          `SELECT d.*, b.priority AS priority, COALESCE(t.duration_ms, 0) AS duration_ms FROM deliveries d
           JOIN broadcasts b ON b.id = d.broadcast_id JOIN bulletins t ON t.id = b.bulletin_id
           WHERE d.device_id IN (SELECT value FROM json_each(?)) AND b.status IN ('approved', 'submitted')
             AND d.state IN ('queued', 'sent', 'acknowledged', 'cached', 'playing')
             AND d.occurrence_at < ? AND d.occurrence_at + COALESCE(t.duration_ms, 0) > ?`,
        )
        .all(JSON.stringify(deviceIds), to, from) as Array<DeliveryRow & { priority: Priority; duration_ms: number }>
    ).map((r) => ({ ...toDelivery(r), priority: r.priority, durationMs: r.duration_ms }));
  }

  /** Distinct occurrences written as deliveries in [from, to). */
  occurrenceTimes(broadcastId: string, from: number, to: number): number[] {
    return (
      this.db
        .prepare('SELECT DISTINCT occurrence_at AS o FROM deliveries WHERE broadcast_id = ? AND occurrence_at >= ? AND occurrence_at < ? ORDER BY o')
        .all(broadcastId, from, to) as Array<{ o: number }>
    ).map((r) => r.o);
  }

  /** A device's deliveries still to play, from `from` to `to`: its agenda. */
  upcomingForDevice(deviceId: string, from: number, to: number): Delivery[] {
    return (
      this.db
        .prepare(
          `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
           WHERE d.device_id = ? AND b.status = 'approved' AND d.state IN ('queued', 'sent', 'acknowledged', 'cached')
             AND d.occurrence_at + b.window_ms >= ? AND d.occurrence_at < ?
           ORDER BY d.occurrence_at, d.broadcast_id`,
        )
        .all(deviceId, from, to) as DeliveryRow[]
    ).map(toDelivery);
  }
}

import type { Db } from '../db/database.js';
import type { Priority, DeliveryState } from '@loaxa/shared';

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
  schedule: unknown;
  startAt: number;
  windowMs: number;
  status: BroadcastStatus;
  mediaBaseUrl: string;
  createdBy: string | null;
  createdAt: number;
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
  schedule: r.schedule_json ? (JSON.parse(r.schedule_json) as unknown) : null,
  startAt: r.start_at,
  windowMs: r.window_ms,
  status: r.status,
  mediaBaseUrl: r.media_base_url,
  createdBy: r.created_by,
  createdAt: r.created_at,
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
      `INSERT INTO broadcasts (id, bulletin_id, priority, target_json, schedule_json, start_at, window_ms, status, media_base_url, created_by, created_at)
       VALUES (@id, @bulletinId, @priority, @targetJson, @scheduleJson, @startAt, @windowMs, @status, @mediaBaseUrl, @createdBy, @createdAt)`,
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
}

/**
 * Broadcasts, their occurrence exceptions and their per-box deliveries (ARCHITECTURE.md § Delivery states).
 * One repository, and so over 300 lines, because a broadcast and its deliveries are written in one
 * transaction (`insertWithDeliveries`, `decide`) and the scheduler's and delivery service's questions are
 * each one named statement prepared once here, where the indexes they rely on (migrations.ts) can be read
 * next to them.
 */
import type { Db } from '../db/database.js';
import type { Priority, DeliveryState } from '@loaxa/shared';
import type { OccurrenceException, Schedule } from '../scheduling/schedule.js';
import { registerFold } from './search-fold.js';

export type BroadcastStatus = 'submitted' | 'approved' | 'rejected' | 'cancelled';

/** The list's filters besides status (routes/broadcasts.ts). */
export interface BroadcastListFilter {
  priority?: Priority | undefined;
  fromMs?: number | null;
  toMs?: number | null;
  /** Each must be in the bulletin's title, folded (searchWords in @loaxa/shared). */
  words?: readonly string[];
}

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

/** One state change of one delivery, as stored (state + the as-run log row). */
export interface Transition {
  broadcastId: string;
  deviceId: string;
  occurrenceAt: number;
  state: DeliveryState;
  at: number;
  reason: string | null;
  /** A relay's `played`: the ms the box actually aired (issue 15); kept when absent. */
  airedMs?: number | null;
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
  private readonly nextAnyOccurrenceStmt;
  private readonly lastOccurrenceStmt;
  private readonly pendingForDeviceStmt;
  private readonly overdueStmt;
  private readonly byCommandStmt;
  private readonly queuedDueStmt;
  private readonly queuedDueOnlineStmt;
  private readonly emergenciesDueStmt;
  private readonly pendingForDevicesStmt;
  private readonly cancelledOpenStmt;
  private readonly cancelledOpenForDevicesStmt;
  private readonly upcomingStmt;
  private readonly upcomingForDevicesStmt;
  private readonly materializedStmt;

  constructor(private readonly db: Db) {
    registerFold(db);
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
      `UPDATE deliveries SET state = @state, at = @at, reason = @reason, aired_ms = CASE
         -- Issue 15 review (5): a box's own count of aired ms only means something for the played report of a
         -- relay, and never more than the relay's length; any other report keeps the as-run of a file play intact.
         WHEN @airedMs IS NOT NULL AND @state = 'played' AND t.relay_source_id IS NOT NULL THEN MIN(@airedMs, COALESCE(t.duration_ms, @airedMs))
         ELSE aired_ms END
       FROM broadcasts b JOIN bulletins t ON t.id = b.bulletin_id
       WHERE b.id = deliveries.broadcast_id AND deliveries.broadcast_id = @broadcastId AND deliveries.device_id = @deviceId AND deliveries.occurrence_at = @occurrenceAt`,
    );
    this.eventStmt = db.prepare(
      `INSERT INTO delivery_events (broadcast_id, device_id, occurrence_at, state, at, received_at, reason)
       VALUES (@broadcastId, @deviceId, @occurrenceAt, @state, @at, @receivedAt, @reason)`,
    );
    this.occurrenceStmt = db.prepare<[string, number], DeliveryRow>(
      'SELECT * FROM deliveries WHERE broadcast_id = ? AND occurrence_at = ? ORDER BY device_id',
    );
    // Issue 20, broken 2: the next occurrence that still airs somewhere; one cancelled on every box is skipped
    // (its page kept offering to cancel or move it again), unless nothing else is left.
    this.nextOccurrenceStmt = db.prepare<[string, number], { occ: number | null }>(
      "SELECT MIN(occurrence_at) AS occ FROM deliveries WHERE broadcast_id = ? AND occurrence_at >= ? AND state != 'cancelled'",
    );
    this.nextAnyOccurrenceStmt = db.prepare<[string, number], { occ: number | null }>(
      'SELECT MIN(occurrence_at) AS occ FROM deliveries WHERE broadcast_id = ? AND occurrence_at >= ?',
    );
    this.lastOccurrenceStmt = db.prepare<[string], { occ: number | null }>(
      'SELECT MAX(occurrence_at) AS occ FROM deliveries WHERE broadcast_id = ?',
    );
    this.pendingForDeviceStmt = db.prepare<[string], DeliveryRow>(
      `SELECT * FROM deliveries WHERE device_id = ? AND state IN ('queued', 'sent', 'acknowledged', 'cached') ORDER BY occurrence_at`,
    );
    this.byCommandStmt = db.prepare<[string, string], DeliveryRow>('SELECT * FROM deliveries WHERE command_id = ? AND device_id = ?');
    // `d.occurrence_at < @now` follows from the window condition (windows are positive) and lets the index
    // skip the items still ahead: every tick read all 140,000 rows of a daily item to 10,000 boxes without it.
    this.overdueStmt = db.prepare<{ now: number }, DeliveryRow & { window_ms: number }>(
      `SELECT d.*, b.window_ms FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.state IN ('queued', 'sent') AND d.occurrence_at < @now AND d.occurrence_at + b.window_ms < @now`,
    );
    // The per-device queries below also come in a many-devices form: a connect storm or an emergency to
    // 10,000 boxes asks once for all of them instead of 10,000 times (issue 8 § Make it fast). CROSS JOIN
    // keeps the device list as the outer loop, so each device is one index search (deliveries_device_state);
    // left to itself the planner scanned every open delivery once per call.
    this.queuedDueStmt = db.prepare<[number, number], DeliveryRow>(
      `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.state = 'queued' AND b.status = 'approved' AND d.occurrence_at <= ? AND d.occurrence_at + b.window_ms >= ?
       ORDER BY d.occurrence_at`,
    );
    // Offline boxes' items stay queued until they reconnect: each scheduler tick must not read them all
    // again (a daily item to 10,000 boxes of which a tenth are offline is 2,000 rows every 30 s).
    this.queuedDueOnlineStmt = db.prepare<[number, number], DeliveryRow>(
      `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id JOIN devices v ON v.id = d.device_id
       WHERE d.state = 'queued' AND b.status = 'approved' AND v.online = 1 AND d.occurrence_at <= ? AND d.occurrence_at + b.window_ms >= ?
       ORDER BY d.occurrence_at`,
    );
    this.emergenciesDueStmt = db.prepare<[number, number], { broadcast_id: string; occurrence_at: number }>(
      `SELECT DISTINCT d.broadcast_id, d.occurrence_at FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.state = 'queued' AND b.status = 'approved' AND b.priority = 'emergency' AND d.occurrence_at <= ? AND d.occurrence_at + b.window_ms >= ?`,
    );
    this.pendingForDevicesStmt = db.prepare<[string], DeliveryRow>(
      `SELECT d.* FROM json_each(?) j CROSS JOIN deliveries d ON d.device_id = j.value
       WHERE d.state IN ('queued', 'sent', 'acknowledged', 'cached') ORDER BY d.device_id, d.occurrence_at`,
    );
    this.cancelledOpenStmt = db.prepare<[string, number], DeliveryRow>(
      `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.device_id = ? AND d.state = 'cancelled' AND d.occurrence_at + b.window_ms >= ?`,
    );
    this.cancelledOpenForDevicesStmt = db.prepare<[string, number], DeliveryRow>(
      `SELECT d.* FROM json_each(?) j CROSS JOIN deliveries d ON d.device_id = j.value JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.state = 'cancelled' AND d.occurrence_at + b.window_ms >= ?`,
    );
    this.upcomingStmt = db.prepare<[string, number, number], DeliveryRow>(
      `SELECT d.* FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE d.device_id = ? AND b.status = 'approved' AND d.state IN ('queued', 'sent', 'acknowledged', 'cached')
         AND d.occurrence_at + b.window_ms >= ? AND d.occurrence_at < ?
       ORDER BY d.occurrence_at, d.broadcast_id`,
    );
    this.upcomingForDevicesStmt = db.prepare<[string, number, number], DeliveryRow>(
      `SELECT d.* FROM json_each(?) j CROSS JOIN deliveries d ON d.device_id = j.value JOIN broadcasts b ON b.id = d.broadcast_id
       WHERE b.status = 'approved' AND d.state IN ('queued', 'sent', 'acknowledged', 'cached')
         AND d.occurrence_at + b.window_ms >= ? AND d.occurrence_at < ?
       ORDER BY d.device_id, d.occurrence_at, d.broadcast_id`,
    );
    this.materializedStmt = db.prepare('UPDATE broadcasts SET materialized_until = ? WHERE id = ?');
  }

  /** Runs `fn` in one transaction (many reads and writes, one commit). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
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
  transition(d: Transition, receivedAt = Date.now()): void {
    this.transitionMany([d], receivedAt);
  }

  /** Many transitions in one transaction (an emergency marks 10,000 deliveries `sent` at once). */
  transitionMany(list: readonly Transition[], receivedAt = Date.now()): void {
    if (list.length === 0) return;
    this.db.transaction(() => {
      for (const d of list) {
        this.setStateStmt.run(d.airedMs === undefined ? { ...d, airedMs: null } : d);
        this.eventStmt.run({ ...d, receivedAt });
      }
    })();
  }

  deliveries(broadcastId: string, occurrenceAt: number): Delivery[] {
    return this.occurrenceStmt.all(broadcastId, occurrenceAt).map(toDelivery);
  }

  /** The next or current occurrence: the first not before `now - windowMs`, else the last one. */
  currentOccurrence(broadcastId: string, since: number): number | null {
    return this.nextOccurrenceStmt.get(broadcastId, since)?.occ ?? this.nextAnyOccurrenceStmt.get(broadcastId, since)?.occ ?? this.lastOccurrenceStmt.get(broadcastId)?.occ ?? null;
  }

  byCommand(commandId: string, deviceId: string): Delivery | null {
    const r = this.byCommandStmt.get(commandId, deviceId);
    return r ? toDelivery(r) : null;
  }

  pendingForDevice(deviceId: string): Delivery[] {
    return this.pendingForDeviceStmt.all(deviceId).map(toDelivery);
  }

  /** `pendingForDevice` for many devices at once, by device then occurrence. */
  pendingForDevices(deviceIds: readonly string[]): Delivery[] {
    if (deviceIds.length === 0) return [];
    return this.pendingForDevicesStmt.all(JSON.stringify([...new Set(deviceIds)])).map(toDelivery);
  }

  /** Deliveries that never reached their device before their window closed. */
  overdue(now: number): Delivery[] {
    return this.overdueStmt.all({ now }).map(toDelivery);
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
    this.materializedStmt.run(until, id);
  }

  /** Approved broadcasts whose occurrences may still lie ahead. */
  active(): Broadcast[] {
    return (this.db.prepare(`SELECT * FROM broadcasts WHERE status = 'approved'`).all() as BroadcastRow[]).map(toBroadcast);
  }

  /** The broadcasts of one bulletin, newest first (who sees one of them may read the bulletin: auth/objects.ts). */
  ofBulletin(bulletinId: string, limit = 1000): Broadcast[] {
    return (this.db.prepare('SELECT * FROM broadcasts WHERE bulletin_id = ? ORDER BY created_at DESC LIMIT ?').all(bulletinId, limit) as BroadcastRow[]).map(toBroadcast);
  }

  /**
   * The broadcasts list's batch (issue 20, search and filters): by status (all when null), priority, words of
   * the bulletin's title, a first airing in `[fromMs, toMs)`, after `afterId`; the route then keeps those the
   * caller may see. `loaxa_fold` folds case beyond ASCII (search-fold.ts).
   */
  byStatus(status: BroadcastStatus | null, limit: number, afterId?: string, filter: BroadcastListFilter = {}): Broadcast[] {
    const rows = this.db
      .prepare(
        `SELECT br.* FROM broadcasts br ${filter.words?.length ? 'JOIN bulletins bt ON bt.id = br.bulletin_id' : ''}
         WHERE (@status IS NULL OR br.status = @status) AND (@afterId IS NULL OR br.id > @afterId)
           AND (@priority IS NULL OR br.priority = @priority)
           AND (@fromMs IS NULL OR br.start_at >= @fromMs) AND (@toMs IS NULL OR br.start_at < @toMs)
           ${filter.words?.length ? 'AND NOT EXISTS (SELECT 1 FROM json_each(@words) w WHERE instr(loaxa_fold(bt.title), w.value) = 0)' : ''}
         ORDER BY br.id LIMIT @limit`,
      )
      .all({
        status,
        afterId: afterId ?? null,
        priority: filter.priority ?? null,
        fromMs: filter.fromMs ?? null,
        toMs: filter.toMs ?? null,
        ...(filter.words?.length ? { words: JSON.stringify(filter.words) } : {}),
        limit,
      }) as BroadcastRow[];
    return rows.map(toBroadcast);
  }

  /** Moves a submitted one-off's start (it airs when approved: BroadcastService.decide). */
  startAt(id: string, at: number): void {
    this.db.prepare("UPDATE broadcasts SET start_at = ? WHERE id = ? AND status = 'submitted' AND schedule_json IS NULL").run(at, id);
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
    return this.queuedDueStmt.all(until, now).map(toDelivery);
  }

  /** `queuedDue` of the devices marked online (the caller writes pending statuses first). */
  queuedDueOnline(now: number, until: number): Delivery[] {
    return this.queuedDueOnlineStmt.all(until, now).map(toDelivery);
  }

  /** Occurrences of approved emergency broadcasts with a queued delivery due within `until`. */
  emergenciesDue(now: number, until: number): Array<{ broadcastId: string; occurrenceAt: number }> {
    return this.emergenciesDueStmt.all(until, now).map((r) => ({ broadcastId: r.broadcast_id, occurrenceAt: r.occurrence_at }));
  }

  /** Cancelled deliveries of a device whose item could still play: the device must be told to drop them. */
  cancelledOpenForDevice(deviceId: string, now: number): Delivery[] {
    return this.cancelledOpenStmt.all(deviceId, now).map(toDelivery);
  }

  cancelledOpenForDevices(deviceIds: readonly string[], now: number): Delivery[] {
    if (deviceIds.length === 0) return [];
    return this.cancelledOpenForDevicesStmt.all(JSON.stringify([...new Set(deviceIds)]), now).map(toDelivery);
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
    return this.upcomingStmt.all(deviceId, from, to).map(toDelivery);
  }

  /** `upcomingForDevice` for many devices at once, by device, then as for one. */
  upcomingForDevices(deviceIds: readonly string[], from: number, to: number): Delivery[] {
    if (deviceIds.length === 0) return [];
    return this.upcomingForDevicesStmt.all(JSON.stringify([...new Set(deviceIds)]), from, to).map(toDelivery);
  }
}

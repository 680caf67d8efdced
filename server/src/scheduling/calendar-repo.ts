/**
 * The calendar's questions to SQLite (issue 20, the week calendar), each one statement: which broadcasts
 * may have airings in a range, what the boxes of an area (or one box) did with them, and the series move's
 * write of a broadcast's schedule.
 */
import type { Db } from '../db/database.js';
import type { DeliveryState } from '@loaxa/shared';
import type { Schedule } from './schedule.js';

export interface DeliveryTally {
  broadcastId: string;
  occurrenceAt: number;
  state: DeliveryState;
  n: number;
}

export class CalendarRepository {
  private readonly candidatesStmt;
  private readonly tallyAreaStmt;
  private readonly tallyDeviceStmt;
  private readonly setScheduleStmt;

  constructor(db: Db) {
    // A recurring broadcast begun before the range's end may air in it; a one-off only when it starts inside
    // the range or one of its airings was moved into it. Rejected ones never air. A broadcast cancelled as a
    // whole is kept: its airings show as cancelled (the caller limits them to what the boxes had been given).
    this.candidatesStmt = db.prepare<{ from: number; to: number }, { id: string }>(
      `SELECT id FROM broadcasts WHERE status IN ('approved', 'submitted', 'cancelled') AND start_at < @to AND (
         schedule_json IS NOT NULL OR start_at >= @from - window_ms
         OR id IN (SELECT broadcast_id FROM occurrence_exceptions WHERE action = 'move' AND moved_to >= @from AND moved_to < @to))
       ORDER BY start_at, id`,
    );
    // The deliveries' primary key (broadcast_id, device_id, occurrence_at) is searched once per broadcast.
    this.tallyAreaStmt = db.prepare<[string, number, number, string], DeliveryTally>(
      `SELECT d.broadcast_id AS broadcastId, d.occurrence_at AS occurrenceAt, d.state AS state, COUNT(*) AS n
       FROM deliveries d JOIN devices v ON v.id = d.device_id
       WHERE d.broadcast_id IN (SELECT value FROM json_each(?)) AND d.occurrence_at >= ? AND d.occurrence_at < ?
         AND v.area_code IN (SELECT value FROM json_each(?))
       GROUP BY d.broadcast_id, d.occurrence_at, d.state`,
    );
    this.tallyDeviceStmt = db.prepare<[string, number, number, string], DeliveryTally>(
      `SELECT d.broadcast_id AS broadcastId, d.occurrence_at AS occurrenceAt, d.state AS state, COUNT(*) AS n
       FROM deliveries d
       WHERE d.broadcast_id IN (SELECT value FROM json_each(?)) AND d.occurrence_at >= ? AND d.occurrence_at < ? AND d.device_id = ?
       GROUP BY d.broadcast_id, d.occurrence_at, d.state`,
    );
    this.setScheduleStmt = db.prepare("UPDATE broadcasts SET schedule_json = ?, start_at = ? WHERE id = ? AND status IN ('approved', 'submitted')");
  }

  candidates(from: number, to: number): string[] {
    return this.candidatesStmt.all({ from, to }).map((r) => r.id);
  }

  /** Per broadcast, airing and state, how many of the boxes (of `areaCodes`, or the one `deviceId`) hold it so. */
  tally(broadcastIds: readonly string[], from: number, to: number, where: { areaCodes: readonly string[] } | { deviceId: string }): DeliveryTally[] {
    if (broadcastIds.length === 0) return [];
    const ids = JSON.stringify(broadcastIds);
    return 'deviceId' in where ? this.tallyDeviceStmt.all(ids, from, to, where.deviceId) : this.tallyAreaStmt.all(ids, from, to, JSON.stringify(where.areaCodes));
  }

  /** The series move's write; false when the broadcast is no longer approved or submitted. */
  setSchedule(id: string, schedule: Schedule, startAt: number): boolean {
    return this.setScheduleStmt.run(JSON.stringify(schedule), startAt, id).changes === 1;
  }
}

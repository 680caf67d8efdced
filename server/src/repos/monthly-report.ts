/**
 * What the monthly report (issue 20) reads beyond the as-run log, the relay log and coverage: the faults of an
 * area's boxes that overlap a month, and the disaster warnings taken during it. SQL stays here (STYLE.md 10).
 */
import type { Db } from '../db/database.js';

export interface MonthFault {
  deviceId: string;
  kind: string;
  startedAt: number;
  endedAt: number | null;
}

export interface MonthWarning {
  id: string;
  /** The communes the warning reaches (codes), as stored with it. */
  communeCodes: string[];
  aired: boolean;
}

export class MonthlyReportRepository {
  private readonly faultsStmt;
  private readonly warningsStmt;

  constructor(db: Db) {
    this.faultsStmt = db.prepare<[string, number, number], { deviceId: string; kind: string; startedAt: number; endedAt: number | null }>(
      `SELECT f.device_id AS deviceId, f.kind AS kind, f.started_at AS startedAt, f.ended_at AS endedAt
         FROM device_faults f JOIN devices v ON v.id = f.device_id
        WHERE v.area_code IN (SELECT value FROM json_each(?)) AND f.started_at < ? AND (f.ended_at IS NULL OR f.ended_at >= ?)
        ORDER BY f.started_at`,
    );
    this.warningsStmt = db.prepare<[number, number], { id: string; communes: string; broadcastId: string | null }>(
      'SELECT id, communes, broadcast_id AS broadcastId FROM warnings WHERE created_at >= ? AND created_at < ? ORDER BY created_at',
    );
  }

  /** Faults of boxes in `areaCodes` open at some instant of [from, to). */
  faultsOverlapping(areaCodes: readonly string[], from: number, to: number): MonthFault[] {
    if (areaCodes.length === 0) return [];
    return this.faultsStmt.all(JSON.stringify(areaCodes), to, from);
  }

  /** Warnings taken in [from, to) (all areas: a warning's communes are JSON, the caller keeps those of its area). */
  warningsTaken(from: number, to: number): MonthWarning[] {
    return this.warningsStmt.all(from, to).map((r) => {
      let communeCodes: string[] = [];
      try {
        const parsed = JSON.parse(r.communes) as Array<{ code?: unknown }>;
        communeCodes = parsed.map((c) => (typeof c.code === 'string' ? c.code : '')).filter(Boolean);
      } catch {
        // A row written by a broken version reaches no commune the report can name.
      }
      return { id: r.id, communeCodes, aired: r.broadcastId !== null };
    });
  }
}

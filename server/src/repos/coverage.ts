import type { Db } from '../db/database.js';

/** One province's coverage as measured at one instant (the dashboard's trend). */
export interface CoverageSnapshot {
  areaCode: string;
  at: number;
  communes: number;
  installed: number;
  working: number;
  installedPct: number;
  workingPct: number;
}

/** Coverage snapshots, persisted every few minutes by CoverageService so the trend is what was measured. */
export class CoverageSnapshotRepository {
  private readonly insertStmt;
  private readonly trendStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string, number, number, number, number, number, number]>(
      'INSERT OR REPLACE INTO coverage_snapshots (area_code, at, communes, installed, working, installed_pct, working_pct) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.trendStmt = db.prepare<[string, number, number], { at: number; installed_pct: number; working_pct: number }>(
      'SELECT at, installed_pct, working_pct FROM coverage_snapshots WHERE area_code = ? AND at >= ? AND at < ? ORDER BY at',
    );
  }

  /** Stores a snapshot (one instant of an area: a second one replaces it). */
  save(s: CoverageSnapshot): void {
    this.insertStmt.run(s.areaCode, s.at, s.communes, s.installed, s.working, s.installedPct, s.workingPct);
  }

  /** An area's snapshots in [from, to), oldest first. */
  between(areaCode: string, from: number, to: number): Array<{ at: number; installedPct: number; workingPct: number }> {
    return this.trendStmt.all(areaCode, from, to).map((r) => ({ at: r.at, installedPct: r.installed_pct, workingPct: r.working_pct }));
  }
}

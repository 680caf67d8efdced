/**
 * The counts `GET /metrics` reads from the database on each scrape: boxes by province, open faults by kind,
 * recent deliveries by state, the national outbox's backlog. Each is one indexed query; a scrape every 15 s
 * must cost the server nothing it would notice at 10,000 boxes.
 */
import { DELIVERY_STATES, FAULT_KINDS, type DeliveryState } from '@loaxa/shared';
import type { Db } from '../db/database.js';

export interface ProvinceBoxes {
  /** The province's area code; `none` for a box whose area has no province above it. */
  province: string;
  registered: number;
  online: number;
}

export class OpsCountRepository {
  private readonly boxesStmt;
  private readonly faultsStmt;
  private readonly deliveriesStmt;
  private readonly outboxStmt;
  private readonly inventoryStmt;

  constructor(db: Db) {
    // Down from each province through its subtree: the areas table is a few thousand rows per province, and
    // provinces are the label, so the series stay at ~34 whatever the number of boxes. Revoked boxes are gone.
    this.boxesStmt = db.prepare<[], { province: string; registered: number; online: number }>(
      `WITH RECURSIVE tree(code, province) AS (
         SELECT code, code FROM areas WHERE level = 'province'
         UNION ALL
         SELECT a.code, tree.province FROM areas a JOIN tree ON a.parent_code = tree.code
       )
       SELECT COALESCE(tree.province, 'none') AS province, COUNT(*) AS registered, COALESCE(SUM(d.online), 0) AS online
       FROM devices d LEFT JOIN tree ON tree.code = d.area_code
       WHERE d.revoked_at IS NULL
       GROUP BY 1`,
    );
    this.faultsStmt = db.prepare<[], { kind: string; n: number }>('SELECT kind, COUNT(*) AS n FROM device_faults WHERE ended_at IS NULL GROUP BY kind');
    // One range of the (state, occurrence_at) index per state: the table keeps every delivery ever made
    // (10,000 boxes × a few bulletins a day is millions a year), so a plain GROUP BY would scan them all.
    this.deliveriesStmt = db.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM deliveries WHERE state = ? AND occurrence_at >= ?');
    this.inventoryStmt = db.prepare<[], Record<string, number>>(
      `SELECT (SELECT COUNT(*) FROM devices) AS devices, (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM bulletins) AS bulletins,
              (SELECT COUNT(*) FROM broadcasts) AS broadcasts, (SELECT COUNT(*) FROM deliveries) AS deliveries, (SELECT COUNT(*) FROM areas) AS areas`,
    );
    this.outboxStmt = db.prepare<[], { n: number; oldest: number | null }>("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM national_outbox WHERE state = 'pending'");
  }

  boxesByProvince(): ProvinceBoxes[] {
    return this.boxesStmt.all();
  }

  /** Every fault kind a box can report (the message catalog's enum), zero when none is open. */
  openFaultsByKind(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
    for (const r of this.faultsStmt.all()) out[r.kind] = r.n;
    return out;
  }

  /** Deliveries whose occurrence is at or after `since` (ms), by their current state; every state present. */
  deliveriesByState(since: number): Record<DeliveryState, number> {
    return Object.fromEntries(DELIVERY_STATES.map((s) => [s, this.deliveriesStmt.get(s, since)?.n ?? 0])) as Record<DeliveryState, number>;
  }

  /** How many of each thing the database holds (a backup's manifest, a restore's report). */
  inventory(): Record<string, number> {
    return { ...this.inventoryStmt.get() };
  }

  /** Events of the national link not yet accepted upstream, and the creation time (ms) of the oldest. */
  outboxPending(): { pending: number; oldestAt: number | null } {
    const r = this.outboxStmt.get();
    return { pending: r?.n ?? 0, oldestAt: r?.oldest ?? null };
  }
}

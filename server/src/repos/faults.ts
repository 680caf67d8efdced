import type { Db } from '../db/database.js';

export interface DeviceFault {
  id: number;
  deviceId: string;
  kind: string;
  startedAt: number;
  endedAt: number | null;
  detail: string | null;
}

interface Row {
  id: number;
  device_id: string;
  kind: string;
  started_at: number;
  ended_at: number | null;
  detail: string | null;
}

const toFault = (r: Row): DeviceFault => ({ id: r.id, deviceId: r.device_id, kind: r.kind, startedAt: r.started_at, endedAt: r.ended_at, detail: r.detail });

/** Faults as intervals: a report that a fault began opens one, a report that it ended closes it. */
export class FaultRepository {
  private readonly openStmt;
  private readonly insertStmt;
  private readonly closeStmt;

  constructor(private readonly db: Db) {
    this.openStmt = db.prepare<[string, string], Row>('SELECT * FROM device_faults WHERE device_id = ? AND kind = ? AND ended_at IS NULL');
    this.insertStmt = db.prepare('INSERT INTO device_faults (device_id, kind, started_at, detail, received_at) VALUES (?, ?, ?, ?, ?)');
    this.closeStmt = db.prepare('UPDATE device_faults SET ended_at = ? WHERE id = ?');
  }

  /**
   * Applies one report. Reports are at-least-once and may repeat (QoS 1), so a start while the same fault is
   * open, or an end with nothing open, changes nothing. Answers whether the store changed.
   */
  report(deviceId: string, kind: string, active: boolean, at: number, detail: string | null, receivedAt = Date.now()): boolean {
    const open = this.openStmt.get(deviceId, kind);
    if (active) {
      if (open) return false;
      this.insertStmt.run(deviceId, kind, at, detail, receivedAt);
      return true;
    }
    if (!open) return false;
    this.closeStmt.run(Math.max(at, open.started_at), open.id);
    return true;
  }

  openFor(deviceId: string): DeviceFault[] {
    return (this.db.prepare('SELECT * FROM device_faults WHERE device_id = ? AND ended_at IS NULL ORDER BY started_at').all(deviceId) as Row[]).map(toFault);
  }

  history(deviceId: string, limit: number): DeviceFault[] {
    return (this.db.prepare('SELECT * FROM device_faults WHERE device_id = ? ORDER BY started_at DESC LIMIT ?').all(deviceId, limit) as Row[]).map(toFault);
  }

  /** Devices with at least one open fault among `kinds` (all kinds when omitted). */
  faultyDevices(kinds?: readonly string[]): Set<string> {
    const rows = kinds
      ? (this.db.prepare('SELECT DISTINCT device_id AS id FROM device_faults WHERE ended_at IS NULL AND kind IN (SELECT value FROM json_each(?))').all(JSON.stringify(kinds)) as Array<{ id: string }>)
      : (this.db.prepare('SELECT DISTINCT device_id AS id FROM device_faults WHERE ended_at IS NULL').all() as Array<{ id: string }>);
    return new Set(rows.map((r) => r.id));
  }

  /** Open fault kinds of every device that has any. */
  openByDevice(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.db.prepare('SELECT device_id, kind FROM device_faults WHERE ended_at IS NULL').all() as Array<{ device_id: string; kind: string }>) {
      const list = out.get(r.device_id);
      if (list) list.push(r.kind);
      else out.set(r.device_id, [r.kind]);
    }
    return out;
  }
}

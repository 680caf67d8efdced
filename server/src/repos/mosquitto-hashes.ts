/**
 * Boxes' lines of Mosquitto's password file (issue 21, broker/mosquitto-files.ts): `devices.mosquitto_hash`,
 * set when a secret is issued, read whole for each rewrite of the files.
 */
import type { Db } from '../db/database.js';

export class MosquittoHashRepository {
  private readonly setStmt;
  private readonly hasStmt;
  private readonly clearStmt;
  private readonly entriesStmt;
  private readonly withoutStmt;

  constructor(private readonly db: Db) {
    this.setStmt = db.prepare('UPDATE devices SET mosquitto_hash = ? WHERE id = ? AND revoked_at IS NULL');
    this.hasStmt = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM devices WHERE id = ? AND revoked_at IS NULL AND mosquitto_hash IS NOT NULL');
    this.clearStmt = db.prepare('UPDATE devices SET mosquitto_hash = NULL WHERE id = ?');
    this.entriesStmt = db.prepare<[], { id: string; area_code: string; mosquitto_hash: string }>(
      'SELECT id, area_code, mosquitto_hash FROM devices WHERE revoked_at IS NULL AND mosquitto_hash IS NOT NULL ORDER BY id',
    );
    this.withoutStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM devices WHERE revoked_at IS NULL AND mosquitto_hash IS NULL');
  }

  /** One transaction; a revoked box keeps no line. */
  set(rows: ReadonlyArray<{ deviceId: string; hash: string }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.setStmt.run(r.hash, r.deviceId);
    })();
  }

  has(deviceId: string): boolean {
    return this.hasStmt.get(deviceId)!.n > 0;
  }

  clear(deviceId: string): void {
    this.clearStmt.run(deviceId);
  }

  /** Every box not revoked that has a line, by id. */
  entries(): Array<{ deviceId: string; areaCode: string; hash: string }> {
    return this.entriesStmt.all().map((r) => ({ deviceId: r.id, areaCode: r.area_code, hash: r.mosquitto_hash }));
  }

  countWithout(): number {
    return this.withoutStmt.get()!.n;
  }
}

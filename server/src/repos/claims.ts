import type { Db } from '../db/database.js';
import type { DeviceRepository } from './devices.js';

/** Why a claim code was not exchanged. */
export type ClaimRefusal = 'unknown' | 'used' | 'expired' | 'revoked';

/** Codes kept this long after they expire, then pruned when the next code is issued. */
const KEEP_EXPIRED_MS = 30 * 24 * 3600_000;

/**
 * One-time claim codes (`device_claim_codes`), stored hashed: issued for a registered box, exchanged once
 * for new credentials. The exchange rotates the box's secret through DeviceRepository (which tells the
 * credential cache, so the old secret is refused from the next connect on), in the same transaction that
 * uses the code up.
 */
export class ClaimRepository {
  private readonly insertStmt;
  private readonly dropUnusedStmt;
  private readonly pruneStmt;
  private readonly findStmt;
  private readonly useStmt;

  constructor(
    private readonly db: Db,
    private readonly devices: DeviceRepository,
  ) {
    this.insertStmt = db.prepare('INSERT INTO device_claim_codes (code_hash, device_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.dropUnusedStmt = db.prepare('DELETE FROM device_claim_codes WHERE device_id = ? AND used_at IS NULL');
    this.pruneStmt = db.prepare('DELETE FROM device_claim_codes WHERE expires_at < ?');
    this.findStmt = db.prepare<[string], { code_hash: string; device_id: string; expires_at: number; used_at: number | null }>(
      'SELECT code_hash, device_id, expires_at, used_at FROM device_claim_codes WHERE code_hash = ?',
    );
    this.useStmt = db.prepare('UPDATE device_claim_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL');
  }

  /** Stores a new code for a box; the box's earlier unused codes stop working, long-expired ones are pruned. */
  issue(c: { codeHash: string; deviceId: string; createdBy: string; createdAt: number; expiresAt: number }): void {
    this.db.transaction(() => {
      this.pruneStmt.run(c.createdAt - KEEP_EXPIRED_MS);
      this.dropUnusedStmt.run(c.deviceId);
      this.insertStmt.run(c.codeHash, c.deviceId, c.createdBy, c.createdAt, c.expiresAt);
    })();
  }

  /**
   * Uses a code up and gives its box the new secret, in one transaction; answers the box's id, or why the
   * code was refused (nothing is written then).
   */
  redeem(codeHash: string, newSecretHash: string, now: number): { deviceId: string } | { refused: ClaimRefusal } {
    return this.db.transaction((): { deviceId: string } | { refused: ClaimRefusal } => {
      const row = this.findStmt.get(codeHash);
      if (!row) return { refused: 'unknown' };
      if (row.used_at !== null) return { refused: 'used' };
      if (row.expires_at <= now) return { refused: 'expired' };
      // Credentials only: a full device read may write pending presence, which has no place in this transaction.
      const cred = this.devices.credentials(row.device_id);
      if (!cred || cred.revoked) return { refused: 'revoked' };
      this.useStmt.run(now, row.code_hash);
      this.devices.rotateSecret(row.device_id, newSecretHash);
      return { deviceId: row.device_id };
    })();
  }
}

import type { Db } from '../db/database.js';

export interface Session {
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

interface Row {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export class SessionRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly purgeStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@tokenHash, @userId, @createdAt, @expiresAt)',
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM sessions WHERE token_hash = ?');
    this.purgeStmt = db.prepare<[number]>('DELETE FROM sessions WHERE expires_at < ?');
  }

  insert(s: Omit<Session, 'revokedAt'>): void {
    this.insertStmt.run(s);
  }

  get(tokenHash: string): Session | null {
    const r = this.getStmt.get(tokenHash);
    return r
      ? { tokenHash: r.token_hash, userId: r.user_id, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }
      : null;
  }

  purgeExpired(now = Date.now()): number {
    return this.purgeStmt.run(now).changes;
  }

  /** Ends every session of a user at once (disabled account, changed password or role). */
  revokeAll(userId: string, now = Date.now()): number {
    return this.db.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(now, userId).changes;
  }

  revoke(tokenHash: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL').run(now, tokenHash).changes > 0;
  }
}

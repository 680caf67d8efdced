import type { Db } from '../db/database.js';
import type { Priority } from '@loaxa/shared';
import type { OfferAction, OfferStatus } from '../scheduling/inbox.js';

export interface OfferRecord {
  id: string;
  bulletinId: string;
  areaCode: string;
  priority: Priority;
  startAt: number | null;
  expiresAt: number | null;
  status: OfferStatus;
  since: number;
  action: OfferAction;
  reason: string | null;
  collidesWith: string[];
  broadcastId: string | null;
  createdBy: string | null;
  createdAt: number;
}

interface Row {
  id: string;
  bulletin_id: string;
  area_code: string;
  priority: Priority;
  start_at: number | null;
  expires_at: number | null;
  status: OfferStatus;
  since: number;
  action: OfferAction;
  reason: string | null;
  collides_with: string | null;
  broadcast_id: string | null;
  created_by: string | null;
  created_at: number;
}

const toOffer = (r: Row): OfferRecord => ({
  id: r.id,
  bulletinId: r.bulletin_id,
  areaCode: r.area_code,
  priority: r.priority,
  startAt: r.start_at,
  expiresAt: r.expires_at,
  status: r.status,
  since: r.since,
  action: r.action,
  reason: r.reason,
  collidesWith: r.collides_with ? (JSON.parse(r.collides_with) as string[]) : [],
  broadcastId: r.broadcast_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export class OfferRepository {
  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken before `fn` reads, so what
   * it checks cannot change before it writes). An offer's state check, its broadcast and its new state are
   * written this way, together or not at all (issue 13, finding 6).
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insert(o: OfferRecord): void {
    this.db
      .prepare(
        `INSERT INTO offers (id, bulletin_id, area_code, priority, start_at, expires_at, status, since, action, reason, collides_with, broadcast_id, created_by, created_at)
         VALUES (@id, @bulletinId, @areaCode, @priority, @startAt, @expiresAt, @status, @since, @action, @reason, @collidesWith, @broadcastId, @createdBy, @createdAt)`,
      )
      .run({ ...o, collidesWith: o.collidesWith.length ? JSON.stringify(o.collidesWith) : null });
  }

  get(id: string): OfferRecord | null {
    const r = this.db.prepare('SELECT * FROM offers WHERE id = ?').get(id) as Row | undefined;
    return r ? toOffer(r) : null;
  }

  update(id: string, s: { status: OfferStatus; since: number; reason?: string | null; broadcastId?: string | null }): void {
    this.db
      .prepare('UPDATE offers SET status = @status, since = @since, reason = COALESCE(@reason, reason), broadcast_id = COALESCE(@broadcastId, broadcast_id) WHERE id = @id')
      .run({ id, status: s.status, since: s.since, reason: s.reason ?? null, broadcastId: s.broadcastId ?? null });
  }

  inAreas(areaCodes: string[], status: OfferStatus | undefined, limit: number, afterId?: string): OfferRecord[] {
    if (areaCodes.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT * FROM offers WHERE area_code IN (SELECT value FROM json_each(@areas)) ${status ? 'AND status = @status' : ''}
         ${afterId ? 'AND id > @afterId' : ''} ORDER BY id LIMIT @limit`,
      )
      .all({ areas: JSON.stringify(areaCodes), limit, ...(status ? { status } : {}), ...(afterId ? { afterId } : {}) }) as Row[];
    return rows.map(toOffer);
  }

  /** The areas a bulletin was offered to (who holds one of them may read the bulletin: auth/objects.ts). */
  areasOfBulletin(bulletinId: string): string[] {
    return (this.db.prepare('SELECT DISTINCT area_code AS code FROM offers WHERE bulletin_id = ?').all(bulletinId) as Array<{ code: string }>).map((r) => r.code);
  }

  /** Pending or accepted offers whose expiry has passed. */
  due(now: number): OfferRecord[] {
    return (this.db.prepare(`SELECT * FROM offers WHERE status IN ('pending', 'accepted') AND expires_at IS NOT NULL AND expires_at <= ?`).all(now) as Row[]).map(toOffer);
  }
}

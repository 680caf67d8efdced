/**
 * Live sources boxes relay (issue 15), the server's latest check of each of their URLs, and the questions
 * the routes ask about them (is one used by a broadcast that has not finished, which boxes hold a relay of it).
 */
import type { Db } from '../db/database.js';

export type SourceCheckStatus = 'up' | 'down' | 'silent';

export interface StreamSource {
  id: string;
  name: string;
  /** In order of preference. */
  urls: string[];
  /** Who may use it: this area and everything inside it; null: the whole installation. */
  areaCode: string | null;
  fallbackBulletinId: string | null;
  /** Boxes relay it through the server's own restream (`GET /streams/{id}`, server/src/relay/) instead of pulling the URLs. */
  restream: boolean;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface SourceCheck {
  sourceId: string;
  url: string;
  status: SourceCheckStatus;
  reason: string | null;
  levelDb: number | null;
  checkedAt: number;
}

interface Row {
  id: string;
  name: string;
  urls_json: string;
  area_code: string | null;
  fallback_bulletin_id: string | null;
  restream: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

interface CheckRow {
  source_id: string;
  url: string;
  status: SourceCheckStatus;
  reason: string | null;
  level_db: number | null;
  checked_at: number;
}

const toSource = (r: Row): StreamSource => ({
  id: r.id,
  name: r.name,
  urls: JSON.parse(r.urls_json) as string[],
  areaCode: r.area_code,
  fallbackBulletinId: r.fallback_bulletin_id,
  restream: r.restream === 1,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

const toCheck = (r: CheckRow): SourceCheck => ({ sourceId: r.source_id, url: r.url, status: r.status, reason: r.reason, levelDb: r.level_db, checkedAt: r.checked_at });

export type SourceChanges = Partial<Pick<StreamSource, 'name' | 'urls' | 'areaCode' | 'fallbackBulletinId' | 'restream'>>;

export class SourceRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly pageStmt;
  private readonly checksStmt;
  private readonly putCheckStmt;
  private readonly dropChecksStmt;
  private readonly broadcastsStmt;
  private readonly devicesStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO stream_sources (id, name, urls_json, area_code, fallback_bulletin_id, restream, created_by, created_at, updated_at)
       VALUES (@id, @name, @urlsJson, @areaCode, @fallbackBulletinId, @restream, @createdBy, @now, @now)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM stream_sources WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE stream_sources SET name = @name, urls_json = @urlsJson, area_code = @areaCode, fallback_bulletin_id = @fallbackBulletinId,
         restream = @restream, updated_at = @now WHERE id = @id AND deleted_at IS NULL`,
    );
    this.deleteStmt = db.prepare('UPDATE stream_sources SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL');
    this.pageStmt = db.prepare<[string, number], Row>('SELECT * FROM stream_sources WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?');
    this.checksStmt = db.prepare<[string], CheckRow>('SELECT * FROM stream_source_checks WHERE source_id = ?');
    this.putCheckStmt = db.prepare(
      `INSERT INTO stream_source_checks (source_id, url, status, reason, level_db, checked_at) VALUES (@sourceId, @url, @status, @reason, @levelDb, @checkedAt)
       ON CONFLICT(source_id, url) DO UPDATE SET status = excluded.status, reason = excluded.reason, level_db = excluded.level_db, checked_at = excluded.checked_at`,
    );
    this.dropChecksStmt = db.prepare('DELETE FROM stream_source_checks WHERE source_id = ? AND url NOT IN (SELECT value FROM json_each(?))');
    // Submitted or approved broadcasts of the source's relay bulletins: the caller decides which have finished.
    this.broadcastsStmt = db.prepare<[string], { id: string }>(
      `SELECT b.id FROM broadcasts b JOIN bulletins t ON t.id = b.bulletin_id
       WHERE t.relay_source_id = ? AND b.status IN ('submitted', 'approved')`,
    );
    // Boxes holding an occurrence still to air of a relay of this source: their agendas carry its URLs.
    this.devicesStmt = db.prepare<[string, number], { device_id: string }>(
      `SELECT DISTINCT d.device_id FROM bulletins t JOIN broadcasts b ON b.bulletin_id = t.id JOIN deliveries d ON d.broadcast_id = b.id
       WHERE t.relay_source_id = ? AND b.status = 'approved' AND d.state IN ('queued', 'sent', 'acknowledged', 'cached', 'playing')
         AND d.occurrence_at + COALESCE(t.duration_ms, 0) >= ?`,
    );
  }

  insert(s: { id: string; name: string; urls: string[]; areaCode: string | null; fallbackBulletinId: string | null; restream: boolean; createdBy: string | null }, now = Date.now()): void {
    this.insertStmt.run({ ...s, urlsJson: JSON.stringify(s.urls), restream: s.restream ? 1 : 0, now });
  }

  /** A source, deleted ones included (a relay's as-run still names it); callers check `deletedAt`. */
  get(id: string): StreamSource | null {
    const r = this.getStmt.get(id);
    return r ? toSource(r) : null;
  }

  /** Applies the changes given; the checks of URLs no longer listed are dropped with them. */
  update(id: string, changes: SourceChanges, now = Date.now()): StreamSource | null {
    const current = this.get(id);
    if (!current || current.deletedAt !== null) return null;
    const next = { ...current, ...changes };
    this.db.transaction(() => {
      this.updateStmt.run({ id, name: next.name, urlsJson: JSON.stringify(next.urls), areaCode: next.areaCode, fallbackBulletinId: next.fallbackBulletinId, restream: next.restream ? 1 : 0, now });
      this.dropChecksStmt.run(id, JSON.stringify(next.urls));
    })();
    return this.get(id);
  }

  /** Marks the source deleted (its row stays for the as-run); answers whether it was there. */
  delete(id: string, now = Date.now()): boolean {
    return this.deleteStmt.run(now, now, id).changes === 1;
  }

  /** Sources not deleted, by id, after `afterId`. */
  page(limit: number, afterId = ''): StreamSource[] {
    return this.pageStmt.all(afterId, limit).map(toSource);
  }

  /** Every source not deleted (the periodic check). */
  all(): StreamSource[] {
    const out: StreamSource[] = [];
    for (let page = this.page(500); page.length; page = this.page(500, page.at(-1)!.id)) out.push(...page);
    return out;
  }

  checks(sourceId: string): SourceCheck[] {
    return this.checksStmt.all(sourceId).map(toCheck);
  }

  /** Records a check unless the source stopped listing the URL meanwhile (an edit during the check). */
  putCheck(c: SourceCheck): void {
    const s = this.get(c.sourceId);
    if (!s || s.deletedAt !== null || !s.urls.includes(c.url)) return;
    this.putCheckStmt.run(c);
  }

  /** Ids of the submitted or approved broadcasts that relay this source. */
  broadcastIds(sourceId: string): string[] {
    return this.broadcastsStmt.all(sourceId).map((r) => r.id);
  }

  /** Boxes with an occurrence of a relay of this source still to air (or airing) after `now`. */
  devicesRelaying(sourceId: string, now: number): string[] {
    return this.devicesStmt.all(sourceId, now).map((r) => r.device_id);
  }
}

/**
 * The bulletin library's search (issue 20, "find, reuse, copy and edit bulletins and recordings"): every filter
 * in SQL, so a page and its `total` agree. Visibility is ObjectScope.holdsArea's rule written as SQL — the
 * caller's area and every area below it (the same recursive walk as AreaRepository.subtree), or the caller's
 * own — so a commune never finds another commune's bulletin, whatever the filters.
 */
import type { Db } from '../db/database.js';
import { toBulletin, type Bulletin, type Row } from './bulletin-row.js';

export interface BulletinFilter {
  /** The caller: their id (their own bulletins) and area (null: the whole installation). */
  viewer: { id: string; areaCode: string | null };
  status?: string | undefined;
  sources?: readonly string[] | undefined;
  category?: string | undefined;
  authorId?: string | undefined;
  /** Written in `[fromMs, toMs)`. */
  fromMs?: number | null;
  toMs?: number | null;
  /** Each must start a word of the title or the text, any case (searchWords in @loaxa/shared). */
  words?: readonly string[];
}

export interface FoundBulletin extends Bulletin {
  authorName: string | null;
}

interface Params {
  all: number;
  areaCode: string | null;
  userId: string;
  status: string | null;
  sources: string | null;
  category: string | null;
  author: string | null;
  fromMs: number | null;
  toMs: number | null;
  match: string | null;
}

const SCOPE = `WITH RECURSIVE scope(code) AS (
    SELECT code FROM areas WHERE code = @areaCode
    UNION ALL SELECT a.code FROM areas a JOIN scope s ON a.parent_code = s.code)`;
// Words through the full-text index (migration 30, bulletins_search): each word a quoted phrase that may be
// the start of a longer one ("thôn" finds "thôn", "vắc-xin" finds "vắc-xin"), all of them required.
const WHERE = `WHERE (@all = 1 OR b.created_by = @userId OR b.area_code IN (SELECT code FROM scope))
    AND (@status IS NULL OR b.status = @status)
    AND (@sources IS NULL OR b.source IN (SELECT value FROM json_each(@sources)))
    AND (@category IS NULL OR b.category = @category)
    AND (@author IS NULL OR b.created_by = @author)
    AND (@fromMs IS NULL OR b.created_at >= @fromMs)
    AND (@toMs IS NULL OR b.created_at < @toMs)
    AND (@match IS NULL OR b.id IN (SELECT id FROM bulletins_search WHERE bulletins_search MATCH @match))`;

/**
 * The full-text query of some search words: each a phrase, quotes doubled, that may be a prefix. Words with no
 * letter or digit (a lone "-") are left out: the index has no token for them.
 */
export function matchQuery(words: readonly string[]): string | null {
  const kept = words.filter((w) => /[\p{L}\p{N}]/u.test(w));
  return kept.length ? kept.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' AND ') : null;
}

export class BulletinSearch {
  private readonly pageStmt;
  private readonly countStmt;
  private readonly airingsStmt;

  constructor(db: Db) {
    this.pageStmt = db.prepare<Params & { beforeAt: number | null; beforeId: string; limit: number }, Row & { author_name: string | null }>(
      `${SCOPE}
       SELECT b.*, u.username AS author_name FROM bulletins b LEFT JOIN users u ON u.id = b.created_by
       ${WHERE}
         AND (@beforeAt IS NULL OR b.created_at < @beforeAt OR (b.created_at = @beforeAt AND b.id < @beforeId))
       ORDER BY b.created_at DESC, b.id DESC LIMIT @limit`,
    );
    this.countStmt = db.prepare<Params, { n: number }>(`${SCOPE} SELECT COUNT(*) AS n FROM bulletins b ${WHERE}`);
    // An airing is one occurrence of a broadcast that at least one box played to the end.
    this.airingsStmt = db.prepare<[string], { id: string; count: number; lastAt: number | null }>(
      `SELECT br.bulletin_id AS id, COUNT(DISTINCT d.broadcast_id || '@' || d.occurrence_at) AS count, MAX(d.occurrence_at) AS lastAt
       FROM broadcasts br JOIN deliveries d ON d.broadcast_id = br.id AND d.state = 'played'
       WHERE br.bulletin_id IN (SELECT value FROM json_each(?))
       GROUP BY br.bulletin_id`,
    );
  }

  private params(f: BulletinFilter): Params {
    return {
      all: f.viewer.areaCode === null ? 1 : 0,
      areaCode: f.viewer.areaCode,
      userId: f.viewer.id,
      status: f.status ?? null,
      sources: f.sources?.length ? JSON.stringify(f.sources) : null,
      category: f.category ?? null,
      author: f.authorId ?? null,
      fromMs: f.fromMs ?? null,
      toMs: f.toMs ?? null,
      match: f.words?.length ? matchQuery(f.words) : null,
    };
  }

  /** Up to `limit` matches, newest first, after `before` (the last one of the previous page). */
  page(f: BulletinFilter, limit: number, before?: { createdAt: number; id: string }): FoundBulletin[] {
    return this.pageStmt
      .all({ ...this.params(f), beforeAt: before?.createdAt ?? null, beforeId: before?.id ?? '', limit })
      .map((r) => ({ ...toBulletin(r), authorName: r.author_name }));
  }

  /** How many bulletins match, on every page. */
  count(f: BulletinFilter): number {
    return this.countStmt.get(this.params(f))!.n;
  }

  /** Airings so far of each bulletin named (those never aired are absent). */
  airings(ids: readonly string[]): Map<string, { count: number; lastAt: number | null }> {
    if (!ids.length) return new Map();
    return new Map(this.airingsStmt.all(JSON.stringify(ids)).map((r) => [r.id, { count: r.count, lastAt: r.lastAt }]));
  }
}

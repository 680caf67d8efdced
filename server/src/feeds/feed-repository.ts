/**
 * What the commune's web page reads (issue 22): communes by their official code, and the public bulletins that
 * aired on the commune's boxes, with their first air time there. Read-only; the public flag itself is written by
 * BulletinRepository.setPublic.
 *
 * "Aired in the commune" is a box of the commune (or of a village inside it) reporting `playing` for a broadcast
 * of the bulletin: a bulletin that was only scheduled, or played elsewhere, is not on this commune's page.
 * A disaster warning that aired is a public notice by nature (issue 22 decision): the warning service flags the
 * bulletin of a warning with CAP status `Actual` public, and unflags it when the warning is cancelled; exercises,
 * tests and drafts (CAP 1.2 §3.2.1 status) never are. A relay or a programme has no single file to publish and is left out.
 */
import type { Db } from '../db/database.js';

export interface Commune {
  code: string;
  name: string;
  type: string;
  /** The province (or district) above it, for the feed's description; null at the top. */
  parentName: string | null;
}

export interface PublicBulletin {
  id: string;
  title: string;
  text: string;
  category: string | null;
  durationMs: number;
  /** The file a podcast gets: the MP3 rendition when there is one, else the Opus original. */
  audioSha256: string;
  audioExt: 'mp3' | 'ogg';
  /** When a box of the commune first reported playing it (the box's clock, as in the as-run log). */
  firstAiredAt: number;
  updatedAt: number;
  /** A disaster warning's bulletin (public by nature). */
  warning: boolean;
}

interface Row {
  id: string;
  title: string;
  text: string;
  category: string | null;
  duration_ms: number;
  audio_sha256: string;
  mp3_sha256: string | null;
  first_aired_at: number;
  updated_at: number;
  warning: number;
}

const toPublic = (r: Row): PublicBulletin => ({
  id: r.id,
  title: r.title,
  text: r.text,
  category: r.category,
  durationMs: r.duration_ms,
  audioSha256: r.mp3_sha256 ?? r.audio_sha256,
  audioExt: r.mp3_sha256 ? 'mp3' : 'ogg',
  firstAiredAt: r.first_aired_at,
  updatedAt: r.updated_at,
  warning: r.warning === 1,
});

/**
 * The commune and every area inside it, then the public bulletins its boxes played. Read from the public
 * bulletins (a partial index) through their broadcasts to their `playing` events, never from the whole as-run
 * log: the review of issue 22 found `(@id IS NULL OR t.id = @id)` and a public-or-warned test made SQLite scan
 * every delivery event, synchronously, for any unauthenticated request. The public flag alone decides (an aired
 * `Actual` warning's bulletin is flagged by the warning service, and unflagged by its Cancel).
 */
export const AIRED_OF = (idFilter: string) => `
  WITH RECURSIVE inside(code) AS (SELECT @code UNION SELECT a.code FROM areas a JOIN inside ON a.parent_code = inside.code),
  warned(bulletin_id) AS (
    SELECT bulletin_id FROM warnings WHERE status = 'Actual' AND bulletin_id IS NOT NULL
    UNION SELECT bulletin_id FROM warning_versions WHERE status = 'Actual' AND bulletin_id IS NOT NULL
  )
  SELECT t.id, t.title, t.text, t.category, t.duration_ms, t.audio_sha256, t.mp3_sha256, t.updated_at,
         MIN(e.at) AS first_aired_at, (t.id IN (SELECT bulletin_id FROM warned)) AS warning
  FROM bulletins t
  -- CROSS JOIN keeps this order (SQLite does not reorder it): from the few public bulletins to their events.
  CROSS JOIN broadcasts b ON b.bulletin_id = t.id
  CROSS JOIN delivery_events e ON e.broadcast_id = b.id AND e.state = 'playing'
  CROSS JOIN devices v ON v.id = e.device_id
  WHERE t.public = 1 AND ID_FILTER
    AND t.status = 'ready' AND t.audio_sha256 IS NOT NULL AND t.duration_ms > 0 AND t.source NOT IN ('relay', 'programme')
    AND v.area_code IN (SELECT code FROM inside)
  GROUP BY t.id
  ORDER BY first_aired_at DESC, t.id DESC
  LIMIT @limit`.replace('ID_FILTER', idFilter);

export class FeedRepository {
  readonly #commune;
  readonly #aired;
  readonly #airedOne;
  /** Statements run, for the test that a cached answer does not reach SQLite. */
  queries = 0;

  constructor(db: Db) {
    this.#commune = db.prepare<[string], Commune>(
      `SELECT a.code, a.name, a.type, p.name AS parentName FROM areas a LEFT JOIN areas p ON p.code = a.parent_code
       WHERE a.code = ? AND a.level = 'commune'`,
    );
    this.#aired = db.prepare<{ code: string; limit: number }, Row>(AIRED_OF('1'));
    this.#airedOne = db.prepare<{ code: string; id: string; limit: number }, Row>(AIRED_OF('t.id = @id'));
  }

  /** A commune by its official code; null for an unknown code or an area that is not a commune. */
  commune(code: string): Commune | null {
    this.queries++;
    return this.#commune.get(code) ?? null;
  }

  /** The newest `limit` public bulletins aired in the commune, newest first air time first. */
  aired(code: string, limit: number): PublicBulletin[] {
    this.queries++;
    return this.#aired.all({ code, limit }).map(toPublic);
  }

  /** One public bulletin, if it aired in the commune. */
  airedOne(code: string, id: string): PublicBulletin | null {
    this.queries++;
    const r = this.#airedOne.get({ code, id, limit: 1 });
    return r ? toPublic(r) : null;
  }
}

import type { Db } from '../db/database.js';

/** A row of the audit log as stored. */
export interface AuditRow {
  id: number; at: number; user_id: string | null; username: string | null; ip: string | null; method: string; route: string; url: string; status: number; body_json: string | null;
  object_type: string | null; object_id: string | null; before_json: string | null; after_json: string | null;
}

/** What one audited request appends. */
export interface AuditEntry {
  at: number;
  userId: string | null;
  username: string | null;
  areaCode: string | null;
  ip: string;
  method: string;
  route: string;
  url: string;
  status: number;
  body: string | null;
  objectType: string | null;
  objectId: string | null;
  before: string | null;
  after: string | null;
}

/** Columns that never leave the database through the log: password hashes, device secret hashes, claim-code hashes. */
const SECRET_COLUMN = /hash|secret|password/i;

function withoutSecrets(row: Record<string, unknown> | undefined): Record<string, unknown> | null {
  return row ? Object.fromEntries(Object.entries(row).filter(([k]) => !SECRET_COLUMN.test(k))) : null;
}

type Row = Record<string, unknown>;

/**
 * The audit log (issue 7), append-only in the database itself, and the stored state of each kind of object
 * the log shows before and after an edit: every column as stored, hashes and secrets left out, or null
 * when the object does not exist (yet, or any more).
 */
/** The audit log's filters (issue 20); absent ones do not narrow. */
export interface AuditFilterParams {
  username?: string | null;
  /** With `route`: one action, e.g. POST and `/api/v1/broadcasts/:id/cancel`. */
  method?: string | null;
  route?: string | null;
  objectType?: string | null;
  objectId?: string | null;
  fromMs?: number | null;
  toMs?: number | null;
}

export class AuditRepository {
  private readonly insertStmt;
  private readonly pageStmt;
  private readonly rowStmts;
  private readonly exceptionsStmt;
  private readonly dictionaryStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<AuditEntry>(
      `INSERT INTO audit_log (at, user_id, username, area_code, ip, method, route, url, status, body_json, object_type, object_id, before_json, after_json)
       VALUES (@at, @userId, @username, @areaCode, @ip, @method, @route, @url, @status, @body, @objectType, @objectId, @before, @after)`,
    );
    // Issue 20 (search and filters): by who (the username the row keeps, any case, so failed logins too), the
    // route written to, the object, and a time range.
    this.pageStmt = db.prepare<{ limit: number; before: number; all: number; areas: string } & Required<AuditFilterParams>, AuditRow>(
      `SELECT * FROM audit_log WHERE id < @before AND (@all = 1 OR area_code IN (SELECT value FROM json_each(@areas)))
         AND (@username IS NULL OR username = @username COLLATE NOCASE)
         AND (@method IS NULL OR (method = @method AND route = @route))
         AND (@objectType IS NULL OR object_type = @objectType)
         AND (@objectId IS NULL OR object_id = @objectId)
         AND (@fromMs IS NULL OR at >= @fromMs) AND (@toMs IS NULL OR at < @toMs)
       ORDER BY id DESC LIMIT @limit`,
    );
    this.rowStmts = {
      broadcast: db.prepare<[string], Row>('SELECT * FROM broadcasts WHERE id = ?'),
      user: db.prepare<[string], Row>('SELECT * FROM users WHERE id = ?'),
      device: db.prepare<[string], Row>('SELECT * FROM devices WHERE id = ?'),
      bulletin: db.prepare<[string], Row>('SELECT * FROM bulletins WHERE id = ?'),
      offer: db.prepare<[string], Row>('SELECT * FROM offers WHERE id = ?'),
      source: db.prepare<[string], Row>('SELECT * FROM stream_sources WHERE id = ?'),
    };
    this.exceptionsStmt = db.prepare<[string], Row>('SELECT occurrence_at, action, moved_to, created_by, created_at FROM occurrence_exceptions WHERE broadcast_id = ? ORDER BY occurrence_at');
    this.dictionaryStmt = db.prepare<[string, string | null], Row>('SELECT * FROM dictionary_entries WHERE term = ? AND area_code IS ?');
  }

  append(e: AuditEntry): void {
    this.insertStmt.run(e);
  }

  /**
   * Up to `limit` rows older than the row `before`, newest first: every row (`all`), or those of the areas
   * in `areas` (a JSON array).
   */
  page(p: { limit: number; before: number; all: number; areas: string }, f: AuditFilterParams = {}): AuditRow[] {
    return this.pageStmt.all({ ...p, username: f.username ?? null, method: f.method ?? null, route: f.route ?? null, objectType: f.objectType ?? null, objectId: f.objectId ?? null, fromMs: f.fromMs ?? null, toMs: f.toMs ?? null });
  }

  /** A broadcast's row with its occurrence exceptions (cancelled or moved occurrences). */
  broadcast(id: string): Record<string, unknown> | null {
    const row = withoutSecrets(this.rowStmts.broadcast.get(id));
    return row ? { ...row, exceptions: this.exceptionsStmt.all(id) } : null;
  }

  user(id: string): Record<string, unknown> | null {
    return withoutSecrets(this.rowStmts.user.get(id));
  }

  device(id: string): Record<string, unknown> | null {
    return withoutSecrets(this.rowStmts.device.get(id));
  }

  bulletin(id: string): Record<string, unknown> | null {
    return withoutSecrets(this.rowStmts.bulletin.get(id));
  }

  offer(id: string): Record<string, unknown> | null {
    return withoutSecrets(this.rowStmts.offer.get(id));
  }

  source(id: string): Record<string, unknown> | null {
    return withoutSecrets(this.rowStmts.source.get(id));
  }

  /** One term's reading in one area (null: the installation-wide one). */
  dictionaryEntry(term: string, areaCode: string | null): Record<string, unknown> | null {
    return withoutSecrets(this.dictionaryStmt.get(term, areaCode));
  }
}

import type { Db } from '../db/database.js';

export interface DictionaryEntry {
  term: string;
  reading: string;
  updatedAt: number;
}

interface Row {
  term: string;
  reading: string;
  updated_at: number;
}

/** Operator-added readings; the normalizer applies them over the shipped dictionary. */
export class DictionaryRepository {
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly allStmt;
  private cache: Record<string, string> | null = null;

  constructor(private readonly db: Db) {
    this.upsertStmt = db.prepare(
      `INSERT INTO dictionary_entries (term, reading, updated_by, updated_at) VALUES (@term, @reading, @userId, @now)
       ON CONFLICT(term) DO UPDATE SET reading = excluded.reading, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    );
    this.deleteStmt = db.prepare<[string]>('DELETE FROM dictionary_entries WHERE term = ?');
    this.allStmt = db.prepare<[], Row>('SELECT term, reading, updated_at FROM dictionary_entries ORDER BY term');
  }

  upsert(term: string, reading: string, userId: string | null, now = Date.now()): void {
    this.upsertStmt.run({ term, reading, userId, now });
    this.cache = null;
  }

  delete(term: string): boolean {
    const n = this.deleteStmt.run(term).changes;
    this.cache = null;
    return n > 0;
  }

  list(): DictionaryEntry[] {
    return this.allStmt.all().map((r) => ({ term: r.term, reading: r.reading, updatedAt: r.updated_at }));
  }

  /** All entries as the normalizer's `dictionary` option; cached until the next change. */
  asRecord(): Record<string, string> {
    this.cache ??= Object.fromEntries(this.list().map((e) => [e.term, e.reading]));
    return this.cache;
  }
}

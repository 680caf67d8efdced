import type { Db } from '../db/database.js';
import { AreaRepository } from './areas.js';

export interface DictionaryEntry {
  term: string;
  reading: string;
  /** The area whose bulletins (and its subtree's) it is read in; null: the whole installation. */
  areaCode: string | null;
  updatedAt: number;
}

interface Row {
  term: string;
  reading: string;
  area_code: string | null;
  updated_at: number;
}

/**
 * How the audit log names one entry: the term and its area, "UBND@99003", or "UBND@*" for the
 * installation-wide one. Area codes are digits, so the last "@" always separates them, whatever the term.
 */
export function dictionaryEntryId(term: string, areaCode: string | null): string {
  return `${term}@${areaCode ?? '*'}`;
}

export function parseDictionaryEntryId(id: string): { term: string; areaCode: string | null } | null {
  const at = id.lastIndexOf('@');
  if (at <= 0) return null;
  const area = id.slice(at + 1);
  return { term: id.slice(0, at), areaCode: area === '*' ? null : area };
}

/**
 * Operator-added readings, each for an area (issue 13, finding 8: one commune's entry must not change how
 * other communes' bulletins, emergencies included, are read). The normalizer applies them over the shipped
 * dictionary; for a text of an area, the entry of the most local area in its ancestry wins.
 */
export class DictionaryRepository {
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly allStmt;
  private readonly areas: AreaRepository;
  /** Entries by area (null: installation-wide), read once after each change. */
  private byArea: Map<string | null, Array<[string, string]>> | null = null;
  /**
   * The merged readings by ancestry ("9900301>99003>99"), built at first use. Keyed by the ancestry rather
   * than the area, so an area moved by a re-import gets its new chain's readings without being told.
   */
  private readonly merged = new Map<string, Record<string, string>>();

  /** `areas` is the server's one AreaRepository, whose remembered ancestries follow every import. */
  constructor(private readonly db: Db, areas: AreaRepository) {
    this.areas = areas;
    // The conflict target repeats the unique index's expression (migration 16): NULL areas are one key.
    this.upsertStmt = db.prepare(
      `INSERT INTO dictionary_entries (term, area_code, reading, updated_by, updated_at) VALUES (@term, @areaCode, @reading, @userId, @now)
       ON CONFLICT(term, COALESCE(area_code, '')) DO UPDATE SET reading = excluded.reading, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    );
    this.deleteStmt = db.prepare<[string, string | null]>('DELETE FROM dictionary_entries WHERE term = ? AND area_code IS ?');
    this.allStmt = db.prepare<[], Row>('SELECT term, reading, area_code, updated_at FROM dictionary_entries ORDER BY term, area_code');
  }

  upsert(term: string, areaCode: string | null, reading: string, userId: string | null, now = Date.now()): void {
    this.upsertStmt.run({ term, areaCode, reading, userId, now });
    this.forget();
  }

  delete(term: string, areaCode: string | null): boolean {
    const n = this.deleteStmt.run(term, areaCode).changes;
    this.forget();
    return n > 0;
  }

  /** Every entry of every area, by term (installation-wide first within a term); callers filter by scope. */
  list(): DictionaryEntry[] {
    return this.allStmt.all().map((r) => ({ term: r.term, reading: r.reading, areaCode: r.area_code, updatedAt: r.updated_at }));
  }

  /**
   * The readings a text of `areaCode` is read with, as the normalizer's `dictionary` option: installation-wide
   * entries, overridden by the province's, the commune's, the village's — the most local entry of each term.
   * `null`: installation-wide entries only. Cached until the next change.
   */
  readingsFor(areaCode: string | null): Record<string, string> {
    const ancestry = areaCode === null ? [] : this.areas.ancestry(areaCode);
    const key = ancestry.join('>');
    let found = this.merged.get(key);
    if (!found) {
      this.byArea ??= this.group();
      const readings = new Map<string, string>();
      // Least local first, so each more local layer overwrites the one above it.
      for (const layer of [null, ...ancestry.reverse()]) for (const [term, reading] of this.byArea.get(layer) ?? []) readings.set(term, reading);
      // fromEntries defines own properties: a term such as "__proto__" stays a term.
      found = Object.fromEntries(readings);
      if (this.merged.size >= 10_000) this.merged.clear();
      this.merged.set(key, found);
    }
    return found;
  }

  private group(): Map<string | null, Array<[string, string]>> {
    const out = new Map<string | null, Array<[string, string]>>();
    for (const e of this.list()) {
      let layer = out.get(e.areaCode);
      if (!layer) out.set(e.areaCode, (layer = []));
      layer.push([e.term, e.reading]);
    }
    return out;
  }

  private forget(): void {
    this.byArea = null;
    this.merged.clear();
  }
}

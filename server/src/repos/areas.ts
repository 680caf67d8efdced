import type { Db } from '../db/database.js';

export type AreaLevel = 'province' | 'commune' | 'village' | 'district';

export interface Area {
  code: string;
  parentCode: string | null;
  name: string;
  type: string;
  level: AreaLevel;
  validFrom: string | null;
  validUntil: string | null;
}

export interface AreaNode {
  code: string;
  name: string;
  type: string;
  children: AreaNode[];
}

interface Row {
  code: string;
  parent_code: string | null;
  name: string;
  type: string;
  level: AreaLevel;
  valid_from: string | null;
  valid_until: string | null;
}

const toArea = (r: Row): Area => ({
  code: r.code,
  parentCode: r.parent_code,
  name: r.name,
  type: r.type,
  level: r.level,
  validFrom: r.valid_from,
  validUntil: r.valid_until,
});

/** The unit words an official name starts with (Decision 19/2025 list; "Thị trấn" of the older lists). */
const UNIT_PREFIX = /^(?:xã|phường|thị trấn|tỉnh|thành phố|đặc khu|tp\.)\s+/iu;

/** "Xã Tân Lập" (type "xã") → "Tân Lập"; a name without a known prefix stays as it is. */
export function placeName(name: string, type: string): string {
  const n = name.normalize('NFC').trim();
  const t = type.normalize('NFC').trim().toLowerCase();
  if (t && n.toLowerCase().startsWith(`${t} `)) return n.slice(t.length + 1).trim();
  return n.replace(UNIT_PREFIX, '').trim();
}

export class AreaRepository {
  private readonly upsertStmt;
  private readonly getStmt;
  private readonly allStmt;
  /**
   * `ancestry()` by code: the broker asks for it at every box's connect (10,000 at once after a restart,
   * issue 8) and most routes at every request. Emptied by `upsertMany`, the one write to `areas`; the server
   * has one AreaRepository (wiring/storage.ts), which other repositories are given (issue 14: caches are
   * refreshed where their rows change, in code, not by triggers).
   */
  private readonly ancestries = new Map<string, readonly string[]>();
  /** `placeNames()`, built at first use after each write: the normalizer caches its table by this array's identity. */
  private places: readonly string[] | null = null;

  constructor(private readonly db: Db) {
    this.upsertStmt = db.prepare(
      `INSERT INTO areas (code, parent_code, name, type, level, valid_from, valid_until, imported_at)
       VALUES (@code, @parentCode, @name, @type, @level, @validFrom, @validUntil, @now)
       ON CONFLICT(code) DO UPDATE SET parent_code = excluded.parent_code, name = excluded.name,
         type = excluded.type, level = excluded.level, valid_from = excluded.valid_from,
         valid_until = excluded.valid_until, imported_at = excluded.imported_at`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM areas WHERE code = ?');
    this.allStmt = db.prepare<[], Row>('SELECT * FROM areas ORDER BY code');
  }

  /** Inserts or updates many areas in one transaction: an import either lands whole or not at all. */
  upsertMany(areas: Area[], now = Date.now()): void {
    try {
      this.db.transaction(() => {
        for (const a of areas) this.upsertStmt.run({ ...a, now });
      })();
    } finally {
      this.forgetAncestries();
    }
  }

  get(code: string): Area | null {
    const r = this.getStmt.get(code);
    return r ? toArea(r) : null;
  }

  all(): Area[] {
    return this.allStmt.all().map(toArea);
  }

  /** The area and all of its descendants (its subtree), by code. */
  subtree(code: string): string[] {
    const rows = this.db
      .prepare<[string], { code: string }>(
        `WITH RECURSIVE t(code) AS (SELECT code FROM areas WHERE code = ?
           UNION ALL SELECT a.code FROM areas a JOIN t ON a.parent_code = t.code)
         SELECT code FROM t`,
      )
      .all(code);
    return rows.map((r) => r.code);
  }

  /** Codes from the area up to its root, the area itself first (a fresh array: the caller may keep or change it). */
  ancestry(code: string): string[] {
    let known = this.ancestries.get(code);
    if (!known) {
      const out: string[] = [];
      let cur = this.get(code);
      while (cur && out.length < 16) {
        out.push(cur.code);
        cur = cur.parentCode ? this.get(cur.parentCode) : null;
      }
      known = out;
      // Unknown codes (empty answers) are not remembered: anyone may ask about any code.
      if (out.length > 0) {
        if (this.ancestries.size >= 100_000) this.ancestries.clear();
        this.ancestries.set(code, out);
      }
    }
    return known.slice();
  }

  /** Drops the remembered ancestries and place names (an area was written). */
  forgetAncestries(): void {
    this.ancestries.clear();
    this.places = null;
  }

  /**
   * The names of the provinces and communes as a bulletin writes them, without "Xã", "Phường", "Tỉnh",
   * "Thành phố", "Đặc khu" ("Tân Lập"), for the normalizer's `places` option (issue 19: a run-together
   * "TanLap" is read as the commune). The same frozen array until an import changes the areas.
   */
  placeNames(): readonly string[] {
    if (!this.places) {
      const names = new Set<string>();
      for (const a of this.all()) {
        if (a.level !== 'province' && a.level !== 'commune') continue;
        const name = placeName(a.name, a.type);
        // "Phường 1": a number is no name to recognise in running text.
        if (/\p{L}{2}/u.test(name)) names.add(name);
      }
      this.places = Object.freeze([...names]);
    }
    return this.places;
  }

  tree(): AreaNode[] {
    const nodes = new Map<string, AreaNode>();
    const roots: AreaNode[] = [];
    const areas = this.all();
    for (const a of areas) nodes.set(a.code, { code: a.code, name: a.name, type: a.type, children: [] });
    for (const a of areas) {
      const node = nodes.get(a.code)!;
      const parent = a.parentCode ? nodes.get(a.parentCode) : undefined;
      if (parent) parent.children.push(node);
      else roots.push(node);
    }
    return roots;
  }
}

/**
 * The other systems of the national link (issue 17; Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS): a parent that
 * sends bulletins down to us, or a child that reports up to us and takes bulletins from us. The password a peer
 * logs in to us with is kept as a hash (like users' and boxes'); the one we log in to a child with is sealed
 * (national/central/seal.ts), since we must be able to send it.
 */
import type { Db } from '../db/database.js';

export type NationalPeerRole = 'parent' | 'child';

export interface NationalPeerRecord {
  id: string;
  role: NationalPeerRole;
  name: string;
  sourceId: string;
  mapping: string;
  username: string;
  passwordHash: string;
  areaCodes: string[];
  baseUrl: string | null;
  outUsername: string | null;
  outPasswordSealed: string | null;
  createdAt: number;
  revokedAt: number | null;
}

interface Row {
  id: string;
  role: NationalPeerRole;
  name: string;
  source_id: string;
  mapping: string;
  username: string;
  password_hash: string;
  area_codes: string;
  base_url: string | null;
  out_username: string | null;
  out_password_sealed: string | null;
  created_at: number;
  revoked_at: number | null;
}

const toPeer = (r: Row): NationalPeerRecord => ({
  id: r.id,
  role: r.role,
  name: r.name,
  sourceId: r.source_id,
  mapping: r.mapping,
  username: r.username,
  passwordHash: r.password_hash,
  areaCodes: JSON.parse(r.area_codes) as string[],
  baseUrl: r.base_url,
  outUsername: r.out_username,
  outPasswordSealed: r.out_password_sealed,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export class NationalPeerRepository {
  constructor(private readonly db: Db) {}

  insert(p: NationalPeerRecord): void {
    this.db
      .prepare(
        `INSERT INTO national_peers (id, role, name, source_id, mapping, username, password_hash, area_codes, base_url, out_username, out_password_sealed, created_at, revoked_at)
         VALUES (@id, @role, @name, @sourceId, @mapping, @username, @passwordHash, @areaCodes, @baseUrl, @outUsername, @outPasswordSealed, @createdAt, @revokedAt)`,
      )
      .run({ ...p, areaCodes: JSON.stringify(p.areaCodes) });
  }

  update(p: NationalPeerRecord): void {
    this.db
      .prepare(
        `UPDATE national_peers SET name = @name, source_id = @sourceId, mapping = @mapping, password_hash = @passwordHash, area_codes = @areaCodes,
           base_url = @baseUrl, out_username = @outUsername, out_password_sealed = @outPasswordSealed, revoked_at = @revokedAt WHERE id = @id`,
      )
      .run({ ...p, areaCodes: JSON.stringify(p.areaCodes) });
  }

  get(id: string): NationalPeerRecord | null {
    const r = this.db.prepare('SELECT * FROM national_peers WHERE id = ?').get(id) as Row | undefined;
    return r ? toPeer(r) : null;
  }

  /** A peer that may still log in (not revoked), by the user name it logs in with. */
  byUsername(username: string): NationalPeerRecord | null {
    const r = this.db.prepare('SELECT * FROM national_peers WHERE username = ? AND revoked_at IS NULL').get(username) as Row | undefined;
    return r ? toPeer(r) : null;
  }

  usernameTaken(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM national_peers WHERE username = ?').get(username) !== undefined;
  }

  /** Current peers (revoked ones stay for the history of what they sent, but are not listed). */
  list(role?: NationalPeerRole): NationalPeerRecord[] {
    const rows = this.db.prepare(`SELECT * FROM national_peers WHERE revoked_at IS NULL ${role ? 'AND role = @role' : ''} ORDER BY created_at, id`).all(role ? { role } : {}) as Row[];
    return rows.map(toPeer);
  }

  /** Revoked, not deleted: what it sent and what we sent it keep naming it. */
  revoke(id: string, at: number): void {
    this.db.prepare('UPDATE national_peers SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }
}

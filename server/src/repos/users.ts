import type { Db } from '../db/database.js';

import type { Role } from '@loaxa/shared';

/** The roles are the HTTP contract's (CONTRACTS.md § roles). */
export { ROLES, type Role } from '@loaxa/shared';

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  /** The root of the area subtree the user works in; null means the whole installation. */
  areaCode: string | null;
  disabled: boolean;
  createdAt: number;
  /**
   * A system actor (a parent peer's `national:<username>`, issue 17): a users row only so that what the parent
   * sends has an actor. Never a login: PATCH and login refuse it, and the users list leaves it out (issue 17
   * review: an admin could give it a password and act in the province's name). Absent: false.
   */
  system?: boolean;
}

interface Row {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  area_code: string | null;
  disabled: number;
  created_at: number;
  system: number;
}

const toUser = (r: Row): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  areaCode: r.area_code,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  system: r.system === 1,
});

export class UserRepository {
  private readonly byNameStmt;
  private readonly byIdStmt;
  private readonly insertStmt;
  private readonly countStmt;

  constructor(private readonly db: Db) {
    this.byNameStmt = db.prepare<[string], Row>('SELECT * FROM users WHERE username = ?');
    this.byIdStmt = db.prepare<[string], Row>('SELECT * FROM users WHERE id = ?');
    this.insertStmt = db.prepare(
      `INSERT INTO users (id, username, password_hash, role, area_code, disabled, created_at, system)
       VALUES (@id, @username, @passwordHash, @role, @areaCode, @disabled, @createdAt, @system)`,
    );
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');
  }

  byUsername(username: string): User | null {
    const r = this.byNameStmt.get(username);
    return r ? toUser(r) : null;
  }

  byId(id: string): User | null {
    const r = this.byIdStmt.get(id);
    return r ? toUser(r) : null;
  }

  insert(u: User): void {
    this.insertStmt.run({ ...u, disabled: u.disabled ? 1 : 0, system: u.system ? 1 : 0 });
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** Users by id (people only: not system actors); with `areaCodes`, only those bound to one of these areas (an admin's subtree). */
  list(limit: number, afterId?: string, areaCodes?: readonly string[]): User[] {
    const rows = this.db
      .prepare(`SELECT * FROM users WHERE system = 0 AND id > @afterId ${areaCodes ? 'AND area_code IN (SELECT value FROM json_each(@areas))' : ''} ORDER BY id LIMIT @limit`)
      .all({ afterId: afterId ?? '', limit, ...(areaCodes ? { areas: JSON.stringify(areaCodes) } : {}) }) as Row[];
    return rows.map(toUser);
  }

  /** How many users (people, as `list`), or how many bound to one of `areaCodes`. */
  countIn(areaCodes?: readonly string[]): number {
    if (!areaCodes) return (this.db.prepare('SELECT COUNT(*) AS n FROM users WHERE system = 0').get() as { n: number }).n;
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users WHERE system = 0 AND area_code IN (SELECT value FROM json_each(?))').get(JSON.stringify(areaCodes)) as { n: number }).n;
  }

  update(id: string, patch: { passwordHash?: string; role?: Role; areaCode?: string | null; disabled?: boolean }): void {
    const cur = this.byId(id);
    if (!cur) return;
    this.db
      .prepare('UPDATE users SET password_hash = @passwordHash, role = @role, area_code = @areaCode, disabled = @disabled WHERE id = @id')
      .run({
        id,
        passwordHash: patch.passwordHash ?? cur.passwordHash,
        role: patch.role ?? cur.role,
        areaCode: patch.areaCode === undefined ? cur.areaCode : patch.areaCode,
        disabled: (patch.disabled ?? cur.disabled) ? 1 : 0,
      });
  }
}

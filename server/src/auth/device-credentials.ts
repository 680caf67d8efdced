/**
 * Boxes' stored credentials and area, remembered per box: 10,000 boxes connecting to the broker at once
 * (issue 8's connect storm) or 2,000 downloading a bulletin must not make one database read each. Used by
 * the broker's authentication (wiring/delivery.ts), the media route and the external broker's HTTP authenticator.
 *
 * Exact, not time-based: temporary triggers on the server's own connection call back here whenever a box's
 * id, secret hash, revocation or area changes, or its row is deleted, and drop that box's entry inside the
 * same statement (a rolled-back change only costs a read). A revocation, a new secret (claim) or a move to
 * another area therefore applies to the very next connect or request, whichever code path made it. (The
 * server is the only writer of its database; a change made with another program while it runs is seen
 * after a restart — revoke through the API.) Unknown ids are never remembered.
 */
import type { Db } from '../db/database.js';

export interface DeviceAuth {
  secretHash: string;
  revoked: boolean;
  areaCode: string;
}

/** The caches on each connection: the SQL function the triggers call is registered once per connection. */
const cachesByDb = new WeakMap<Db, Set<DeviceCredentialCache>>();

function watch(db: Db, cache: DeviceCredentialCache): void {
  let caches = cachesByDb.get(db);
  if (!caches) {
    const set = new Set<DeviceCredentialCache>();
    caches = set;
    cachesByDb.set(db, set);
    db.function('loaxa_forget_device_credentials', (id: unknown) => {
      for (const c of set) c.forget(String(id));
      return null;
    });
    db.exec(`
      CREATE TEMP TRIGGER IF NOT EXISTS loaxa_device_credentials_changed AFTER UPDATE OF id, secret_hash, revoked_at, area_code ON main.devices
        BEGIN SELECT loaxa_forget_device_credentials(OLD.id); END;
      CREATE TEMP TRIGGER IF NOT EXISTS loaxa_device_credentials_deleted AFTER DELETE ON main.devices
        BEGIN SELECT loaxa_forget_device_credentials(OLD.id); END;`);
  }
  caches.add(cache);
}

export class DeviceCredentialCache {
  readonly #entries = new Map<string, DeviceAuth>();

  constructor(
    db: Db,
    private readonly lookup: (id: string) => DeviceAuth | null,
    private readonly maxEntries = 50_000,
  ) {
    watch(db, this);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): DeviceAuth | null {
    const hit = this.#entries.get(id);
    if (hit) return hit;
    const creds = this.lookup(id);
    if (!creds) return null;
    this.set(id, creds);
    return creds;
  }

  /**
   * Remembers rows read or written elsewhere — only committed ones (the server's start, a registration once
   * its transaction is over): a row that does not exist must never be found here.
   */
  remember(rows: Iterable<{ id: string } & DeviceAuth>): void {
    for (const r of rows) {
      if (this.#entries.size >= this.maxEntries && !this.#entries.has(r.id)) break;
      this.set(r.id, { secretHash: r.secretHash, revoked: r.revoked, areaCode: r.areaCode });
    }
  }

  /** Drops a box's entry (its row changed); the next use reads it again. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  private set(id: string, creds: DeviceAuth): void {
    if (this.#entries.size >= this.maxEntries && !this.#entries.has(id)) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, creds);
  }
}

/**
 * Boxes' stored credentials and area, remembered per box: 10,000 boxes connecting to the broker at once
 * (issue 8's connect storm) or 2,000 downloading a bulletin must not make one database read each. Used by
 * the broker's authentication (wiring/delivery.ts), the media route and the external broker's HTTP authenticator.
 *
 * Exact, not time-based: DeviceRepository is the one place that writes a box's secret, revocation or
 * area, or deletes it (rotateSecret for a claim, revoke, deleteUnregistered), and each of those tells this
 * cache right after its write, so a revocation or a new secret applies to the very next connect or request
 * (a change rolled back afterwards only costs a read). Issue 14: this used to be SQLite triggers calling
 * back into JavaScript; a write that bypasses the repository — raw SQL, another program while the server
 * runs — is now seen only after a restart (revoke through the API). Unknown ids are never remembered.
 */
import type { DeviceAuth, DeviceRepository } from '../repos/devices.js';

/** What the cache needs of the devices: a read for a box it does not know, and word of every change. */
export type DeviceCredentialSource = Pick<DeviceRepository, 'authInfo' | 'watchCredentials'>;

export class DeviceCredentialCache {
  readonly #entries = new Map<string, DeviceAuth>();

  constructor(
    private readonly devices: DeviceCredentialSource,
    private readonly maxEntries = 50_000,
  ) {
    devices.watchCredentials({ registered: (rows) => this.remember(rows), changed: (id) => this.forget(id) });
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): DeviceAuth | null {
    const hit = this.#entries.get(id);
    if (hit) return hit;
    const creds = this.devices.authInfo(id);
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

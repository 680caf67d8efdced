/**
 * Object-level permission: whether a user may see (and so act on) one object, decided in one place per
 * kind of object and used by every route that touches it (issue 13). A route names the object in its
 * access declaration (`http/access.ts`) and the hook answers 404 for an object outside the caller's area,
 * exactly as for one that does not exist, so ids of other communes cannot be probed.
 */
import { coversArea, type Principal } from './scope.js';
import type { AreaRepository } from '../repos/areas.js';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { Bulletin, BulletinRepository } from '../repos/bulletins.js';
import type { Device, DeviceRepository } from '../repos/devices.js';
import type { OfferRecord, OfferRepository } from '../repos/offers.js';
import type { SourceRepository, StreamSource } from '../repos/sources.js';
import type { User, UserRepository } from '../repos/users.js';

export type ObjectKind = 'device' | 'broadcast' | 'bulletin' | 'offer' | 'user' | 'source';

interface Deps {
  areas: AreaRepository;
  /**
   * Each box's area, from memory (the credential cache): a broadcast may target thousands of boxes, and a
   * list or a bulletin check looks at many broadcasts, so the area of a target box is never read from SQLite.
   */
  deviceAreas: { get(id: string): { areaCode: string; revoked: boolean } | null };
  devices: DeviceRepository;
  broadcasts: BroadcastRepository;
  bulletins: BulletinRepository;
  offers: OfferRepository;
  users: UserRepository;
  sources: SourceRepository;
}

export class ObjectScope {
  constructor(private readonly deps: Deps) {}

  /** Whether an area (null: the whole installation) lies inside the caller's. */
  holdsArea(user: Principal, areaCode: string | null): boolean {
    if (user.areaCode === null) return true;
    return areaCode !== null && coversArea(user, this.deps.areas.ancestry(areaCode));
  }

  visible(kind: ObjectKind, user: Principal, id: string): boolean {
    switch (kind) {
      case 'device': {
        const d = this.deps.devices.get(id);
        return !!d && this.deviceVisible(user, d);
      }
      case 'broadcast': {
        const b = this.deps.broadcasts.get(id);
        return !!b && this.broadcastVisible(user, b);
      }
      case 'bulletin': {
        const b = this.deps.bulletins.get(id);
        return !!b && this.bulletinVisible(user, b);
      }
      case 'offer': {
        const o = this.deps.offers.get(id);
        return !!o && this.offerVisible(user, o);
      }
      case 'user': {
        const u = this.deps.users.byId(id);
        return !!u && this.userManageable(user, u);
      }
      case 'source': {
        const s = this.deps.sources.get(id);
        return !!s && s.deletedAt === null && this.sourceUsable(user, s);
      }
    }
  }

  /**
   * Issue 15, "who may use it": a source belongs to an area and serves that area and everything inside it;
   * an installation-wide one (null) serves everyone. Users above its area (the province over a commune's
   * own source) may use it too, as they may target that commune. Seeing a source is using it.
   */
  sourceUsable(user: Principal, s: Pick<StreamSource, 'areaCode'>): boolean {
    if (s.areaCode === null || user.areaCode === null) return true;
    return this.deps.areas.ancestry(user.areaCode).includes(s.areaCode) || this.holdsArea(user, s.areaCode);
  }

  /** Who may edit or delete a source: an admin whose area holds its area (installation-wide ones: installation-wide admins). */
  sourceManageable(user: Principal, s: Pick<StreamSource, 'areaCode'>): boolean {
    return user.role === 'province-admin' && this.holdsArea(user, s.areaCode);
  }

  /** A current (not revoked) box inside the caller's area. */
  deviceVisible(user: Principal, d: Device): boolean {
    return d.revokedAt === null && this.holdsArea(user, d.areaCode);
  }

  /** Its author, installation-wide users, users whose area holds a target, and users inside a target area. */
  broadcastVisible(user: Principal, b: Broadcast): boolean {
    if (user.areaCode === null || b.createdBy === user.id) return true;
    const mine = this.deps.areas.ancestry(user.areaCode);
    const areaHit = (b.target.areaCodes ?? []).some((c) => coversArea(user, this.deps.areas.ancestry(c)) || mine.includes(c));
    if (areaHit) return true;
    const checked = new Set<string>();
    return (b.target.deviceIds ?? []).some((id) => {
      const d = this.deps.deviceAreas.get(id);
      if (!d || checked.has(d.areaCode)) return false;
      checked.add(d.areaCode);
      return coversArea(user, this.deps.areas.ancestry(d.areaCode));
    });
  }

  /**
   * Issue 13, finding 9: users whose area holds the author's area (a bulletin written for the whole
   * installation only installation-wide users), its author, and users who see a broadcast or an offer of
   * it (a commune that was offered a province bulletin may read and air it).
   */
  bulletinVisible(user: Principal, b: Bulletin): boolean {
    if (b.createdBy === user.id || this.holdsArea(user, b.areaCode)) return true;
    if (this.deps.offers.areasOfBulletin(b.id).some((code) => this.holdsArea(user, code))) return true;
    return this.deps.broadcasts.ofBulletin(b.id).some((bc) => this.broadcastVisible(user, bc));
  }

  /**
   * The boxes of a broadcast the caller may see, by id (from memory): a broadcast visible because one of its
   * targets is in the caller's area must not show the boxes, deliveries and states of the other targets
   * (issue 13 review). Installation-wide users see all.
   */
  deviceIdFilter(user: Principal): (deviceId: string) => boolean {
    if (user.areaCode === null) return () => true;
    const byArea = new Map<string, boolean>();
    return (id) => {
      const d = this.deps.deviceAreas.get(id);
      if (!d) return false;
      let v = byArea.get(d.areaCode);
      if (v === undefined) byArea.set(d.areaCode, (v = coversArea(user, this.deps.areas.ancestry(d.areaCode))));
      return v;
    };
  }

  /** An offer is the business of the area it was offered to (and of those above it). */
  offerVisible(user: Principal, o: OfferRecord): boolean {
    return this.holdsArea(user, o.areaCode);
  }

  /**
   * Issue 13, finding 2: an admin manages only users inside its own area; an installation-wide user
   * (area null) only an installation-wide admin.
   */
  userManageable(user: Principal, target: Pick<User, 'areaCode'>): boolean {
    return this.holdsArea(user, target.areaCode);
  }
}

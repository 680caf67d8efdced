/**
 * The notifications' tables (migration 27): one row per recipient, browsers' push subscriptions, and each
 * user's e-mail address and channels. Every read and write names the user it is for.
 */
import { DEFAULT_CHANNELS, NOTIFICATION_KINDS, type NotificationChannels, type NotificationKind } from '@loaxa/shared';
import type { Role } from '@loaxa/shared';
import type { Db } from '../db/database.js';

export interface NotificationRow {
  id: number;
  userId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  link: string;
  createdAt: number;
  readAt: number | null;
}

export interface PushSubscriptionRow {
  endpoint: string;
  userId: string;
  p256dh: string;
  auth: string;
}

export interface Recipient {
  id: string;
  username: string;
  role: Role;
  areaCode: string | null;
}

interface Row {
  id: number;
  user_id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  link: string;
  created_at: number;
  read_at: number | null;
}

const toRow = (r: Row): NotificationRow => ({ id: r.id, userId: r.user_id, kind: r.kind, title: r.title, body: r.body, link: r.link, createdAt: r.created_at, readAt: r.read_at });

/** A user keeps this many notifications; older ones go when new ones come. */
export const KEEP_PER_USER = 500;
/** One user's browsers: a phone, a desktop, a few more; a script cannot make the server push to thousands. */
export const MAX_SUBSCRIPTIONS_PER_USER = 10;

export class NotificationRepository {
  constructor(private readonly db: Db) {}

  /** The users who may receive notifications: enabled people (not a peer's system actor). */
  recipients(): Recipient[] {
    return (this.db.prepare('SELECT id, username, role, area_code FROM users WHERE disabled = 0 AND system = 0').all() as Array<{ id: string; username: string; role: Role; area_code: string | null }>).map((r) => ({
      id: r.id,
      username: r.username,
      role: r.role,
      areaCode: r.area_code,
    }));
  }

  /** One notification for each user; answers the rows made. */
  insert(userIds: readonly string[], n: { kind: NotificationKind; title: string; body: string; link: string }, at: number, ref: string | null = null): NotificationRow[] {
    const stmt = this.db.prepare('INSERT INTO notifications (user_id, kind, title, body, link, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const prune = this.db.prepare('DELETE FROM notifications WHERE user_id = ? AND id <= (SELECT id FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)');
    return this.db.transaction(() =>
      userIds.map((userId) => {
        const id = Number(stmt.run(userId, n.kind, n.title, n.body, n.link, ref, at).lastInsertRowid);
        prune.run(userId, userId, KEEP_PER_USER);
        return { id, userId, ...n, createdAt: at, readAt: null };
      }),
    )();
  }

  list(userId: string, limit: number, before: number | undefined, unreadOnly: boolean): NotificationRow[] {
    const rows = this.db
      .prepare(`SELECT * FROM notifications WHERE user_id = ? AND id < ? ${unreadOnly ? 'AND read_at IS NULL' : ''} ORDER BY id DESC LIMIT ?`)
      .all(userId, before ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toRow);
  }

  unread(userId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL').get(userId) as { n: number }).n;
  }

  /** Marks one of the user's notifications read; false when the user has no such notification. */
  markRead(userId: string, id: number, at: number): boolean {
    const found = this.db.prepare('SELECT read_at FROM notifications WHERE id = ? AND user_id = ?').get(id, userId) as { read_at: number | null } | undefined;
    if (!found) return false;
    if (found.read_at === null) this.db.prepare('UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ?').run(at, id, userId);
    return true;
  }

  /** Marks read, for everyone, the unread notifications of this kind about `ref` (an approval someone else decided). */
  settle(kind: NotificationKind, ref: string, at: number): number {
    return this.db.prepare('UPDATE notifications SET read_at = ? WHERE ref = ? AND kind = ? AND read_at IS NULL').run(at, ref, kind).changes;
  }

  markAllRead(userId: string, at: number): number {
    return this.db.prepare('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL').run(at, userId).changes;
  }

  subscriptions(userId: string): PushSubscriptionRow[] {
    return (this.db.prepare('SELECT endpoint, user_id, p256dh, auth FROM push_subscriptions WHERE user_id = ? ORDER BY created_at').all(userId) as Array<{ endpoint: string; user_id: string; p256dh: string; auth: string }>).map((r) => ({
      endpoint: r.endpoint,
      userId: r.user_id,
      p256dh: r.p256dh,
      auth: r.auth,
    }));
  }

  /**
   * Saves a browser's subscription for this user; false when the endpoint is another user's (nothing changes).
   * An endpoint is one browser profile: subscribing it again renews its keys. It is never moved to another user
   * (review of issue 22/20: anyone who learnt an endpoint could take another person's notifications away); the
   * browser unsubscribes and subscribes again for a new endpoint instead. The oldest of a user's subscriptions
   * beyond the cap is dropped.
   */
  subscribe(userId: string, s: { endpoint: string; p256dh: string; auth: string }, at: number): boolean {
    return this.db.transaction(() => {
      const owner = this.db.prepare<[string], { user_id: string }>('SELECT user_id FROM push_subscriptions WHERE endpoint = ?').get(s.endpoint);
      if (owner && owner.user_id !== userId) return false;
      this.db
        .prepare('INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at')
        .run(s.endpoint, userId, s.p256dh, s.auth, at);
      this.db
        .prepare('DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint NOT IN (SELECT endpoint FROM push_subscriptions WHERE user_id = ? ORDER BY created_at DESC LIMIT ?)')
        .run(userId, userId, MAX_SUBSCRIPTIONS_PER_USER);
      return true;
    })();
  }

  /** Every browser of this user stops getting pushes: the user was changed (password, role, area, disabled). */
  dropUser(userId: string): void {
    this.db.prepare('DELETE FROM push_subscriptions WHERE user_id = ?').run(userId);
  }

  /** Removes the user's subscription at this endpoint; answers whether there was one. */
  unsubscribe(userId: string, endpoint: string): boolean {
    return this.db.prepare('DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?').run(userId, endpoint).changes > 0;
  }

  /** The push service said the subscription is gone (404/410). */
  dropSubscription(endpoint: string): void {
    this.db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?').run(endpoint);
  }

  pushed(endpoint: string, at: number): void {
    this.db.prepare('UPDATE push_subscriptions SET last_ok_at = ? WHERE endpoint = ?').run(at, endpoint);
  }

  preferences(userId: string): { email: string | null; channels: NotificationChannels } {
    const row = this.db.prepare('SELECT email, channels FROM notification_prefs WHERE user_id = ?').get(userId) as { email: string | null; channels: string } | undefined;
    let stored: Partial<NotificationChannels> = {};
    try {
      stored = row ? (JSON.parse(row.channels) as Partial<NotificationChannels>) : {};
    } catch {
      // An unreadable row counts as no choice made: the defaults.
    }
    const channels = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, { ...DEFAULT_CHANNELS[k], ...(stored[k] ?? {}) }])) as NotificationChannels;
    return { email: row?.email ?? null, channels };
  }

  setPreferences(userId: string, email: string | null, channels: NotificationChannels, at: number): void {
    this.db
      .prepare('INSERT INTO notification_prefs (user_id, email, channels, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET email = excluded.email, channels = excluded.channels, updated_at = excluded.updated_at')
      .run(userId, email, JSON.stringify(channels), at);
  }
}

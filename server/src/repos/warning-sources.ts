/**
 * The senders we take CAP 1.2 alerts from (issue 18): pushed to POST /api/v1/warnings/cap with a token of
 * their own, or pulled from their feed by the poller (server/src/warnings/feed-poller.ts), each with its
 * policy. The push token is kept as its SHA-256 (a random 192-bit secret, like a box's: fast to check and
 * found by its hash, CONTRACTS.md). This repository is also the poller's `FeedSourceStore`.
 */
import { warningPolicySchema, type WarningPolicy } from '@loaxa/shared';
import type { Db } from '../db/database.js';
import type { FeedSourceStore, FeedState } from '../warnings/feed-poller.js';

export type WarningSourceKind = 'push' | 'feed';

export interface WarningSourceRecord {
  id: string;
  name: string;
  kind: WarningSourceKind;
  feedUrl: string | null;
  pollSeconds: number;
  areaCodes: string[];
  policy: WarningPolicy;
  geocodeValueNames: string[];
  requireSignature: boolean;
  certificatePem: string | null;
  certificateSubject: string | null;
  tokenHash: string | null;
  createdAt: number;
  disabledAt: number | null;
  deletedAt: number | null;
}

// The poller's own view of a source (warnings/feed-poller.ts): this repository implements it.
export type { FeedState } from '../warnings/feed-poller.js';

interface Row {
  id: string;
  name: string;
  kind: WarningSourceKind;
  feed_url: string | null;
  poll_seconds: number;
  area_codes: string;
  policy: string;
  geocode_value_names: string;
  require_signature: number;
  certificate_pem: string | null;
  certificate_subject: string | null;
  token_hash: string | null;
  created_at: number;
  disabled_at: number | null;
  deleted_at: number | null;
  etag: string | null;
  last_modified: string | null;
  last_polled_at: number | null;
  last_changed_at: number | null;
  last_result: string | null;
  failures: number;
  next_poll_at: number | null;
  seen: string;
}

const toRecord = (r: Row): WarningSourceRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  feedUrl: r.feed_url,
  pollSeconds: r.poll_seconds,
  areaCodes: JSON.parse(r.area_codes) as string[],
  // Parsed again: a policy stored by an older version gets the defaults of fields added since.
  policy: warningPolicySchema.parse(JSON.parse(r.policy)),
  geocodeValueNames: JSON.parse(r.geocode_value_names) as string[],
  requireSignature: r.require_signature === 1,
  certificatePem: r.certificate_pem,
  certificateSubject: r.certificate_subject,
  tokenHash: r.token_hash,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
  deletedAt: r.deleted_at,
});

const toState = (r: Row): FeedState => ({
  etag: r.etag,
  lastModified: r.last_modified,
  lastPolledAt: r.last_polled_at,
  lastChangedAt: r.last_changed_at,
  lastResult: r.last_result,
  failures: r.failures,
  nextPollAt: r.next_poll_at,
  seen: JSON.parse(r.seen) as string[],
});

/** The poller keeps at most this many identifiers seen per feed (a feed lists the current alerts only). */
const SEEN_MAX = 2000;

export class WarningSourceRepository implements FeedSourceStore {
  constructor(private readonly db: Db) {}

  insert(s: WarningSourceRecord): void {
    this.db
      .prepare(
        `INSERT INTO warning_sources (id, name, kind, feed_url, poll_seconds, area_codes, policy, geocode_value_names, require_signature, certificate_pem,
           certificate_subject, token_hash, created_at, disabled_at, deleted_at)
         VALUES (@id, @name, @kind, @feedUrl, @pollSeconds, @areaCodes, @policy, @geocodeValueNames, @requireSignature, @certificatePem,
           @certificateSubject, @tokenHash, @createdAt, @disabledAt, @deletedAt)`,
      )
      .run(this.params(s));
  }

  update(s: WarningSourceRecord): void {
    this.db
      .prepare(
        `UPDATE warning_sources SET name = @name, feed_url = @feedUrl, poll_seconds = @pollSeconds, area_codes = @areaCodes, policy = @policy,
           geocode_value_names = @geocodeValueNames, require_signature = @requireSignature, certificate_pem = @certificatePem,
           certificate_subject = @certificateSubject, token_hash = @tokenHash, disabled_at = @disabledAt, deleted_at = @deletedAt WHERE id = @id`,
      )
      .run(this.params(s));
  }

  private params(s: WarningSourceRecord) {
    return {
      ...s,
      areaCodes: JSON.stringify(s.areaCodes),
      policy: JSON.stringify(s.policy),
      geocodeValueNames: JSON.stringify(s.geocodeValueNames),
      requireSignature: s.requireSignature ? 1 : 0,
    };
  }

  /** A source, deleted ones included (a warning keeps naming the source it came from). */
  get(id: string): WarningSourceRecord | null {
    const r = this.db.prepare<[string], Row>('SELECT * FROM warning_sources WHERE id = ?').get(id);
    return r ? toRecord(r) : null;
  }

  byTokenHash(hash: string): WarningSourceRecord | null {
    const r = this.db.prepare<[string], Row>('SELECT * FROM warning_sources WHERE token_hash = ? AND deleted_at IS NULL').get(hash);
    return r ? toRecord(r) : null;
  }

  /** The sources not deleted, with their feed state. */
  list(): Array<WarningSourceRecord & { feed: FeedState }> {
    return this.db
      .prepare<[], Row>('SELECT * FROM warning_sources WHERE deleted_at IS NULL ORDER BY created_at, id')
      .all()
      .map((r) => ({ ...toRecord(r), feed: toState(r) }));
  }

  // ---- FeedSourceStore --------------------------------------------------------------------------------

  /** Enabled sources of kind `feed`, for the poller. */
  feeds(): { id: string; feedUrl: string; pollSeconds: number }[] {
    return this.db
      .prepare<[], { id: string; feed_url: string; poll_seconds: number }>(
        `SELECT id, feed_url, poll_seconds FROM warning_sources WHERE kind = 'feed' AND feed_url IS NOT NULL AND disabled_at IS NULL AND deleted_at IS NULL ORDER BY id`,
      )
      .all()
      .map((r) => ({ id: r.id, feedUrl: r.feed_url, pollSeconds: r.poll_seconds }));
  }

  state(id: string): FeedState | null {
    const r = this.db.prepare<[string], Row>('SELECT * FROM warning_sources WHERE id = ?').get(id);
    return r ? toState(r) : null;
  }

  saveState(id: string, s: FeedState): void {
    this.db
      .prepare(
        `UPDATE warning_sources SET etag = @etag, last_modified = @lastModified, last_polled_at = @lastPolledAt, last_changed_at = @lastChangedAt,
           last_result = @lastResult, failures = @failures, next_poll_at = @nextPollAt, seen = @seen WHERE id = @id`,
      )
      .run({ ...s, id, lastResult: s.lastResult?.slice(0, 500) ?? null, seen: JSON.stringify(s.seen.slice(-SEEN_MAX)) });
  }
}

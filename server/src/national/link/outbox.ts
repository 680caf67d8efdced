/**
 * The upstream link's on-disk outbox over `national_outbox` (migration 20; issue 17): every event of the
 * internal model that goes up to the province, in `seq` order, so a week offline loses nothing and arrives in
 * order (the same idea as the box's `device-agent/src/report-outbox.ts`). Pending until the province answers;
 * `sent` when it accepts; `refused` when it answers TrangThaiGui 1 or a 4xx other than 401 — kept with its
 * answer for the province admin and never sent again (a refusal is about the message; resending changes nothing).
 *
 * Box statuses are coalesced (the only events that are): a box's new status replaces its status still pending,
 * in that status's place, because the province wants each box's current state (CV 1273: status every 30 s) —
 * after a week offline 10,000 boxes would otherwise queue 200 million stale statuses ahead of the play logs. In
 * place, not moved to the end: when sending is slower than the rounds (10,000 boxes, a distant province), a
 * status moved to the end at every round would never be reached for the boxes late in the order. Airing
 * events and acks are never dropped; their dedupe key keeps a box report delivered twice (MQTT QoS 1) from
 * being queued twice.
 */
import { upstreamEventSchema, type UpstreamEvent, type UpstreamEventKind } from '@loaxa/shared';
import type { Db } from '../../db/database.js';

export type OutboxState = 'pending' | 'sent' | 'refused';

export interface OutboxItem {
  seq: number;
  kind: UpstreamEventKind;
  event: UpstreamEvent;
  createdAt: number;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  answer: string | null;
  sentAt: number | null;
  /** The event as stored: a status replaced while it was being sent is not marked done for the older one. */
  readonly stored: string;
}

interface Row {
  seq: number;
  kind: UpstreamEventKind;
  dedupe_key: string | null;
  event_json: string;
  created_at: number;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  answer: string | null;
  sent_at: number | null;
}

/** What of an answer or an error is kept: enough to read why, not a province's 10 MB page. */
const MAX_KEPT = 2000;
const keep = (s: string | null) => (s === null ? null : s.length > MAX_KEPT ? `${s.slice(0, MAX_KEPT)}…` : s);

/**
 * A status's dedupe key names its box while it waits, so the box's pending status is found by the key's unique
 * index (an exact match: a range or the state index made a 10,000-box round scan the table per box, 29 s on the
 * test machine); the key is cleared when the status is done, so the next one may take it.
 */
const statusKey = (nationalId: string) => `status\u0001${nationalId}`;

/** A done status gives up its box's key; a done airing record keeps its own, so a late repeat is still queued once. */
const DONE_KEY = `dedupe_key = CASE WHEN kind = 'box-status' THEN NULL ELSE dedupe_key END`;

function toItem(r: Row): OutboxItem {
  return {
    seq: r.seq,
    kind: r.kind,
    // Written by `append` from a checked event; read back through the schema all the same (a hand-edited row).
    event: upstreamEventSchema.parse(JSON.parse(r.event_json)),
    createdAt: r.created_at,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    answer: r.answer,
    sentAt: r.sent_at,
    stored: r.event_json,
  };
}

export class NationalOutboxRepository {
  private readonly insertStmt;
  private readonly replaceStatusStmt;
  private readonly headStmt;
  private readonly sentStmt;
  private readonly refusedStmt;
  private readonly failedStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO national_outbox (kind, dedupe_key, event_json, created_at, next_attempt_at) VALUES (@kind, @key, @json, @now, @now)
       ON CONFLICT DO NOTHING`,
    );
    this.replaceStatusStmt = db.prepare(`UPDATE national_outbox SET event_json = ? WHERE dedupe_key = ?`);
    this.headStmt = db.prepare<[], Row>(`SELECT * FROM national_outbox WHERE state = 'pending' ORDER BY seq LIMIT 1`);
    this.sentStmt = db.prepare(`UPDATE national_outbox SET state = 'sent', answer = ?, sent_at = ?, attempts = attempts + 1, last_error = NULL, ${DONE_KEY} WHERE seq = ? AND state = 'pending' AND event_json = ?`);
    this.refusedStmt = db.prepare(`UPDATE national_outbox SET state = 'refused', answer = ?, last_error = ?, sent_at = ?, attempts = attempts + 1, ${DONE_KEY} WHERE seq = ? AND state = 'pending' AND event_json = ?`);
    this.failedStmt = db.prepare(`UPDATE national_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE seq = ? AND state = 'pending'`);
  }

  /**
   * Appends events in one transaction (a status tick of 10,000 boxes is one commit): a status replaces the
   * same box's pending one where it waits; an event whose dedupe key is already there is skipped. Answers how
   * many were added (a replaced status is not added).
   */
  append(items: ReadonlyArray<{ event: UpstreamEvent; dedupeKey?: string | null }>, now: number): number {
    if (items.length === 0) return 0;
    return this.db.transaction(() => {
      let added = 0;
      for (const { event, dedupeKey } of items) {
        let key = dedupeKey ?? null;
        const json = JSON.stringify(event);
        if (event.kind === 'box-status') {
          key = statusKey(event.box.nationalId);
          // Only a pending status holds its box's key (a done one gives it up): replaced where it waits.
          if (this.replaceStatusStmt.run(json, key).changes > 0) continue;
        }
        added += this.insertStmt.run({ kind: event.kind, key, json, now }).changes;
      }
      return added;
    })();
  }

  /** The oldest pending event: the link sends strictly in order, one at a time. */
  head(): OutboxItem | null {
    const r = this.headStmt.get();
    return r ? toItem(r) : null;
  }

  /** The province took `item` as it was read; a status replaced meanwhile stays pending, to be sent as it is now. */
  markSent(item: Pick<OutboxItem, 'seq' | 'stored'>, answer: string, now: number): void {
    this.sentStmt.run(keep(answer), now, item.seq, item.stored);
  }

  markRefused(item: Pick<OutboxItem, 'seq' | 'stored'>, answer: string, error: string, now: number): void {
    this.refusedStmt.run(keep(answer), keep(error), now, item.seq, item.stored);
  }

  /** A failed attempt (network, timeout, 5xx, garbage): stays pending, tried again at `nextAttemptAt`. */
  markFailed(seq: number, error: string, nextAttemptAt: number): void {
    this.failedStmt.run(keep(error), nextAttemptAt, seq);
  }

  counts(): { pending: number; sent: number; refused: number; oldestPendingAt: number | null } {
    const rows = this.db.prepare(`SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM national_outbox GROUP BY state`).all() as Array<{ state: OutboxState; n: number; oldest: number }>;
    const by = new Map(rows.map((r) => [r.state, r]));
    return { pending: by.get('pending')?.n ?? 0, sent: by.get('sent')?.n ?? 0, refused: by.get('refused')?.n ?? 0, oldestPendingAt: by.get('pending')?.oldest ?? null };
  }

  /** Newest first; `before` pages on with the last item's seq. */
  list(filter: { state?: OutboxState | undefined; limit: number; before?: number | undefined }): OutboxItem[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.state) {
      where.push('state = @state');
      params.state = filter.state;
    }
    if (filter.before !== undefined) {
      where.push('seq < @before');
      params.before = filter.before;
    }
    const rows = this.db.prepare(`SELECT * FROM national_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`).all(params) as Row[];
    return rows.map(toItem);
  }

  /**
   * Forgets what is done and old: sent statuses after `statusKeepMs` (10,000 boxes × 2 a minute would be 29
   * million rows a day), other sent and refused events after `keepMs`. Pending events are never pruned.
   */
  prune(now: number, statusKeepMs: number, keepMs: number): number {
    const a = this.db.prepare(`DELETE FROM national_outbox WHERE state = 'sent' AND kind = 'box-status' AND sent_at < ?`).run(now - statusKeepMs).changes;
    const b = this.db.prepare(`DELETE FROM national_outbox WHERE state != 'pending' AND sent_at < ?`).run(now - keepMs).changes;
    return a + b;
  }
}

/**
 * Every request that reached the served interface (issue 17), taken or refused, with who sent it and why it
 * was refused: the province admin's view of what children and parents sent. The body is kept (bounded) so a
 * refusal can be shown with what caused it.
 */
import type { Db } from '../db/database.js';

export interface NationalInboundRecord {
  id: number;
  peerId: string | null;
  kind: string;
  receivedAt: number;
  accepted: boolean;
  detail: string;
  body: string | null;
}

interface Row {
  id: number;
  peer_id: string | null;
  kind: string;
  received_at: number;
  accepted: number;
  detail: string;
  body: string | null;
}

/** What of a body is kept: enough to see what was wrong, not a 1 MB refused body per request. */
const MAX_KEPT_BODY = 4096;

/** How long the log is kept: a month of what children and parents sent is what an admin looks back on. */
export const INBOUND_RETENTION_MS = 30 * 86_400_000;

export class NationalInboundRepository {
  private sincePrune = 0;

  constructor(private readonly db: Db) {}

  record(e: { peerId: string | null; kind: string; receivedAt: number; accepted: boolean; detail: string; body: string | null }): number {
    const body = e.body === null ? null : e.body.length > MAX_KEPT_BODY ? `${e.body.slice(0, MAX_KEPT_BODY)}…` : e.body;
    const r = this.db
      .prepare('INSERT INTO national_inbound (peer_id, kind, received_at, accepted, detail, body) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.peerId, e.kind.slice(0, 100), e.receivedAt, e.accepted ? 1 : 0, e.detail.slice(0, 2000), body);
    // Pruned as it grows (every 10,000 rows), not on a timer: the log is only written when requests come.
    if (++this.sincePrune >= 10_000) {
      this.sincePrune = 0;
      this.prune(e.receivedAt - INBOUND_RETENTION_MS);
    }
    return Number(r.lastInsertRowid);
  }

  prune(before: number): number {
    return this.db.prepare('DELETE FROM national_inbound WHERE received_at < ?').run(before).changes;
  }

  /** Newest first; `beforeId` pages back. */
  list(q: { peerId?: string | undefined; accepted?: boolean | undefined; limit: number; beforeId?: number | undefined }): NationalInboundRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM national_inbound WHERE 1 = 1 ${q.peerId ? 'AND peer_id = @peerId' : ''} ${q.accepted !== undefined ? 'AND accepted = @accepted' : ''}
         ${q.beforeId !== undefined ? 'AND id < @beforeId' : ''} ORDER BY id DESC LIMIT @limit`,
      )
      .all({ limit: q.limit, ...(q.peerId ? { peerId: q.peerId } : {}), ...(q.accepted !== undefined ? { accepted: q.accepted ? 1 : 0 } : {}), ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}) }) as Row[];
    return rows.map((r) => ({ id: r.id, peerId: r.peer_id, kind: r.kind, receivedAt: r.received_at, accepted: r.accepted === 1, detail: r.detail, body: r.body }));
  }
}

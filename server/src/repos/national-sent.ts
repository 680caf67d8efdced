/** What we sent down to each child peer (issue 17) and its answer, for `GET /api/v1/national/sent`. */
import type { Db } from '../db/database.js';

export interface NationalSentRecord {
  id: string;
  peerId: string;
  upstreamId: string;
  bulletinId: string | null;
  title: string;
  priority: string;
  commandJson: string;
  sentAt: number;
  ok: boolean;
  detail: string;
  httpStatus: number | null;
  sentBy: string | null;
  /** The child's schedule-ack, when it came. */
  ack?: { at: number; accepted: boolean; detail: string } | null;
}

interface Row {
  id: string;
  peer_id: string;
  upstream_id: string;
  bulletin_id: string | null;
  title: string;
  priority: string;
  command_json: string;
  sent_at: number;
  ok: number;
  detail: string;
  http_status: number | null;
  sent_by: string | null;
  ack_at: number | null;
  ack_ok: number | null;
  ack_detail: string | null;
}

export class NationalSentRepository {
  constructor(private readonly db: Db) {}

  insert(s: NationalSentRecord): void {
    this.db
      .prepare(
        `INSERT INTO national_sent (id, peer_id, upstream_id, bulletin_id, title, priority, command_json, sent_at, ok, detail, http_status, sent_by)
         VALUES (@id, @peerId, @upstreamId, @bulletinId, @title, @priority, @commandJson, @sentAt, @ok, @detail, @httpStatus, @sentBy)`,
      )
      .run({ ...s, ok: s.ok ? 1 : 0, detail: s.detail.slice(0, 2000) });
  }

  /** The child's answer to a send recorded before it went out (its ack may come first, through its own link). */
  answered(id: string, a: { ok: boolean; detail: string; httpStatus: number | null; at: number }): void {
    this.db.prepare('UPDATE national_sent SET ok = @ok, detail = @detail, http_status = @httpStatus, sent_at = @at WHERE id = @id').run({ id, ok: a.ok ? 1 : 0, detail: a.detail.slice(0, 2000), httpStatus: a.httpStatus, at: a.at });
  }

  get(id: string): NationalSentRecord | null {
    return this.list(undefined, 1, id)[0] ?? null;
  }

  /** A child's schedule-ack: kept on the latest send of that bulletin to it. False when we sent it no such bulletin. */
  acknowledged(peerId: string, upstreamId: string, accepted: boolean, detail: string, at: number): boolean {
    const r = this.db
      .prepare(
        `UPDATE national_sent SET ack_at = @at, ack_ok = @ok, ack_detail = @detail
         WHERE id = (SELECT id FROM national_sent WHERE peer_id = @peerId AND upstream_id = @upstreamId ORDER BY sent_at DESC LIMIT 1)`,
      )
      .run({ peerId, upstreamId, at, ok: accepted ? 1 : 0, detail: detail.slice(0, 2000) });
    return r.changes === 1;
  }

  /** Newest first. */
  list(peerId: string | undefined, limit: number, id?: string): NationalSentRecord[] {
    const where = [peerId ? 'peer_id = @peerId' : '', id ? 'id = @id' : ''].filter(Boolean).join(' AND ');
    const rows = this.db.prepare(`SELECT * FROM national_sent ${where ? `WHERE ${where}` : ''} ORDER BY sent_at DESC, id LIMIT @limit`).all({ limit, ...(peerId ? { peerId } : {}), ...(id ? { id } : {}) }) as Row[];
    return rows.map((r) => ({
      id: r.id,
      peerId: r.peer_id,
      upstreamId: r.upstream_id,
      bulletinId: r.bulletin_id,
      title: r.title,
      priority: r.priority,
      commandJson: r.command_json,
      sentAt: r.sent_at,
      ok: r.ok === 1,
      detail: r.detail,
      httpStatus: r.http_status,
      sentBy: r.sent_by,
      ack: r.ack_at === null ? null : { at: r.ack_at, accepted: r.ack_ok === 1, detail: r.ack_detail ?? '' },
    }));
  }
}

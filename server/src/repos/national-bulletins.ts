/**
 * Bulletins that came down from a parent (issue 17), by the sender's *BanTinId*: what each became here (our
 * bulletin, the broadcasts or the inbox offers), so that a delete or a reschedule finds them and a repeated
 * BanTinId updates what exists instead of airing a second time.
 */
import type { Db } from '../db/database.js';

export type NationalBulletinState = 'fetching' | 'inbox' | 'scheduled' | 'aired' | 'deleted' | 'failed';

export interface NationalBulletinRecord {
  peerId: string;
  upstreamId: string;
  bulletinId: string | null;
  broadcastIds: string[];
  offerIds: string[];
  state: NationalBulletinState;
  detail: string | null;
  commandJson: string;
  receivedAt: number;
  updatedAt: number;
}

interface Row {
  peer_id: string;
  upstream_id: string;
  bulletin_id: string | null;
  broadcast_ids: string;
  offer_ids: string;
  state: NationalBulletinState;
  detail: string | null;
  command_json: string;
  received_at: number;
  updated_at: number;
}

const toRecord = (r: Row): NationalBulletinRecord => ({
  peerId: r.peer_id,
  upstreamId: r.upstream_id,
  bulletinId: r.bulletin_id,
  broadcastIds: JSON.parse(r.broadcast_ids) as string[],
  offerIds: JSON.parse(r.offer_ids) as string[],
  state: r.state,
  detail: r.detail,
  commandJson: r.command_json,
  receivedAt: r.received_at,
  updatedAt: r.updated_at,
});

export class NationalBulletinRepository {
  constructor(private readonly db: Db) {}

  get(peerId: string, upstreamId: string): NationalBulletinRecord | null {
    const r = this.db.prepare('SELECT * FROM national_bulletins WHERE peer_id = ? AND upstream_id = ?').get(peerId, upstreamId) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  /** Inserts or replaces the row of (peer, BanTinId). */
  put(b: NationalBulletinRecord): void {
    this.db
      .prepare(
        `INSERT INTO national_bulletins (peer_id, upstream_id, bulletin_id, broadcast_ids, offer_ids, state, detail, command_json, received_at, updated_at)
         VALUES (@peerId, @upstreamId, @bulletinId, @broadcastIds, @offerIds, @state, @detail, @commandJson, @receivedAt, @updatedAt)
         ON CONFLICT (peer_id, upstream_id) DO UPDATE SET bulletin_id = excluded.bulletin_id, broadcast_ids = excluded.broadcast_ids, offer_ids = excluded.offer_ids,
           state = excluded.state, detail = excluded.detail, command_json = excluded.command_json, updated_at = excluded.updated_at`,
      )
      .run({ ...b, broadcastIds: JSON.stringify(b.broadcastIds), offerIds: JSON.stringify(b.offerIds) });
  }

  list(peerId: string | undefined, limit: number): NationalBulletinRecord[] {
    const rows = this.db.prepare(`SELECT * FROM national_bulletins ${peerId ? 'WHERE peer_id = @peerId' : ''} ORDER BY updated_at DESC LIMIT @limit`).all({ limit, ...(peerId ? { peerId } : {}) }) as Row[];
    return rows.map(toRecord);
  }
}

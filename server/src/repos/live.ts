/**
 * Live airings (issue 16): one row per airing, next to its bulletin (same id) and its broadcast. The row is
 * the airing's record for the operator's screen and the audit (who spoke, when it went on air, why it ended,
 * how much voice aired); the deliveries of its broadcast are each box's as-run, as for any broadcast.
 */
import type { Db } from '../db/database.js';
import type { LiveEndReason, LiveState } from '@loaxa/shared';

export interface LiveSessionRecord {
  id: string;
  broadcastId: string;
  createdBy: string;
  /** What the boxes pull: the server's `/live/{id}` (with their credentials) or an Icecast mount. */
  streamUrl: string;
  deviceAuth: boolean;
  state: LiveState;
  endReason: LiveEndReason | null;
  /** The browser's recorder's MIME type, as its `start` said. */
  inputType: string | null;
  createdAt: number;
  onAirAt: number | null;
  endedAt: number | null;
  endedBy: string | null;
  airedMs: number;
}

interface Row {
  id: string;
  broadcast_id: string;
  created_by: string;
  stream_url: string;
  device_auth: number;
  state: LiveState;
  end_reason: LiveEndReason | null;
  input_type: string | null;
  created_at: number;
  on_air_at: number | null;
  ended_at: number | null;
  ended_by: string | null;
  aired_ms: number;
}

const toRecord = (r: Row): LiveSessionRecord => ({
  id: r.id,
  broadcastId: r.broadcast_id,
  createdBy: r.created_by,
  streamUrl: r.stream_url,
  deviceAuth: r.device_auth === 1,
  state: r.state,
  endReason: r.end_reason,
  inputType: r.input_type,
  createdAt: r.created_at,
  onAirAt: r.on_air_at,
  endedAt: r.ended_at,
  endedBy: r.ended_by,
  airedMs: r.aired_ms,
});

export class LiveRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly byBroadcastStmt;
  private readonly onAirStmt;
  private readonly airedStmt;
  private readonly endStmt;
  private readonly openStmt;
  private readonly countsStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO live_sessions (id, broadcast_id, created_by, stream_url, device_auth, state, created_at)
       VALUES (@id, @broadcastId, @createdBy, @streamUrl, @deviceAuth, 'waiting', @createdAt)`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM live_sessions WHERE id = ?');
    this.byBroadcastStmt = db.prepare<[string], Row>('SELECT * FROM live_sessions WHERE broadcast_id = ?');
    this.onAirStmt = db.prepare(`UPDATE live_sessions SET state = 'on-air', input_type = @inputType, on_air_at = @at WHERE id = @id AND state = 'waiting'`);
    this.airedStmt = db.prepare(`UPDATE live_sessions SET aired_ms = @airedMs WHERE id = @id AND state != 'ended'`);
    // Ended once: the first reason stands (a stop racing the socket's close must not rewrite why it ended).
    this.endStmt = db.prepare(
      `UPDATE live_sessions SET state = 'ended', end_reason = @reason, ended_at = @at, ended_by = @endedBy, aired_ms = MAX(aired_ms, @airedMs)
       WHERE id = @id AND state != 'ended'`,
    );
    this.openStmt = db.prepare<[], Row>(`SELECT * FROM live_sessions WHERE state != 'ended' ORDER BY created_at`);
    // The operator's "how many boxes are playing", once a second: one indexed count of the broadcast's deliveries.
    this.countsStmt = db.prepare<[string], { playing: number; total: number }>(
      `SELECT COALESCE(SUM(state = 'playing'), 0) AS playing, COUNT(*) AS total FROM deliveries WHERE broadcast_id = ?`,
    );
  }

  /** Runs `fn` in one transaction (the bulletin, the broadcast and this row are written together). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insert(s: { id: string; broadcastId: string; createdBy: string; streamUrl: string; deviceAuth: boolean; createdAt: number }): void {
    this.insertStmt.run({ ...s, deviceAuth: s.deviceAuth ? 1 : 0 });
  }

  get(id: string): LiveSessionRecord | null {
    const r = this.getStmt.get(id);
    return r ? toRecord(r) : null;
  }

  byBroadcast(broadcastId: string): LiveSessionRecord | null {
    const r = this.byBroadcastStmt.get(broadcastId);
    return r ? toRecord(r) : null;
  }

  /** The voice arrived: false when the airing had already ended. */
  setOnAir(id: string, inputType: string, at: number): boolean {
    return this.onAirStmt.run({ id, inputType, at }).changes === 1;
  }

  setAired(id: string, airedMs: number): void {
    this.airedStmt.run({ id, airedMs: Math.round(airedMs) });
  }

  /** Ends the airing; false when it had already ended (its first reason stands). */
  end(id: string, e: { reason: LiveEndReason; at: number; endedBy: string | null; airedMs: number }): boolean {
    return this.endStmt.run({ id, ...e, airedMs: Math.round(e.airedMs) }).changes === 1;
  }

  /** Airings not ended: after a crash, the ones the last process left on air. */
  open(): LiveSessionRecord[] {
    return this.openStmt.all().map(toRecord);
  }

  /** Boxes playing the airing now, and boxes it was sent to. */
  deliveryCounts(broadcastId: string): { playing: number; total: number } {
    return this.countsStmt.get(broadcastId) ?? { playing: 0, total: 0 };
  }
}

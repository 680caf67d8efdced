/**
 * A source system's view of its children (issue 17): their boxes, from the status each box reports every 30 s,
 * and their airings, from the play logs (one at an airing's start, a completion or failure record after). The
 * central dashboard counts coverage, faults and as-run per child from these, the way ARCHITECTURE.md § Coverage
 * counts our own boxes.
 */
import type { Db } from '../db/database.js';

/** ARCHITECTURE.md § Coverage: a box counts as working when heard from within the last 15 minutes. */
export const CHILD_ONLINE_WINDOW_MS = 15 * 60_000;

export interface ChildBoxStatus {
  peerId: string;
  nationalId: string;
  name: string;
  areaCode: string;
  areaName: string;
  lat: number | null;
  lon: number | null;
  volume: number | null;
  operating: string;
  connection: string;
  nowPlaying: string;
  appVersion: string;
  lastStatusAt: number;
}

export interface ChildAiringStart {
  peerId: string;
  airingKey: string;
  bulletinId: string;
  boxNationalId: string;
  areaCode: string;
  title: string;
  contentType: string;
  priority: string;
  relaySource: string | null;
  startedAt: number;
  receivedAt: number;
}

export interface ChildAiringEnd extends ChildAiringStart {
  endedAt: number;
  ok: boolean;
  airedS: number;
}

export interface ChildAiringRecord {
  airingKey: string;
  bulletinId: string;
  boxNationalId: string | null;
  areaCode: string | null;
  title: string;
  contentType: string | null;
  priority: string | null;
  relaySource: string | null;
  startedAt: number | null;
  endedAt: number | null;
  ok: boolean | null;
  airedS: number | null;
  receivedAt: number;
}

interface AiringRow {
  airing_key: string;
  bulletin_id: string;
  box_national_id: string | null;
  area_code: string | null;
  title: string;
  content_type: string | null;
  priority: string | null;
  relay_source: string | null;
  started_at: number | null;
  ended_at: number | null;
  ok: number | null;
  aired_s: number | null;
  received_at: number;
}

export interface ChildCounts {
  boxes: number;
  online: number;
  faulty: number;
  communesCovered: number;
  communesWithBoxes: number;
  airings: { total: number; ok: number; failed: number; open: number };
  lastReportAt: number | null;
}

export class NationalChildRepository {
  constructor(private readonly db: Db) {}

  /** The box's latest status (a report older than the one stored is ignored: reports may arrive out of order). */
  upsertBox(s: ChildBoxStatus): void {
    this.db
      .prepare(
        `INSERT INTO national_child_boxes (peer_id, national_id, name, area_code, area_name, lat, lon, volume, operating, connection, now_playing, app_version, last_status_at)
         VALUES (@peerId, @nationalId, @name, @areaCode, @areaName, @lat, @lon, @volume, @operating, @connection, @nowPlaying, @appVersion, @lastStatusAt)
         ON CONFLICT (peer_id, national_id) DO UPDATE SET name = excluded.name, area_code = excluded.area_code, area_name = excluded.area_name, lat = excluded.lat,
           lon = excluded.lon, volume = excluded.volume, operating = excluded.operating, connection = excluded.connection, now_playing = excluded.now_playing,
           app_version = excluded.app_version, last_status_at = excluded.last_status_at
         WHERE excluded.last_status_at >= national_child_boxes.last_status_at`,
      )
      .run(s);
  }

  box(peerId: string, nationalId: string): ChildBoxStatus | null {
    const r = this.db.prepare('SELECT * FROM national_child_boxes WHERE peer_id = ? AND national_id = ?').get(peerId, nationalId) as Record<string, unknown> | undefined;
    if (!r) return null;
    return {
      peerId: r.peer_id as string,
      nationalId: r.national_id as string,
      name: r.name as string,
      areaCode: r.area_code as string,
      areaName: r.area_name as string,
      lat: r.lat as number | null,
      lon: r.lon as number | null,
      volume: r.volume as number | null,
      operating: r.operating as string,
      connection: r.connection as string,
      nowPlaying: r.now_playing as string,
      appVersion: r.app_version as string,
      lastStatusAt: r.last_status_at as number,
    };
  }

  /** The play log at an airing's start; a redelivered one (same key) changes nothing. */
  airingStarted(a: ChildAiringStart): void {
    this.db
      .prepare(
        `INSERT INTO national_child_airings (peer_id, airing_key, bulletin_id, box_national_id, area_code, title, content_type, priority, relay_source, started_at, received_at)
         VALUES (@peerId, @airingKey, @bulletinId, @boxNationalId, @areaCode, @title, @contentType, @priority, @relaySource, @startedAt, @receivedAt)
         ON CONFLICT (peer_id, airing_key) DO UPDATE SET started_at = COALESCE(national_child_airings.started_at, excluded.started_at)`,
      )
      .run(a);
  }

  /**
   * The completion or failure record: it closes the airing of the same key; a vendor's minimal record (no key
   * of ours, only the box and the bulletin) closes that box's latest open airing of that bulletin; with neither,
   * it is kept on its own (an airing whose start was never reported still counts in the as-run).
   */
  airingEnded(a: ChildAiringEnd): 'paired' | 'paired-by-box' | 'alone' {
    const tx = this.db.transaction((): 'paired' | 'paired-by-box' | 'alone' => {
      const set = 'SET ended_at = @endedAt, ok = @ok, aired_s = @airedS, received_at = @receivedAt';
      const values = { ...a, ok: a.ok ? 1 : 0 };
      const byKey = this.db.prepare(`UPDATE national_child_airings ${set} WHERE peer_id = @peerId AND airing_key = @airingKey`).run(values);
      if (byKey.changes) return 'paired';
      const open = this.db
        .prepare(
          `SELECT airing_key AS k FROM national_child_airings WHERE peer_id = ? AND box_national_id = ? AND bulletin_id = ? AND ended_at IS NULL
           ORDER BY started_at DESC LIMIT 1`,
        )
        .get(a.peerId, a.boxNationalId, a.bulletinId) as { k: string } | undefined;
      if (open) {
        this.db.prepare(`UPDATE national_child_airings ${set} WHERE peer_id = @peerId AND airing_key = @k`).run({ ...values, k: open.k });
        return 'paired-by-box';
      }
      this.db
        .prepare(
          `INSERT INTO national_child_airings (peer_id, airing_key, bulletin_id, box_national_id, area_code, title, content_type, priority, relay_source, started_at, ended_at, ok, aired_s, received_at)
           VALUES (@peerId, @airingKey, @bulletinId, @boxNationalId, @areaCode, @title, @contentType, @priority, @relaySource, @startedAt, @endedAt, @ok, @airedS, @receivedAt)`,
        )
        .run(values);
      return 'alone';
    });
    return tx.immediate();
  }

  /** A child's counts at `now`, its airings between `from` and `to` (by start, or end when no start was reported). */
  counts(peerId: string, now: number, from: number, to: number): ChildCounts {
    const since = now - CHILD_ONLINE_WINDOW_MS;
    const b = this.db
      .prepare(
        `SELECT COUNT(*) AS boxes,
                COALESCE(SUM(last_status_at >= @since AND operating <> 'offline'), 0) AS online,
                COALESCE(SUM(operating = 'fault'), 0) AS faulty,
                COUNT(DISTINCT CASE WHEN last_status_at >= @since AND operating NOT IN ('fault', 'offline') THEN area_code END) AS covered,
                COUNT(DISTINCT area_code) AS communes,
                MAX(last_status_at) AS lastStatus
         FROM national_child_boxes WHERE peer_id = @peerId`,
      )
      .get({ peerId, since }) as { boxes: number; online: number; faulty: number; covered: number; communes: number; lastStatus: number | null };
    const a = this.db
      .prepare(
        `SELECT COUNT(*) AS total, COALESCE(SUM(ok = 1), 0) AS ok, COALESCE(SUM(ok = 0), 0) AS failed, COALESCE(SUM(ok IS NULL), 0) AS open
         FROM national_child_airings WHERE peer_id = @peerId AND COALESCE(started_at, ended_at) >= @from AND COALESCE(started_at, ended_at) < @to`,
      )
      .get({ peerId, from, to }) as { total: number; ok: number; failed: number; open: number };
    const last = this.db.prepare('SELECT MAX(received_at) AS at FROM national_child_airings WHERE peer_id = ?').get(peerId) as { at: number | null };
    const lastReportAt = Math.max(b.lastStatus ?? -1, last.at ?? -1);
    return {
      boxes: b.boxes,
      online: b.online,
      faulty: b.faulty,
      communesCovered: b.covered,
      communesWithBoxes: b.communes,
      airings: a,
      lastReportAt: lastReportAt < 0 ? null : lastReportAt,
    };
  }

  airings(peerId: string, from: number, to: number, limit: number): ChildAiringRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM national_child_airings WHERE peer_id = @peerId AND COALESCE(started_at, ended_at) >= @from AND COALESCE(started_at, ended_at) < @to
         ORDER BY COALESCE(started_at, ended_at), airing_key LIMIT @limit`,
      )
      .all({ peerId, from, to, limit }) as AiringRow[];
    return rows.map((r) => ({
      airingKey: r.airing_key,
      bulletinId: r.bulletin_id,
      boxNationalId: r.box_national_id,
      areaCode: r.area_code,
      title: r.title,
      contentType: r.content_type,
      priority: r.priority,
      relaySource: r.relay_source,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      ok: r.ok === null ? null : r.ok === 1,
      airedS: r.aired_s,
      receivedAt: r.received_at,
    }));
  }
}

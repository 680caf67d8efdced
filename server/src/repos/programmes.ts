/**
 * Programmes (issue 15): a programme is a bulletin of source 'programme' (its row in `bulletins`, written
 * through BulletinRepository in the same transaction) whose items live in `programme_versions`, one row per
 * saved version; and what boxes reported of each item (`programme_item_log`, migration 18).
 */
import { z } from 'zod';
import { programmeItemInputSchema, PROGRAMME_ITEM_KINDS, type ProgrammeItemParsed, type ProgrammeItemState } from '@loaxa/shared';
import type { Db } from '../db/database.js';
import type { Bulletin, BulletinRepository } from './bulletins.js';

/**
 * One item of a saved version as the boxes get it: the file it plays (a bulletin's audio, the bell, the mix of
 * music under speech), or the relay segment's source and length, or the pause. Stored as JSON and read back
 * through this schema, so a row written by an older server that no longer fits is an error, not a wrong play.
 */
export const renderedItemSchema = z.object({
  index: z.number().int().nonnegative(),
  kind: z.enum(PROGRAMME_ITEM_KINDS),
  title: z.string(),
  /** null: a relay segment until a time of day (its length depends on when it begins). */
  durationMs: z.number().int().nonnegative().nullable(),
  media: z.object({ sha256: z.string(), durationMs: z.number().int().positive(), bytes: z.number().int().positive().nullable() }).optional(),
  relay: z.object({ sourceId: z.string(), durationMs: z.number().int().positive().optional(), until: z.string().optional() }).optional(),
  pauseMs: z.number().int().positive().optional(),
});
export type RenderedItem = z.infer<typeof renderedItemSchema>;
const renderedListSchema = z.array(renderedItemSchema);
const inputListSchema = z.array(programmeItemInputSchema);

export interface ProgrammeVersionRecord {
  programmeId: string;
  version: number;
  items: ProgrammeItemParsed[];
  rendered: RenderedItem[];
  durationMs: number;
  openEnded: boolean;
  relaySourceId: string | null;
  createdBy: string | null;
  createdAt: number;
}

/** What a save writes besides the bulletin row. */
export type NewVersion = Omit<ProgrammeVersionRecord, 'programmeId' | 'version' | 'createdAt'>;

export interface ProgrammeItemLogEntry {
  deviceId: string;
  broadcastId: string;
  occurrenceAt: number;
  version: number;
  index: number;
  state: ProgrammeItemState;
  /** On the server's clock (ingest corrects the box's offset). */
  at: number;
  airedMs: number | null;
  reason: string | null;
}

interface VersionRow {
  programme_id: string;
  version: number;
  items_json: string;
  rendered_json: string;
  duration_ms: number;
  open_ended: number;
  relay_source_id: string | null;
  created_by: string | null;
  created_at: number;
}

const toVersion = (r: VersionRow): ProgrammeVersionRecord => ({
  programmeId: r.programme_id,
  version: r.version,
  items: inputListSchema.parse(JSON.parse(r.items_json)),
  rendered: renderedListSchema.parse(JSON.parse(r.rendered_json)),
  durationMs: r.duration_ms,
  openEnded: r.open_ended === 1,
  relaySourceId: r.relay_source_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export class ProgrammeRepository {
  private readonly insertVersionStmt;
  private readonly versionStmt;
  private readonly versionsStmt;
  private readonly idsStmt;
  private readonly pendingDevicesStmt;
  private readonly broadcastsRelayingStmt;
  private readonly relayingStmt;
  private readonly itemDeliveryStmt;
  private readonly insertLogStmt;
  private readonly logStmt;
  private readonly create;
  private readonly edit;

  constructor(db: Db, private readonly bulletins: BulletinRepository) {
    this.insertVersionStmt = db.prepare(
      `INSERT INTO programme_versions (programme_id, version, items_json, rendered_json, duration_ms, open_ended, relay_source_id, created_by, created_at)
       VALUES (@programmeId, @version, @itemsJson, @renderedJson, @durationMs, @openEnded, @relaySourceId, @createdBy, @now)`,
    );
    this.versionStmt = db.prepare<[string, number], VersionRow>('SELECT * FROM programme_versions WHERE programme_id = ? AND version = ?');
    this.versionsStmt = db.prepare<[string], VersionRow>('SELECT * FROM programme_versions WHERE programme_id = ? ORDER BY version DESC');
    this.idsStmt = db.prepare<[], { id: string }>(`SELECT id FROM bulletins WHERE source = 'programme' ORDER BY id`);
    // Boxes that hold (or are about to get) an airing of the programme not yet begun or still in its window.
    this.pendingDevicesStmt = db.prepare<[string, number], { device_id: string }>(
      `SELECT DISTINCT d.device_id FROM broadcasts b JOIN deliveries d ON d.broadcast_id = b.id
       WHERE b.bulletin_id = ? AND d.state IN ('queued', 'sent', 'acknowledged', 'cached') AND d.occurrence_at + b.window_ms >= ?`,
    );
    // Boxes with a pending airing of a programme whose current version relays this source.
    this.relayingStmt = db.prepare<[string, number], { device_id: string }>(
      `SELECT DISTINCT d.device_id FROM bulletins t
         JOIN programme_versions pv ON pv.programme_id = t.id AND pv.version = t.programme_version
         JOIN broadcasts b ON b.bulletin_id = t.id JOIN deliveries d ON d.broadcast_id = b.id
       WHERE t.source = 'programme' AND EXISTS (SELECT 1 FROM json_each(pv.rendered_json) j WHERE json_extract(j.value, '$.relay.sourceId') = ?)
         AND d.state IN ('queued', 'sent', 'acknowledged', 'cached') AND d.occurrence_at + b.window_ms >= ?`,
    );
    this.broadcastsRelayingStmt = db.prepare<[string], { id: string }>(
      `SELECT b.id FROM bulletins t
         JOIN programme_versions pv ON pv.programme_id = t.id AND pv.version = t.programme_version
         JOIN broadcasts b ON b.bulletin_id = t.id
       WHERE t.source = 'programme' AND b.status IN ('approved', 'submitted')
         AND EXISTS (SELECT 1 FROM json_each(pv.rendered_json) j WHERE json_extract(j.value, '$.relay.sourceId') = ?)`,
    );
    this.itemDeliveryStmt = db.prepare<[string, string, number], { programmeId: string; windowMs: number; durationMs: number; openEnded: number; logged: number }>(
      `SELECT t.id AS programmeId, b.window_ms AS windowMs, COALESCE(t.duration_ms, 0) AS durationMs,
         COALESCE((SELECT MAX(v.open_ended) FROM programme_versions v WHERE v.programme_id = t.id), 0) AS openEnded,
         (SELECT COUNT(*) FROM programme_item_log l WHERE l.broadcast_id = d.broadcast_id AND l.occurrence_at = d.occurrence_at AND l.device_id = d.device_id) AS logged
       FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id JOIN bulletins t ON t.id = b.bulletin_id
       WHERE d.broadcast_id = ? AND d.device_id = ? AND d.occurrence_at = ? AND t.source = 'programme'`,
    );
    // A QoS 1 redelivery is the same report: the unique index (migration 18) makes it change nothing.
    this.insertLogStmt = db.prepare(
      `INSERT OR IGNORE INTO programme_item_log (device_id, broadcast_id, occurrence_at, version, idx, state, at, aired_ms, reason, received_at)
       VALUES (@deviceId, @broadcastId, @occurrenceAt, @version, @index, @state, @at, @airedMs, @reason, @receivedAt)`,
    );
    this.logStmt = db.prepare<[string, number, string], { version: number; idx: number; state: ProgrammeItemState; at: number; aired_ms: number | null; reason: string | null }>(
      'SELECT version, idx, state, at, aired_ms, reason FROM programme_item_log WHERE broadcast_id = ? AND occurrence_at = ? AND device_id = ? ORDER BY at, id',
    );
    const insertVersion = (programmeId: string, version: number, v: NewVersion, now: number) =>
      this.insertVersionStmt.run({
        programmeId,
        version,
        itemsJson: JSON.stringify(v.items),
        renderedJson: JSON.stringify(v.rendered),
        durationMs: v.durationMs,
        openEnded: v.openEnded ? 1 : 0,
        relaySourceId: v.relaySourceId,
        createdBy: v.createdBy,
        now,
      });
    this.create = db.transaction((p: { id: string; title: string; category: string | null; areaCode: string | null }, v: NewVersion, now: number) => {
      this.bulletins.insertProgramme({ id: p.id, title: p.title, category: p.category, durationMs: v.durationMs, createdBy: v.createdBy, areaCode: p.areaCode }, now);
      insertVersion(p.id, 1, v, now);
    });
    this.edit = db.transaction((id: string, version: number, p: { title: string; category: string | null }, v: NewVersion, now: number): boolean => {
      if (!this.bulletins.setProgrammeVersion(id, { version, title: p.title, category: p.category, durationMs: v.durationMs }, now)) return false;
      insertVersion(id, version, v, now);
      return true;
    });
  }

  /** A new programme at version 1; its bulletin belongs to its author's area, as every bulletin does. */
  insert(p: { id: string; title: string; category: string | null; areaCode: string | null }, v: NewVersion, now = Date.now()): void {
    this.create(p, v, now);
  }

  /** Saves `version` (the current one + 1); false when another save made that version first. */
  addVersion(id: string, version: number, p: { title: string; category: string | null }, v: NewVersion, now = Date.now()): boolean {
    return this.edit(id, version, p, v, now);
  }

  /** The programme's bulletin row, or null when `id` is no programme. */
  get(id: string): Bulletin | null {
    const b = this.bulletins.get(id);
    return b && b.source === 'programme' ? b : null;
  }

  /** Every programme, by id (lists filter them by who may see them). */
  all(): Bulletin[] {
    return this.idsStmt.all().flatMap(({ id }) => this.get(id) ?? []);
  }

  version(id: string, version: number): ProgrammeVersionRecord | null {
    const r = this.versionStmt.get(id, version);
    return r ? toVersion(r) : null;
  }

  /** Every saved version, newest first. */
  versions(id: string): ProgrammeVersionRecord[] {
    return this.versionsStmt.all(id).map(toVersion);
  }

  /** Boxes with an airing of the programme still to come (or in its window): they get the new version. */
  devicesWithPending(id: string, now: number): string[] {
    return this.pendingDevicesStmt.all(id, now).map((r) => r.device_id);
  }

  /**
   * Boxes whose agendas carry a programme relay segment of this source: an edited source (URLs, fallback) must
   * reach them too, as it reaches relays (the sources routes resync `SourceRepository.devicesRelaying`).
   */
  devicesRelaying(sourceId: string, now: number): string[] {
    return this.relayingStmt.all(sourceId, now).map((r) => r.device_id);
  }

  /** Approved or submitted broadcasts of programmes whose current version relays this source (it must stay). */
  broadcastsRelaying(sourceId: string): string[] {
    return this.broadcastsRelayingStmt.all(sourceId).map((r) => r.id);
  }

  /**
   * What a box's programme-item report is checked against (issue 15 review (6), as for relays): the programme,
   * the occurrence's window and nominal length, whether any version runs until a time of day, and how many
   * reports the airing already holds; undefined when it is not a programme delivery of this box.
   */
  itemDelivery(broadcastId: string, deviceId: string, occurrenceAt: number): { programmeId: string; windowMs: number; durationMs: number; openEnded: boolean; logged: number } | undefined {
    const r = this.itemDeliveryStmt.get(broadcastId, deviceId, occurrenceAt);
    return r ? { ...r, openEnded: r.openEnded === 1 } : undefined;
  }

  /** Stores one report; answers whether it was new. */
  record(e: ProgrammeItemLogEntry, receivedAt = Date.now()): boolean {
    return this.insertLogStmt.run({ ...e, receivedAt }).changes === 1;
  }

  /** One box's reports of one airing, in the order they happened. */
  itemLog(broadcastId: string, occurrenceAt: number, deviceId: string): ProgrammeItemLogEntry[] {
    return this.logStmt.all(broadcastId, occurrenceAt, deviceId).map((r) => ({
      deviceId,
      broadcastId,
      occurrenceAt,
      version: r.version,
      index: r.idx,
      state: r.state,
      at: r.at,
      airedMs: r.aired_ms,
      reason: r.reason,
    }));
  }
}

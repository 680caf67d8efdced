import type { Db } from '../db/database.js';
import { BulletinSearch } from './bulletin-search.js';
import { toBulletin, type Bulletin, type Row } from './bulletin-row.js';

export type { Bulletin, BulletinSource, BulletinStatus } from './bulletin-row.js';

export class BulletinRepository {
  private readonly insertStmt;
  private readonly insertRelayStmt;
  private readonly insertProgrammeStmt;
  private readonly insertLiveStmt;
  private readonly programmeVersionStmt;
  private readonly getStmt;
  private readonly progressStmt;
  private readonly readyStmt;
  private readonly failStmt;
  private readonly interruptedStmt;
  private readonly publicStmt;
  /** The library's search (issue 20): filters, area scope and a true total, in SQL. */
  readonly search: BulletinSearch;

  constructor(db: Db) {
    this.search = new BulletinSearch(db);
    this.insertStmt = db.prepare(
      `INSERT INTO bulletins (id, title, text, category, voice, speed, status, progress, stage, created_by, area_code, created_at, updated_at, source, upload_path, original_name, attention)
       VALUES (@id, @title, @text, @category, @voice, @speed, 'synthesizing', 0, 'queued', @createdBy, @areaCode, @now, @now, @source, @uploadPath, @originalName, @attention)`,
    );
    // A relay has no audio to make: it is ready when it is written, and airs its source for duration_ms.
    this.insertRelayStmt = db.prepare(
      `INSERT INTO bulletins (id, title, text, category, voice, speed, status, progress, stage, duration_ms, created_by, area_code, created_at, updated_at, source, relay_source_id)
       VALUES (@id, @title, '', @category, 'vi', 1, 'ready', 100, 'done', @durationMs, @createdBy, @areaCode, @now, @now, 'relay', @sourceId)`,
    );
    // A programme (issue 15) is ready when saved: its files were made before the row is written. duration_ms
    // is its nominal length (relay segments until a time of day count 0), used for conflicts and windows.
    this.insertProgrammeStmt = db.prepare(
      `INSERT INTO bulletins (id, title, text, category, voice, speed, status, progress, stage, duration_ms, created_by, area_code, created_at, updated_at, source, programme_version)
       VALUES (@id, @title, '', @category, 'vi', 1, 'ready', 100, 'done', @durationMs, @createdBy, @areaCode, @now, @now, 'programme', 1)`,
    );
    // A live voice (issue 16) is made while it airs: 'synthesizing' at stage 'on-air' until it ends, its
    // recording growing at upload_path; then mastered like an upload (BulletinService), and after a crash
    // mid-airing the next start masters what reached the disk.
    this.insertLiveStmt = db.prepare(
      `INSERT INTO bulletins (id, title, text, category, voice, speed, status, progress, stage, created_by, area_code, created_at, updated_at, source, upload_path, original_name)
       VALUES (@id, @title, '', @category, 'vi', 1, 'synthesizing', 0, 'on-air', @createdBy, @areaCode, @now, @now, 'live', @uploadPath, NULL)`,
    );
    this.programmeVersionStmt = db.prepare(
      `UPDATE bulletins SET title = @title, category = @category, duration_ms = @durationMs, programme_version = @version, updated_at = @now
       WHERE id = @id AND source = 'programme' AND programme_version = @version - 1`,
    );
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM bulletins WHERE id = ?');
    this.progressStmt = db.prepare(`UPDATE bulletins SET progress = @progress, stage = @stage, updated_at = @now WHERE id = @id AND status = 'synthesizing'`);
    this.readyStmt = db.prepare(
      `UPDATE bulletins SET status = 'ready', progress = 100, stage = 'done', audio_sha256 = @sha256, audio_bytes = @bytes,
         duration_ms = @durationMs, engine = @engine, lufs = @lufs, true_peak_db = @truePeakDb, mp3_sha256 = @mp3Sha256, updated_at = @now WHERE id = @id`,
    );
    this.interruptedStmt = db.prepare<[], Row>(`SELECT * FROM bulletins WHERE status = 'synthesizing' ORDER BY created_at`);
    this.publicStmt = db.prepare('UPDATE bulletins SET public = @public, updated_at = @now WHERE id = @id');
    this.failStmt = db.prepare(`UPDATE bulletins SET status = 'failed', stage = 'failed', error = @error, updated_at = @now WHERE id = @id`);
  }

  insert(
    b: {
      id: string; title: string; text: string; category: string | null; voice: string; speed: number; createdBy: string | null; areaCode: string | null;
      source?: 'text' | 'recording'; uploadPath?: string | null; originalName?: string | null;
      /** Read after the attention signal (issue 18); default false. */
      attention?: boolean;
    },
    now = Date.now(),
  ): void {
    const { attention, ...rest } = b;
    this.insertStmt.run({ source: 'text', uploadPath: null, originalName: null, ...rest, attention: attention ? 1 : 0, now });
  }

  /** A relay bulletin (issue 15): `sourceId` for `durationMs`, ready at once. */
  insertRelay(b: { id: string; title: string; category: string | null; sourceId: string; durationMs: number; createdBy: string | null; areaCode: string | null }, now = Date.now()): void {
    this.insertRelayStmt.run({ ...b, now });
  }

  /** A programme's bulletin row, at version 1 (ProgrammeRepository writes it with the version's items). */
  insertProgramme(b: { id: string; title: string; category: string | null; durationMs: number; createdBy: string | null; areaCode: string | null }, now = Date.now()): void {
    this.insertProgrammeStmt.run({ ...b, now });
  }

  /** A live voice's bulletin (issue 16), its recording to come at `uploadPath`. */
  insertLive(b: { id: string; title: string; category: string | null; createdBy: string; areaCode: string | null; uploadPath: string }, now = Date.now()): void {
    this.insertLiveStmt.run({ ...b, now });
  }

  /**
   * Moves a programme to `version` (its previous one + 1); false when another save got there first, so two
   * concurrent edits cannot both become the same version.
   */
  setProgrammeVersion(id: string, p: { version: number; title: string; category: string | null; durationMs: number }, now = Date.now()): boolean {
    return this.programmeVersionStmt.run({ id, ...p, now }).changes === 1;
  }

  get(id: string): Bulletin | null {
    const r = this.getStmt.get(id);
    return r ? toBulletin(r) : null;
  }

  setProgress(id: string, progress: number, stage: string, now = Date.now()): void {
    this.progressStmt.run({ id, progress: Math.max(0, Math.min(99, Math.round(progress))), stage, now });
  }

  markReady(id: string, a: { sha256: string; bytes: number; durationMs: number; engine: string; lufs: number | null; truePeakDb: number | null; mp3Sha256?: string | null }, now = Date.now()): void {
    this.readyStmt.run({ id, mp3Sha256: null, ...a, now });
  }

  markFailed(id: string, error: string, now = Date.now()): void {
    this.failStmt.run({ id, error, now });
  }

  /** Publishes it on its commune's web page once aired, or takes it off (issue 22); false when there is no such bulletin. */
  setPublic(id: string, isPublic: boolean, now = Date.now()): boolean {
    return this.publicStmt.run({ id, public: isPublic ? 1 : 0, now }).changes === 1;
  }

  /** Bulletins left half-synthesized by a crash or restart. */
  interrupted(): Bulletin[] {
    return this.interruptedStmt.all().map(toBulletin);
  }
}

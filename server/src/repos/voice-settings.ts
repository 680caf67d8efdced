import type { Db } from '../db/database.js';

/** The voice and speaking rate an area's bulletins are read with when the bulletin does not choose (migration 28). */
export interface VoiceSetting {
  areaCode: string;
  voice: string;
  speed: number;
  updatedBy: string | null;
  updatedAt: number;
}

/** What applies in an area: the most local setting of its ancestry, or the server's defaults (`from: null`). */
export interface EffectiveVoice {
  voice: string;
  speed: number;
  /** The area whose setting applies; null: the server's LOAXA_TTS_VOICE at speed 1. */
  from: string | null;
}

interface Row {
  area_code: string;
  voice: string;
  speed: number;
  updated_by: string | null;
  updated_at: number;
}

const toSetting = (r: Row): VoiceSetting => ({ areaCode: r.area_code, voice: r.voice, speed: r.speed, updatedBy: r.updated_by, updatedAt: r.updated_at });

/**
 * Issue 20 ("set reading speed and voice"): a province or commune sets how its bulletins are read by default.
 * Tens of rows at most (one per area that chose), so every read is one primary-key lookup per ancestor.
 */
export class VoiceSettingRepository {
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly deleteStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], Row>('SELECT area_code, voice, speed, updated_by, updated_at FROM area_voice_settings WHERE area_code = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO area_voice_settings (area_code, voice, speed, updated_by, updated_at) VALUES (@areaCode, @voice, @speed, @updatedBy, @updatedAt)
       ON CONFLICT(area_code) DO UPDATE SET voice = excluded.voice, speed = excluded.speed, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    );
    this.deleteStmt = db.prepare<[string]>('DELETE FROM area_voice_settings WHERE area_code = ?');
  }

  get(areaCode: string): VoiceSetting | null {
    const r = this.getStmt.get(areaCode);
    return r ? toSetting(r) : null;
  }

  set(s: VoiceSetting): void {
    this.upsertStmt.run(s);
  }

  delete(areaCode: string): boolean {
    return this.deleteStmt.run(areaCode).changes > 0;
  }

  /** `ancestry`: the area first, up to its root (AreaRepository.ancestry); empty for an installation-wide caller. */
  effective(ancestry: readonly string[], defaults: { voice: string; speed: number }): EffectiveVoice {
    for (const code of ancestry) {
      const s = this.get(code);
      if (s) return { voice: s.voice, speed: s.speed, from: code };
    }
    return { ...defaults, from: null };
  }
}

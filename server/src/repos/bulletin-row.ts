/** A bulletin as stored, and its row mapping (shared by BulletinRepository and BulletinSearch). */

export type BulletinStatus = 'synthesizing' | 'ready' | 'failed';

export interface Bulletin {
  id: string;
  title: string;
  text: string;
  category: string | null;
  voice: string;
  speed: number;
  status: BulletinStatus;
  progress: number;
  stage: string | null;
  error: string | null;
  audioSha256: string | null;
  audioBytes: number | null;
  durationMs: number | null;
  engine: string | null;
  lufs: number | null;
  truePeakDb: number | null;
  createdBy: string | null;
  /** The author's area when it was written (null: installation-wide); decides who may read and air it. */
  areaCode: string | null;
  createdAt: number;
  updatedAt: number;
  /** Text (synthesized), an uploaded recording, a relay of a live source (issue 15: no audio), a programme, a live voice (issue 16). */
  source: BulletinSource;
  uploadPath: string | null;
  originalName: string | null;
  mp3Sha256: string | null;
  /** A relay's source (`source` is 'relay'; `durationMs` is how long it airs); null otherwise. */
  relaySourceId: string | null;
  /** A programme's current version (`source` is 'programme': its items are in programme_versions); null otherwise. */
  programmeVersion: number | null;
  /** A text bulletin read after the attention signal (issue 18: a disaster warning's); false otherwise. */
  attention: boolean;
  /** Published on the commune's web page once aired (issue 22). */
  public: boolean;
}

/** Text (synthesized), a recording, a relay of a live source, a programme of several items (issue 15), a live voice (issue 16). */
export type BulletinSource = 'text' | 'recording' | 'relay' | 'programme' | 'live';

export interface Row {
  id: string;
  title: string;
  text: string;
  category: string | null;
  voice: string;
  speed: number;
  status: BulletinStatus;
  progress: number;
  stage: string | null;
  error: string | null;
  audio_sha256: string | null;
  audio_bytes: number | null;
  duration_ms: number | null;
  engine: string | null;
  lufs: number | null;
  true_peak_db: number | null;
  created_by: string | null;
  area_code: string | null;
  created_at: number;
  updated_at: number;
  source: BulletinSource;
  upload_path: string | null;
  original_name: string | null;
  mp3_sha256: string | null;
  relay_source_id: string | null;
  programme_version: number | null;
  attention: number;
  public: number;
}

export const toBulletin = (r: Row): Bulletin => ({
  id: r.id,
  title: r.title,
  text: r.text,
  category: r.category,
  voice: r.voice,
  speed: r.speed,
  status: r.status,
  progress: r.progress,
  stage: r.stage,
  error: r.error,
  audioSha256: r.audio_sha256,
  audioBytes: r.audio_bytes,
  durationMs: r.duration_ms,
  engine: r.engine,
  lufs: r.lufs,
  truePeakDb: r.true_peak_db,
  createdBy: r.created_by,
  areaCode: r.area_code,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  source: r.source,
  uploadPath: r.upload_path,
  originalName: r.original_name,
  mp3Sha256: r.mp3_sha256,
  relaySourceId: r.relay_source_id,
  programmeVersion: r.programme_version,
  attention: r.attention === 1,
  public: r.public === 1,
});


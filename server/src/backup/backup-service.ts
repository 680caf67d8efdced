/**
 * Nightly backups (LOAXA_BACKUP_DIR, LOAXA_BACKUP_HOUR, LOAXA_BACKUP_KEEP_DAYS): one a day at the hour of
 * Vietnam's local time when the least airs, then old ones pruned. A failed backup is logged and tried again
 * the next night; it never stops the server. `runNow()` is for tests and a future admin route.
 *
 * `stats()` is what `GET /metrics` says of them (loaxa_backup_*; issue 21): a failure is logged at night when no
 * one reads the log, so the alert LoaxaBackupMissing (deploy/prometheus/alerts.yml) watches the last success.
 * That instant is read from the newest complete backup on disk when the server starts, so a restart does not
 * make a server that has not backed up for days look fresh.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { VN_UTC_OFFSET_MS, DAY_MS } from '../scheduling/local-time.js';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createBackup, listBackups, pruneBackups, DB_FILE, type Manifest } from './backup.js';

export interface BackupSettings {
  dir: string;
  /** Hour of the day, Asia/Ho_Chi_Minh. */
  hour: number;
  keepDays: number;
}

/** The next instant at `hour`:00 Vietnam time strictly after `now`. */
export function nextBackupAt(now: number, hour: number): number {
  const localMidnight = Math.floor((now + VN_UTC_OFFSET_MS) / DAY_MS) * DAY_MS - VN_UTC_OFFSET_MS;
  const today = localMidnight + hour * 3600_000;
  return today > now ? today : today + DAY_MS;
}

/** What the metrics say of the backups; null: not known (none on disk, none since the start). */
export interface BackupStats {
  /** The end of the last complete backup (epoch ms): the newest on disk at start, then each success. */
  lastSuccessAt: number | null;
  /** Wall time of the last successful backup run (pruning included); not known for one found on disk. */
  lastDurationMs: number | null;
  /** What the last complete backup holds: its database file plus its media files (hard links count whole). */
  lastSizeBytes: number | null;
  /** Backup runs that failed since the server started. */
  failures: number;
  /** When the last failure happened (epoch ms). */
  lastFailureAt: number | null;
}

/** The bytes a backup holds, from its database file and its manifest. */
async function backupBytes(path: string, manifest: Pick<Manifest, 'mediaBytes'>): Promise<number> {
  return (await stat(join(path, DB_FILE))).size + manifest.mediaBytes;
}

export class BackupService {
  private readonly state: BackupStats = { lastSuccessAt: null, lastDurationMs: null, lastSizeBytes: null, failures: 0, lastFailureAt: null };
  private found: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<{ path: string; manifest: Manifest }> | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: { db: Db; dataDir: string; settings: BackupSettings; inventory: () => Record<string, number>; logger: Logger; now?: () => number }) {
    this.log = deps.logger.child({ module: 'backup' });
  }

  start(): void {
    this.schedule();
    void this.findNewest();
  }

  /** The backups' figures for `GET /metrics`. */
  stats(): Readonly<BackupStats> {
    return { ...this.state };
  }

  /** The newest complete backup already on disk, as the last success (a damaged or unreadable one is skipped). */
  findNewest(): Promise<void> {
    this.found ??= (async () => {
      try {
        const newest = (await listBackups(this.deps.settings.dir)).at(-1);
        if (!newest || this.state.lastSuccessAt !== null) return;
        const manifest = JSON.parse(await readFile(join(newest.path, 'manifest.json'), 'utf8')) as Manifest;
        // A backup finished while this was reading is newer: keep it.
        if (this.state.lastSuccessAt !== null) return;
        this.state.lastSuccessAt = newest.at;
        this.state.lastSizeBytes = await backupBytes(newest.path, manifest);
      } catch (err) {
        this.log.warn({ err }, 'the newest backup on disk could not be read; the metrics know of none until the next one');
      }
    })();
    return this.found;
  }

  stop(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A backup under way finishes (the database stays open until it has): an interrupted one would only be deleted.
    return this.running ?? Promise.resolve();
  }

  /** One backup now, then pruning; joins the one under way if any. */
  runNow(): Promise<{ path: string; manifest: Manifest }> {
    this.running ??= (async () => {
      const { db, dataDir, settings, inventory } = this.deps;
      const started = Date.now();
      try {
        const done = await createBackup({ db, dataDir, backupDir: settings.dir, inventory, now: new Date(this.now()) });
        const removed = await pruneBackups(settings.dir, settings.keepDays, this.now());
        const bytes = await backupBytes(done.path, done.manifest);
        Object.assign(this.state, { lastSuccessAt: this.now(), lastDurationMs: Date.now() - started, lastSizeBytes: bytes });
        this.log.info({ path: done.path, ms: Date.now() - started, bytes, ...done.manifest, removed }, 'backup written');
        return done;
      } catch (err) {
        this.state.failures += 1;
        this.state.lastFailureAt = this.now();
        throw err;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private schedule(): void {
    const delay = nextBackupAt(this.now(), this.deps.settings.hour) - this.now();
    this.timer = setTimeout(() => {
      this.runNow()
        .catch((err: unknown) => this.log.error({ err }, 'backup failed; the next one is tried tomorrow'))
        .finally(() => {
          if (this.timer) this.schedule();
        });
    }, delay);
    this.timer.unref();
  }
}

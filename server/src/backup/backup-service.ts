/**
 * Nightly backups (LOAXA_BACKUP_DIR, LOAXA_BACKUP_HOUR, LOAXA_BACKUP_KEEP_DAYS): one a day at the hour of
 * Vietnam's local time when the least airs, then old ones pruned. A failed backup is logged and tried again
 * the next night; it never stops the server. `runNow()` is for tests and a future admin route.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { VN_UTC_OFFSET_MS, DAY_MS } from '../scheduling/local-time.js';
import { createBackup, pruneBackups, type Manifest } from './backup.js';

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

export class BackupService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<{ path: string; manifest: Manifest }> | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: { db: Db; dataDir: string; settings: BackupSettings; inventory: () => Record<string, number>; logger: Logger; now?: () => number }) {
    this.log = deps.logger.child({ module: 'backup' });
  }

  start(): void {
    this.schedule();
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
        this.log.info({ path: done.path, ms: Date.now() - started, ...done.manifest, removed }, 'backup written');
        return done;
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

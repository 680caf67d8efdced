/**
 * Opens the SQLite file in WAL mode and applies pending migrations inside one transaction each,
 * so a crash mid-migration leaves the previous schema intact.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export function openDatabase(file: string, migrations: Migration[] = defaultMigrations): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: each commit syncs the WAL before it returns, so what the API answered 2xx (a broadcast, an
  // approval) survives a power cut. NORMAL, used before, syncs only at checkpoints: a Pi without a UPS
  // could lose answered writes (issue 13, finding 12). Heartbeat batches relax it: `withRelaxedSync`.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

/**
 * Runs `fn` (its own transaction) with synchronous = NORMAL, then puts FULL back: for the write-behind
 * batches of heartbeats and presence (issue 13, finding 12: "heartbeats may stay batched"), ~4 commits a
 * second at 10,000 boxes, that need not each wait for a disk sync on a Pi's SD card. A power cut may roll
 * back such a commit (heartbeats that were in memory a moment before anyway), never a FULL commit before
 * it: WAL frames are appended, and the next FULL commit or checkpoint syncs them with everything before.
 * SQLite refuses to change the setting inside a transaction; there `fn` runs under the caller's.
 */
export function withRelaxedSync<T>(db: Db, fn: () => T): T {
  if (db.inTransaction) return fn();
  db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.pragma('synchronous = FULL');
  }
}

export function migrate(db: Db, migrations: Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (current > known) {
    throw new Error(`database schema version ${current} is newer than this server knows (${known}); upgrade the server`);
  }
  const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return pending.length;
}

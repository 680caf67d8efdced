/**
 * `npm run restore -- --from <backup> --data <dir>`: puts a backup (backup/backup.ts) onto a data directory
 * that holds no database, for a server then started with LOAXA_DATA_DIR=<dir>. `--from` may name one backup
 * (`…/loaxa-20261207T190000Z`) or LOAXA_BACKUP_DIR itself, whose newest complete backup is taken.
 * Run it with the server stopped, or onto a new directory.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { restoreBackup, RestoreError } from './backup/backup.js';

const USAGE = 'usage: npm run restore -- --from <backup or backup dir> --data <new data dir>';

/** SQLite's own verdict on the copy ('ok', or what is wrong), read-only. */
function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  let values: { from?: string | undefined; data?: string | undefined };
  try {
    ({ values } = parseArgs({ options: { from: { type: 'string' }, data: { type: 'string' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!values.from || !values.data) {
    process.stderr.write(`${!values.from ? '--from' : '--data'} is required\n${USAGE}\n`);
    return 2;
  }
  try {
    const { backup, manifest } = await restoreBackup(resolve(values.from), resolve(values.data), integrity);
    process.stdout.write(`${JSON.stringify({ restored: backup, into: resolve(values.data), createdAt: manifest.createdAt, ...manifest.inventory, mediaFiles: manifest.mediaFiles })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`restore failed: ${err instanceof RestoreError ? err.message : String((err as Error).stack ?? err)}\n`);
    return 1;
  }
}

process.exitCode = await main();

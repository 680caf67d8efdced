/**
 * Online backups of what a server cannot rebuild (issue 21): the SQLite database, the media store and the
 * media-link key, into `<LOAXA_BACKUP_DIR>/loaxa-<UTC time>/`, and the restore of one onto a fresh data dir.
 *
 * - The database through SQLite's online backup API (better-sqlite3 `db.backup()`): a consistent copy while
 *   the server keeps writing, WAL included — copying the file would not be (SECURITY.md, backups).
 * - Media files are content-addressed (`<sha256>.<ext>`) and never rewritten in place (the store writes a temp
 *   file and renames it), so a hard link is a snapshot of each: a nightly backup costs directory entries, not a
 *   copy of every bulletin. Across file systems (EXDEV), a file the previous backup already has is linked from
 *   there, and only new files are copied.
 * - A backup is written under `<name>.partial` and renamed once complete, its manifest last: a backup
 *   without a manifest was interrupted and is never restored from, nor counted as the newest.
 */
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/database.js';

export const DB_FILE = 'loaxa.sqlite';
/**
 * Small files of the data dir that a restored server needs to keep working as before: signed media links, and the
 * Web Push key pair every browser's subscription is bound to (issue 20; a new pair means every device subscribes again).
 */
export const KEY_FILES = ['media-link.key', 'vapid.json'] as const;
const NAME = /^loaxa-(\d{8}T\d{6}Z)$/;
const MEDIA_FILE = /^([0-9a-f]{64})\.[a-z0-9]+$/;

export interface Manifest {
  format: 1;
  createdAt: string;
  /** What the database held, for the restore to report and a person to check. */
  inventory: Record<string, number>;
  mediaFiles: number;
  mediaBytes: number;
  /** Media files linked (free) and copied (cost their bytes). */
  linked: number;
  copied: number;
}

export const backupName = (at: Date) => `loaxa-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;

/** Complete backups under `dir`, oldest first. */
export async function listBackups(dir: string): Promise<Array<{ name: string; path: string; at: number }>> {
  const names = existsSync(dir) ? await readdir(dir) : [];
  const out: Array<{ name: string; path: string; at: number }> = [];
  for (const name of names.sort()) {
    const m = NAME.exec(name);
    if (!m || !existsSync(join(dir, name, 'manifest.json'))) continue;
    const s = m[1]!;
    out.push({ name, path: join(dir, name), at: Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`) });
  }
  return out;
}

/** Media files as `shard/name` paths; the store's temp files (dot-prefixed) are not media. */
async function mediaFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const shard of await readdir(dir)) {
    if (shard.startsWith('.')) continue;
    const sub = join(dir, shard);
    if (!(await stat(sub)).isDirectory()) continue;
    for (const f of await readdir(sub)) if (MEDIA_FILE.test(f)) out.push(join(shard, f));
  }
  return out;
}

const linkOrCopy = async (from: string, to: string, previous: string | null): Promise<'linked' | 'copied'> => {
  try {
    await link(from, to);
    return 'linked';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV' && (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
  if (previous && existsSync(previous)) {
    await link(previous, to);
    return 'linked';
  }
  await copyFile(from, to);
  return 'copied';
};

/** One backup now; answers where it is and its manifest. */
export async function createBackup(opts: { db: Db; dataDir: string; backupDir: string; inventory: () => Record<string, number>; now?: Date }): Promise<{ path: string; manifest: Manifest }> {
  const at = opts.now ?? new Date();
  const name = backupName(at);
  const final = join(opts.backupDir, name);
  if (existsSync(final)) throw new Error(`backup ${final} already exists`);
  const partial = `${final}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(partial, 'media'), { recursive: true });
  const inventory = opts.inventory();
  await opts.db.backup(join(partial, DB_FILE));
  const previous = (await listBackups(opts.backupDir)).at(-1)?.path ?? null;
  let linked = 0;
  let copied = 0;
  let bytes = 0;
  const files = await mediaFiles(join(opts.dataDir, 'media'));
  for (const rel of files) {
    const to = join(partial, 'media', rel);
    await mkdir(join(to, '..'), { recursive: true });
    const how = await linkOrCopy(join(opts.dataDir, 'media', rel), to, previous && join(previous, 'media', rel));
    if (how === 'linked') linked++;
    else copied++;
    bytes += (await stat(to)).size;
  }
  for (const f of KEY_FILES) if (existsSync(join(opts.dataDir, f))) await copyFile(join(opts.dataDir, f), join(partial, f));
  const manifest: Manifest = { format: 1, createdAt: at.toISOString(), inventory, mediaFiles: files.length, mediaBytes: bytes, linked, copied };
  await writeFile(join(partial, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await rename(partial, final);
  return { path: final, manifest };
}

/**
 * Removes complete backups older than `keepDays` (the newest always stays, however old: a server that could
 * not back up for a month must not end with none) and interrupted ones. Answers the names removed.
 */
export async function pruneBackups(backupDir: string, keepDays: number, now = Date.now()): Promise<string[]> {
  const all = await listBackups(backupDir);
  const removed: string[] = [];
  for (const b of all.slice(0, -1)) {
    if (b.at < now - keepDays * 86_400_000) {
      await rm(b.path, { recursive: true, force: true });
      removed.push(b.name);
    }
  }
  for (const n of existsSync(backupDir) ? await readdir(backupDir) : []) {
    if (n.endsWith('.partial')) {
      await rm(join(backupDir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

export class RestoreError extends Error {}

/**
 * Restores a backup onto a data dir that holds no database yet. `from` is a backup, or a backup directory
 * (its newest complete backup is taken). Every media file is checked against its name (its sha256) before it
 * is written; the database must pass SQLite's integrity check. Answers what was restored.
 */
export async function restoreBackup(from: string, dataDir: string, checkDatabase: (file: string) => string): Promise<{ backup: string; manifest: Manifest }> {
  if (!existsSync(from)) throw new RestoreError(`--from ${from}: no such file or directory`);
  let backup = from;
  if (!existsSync(join(from, 'manifest.json'))) {
    const newest = (await listBackups(from)).at(-1);
    if (!newest) throw new RestoreError(`--from ${from}: not a complete backup (no manifest.json, so interrupted or not a backup) and holds no complete backup`);
    backup = newest.path;
  }
  const manifest = JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new RestoreError(`${backup}: backup format ${String(manifest.format)} is not one this version reads`);
  if (existsSync(join(dataDir, DB_FILE))) throw new RestoreError(`--data ${dataDir} already holds ${DB_FILE}: restore onto an empty or new directory, or move that one away first`);
  await mkdir(join(dataDir, 'media'), { recursive: true });
  const staged = join(dataDir, `${DB_FILE}.restoring`);
  await copyFile(join(backup, DB_FILE), staged);
  const integrity = checkDatabase(staged);
  if (integrity !== 'ok') {
    await rm(staged, { force: true });
    throw new RestoreError(`${backup}/${DB_FILE} fails SQLite's integrity check: ${integrity}`);
  }
  for (const rel of await mediaFiles(join(backup, 'media'))) {
    const bytes = await readFile(join(backup, 'media', rel));
    const sha = MEDIA_FILE.exec(rel.split(/[/\\]/).at(-1)!)![1]!;
    if (createHash('sha256').update(bytes).digest('hex') !== sha) throw new RestoreError(`${backup}/media/${rel} does not match its hash: the backup is damaged`);
    await mkdir(join(dataDir, 'media', rel, '..'), { recursive: true });
    await writeFile(join(dataDir, 'media', rel), bytes);
  }
  for (const f of KEY_FILES) if (existsSync(join(backup, f))) await copyFile(join(backup, f), join(dataDir, f));
  // Last: a server started on a half-restored directory would find no database rather than one without its audio.
  await rename(staged, join(dataDir, DB_FILE));
  return { backup, manifest };
}

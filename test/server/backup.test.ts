/**
 * Backups and restore end to end (issue 21): a running server's nightly backup, restored with
 * `npm run restore` onto a fresh data directory, starts a server with every broadcast, box, user and audio
 * file there — and nothing written after the backup. Retention, refusals and damage are checked too.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBackup, listBackups, pruneBackups } from '../../server/src/backup/backup.js';
import { nextBackupAt } from '../../server/src/backup/backup-service.js';
import { loadConfig } from '../../server/src/config.js';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';

const execFileP = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** The real command, as an operator runs it (npm's `--` passes the rest to the script). */
async function restore(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP('npm', ['run', '-s', 'restore', '--', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('the nightly hour is Vietnam time, and the settings are checked by name', async (t) => {
  // 02:00 in Hà Nội is 19:00 UTC the day before.
  t.equal(new Date(nextBackupAt(Date.parse('2026-12-07T10:00:00Z'), 2)).toISOString(), '2026-12-07T19:00:00.000Z');
  t.equal(new Date(nextBackupAt(Date.parse('2026-12-07T19:00:00Z'), 2)).toISOString(), '2026-12-08T19:00:00.000Z', 'strictly after now');
  t.equal(new Date(nextBackupAt(Date.parse('2026-12-07T18:59:00Z'), 2)).toISOString(), '2026-12-07T19:00:00.000Z');
  t.throws(() => loadConfig({ LOAXA_BACKUP_DIR: '/b', LOAXA_BACKUP_HOUR: '24' }), /LOAXA_BACKUP_HOUR/);
  t.throws(() => loadConfig({ LOAXA_BACKUP_DIR: '/b', LOAXA_BACKUP_KEEP_DAYS: '0' }), /LOAXA_BACKUP_KEEP_DAYS/);
  t.same(loadConfig({ LOAXA_BACKUP_DIR: '/b' }).backup, { dir: '/b', hour: 2, keepDays: 14 });
  t.equal(loadConfig({}).backup, undefined, 'no directory, no backups');
});

t.test('backup of a running server, restore onto a fresh directory, start: everything there', async (t) => {
  const backupDir = await tempDir(t, 'loaxa-backups-');
  const { api, token, server, dataDir } = await startTestServer(t, { backup: { dir: backupDir, hour: 2, keepDays: 14 } });
  await importSampleAreas(api, token);
  const box = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, token)).body;
  t.equal((await api('POST', '/api/v1/users', { username: 'xem', password: 'a-long-password', role: 'viewer', areaCode: '99' }, token)).status, 201);
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Xin chào bà con xã Tân Lập.', category: 'local-direction' }, token)).body;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'normal', target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201);

  const { path, manifest } = await server.ctx.backups!.runNow();
  t.equal(manifest.inventory.devices, 1);
  t.equal(manifest.inventory.users, 2);
  t.equal(manifest.inventory.broadcasts, 1);
  t.ok(manifest.mediaFiles >= 1, `${manifest.mediaFiles} media files`);
  t.equal(manifest.copied, 0, 'on one file system every media file is a hard link');
  const ogg = join(bulletin.audio.sha256.slice(0, 2), `${bulletin.audio.sha256}.ogg`);
  t.equal((await stat(join(path, 'media', ogg))).ino, (await stat(join(dataDir, 'media', ogg))).ino, 'the same file, not a copy');

  // Written after the backup: not in it.
  await api('POST', '/api/v1/users', { username: 'sau', password: 'a-long-password', role: 'viewer', areaCode: '99' }, token);
  await server.stop();

  const fresh = join(await tempDir(t, 'loaxa-restored-'), 'data');
  const r = await restore('--from', backupDir, '--data', fresh);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.equal(report.restored, path, 'the newest backup of the directory');
  t.equal(report.broadcasts, 1);

  const again = await startTestServer(t, { dataDir: fresh });
  t.ok(again.token, 'the admin logs in with the restored password');
  const b = await again.api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, again.token);
  t.equal(b.status, 200, 'the broadcast');
  t.equal(b.body.deliveries.length, 1, 'with its delivery');
  t.equal((await again.api('GET', `/api/v1/devices/${box.id}`, undefined, again.token)).body.name, 'loa chợ', 'the box');
  const users = (await again.api('GET', '/api/v1/users', undefined, again.token)).body;
  const names = (users.items ?? users).map((u: { username: string }) => u.username).sort();
  t.same(names, ['admin', 'xem'], 'the users of the backup, not the one added after it');
  t.equal((await again.api('POST', '/api/v1/auth/login', { username: 'xem', password: 'a-long-password' })).status, 200, 'their passwords work');
  const restoredBulletin = (await again.api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, again.token)).body;
  for (const sha of [restoredBulletin.audio.sha256, restoredBulletin.audio.mp3Sha256].filter(Boolean)) {
    const file = again.server.ctx.media.path(sha);
    t.ok(file, `audio ${sha.slice(0, 8)} is in the media store`);
    t.equal(createHash('sha256').update(await readFile(file!)).digest('hex'), sha, 'with its exact bytes');
  }
  t.ok(existsSync(join(fresh, 'media-link.key')) === existsSync(join(dataDir, 'media-link.key')), 'the media-link key too');
  t.equal(await readFile(join(fresh, 'vapid.json'), 'utf8'), await readFile(join(dataDir, 'vapid.json'), 'utf8'), 'and the Web Push keys: subscribed browsers keep receiving (issue 20)');
});

t.test('restore refuses what it must, naming the problem', async (t) => {
  const backupDir = await tempDir(t, 'loaxa-backups-');
  const { api, token, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/bulletins', { title: 'Thử', text: 'Một hai ba.', category: 'local-direction' }, token);
  const inventory = () => server.ctx.opsCounts.inventory();
  const { path } = await createBackup({ db: server.ctx.db, dataDir: server.ctx.config.dataDir, backupDir, inventory });

  const missing = await restore('--from', path);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--data is required/);
  t.match((await restore('--from', path, '--data', '/x', '--force')).stderr, /Unknown option '--force'/);
  const nowhere = await restore('--from', join(backupDir, 'nope'), '--data', join(backupDir, 'd'));
  t.equal(nowhere.code, 1);
  t.match(nowhere.stderr, /no such file or directory/);

  const target = join(await tempDir(t), 'data');
  t.equal((await restore('--from', path, '--data', target)).code, 0);
  const twice = await restore('--from', path, '--data', target);
  t.equal(twice.code, 1);
  t.match(twice.stderr, /already holds loaxa\.sqlite/, 'never over a data dir with a database');

  // An interrupted backup (no manifest) is neither restored from nor taken as the newest.
  const interrupted = join(backupDir, 'loaxa-29991231T000000Z');
  await mkdir(interrupted);
  const bad = await restore('--from', interrupted, '--data', join(await tempDir(t), 'd'));
  t.match(bad.stderr, /not a complete backup/);
  t.equal((await listBackups(backupDir)).at(-1)!.path, path);

  // A damaged audio file is found before anything is trusted.
  const damaged = join(await tempDir(t), 'loaxa-20260101T000000Z');
  await cp(path, damaged, { recursive: true });
  const shard = (await readdir(join(damaged, 'media')))[0]!;
  const file = join(damaged, 'media', shard, (await readdir(join(damaged, 'media', shard)))[0]!);
  const bytes = await readFile(file);
  bytes[bytes.length >> 1]! ^= 0xff;
  await writeFile(file, bytes);
  const broken = await restore('--from', damaged, '--data', join(await tempDir(t), 'd'));
  t.equal(broken.code, 1);
  t.match(broken.stderr, /does not match its hash/);
});

t.test('retention: backups past LOAXA_BACKUP_KEEP_DAYS go, the newest always stays, interrupted ones go', async (t) => {
  const backupDir = await tempDir(t, 'loaxa-backups-');
  const { server } = await startTestServer(t);
  const day = 86_400_000;
  const now = Date.parse('2026-12-07T19:00:00Z');
  const inventory = () => server.ctx.opsCounts.inventory();
  for (const ago of [30, 20, 10, 1]) await createBackup({ db: server.ctx.db, dataDir: server.ctx.config.dataDir, backupDir, inventory, now: new Date(now - ago * day) });
  await mkdir(join(backupDir, 'loaxa-20261207T000000Z.partial'));
  const removed = await pruneBackups(backupDir, 14, now);
  t.same(removed.sort(), ['loaxa-20261107T190000Z', 'loaxa-20261117T190000Z', 'loaxa-20261207T000000Z.partial']);
  t.same((await listBackups(backupDir)).map((b) => b.name), ['loaxa-20261127T190000Z', 'loaxa-20261206T190000Z']);
  // A server that could not back up for two months still keeps its last backup.
  t.same(await pruneBackups(backupDir, 14, now + 60 * day), ['loaxa-20261127T190000Z']);
  t.equal((await listBackups(backupDir)).length, 1);
});

/**
 * The nightly backups as `GET /metrics` shows them (issue 21): the last success, its duration and size, and the
 * failed runs — what LoaxaBackupMissing (deploy/prometheus/alerts.yml) watches, since a failure at night is only
 * logged. A failed run must show as a failure and must not move the last success; a restarted server must
 * know its last backup from the disk, or the alert would go quiet after every restart.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DB_FILE, listBackups } from '../../server/src/backup/backup.js';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

const SCRAPE_TOKEN = 'scrape-' + randomBytes(24).toString('base64url');

async function scrape(base: string) {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const f = parseExposition(await res.text());
  const v = (name: string) => valueOf(f, name);
  return {
    enabled: v('loaxa_backup_enabled'),
    lastSuccess: v('loaxa_backup_last_success_timestamp_seconds'),
    duration: v('loaxa_backup_last_duration_seconds'),
    size: v('loaxa_backup_last_size_bytes'),
    failures: v('loaxa_backup_failures_total'),
    lastFailure: v('loaxa_backup_last_failure_timestamp_seconds'),
    declared: ['loaxa_backup_last_success_timestamp_seconds', 'loaxa_backup_failures_total'].every((n) => f.has(n)),
  };
}

t.test('without LOAXA_BACKUP_DIR: declared, off, and no figure made up', async (t) => {
  const { base } = await startTestServer(t, { metricsToken: SCRAPE_TOKEN });
  const m = await scrape(base);
  t.ok(m.declared, 'the families are there (a dashboard panel says "no data", not 0)');
  t.equal(m.enabled, 0);
  t.equal(m.lastSuccess, undefined);
  t.equal(m.failures, undefined);
});

t.test('a backup shows its time, duration and size; a failed one counts as a failure and leaves the last success alone', async (t) => {
  const backupDir = await tempDir(t, 'loaxa-backups-');
  const { api, token, base, server } = await startTestServer(t, { metricsToken: SCRAPE_TOKEN, backup: { dir: backupDir, hour: 2, keepDays: 14 } });
  await importSampleAreas(api, token);
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Xin chào bà con.', category: 'local-direction' }, token)).body;
  // Synthesis may finish after the answer (a loaded machine): the backup must find the audio in the store.
  await waitFor('the bulletin\'s audio', async () => ((await api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000, 200);

  const before = await scrape(base);
  t.equal(before.enabled, 1);
  t.equal(before.lastSuccess, undefined, 'no backup yet: no last success');
  t.equal(before.failures, 0);

  const startedAt = Date.now();
  const { path, manifest } = await server.ctx.backups!.runNow();
  const ok = await scrape(base);
  t.ok(ok.lastSuccess! * 1000 >= startedAt - 1 && ok.lastSuccess! * 1000 <= Date.now(), 'the last success is now');
  t.ok(ok.duration! > 0 && ok.duration! < 60, `took ${ok.duration} s`);
  t.equal(ok.size, (await stat(join(path, DB_FILE))).size + manifest.mediaBytes, 'the size is the database plus the media');
  t.ok(manifest.mediaBytes > 0, 'the bulletin\'s audio is in it');
  t.equal(ok.failures, 0);

  // The backup directory's place taken by a file: the next run cannot write there (root ignores permissions).
  await rm(backupDir, { recursive: true, force: true });
  await writeFile(backupDir, 'not a directory');
  await t.rejects(server.ctx.backups!.runNow(), 'the run fails');
  const failed = await scrape(base);
  t.equal(failed.failures, 1, 'loaxa_backup_failures_total counts it');
  t.ok(failed.lastFailure! * 1000 >= startedAt, 'and says when');
  t.equal(failed.lastSuccess, ok.lastSuccess, 'the last success is still the earlier one');
  t.equal(failed.size, ok.size);
  await t.rejects(server.ctx.backups!.runNow());
  t.equal((await scrape(base)).failures, 2, 'each failed run counts');
});

t.test('a restarted server takes its last success from the newest backup on disk', async (t) => {
  const backupDir = await tempDir(t, 'loaxa-backups-');
  const first = await startTestServer(t, { backup: { dir: backupDir, hour: 2, keepDays: 14 } });
  await first.server.ctx.backups!.runNow();
  await first.server.stop();
  const [newest] = await listBackups(backupDir);

  const again = await startTestServer(t, { metricsToken: SCRAPE_TOKEN, backup: { dir: backupDir, hour: 2, keepDays: 14 } });
  const m = await waitFor('the newest backup read from disk', async () => {
    const s = await scrape(again.base);
    return s.lastSuccess === undefined ? null : s;
  }, 10_000);
  // The backup's name carries its time to the second.
  t.equal(m.lastSuccess, newest!.at / 1000, 'the time of the backup on disk, not of the start');
  t.equal(m.size, (await stat(join(newest!.path, DB_FILE))).size, 'its size (no media in it)');
  t.equal(m.duration, undefined, 'its duration is not known');
  t.equal(m.failures, 0);
});

/**
 * Issue 15 review (hostile): `POST /api/v1/programmes/preview` says "no programme is stored", yet it renders the
 * items exactly as a save does — every music-under-speech item is mixed, mastered and written to the media
 * store, which never deletes anything. `duckDb` is any real number from 3 to 40, so every preview with new
 * values leaves new files behind for good: any operator grows the disk without bound, one listen at a time.
 * And the preview's length limit is checked only after all of that mixing: a preview refused as too long has
 * already made (and kept) every item's file.
 */
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { securityServer } from './helpers.js';
import { uploadTone } from '../helpers/programmes.js';

async function mediaFiles(dir: string): Promise<number> {
  let n = 0;
  for (const shard of await readdir(dir).catch(() => [] as string[])) {
    n += (await readdir(join(dir, shard)).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).length;
  }
  return n;
}

t.test('a preview leaves its mixed files in the media store for good', async (t) => {
  const { api, base, dataDir, login } = await securityServer(t, { sourceCheckSeconds: 0 });
  const op = await login('operator', '99003');
  const music = await uploadTone(base, op.token, { hz: 440, seconds: 2, title: 'Nhạc nền' });
  const speech = (await api('POST', '/api/v1/bulletins', { title: 'Tin', text: 'Mời bà con dự họp.' }, op.token)).body;
  t.equal(speech.status, 'ready');
  const before = await mediaFiles(join(dataDir, 'media'));
  const items = [10, 11.5, 12.25].map((duckDb) => ({ kind: 'music', musicBulletinId: music.id, speechBulletinId: speech.id, duckDb, leadInMs: 0, tailMs: 0 }));
  const res = await fetch(`${base}/api/v1/programmes/preview`, { method: 'POST', headers: { authorization: `Bearer ${op.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
  t.equal(res.status, 200);
  await res.arrayBuffer();
  const after = await mediaFiles(join(dataDir, 'media'));
  t.equal(after - before, 0, `a preview stores nothing (it left ${after - before} new files in the media store)`);
});

t.test('a preview that is certain to be refused as too long mixes and stores its items first', async (t) => {
  const { api, base, dataDir, login } = await securityServer(t, { sourceCheckSeconds: 0 });
  const op = await login('operator', '99003');
  const music = await uploadTone(base, op.token, { hz: 440, seconds: 1, title: 'Nhạc nền' });
  const speech = (await api('POST', '/api/v1/bulletins', { title: 'Tin', text: 'Mời bà con dự họp.' }, op.token)).body;
  t.equal(speech.status, 'ready');
  // 31 items of 30 s lead-in + speech + 30 s tail: over the 30 minutes a preview may last, which the server
  // can tell from the body alone. Run in full, this request was refused only after ~70 s of mixing (31 files).
  const items = Array.from({ length: 31 }, (_, i) => ({ kind: 'music', musicBulletinId: music.id, speechBulletinId: speech.id, duckDb: 3 + i, leadInMs: 30_000, tailMs: 30_000 }));
  const before = await mediaFiles(join(dataDir, 'media'));
  const gone = new AbortController();
  const res = fetch(`${base}/api/v1/programmes/preview`, { method: 'POST', signal: gone.signal, headers: { authorization: `Bearer ${op.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }) })
    .then((r) => r.status)
    .catch(() => 'aborted');
  await new Promise((r) => setTimeout(r, 6_000));
  gone.abort();
  const status = await res;
  const made = (await mediaFiles(join(dataDir, 'media'))) - before;
  t.comment(`after 6 s: answer ${status}, ${made} mixed files stored`);
  t.not(status, 'aborted', 'an over-long preview is refused at once, before any mixing');
  t.equal(made, 0, `nothing is mixed for a preview that will be refused (made ${made} files in 6 s)`);
});

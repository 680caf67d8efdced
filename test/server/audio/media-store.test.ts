import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MediaStore } from '../../../server/src/audio/index.js';

async function tempStore(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; store: MediaStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-media-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new MediaStore(join(dir, 'media'));
  await store.init();
  return { dir: join(dir, 'media'), store };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('round trip: stored under its SHA-256, sharded by the first two hex digits', async (t) => {
  const { dir, store } = await tempStore(t);
  const data = Buffer.from('OggS pretend audio');
  const put = await store.put(data, 'ogg');
  t.equal(put.sha256, sha(data));
  t.equal(put.bytes, data.length);
  t.equal(put.path, join(dir, put.sha256.slice(0, 2), `${put.sha256}.ogg`));
  t.equal(store.path(put.sha256), put.path);
  t.same(await readFile(store.path(put.sha256)!), data);
  const st = await store.stat(put.sha256);
  t.match(st, { sha256: put.sha256, ext: 'ogg', bytes: data.length, path: put.path });
  t.same(await listFiles(dir), [`${put.sha256.slice(0, 2)}/${put.sha256}.ogg`], 'no temp files left');
});

t.test('the same bytes twice are stored once', async (t) => {
  const { dir, store } = await tempStore(t);
  const data = Buffer.from('same bytes');
  const a = await store.put(data, 'mp3');
  const before = (await store.stat(a.sha256))!.mtimeMs;
  const b = await store.put(data, 'mp3');
  t.same(a, b);
  t.equal((await store.stat(a.sha256))!.mtimeMs, before, 'file not rewritten');
  const [c, d] = await Promise.all([store.put(Buffer.from('race'), 'ogg'), store.put(Buffer.from('race'), 'ogg')]);
  t.same(c, d, 'concurrent puts agree');
  t.equal((await listFiles(dir)).length, 2, 'two distinct files, no temp files');
});

t.test('a damaged file under a name is replaced on the next put', async (t) => {
  const { store } = await tempStore(t);
  const data = Buffer.from('the real content');
  const { path } = await store.put(data, 'ogg');
  await writeFile(path, 'trunc');
  await store.put(data, 'ogg');
  t.same(await readFile(path), data);
});

t.test('only a 64-character lowercase hex hash is ever turned into a path', async (t) => {
  const { store } = await tempStore(t);
  const { sha256 } = await store.put(Buffer.from('x'), 'ogg');
  const bad = ['', '../../etc/passwd', sha256.toUpperCase(), sha256.slice(0, 63), `${sha256}0`, `${sha256.slice(0, 62)}/.`, `../${sha256.slice(3)}`, `${sha256}.ogg`];
  for (const b of bad) {
    t.equal(store.path(b), null, JSON.stringify(b));
    t.equal(await store.stat(b), null, JSON.stringify(b));
  }
  t.equal(store.path('0'.repeat(64)), null, 'absent');
  t.equal(await store.stat('0'.repeat(64)), null, 'absent');
  await t.rejects(store.put(Buffer.from('x'), '../evil' as 'ogg'), /unsupported media extension/);
});

t.test('init sweeps temp files a crash left behind, but not fresh ones', async (t) => {
  const { dir, store } = await tempStore(t);
  await mkdir(join(dir, 'ab'), { recursive: true });
  const stale = join(dir, 'ab', '.abcd.1111.tmp');
  const fresh = join(dir, 'ab', '.abcd.2222.tmp');
  await writeFile(stale, 'partial');
  await writeFile(fresh, 'being written');
  const old = new Date(Date.now() - 2 * 3600_000);
  await utimes(stale, old, old);
  await store.init();
  t.same(await listFiles(dir), ['ab/.abcd.2222.tmp']);
});

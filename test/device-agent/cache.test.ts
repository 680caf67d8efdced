import t from 'tap';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentStateStore, DownloadError, HashMismatchError, MediaCache, basicAuth, hashFile, type MediaCacheDeps } from '@loaxa/device-agent';
import { CREDENTIALS, randomAudio, silentLogger, startMediaServer, tempDir } from './helpers.js';

function cache(dir: string, over: Partial<MediaCacheDeps> = {}): MediaCache {
  return new MediaCache({
    dir,
    maxBytes: 1024 ** 3,
    authorization: basicAuth(CREDENTIALS.username, CREDENTIALS.password),
    fetch: globalThis.fetch,
    logger: silentLogger(),
    downloadTimeoutMs: 5_000,
    ...over,
  });
}

t.test('a download that breaks off resumes with a Range request', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const audio = randomAudio(100_000);
  const ref = media.put(audio);
  const c = cache(dir);
  await c.open();
  media.cutNext(30_000);
  await t.rejects(c.fetchOnce(ref.sha256, ref.url), DownloadError);
  const part = join(dir, `.part-${ref.sha256}`);
  t.ok(statSync(part).size > 0, 'the part is kept');
  t.notOk(existsSync(c.pathOf(ref.sha256)), 'nothing under the real name');
  const have = statSync(part).size;

  const file = await c.fetchOnce(ref.sha256, ref.url);
  t.equal(media.requests.at(-1)!.range, `bytes=${have}-`, 'asked only for the rest');
  t.equal(await hashFile(file), ref.sha256);
  t.notOk(existsSync(part));
  t.equal(c.items, 1);
  t.equal(c.bytes, audio.length);
});

t.test('power cut between write and rename: restarting the cache leaves no corrupt file and resumes', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const audio = randomAudio(50_000);
  const ref = media.put(audio);
  const other = media.put(randomAudio(4_000));
  // What a cut leaves behind: half a download, an atomic write's temp file, an empty file whose data
  // never reached the card, and a temp file of the first agent version.
  writeFileSync(join(dir, `.part-${ref.sha256}`), audio.subarray(0, 20_000));
  writeFileSync(join(dir, `agent-state.json.1a2b3c4d.tmp`), '{"v":1,"vol');
  writeFileSync(join(dir, `${other.sha256}.ogg`), '');
  writeFileSync(join(dir, `.tmp-${other.sha256}-abcd`), 'junk');

  const c = cache(dir);
  await c.open();
  t.same(readdirSync(dir).sort(), [`.part-${ref.sha256}`], 'only the resumable part is left');
  t.equal(c.items, 0);
  t.equal(await c.lookup(other.sha256), null);

  const file = await c.fetchOnce(ref.sha256, ref.url);
  t.equal(media.requests.at(-1)!.range, 'bytes=20000-');
  t.same(readFileSync(file), audio);
});

t.test('a part that does not belong to the file is thrown away, never committed', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const audio = randomAudio(30_000);
  const ref = media.put(audio);
  writeFileSync(join(dir, `.part-${ref.sha256}`), randomAudio(10_000));
  const c = cache(dir);
  await c.open();
  await t.rejects(c.fetchOnce(ref.sha256, ref.url), HashMismatchError);
  t.same(readdirSync(dir), [], 'neither the part nor a file');
  t.equal(await hashFile(await c.fetchOnce(ref.sha256, ref.url)), ref.sha256, 'the next attempt starts over');
  t.equal(media.requests.at(-1)!.range, undefined);
});

t.test('a complete part (cut after the last byte) is committed on 416; a server without Range sends it all', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const audio = randomAudio(8_000);
  const ref = media.put(audio);
  writeFileSync(join(dir, `.part-${ref.sha256}`), audio);
  const c = cache(dir);
  await c.open();
  t.equal(await hashFile(await c.fetchOnce(ref.sha256, ref.url)), ref.sha256);

  const audio2 = randomAudio(8_000);
  const ref2 = media.put(audio2);
  writeFileSync(join(dir, `.part-${ref2.sha256}`), audio2.subarray(0, 3_000));
  media.ignoreRange = true;
  t.same(readFileSync(await c.fetchOnce(ref2.sha256, ref2.url)), audio2, 'a 200 answer to a Range request restarts the part');
});

t.test('LRU eviction keeps the cap and never evicts audio of upcoming items', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const upcoming = new Set<string>();
  const c = cache(dir, { maxBytes: 3_500, protect: () => upcoming });
  await c.open();
  const [a, b, d, e, f] = [1, 2, 3, 4, 5].map(() => media.put(randomAudio(1_000)));
  for (const r of [a, b, d]) await c.fetchOnce(r!.sha256, r!.url);
  const unpin = c.pin(a!.sha256); // an item in hand
  upcoming.add(b!.sha256); // on the agenda
  await c.fetchOnce(e!.sha256, e!.url);
  t.ok(c.has(a!.sha256) && c.has(b!.sha256), 'pinned and upcoming audio stays');
  t.notOk(c.has(d!.sha256), 'the least recently used of the rest goes');
  t.ok(c.bytes <= 3_500);

  // When everything left is needed, the cache goes over its cap rather than drop upcoming audio.
  upcoming.add(e!.sha256);
  await c.fetchOnce(f!.sha256, f!.url);
  t.ok(c.has(a!.sha256) && c.has(b!.sha256) && c.has(e!.sha256), 'nothing upcoming evicted');
  unpin();
  upcoming.clear();
  const g = media.put(randomAudio(1_000));
  await c.fetchOnce(g.sha256, g.url);
  t.ok(c.bytes <= 3_500, 'back under the cap once released');
  t.ok(c.has(g.sha256));
});

t.test('a disk too full for the download evicts old audio first, then refuses', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const dir = tempDir(t);
  const old = media.put(randomAudio(3_000));
  let full = false;
  // The file system as the cache sees it: 3,000 bytes freer without the old file; 5,000 kept in reserve.
  const c = cache(dir, { reserveBytes: 5_000, freeBytes: async () => (full ? 1_000 : existsSync(join(dir, `${old.sha256}.ogg`)) ? 6_000 : 9_000) });
  await c.open();
  await c.fetchOnce(old.sha256, old.url);
  const big = media.put(randomAudio(4_000));
  await c.fetchOnce(big.sha256, big.url, 4_000);
  t.notOk(c.has(old.sha256), 'old audio made room');
  t.ok(c.has(big.sha256));

  full = true;
  const huge = media.put(randomAudio(9_000));
  await t.rejects(c.fetchOnce(huge.sha256, huge.url, 9_000), { name: 'DownloadError', message: /disk full/ });
  t.equal(media.requests.filter((r) => r.url.endsWith(huge.sha256)).length, 0, 'refused before downloading');
});

t.test('the agent state survives a cut during its save', async (t) => {
  const dir = tempDir(t);
  const store = new AgentStateStore({ dir, logger: silentLogger() });
  await store.load();
  await store.save(() => ({ v: 1, volume: 42, recentCommandIds: ['a'], activeFaults: [{ fault: 'power', since: 1 }] }));
  // The cut: a temp file half written, the rename never happened.
  writeFileSync(join(dir, 'agent-state.json.deadbeef.tmp'), '{"v":1,"volume":9');
  const again = new AgentStateStore({ dir, logger: silentLogger() });
  t.match(await again.load(), { volume: 42, recentCommandIds: ['a'], activeFaults: [{ fault: 'power', since: 1 }] });
  t.same(readdirSync(dir), ['agent-state.json'], 'the temp file is cleared');
  t.equal(statSync(join(dir, 'agent-state.json')).mode & 0o777, 0o600);
});

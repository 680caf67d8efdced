/**
 * The commune pages' cache (issue 22): one build for many concurrent requests, everything dropped by an
 * airing, Last-Modified that moves only when the bytes change, and a lifetime as a safety net.
 */
import t from 'tap';
import { FeedCache } from '../../server/src/feeds/feed-cache.js';

t.test('one build per key at a time; invalidation; Last-Modified moves only with the bytes; lifetime', async (t) => {
  let now = Date.UTC(2026, 11, 7, 7, 0, 0);
  const cache = new FeedCache({ ttlMs: 60_000, maxEntries: 10, now: () => now });
  let builds = 0;
  let body = 'một';
  let release: () => void = () => undefined;
  const gate = () => new Promise<void>((r) => (release = r));
  let waiting = gate();
  const build = async () => {
    builds++;
    await waiting;
    return { type: 'text/plain', body };
  };

  const concurrent = Array.from({ length: 50 }, () => cache.get('k', true, build));
  release();
  const answers = await Promise.all(concurrent);
  t.equal(builds, 1, '50 concurrent requests, one build');
  t.ok(answers.every((a) => a === answers[0]), 'all get the same answer');
  const first = answers[0]!;
  t.equal(first.body.toString(), 'một');

  await cache.get('k', true, build);
  t.equal(builds, 1, 'a later request is answered from memory');

  // An airing: rebuilt; same bytes → same ETag and the same Last-Modified, even later.
  now += 5000;
  cache.invalidate();
  const same = await cache.get('k', true, build);
  t.equal(builds, 2);
  t.equal(same!.etag, first.etag);
  t.equal(same!.lastModified, first.lastModified, 'Last-Modified stays when nothing changed');

  // New bytes → new ETag, Last-Modified moves to now.
  body = 'hai';
  cache.invalidate();
  const changed = await cache.get('k', true, build);
  t.not(changed!.etag, first.etag);
  t.equal(changed!.lastModified, now);

  // A build under way when an airing comes is not kept: the next request builds again.
  waiting = gate();
  const early = cache.get('k2', true, build);
  cache.invalidate();
  release();
  await early;
  const buildsBefore = builds;
  await cache.get('k2', true, build);
  t.equal(builds, buildsBefore + 1, 'the answer read before the airing was not kept');

  // The lifetime: rebuilt after ttlMs without any airing.
  const b = builds;
  now += 61_000;
  await cache.get('k', true, build);
  t.equal(builds, b + 1, 'rebuilt after its lifetime');

  // Unknown (null) answers are cached too.
  let misses = 0;
  const missing = async () => {
    misses++;
    return null;
  };
  t.equal(await cache.get('nothing', true, missing), null);
  t.equal(await cache.get('nothing', true, missing), null);
  t.equal(misses, 1, 'a 404 is remembered as well');
  // Per-bulletin keys keep no miss (review of issue 22: random ids pushed the feeds out of the cache).
  const before = builds;
  for (let i = 0; i < 5000; i++) await cache.get(`share ${i}`, false, missing);
  t.equal(misses, 5001, 'each unknown id is looked up');
  await cache.get('k', true, build);
  t.equal(builds, before, 'and the real answers are still there');
});

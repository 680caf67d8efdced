/**
 * The warning feed poller (server/src/warnings/feed-poller.ts, issue 18) against a local HTTP server: a CAP
 * document, Atom feeds with inline alerts and with links, RSS with an enclosure, conditional GET, backoff,
 * deduplication, size and time limits, and the address guard.
 */
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { capAlertSchema } from '@loaxa/shared';
import { StreamAddressGuard } from '../../server/src/relay/address-guard.js';
import { writeAtomFeed, writeCap } from '../../server/src/warnings/cap-write.js';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { backoffMs, emptyFeedState, MAX_BACKOFF_MS, SEEN_CAP, WarningFeedPoller, type FeedSourceStore, type FeedState } from '../../server/src/warnings/feed-poller.js';
import { serializeXml } from '../../server/src/warnings/xml-write.js';
import { parseXml } from '../../server/src/warnings/xml.js';
import { minimalAlert, SAMPLE_XML } from './fixtures/alerts.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function server(t: Test, routes: Record<string, Handler>): Promise<{ base: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const s = createServer((req, res) => {
    requests.push(req);
    const h = routes[req.url ?? ''];
    if (h) h(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }));
  return { base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests };
}

class MemoryStore implements FeedSourceStore {
  readonly states = new Map<string, FeedState>();
  constructor(readonly list: { id: string; feedUrl: string; pollSeconds: number }[]) {}
  feeds() {
    return this.list;
  }
  state(id: string) {
    return this.states.get(id) ?? null;
  }
  saveState(id: string, s: FeedState) {
    this.states.set(id, structuredClone(s));
  }
}

const loopbackAllowed = new StreamAddressGuard(['127.0.0.0/8']);
const logger = pino({ level: 'silent' });

function poller(store: FeedSourceStore, o: Partial<ConstructorParameters<typeof WarningFeedPoller>[0]> = {}) {
  const ingested: { sourceId: string; xml: string; origin: string }[] = [];
  const p = new WarningFeedPoller({
    sources: store,
    ingest: async (sourceId, xml, origin) => {
      ingested.push({ sourceId, xml: Buffer.from(xml).toString('utf8'), origin });
    },
    guard: loopbackAllowed,
    logger,
    random: () => 0.5,
    ...o,
  });
  return { p, ingested };
}

const identifierOf = (xml: string) => {
  const r = readCap(xml);
  if (!r.ok) throw new Error(`not CAP: ${r.message}`);
  return r.alert.identifier;
};

const alertA = minimalAlert({ identifier: 'vn.test.1', sent: '2026-12-07T10:00:00+07:00' });
const alertB = minimalAlert({ identifier: 'vn.test.2', sent: '2026-12-07T11:00:00+07:00' });

t.test('a CAP document: ingested once; the ETag and Last-Modified are sent back and a 304 does nothing', async (t) => {
  const srv = await server(t, {
    '/cap.xml': (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/cap+xml', etag: '"v1"', 'last-modified': 'Mon, 07 Dec 2026 03:00:00 GMT' }).end(SAMPLE_XML);
    },
  });
  const store = new MemoryStore([{ id: 's1', feedUrl: `${srv.base}/cap.xml`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store);
  const s1 = await p.pollNow('s1');
  t.equal(ingested.length, 1);
  t.equal(ingested[0]!.sourceId, 's1');
  t.equal(ingested[0]!.origin, `${srv.base}/cap.xml`);
  t.equal(ingested[0]!.xml, SAMPLE_XML, 'the bytes as served');
  t.equal(s1.etag, '"v1"');
  t.equal(s1.failures, 0);
  t.match(s1.lastResult, /^ok: cap, 1 ingested/);
  t.ok(s1.nextPollAt! - s1.lastPolledAt! >= 59_000);

  const s2 = await p.pollNow('s1');
  t.equal(srv.requests[1]!.headers['if-none-match'], '"v1"', 'If-None-Match sent');
  t.equal(srv.requests[1]!.headers['if-modified-since'], 'Mon, 07 Dec 2026 03:00:00 GMT', 'If-Modified-Since sent');
  t.equal(s2.lastResult, 'not modified');
  t.equal(ingested.length, 1, 'nothing ingested on a 304');
  t.equal(s2.lastChangedAt, s1.lastChangedAt);
  await p.stop();
});

t.test('a CAP document without validators is not ingested again while it is the same', async (t) => {
  let body = SAMPLE_XML;
  const srv = await server(t, { '/cap.xml': (_req, res) => res.writeHead(200).end(body) });
  const store = new MemoryStore([{ id: 's', feedUrl: `${srv.base}/cap.xml`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store);
  await p.pollNow('s');
  await p.pollNow('s');
  t.equal(ingested.length, 1);
  body = writeCap(alertA);
  await p.pollNow('s');
  t.equal(ingested.length, 2, 'a changed document is new');
  await p.stop();
});

t.test('Atom with inline alerts: each entry once; an entry updated in place is new again', async (t) => {
  let entries = [{ alert: alertA, id: 'e1' }, { alert: alertB, id: 'e2' }];
  const srv = await server(t, {
    '/feed': (_req, res) => res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(writeAtomFeed({ id: 'f', title: 'KTTV', author: { name: 'KTTV' }, entries })),
  });
  const store = new MemoryStore([{ id: 'atom', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store);
  const s = await p.pollNow('atom');
  t.same(ingested.map((i) => identifierOf(i.xml)), ['vn.test.1', 'vn.test.2'], 'both, oldest first, read as CAP documents');
  t.equal(ingested[0]!.origin, `${srv.base}/feed#e1`);
  t.same(s.seen.length, 2);
  await p.pollNow('atom');
  t.equal(ingested.length, 2, 'entries seen are not ingested twice');
  entries = [{ alert: { ...alertA, sent: '2026-12-07T12:00:00+07:00', msgType: 'Update', references: [{ sender: 'loaxa@tinh-mau.example.vn', identifier: 'vn.test.1', sent: '2026-12-07T10:00:00+07:00' }] }, id: 'e1' }, ...entries.slice(1)];
  await p.pollNow('atom');
  t.equal(ingested.length, 3, 'the updated entry is new');
  await p.stop();
});

t.test('Atom with links: fetched through the guard, bounded per poll, the rest at the next poll', async (t) => {
  const cap = (a: typeof alertA) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/cap+xml' }).end(writeCap(a));
  const alerts = [1, 2, 3].map((n) => minimalAlert({ identifier: `vn.link.${n}`, sent: `2026-12-07T0${n}:00:00+07:00` }));
  const feed = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title><updated>2026-12-07T03:00:00Z</updated>
${alerts.map((a, i) => `<entry><id>l${i + 1}</id><title>x</title><updated>2026-12-07T0${i + 1}:00:00Z</updated><link rel="alternate" type="text/html" href="/page${i + 1}.html"/><link type="application/cap+xml" href="/cap/${i + 1}.xml"/></entry>`).join('\n')}
</feed>`;
  const srv = await server(t, {
    '/feed': (_req, res) => res.writeHead(200).end(feed),
    '/cap/1.xml': cap(alerts[0]!),
    '/cap/2.xml': cap(alerts[1]!),
    '/cap/3.xml': cap(alerts[2]!),
  });
  const store = new MemoryStore([{ id: 'links', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store, { maxLinkedPerPoll: 2 });
  const s1 = await p.pollNow('links');
  t.same(ingested.map((i) => identifierOf(i.xml)), ['vn.link.1', 'vn.link.2']);
  t.equal(ingested[0]!.origin, `${srv.base}/cap/1.xml`);
  t.match(s1.lastResult, /1 deferred/);
  t.notOk(srv.requests.some((r) => r.url?.endsWith('.html')), 'the CAP-typed link is tried first');
  await p.pollNow('links');
  t.same(ingested.map((i) => identifierOf(i.xml)), ['vn.link.1', 'vn.link.2', 'vn.link.3'], 'the deferred one at the next poll');
  await p.pollNow('links');
  t.equal(ingested.length, 3);
  await p.stop();
});

t.test('RSS with an enclosure', async (t) => {
  const rss = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>
<item><title>Bão số 9</title><guid>r1</guid><pubDate>Mon, 07 Dec 2026 03:00:00 GMT</pubDate><enclosure url="/cap/r1.xml" length="1" type="application/cap+xml"/></item>
</channel></rss>`;
  const srv = await server(t, {
    '/rss': (_req, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss),
    '/cap/r1.xml': (_req, res) => res.writeHead(200).end(SAMPLE_XML),
  });
  const store = new MemoryStore([{ id: 'rss', feedUrl: `${srv.base}/rss`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store);
  await p.pollNow('rss');
  t.equal(ingested.length, 1);
  t.equal(identifierOf(ingested[0]!.xml), 'vn.kttv.tinhmau.2026-12-07.0042');
  await p.stop();
});

t.test('one refused alert does not stop the others', async (t) => {
  const srv = await server(t, {
    '/feed': (_req, res) => res.writeHead(200).end(writeAtomFeed({ id: 'f', title: 't', author: { name: 'a' }, entries: [{ alert: alertA, id: 'e1' }, { alert: alertB, id: 'e2' }] })),
  });
  const store = new MemoryStore([{ id: 'f', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const got: string[] = [];
  const { p } = poller(store, {
    ingest: async (_id, xml) => {
      const id = identifierOf(Buffer.from(xml).toString());
      if (id === 'vn.test.1') throw new Error('policy: sender not allowed');
      got.push(id);
    },
  });
  const s = await p.pollNow('f');
  t.same(got, ['vn.test.2']);
  t.match(s.lastResult, /1 ingested, 1 refused.*sender not allowed/);
  t.equal(s.failures, 0, 'a refused alert is not a feed failure');
  await p.stop();
});

t.test('backoff grows on 500s, is capped, and a success resets it', async (t) => {
  let fail = true;
  const srv = await server(t, { '/feed': (_req, res) => (fail ? res.writeHead(500).end('oops') : res.writeHead(200).end(SAMPLE_XML)) });
  const store = new MemoryStore([{ id: 'b', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  let now = 1_000_000;
  const { p, ingested } = poller(store, { clock: { now: () => now } });
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await p.pollNow('b');
    t.equal(s.failures, i + 1);
    t.match(s.lastResult, /^error: HTTP 500/);
    delays.push(s.nextPollAt! - now);
    now += 1000;
  }
  t.same(delays, [120_000, 240_000, 480_000], 'pollSeconds·2^failures (jitter fixed at its middle)');
  fail = false;
  const ok = await p.pollNow('b');
  t.equal(ok.failures, 0);
  t.equal(ok.nextPollAt! - now, 60_000);
  t.equal(ingested.length, 1);

  t.equal(backoffMs(60, 20, () => 0.5), MAX_BACKOFF_MS, 'capped at 30 minutes');
  t.ok(backoffMs(60, 2, () => 0) >= 0.8 * 240_000 && backoffMs(60, 2, () => 0.999) <= 1.2 * 240_000, 'jitter is bounded');
  t.ok(backoffMs(60, 20, () => 0.999) <= MAX_BACKOFF_MS && backoffMs(60, 20, () => 0) >= 0.8 * MAX_BACKOFF_MS);
  await p.stop();
});

t.test('unreadable XML, oversize and slow feeds are failures', async (t) => {
  const big = `<?xml version="1.0"?><rss version="2.0"><channel>${'<item><title>x</title></item>'.repeat(2000)}</channel></rss>`;
  const srv = await server(t, {
    '/dtd': (_req, res) => res.writeHead(200).end('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
    '/big': (_req, res) => res.writeHead(200).end(big),
    '/big-chunked': (_req, res) => {
      res.writeHead(200);
      res.write(big.slice(0, 20_000));
      res.end(big.slice(20_000));
    },
    '/slow': (_req, res) => {
      res.writeHead(200);
      res.write('<?xml version="1.0"?>');
      // never ends
    },
  });
  const store = new MemoryStore(['dtd', 'big', 'big-chunked', 'slow'].map((id) => ({ id, feedUrl: `${srv.base}/${id}`, pollSeconds: 60 })));
  const { p, ingested } = poller(store, { maxBytes: 16 * 1024, timeoutMs: 500 });
  t.match((await p.pollNow('dtd')).lastResult, /^error: unreadable \(doctype\)/);
  t.match((await p.pollNow('big')).lastResult, /^error: too large/);
  t.match((await p.pollNow('big-chunked')).lastResult, /^error: too large/);
  const started = Date.now();
  const slow = await p.pollNow('slow');
  t.match(slow.lastResult, /^error: timed out/);
  t.ok(Date.now() - started < 3000, 'cut at the timeout');
  t.equal(slow.failures, 1);
  t.equal(ingested.length, 0);
  await p.stop();
});

t.test('the address guard: a loopback feed or link is refused when loopback is not allowed', async (t) => {
  const srv = await server(t, {
    '/feed': (_req, res) => res.writeHead(200).end(SAMPLE_XML),
  });
  const store = new MemoryStore([{ id: 'g', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store, { guard: new StreamAddressGuard() });
  const s = await p.pollNow('g');
  t.match(s.lastResult, /^error: .*loopback, link-local or private/);
  t.equal(srv.requests.length, 0, 'no connection made');
  t.equal(ingested.length, 0);
  await p.stop();

  // A public feed (its address guard-approved) that links to a loopback alert: the link is refused, the
  // feed is fine, and the refused entry is not tried again.
  const linkFeed = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title><updated>2026-12-07T03:00:00Z</updated>
<entry><id>x</id><title>x</title><updated>2026-12-07T03:00:00Z</updated><link type="application/cap+xml" href="http://127.0.0.1:9/cap.xml"/></entry></feed>`;
  const srv2 = await server(t, { '/feed': (_req, res) => res.writeHead(200).end(linkFeed) });
  // The feed's own host is a name this guard resolves to the test server and allows; loopback stays denied.
  const guard = new StreamAddressGuard([], async () => ['127.0.0.1']);
  const allowFeedHost = { checkedAddresses: (host: string) => (host === 'feed.example' ? Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]) : guard.checkedAddresses(host)) };
  const store2 = new MemoryStore([{ id: 'l', feedUrl: `${srv2.base.replace('127.0.0.1', 'feed.example')}/feed`, pollSeconds: 60 }]);
  const { p: p2, ingested: ing2 } = poller(store2, { guard: allowFeedHost });
  const s2 = await p2.pollNow('l');
  t.equal(s2.failures, 0);
  t.match(s2.lastResult, /1 links failed.*loopback/);
  t.equal(ing2.length, 0);
  t.equal(s2.seen.length, 1, 'a refused link is not retried');
  await p2.stop();
});

t.test('never two polls of one source at once; stop waits for the poll in flight', async (t) => {
  let release: () => void = () => {};
  const srv = await server(t, {
    '/feed': (_req, res) => {
      release = () => res.writeHead(200).end(SAMPLE_XML);
    },
  });
  const store = new MemoryStore([{ id: 'c', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const { p, ingested } = poller(store);
  const a = p.pollNow('c');
  const b = p.pollNow('c');
  t.equal(a, b, 'the second joins the first');
  while (srv.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const stopped = p.stop();
  setTimeout(() => release(), 50);
  await stopped;
  t.equal(srv.requests.length, 1);
  t.equal(ingested.length, 1, 'the poll in flight finished before stop resolved');
  await t.rejects(p.pollNow('c'), /stopped/);
});

t.test('stop() is bounded: a poll that hangs past the bound is aborted', async (t) => {
  const srv = await server(t, {
    '/hang': (_req, res) => {
      res.writeHead(200);
      res.write('<?xml version="1.0"?>');
    },
  });
  const store = new MemoryStore([{ id: 'h', feedUrl: `${srv.base}/hang`, pollSeconds: 60 }]);
  const { p } = poller(store, { timeoutMs: 60_000, stopTimeoutMs: 100 });
  const poll = p.pollNow('h');
  while (srv.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await p.stop();
  t.ok(Date.now() - started < 2000, `stop took ${Date.now() - started} ms`);
  const s = await poll;
  t.match(s.lastResult, /^error:/);
  t.same(store.states.get('h'), s, 'its state saved before stop resolved');
});

t.test('a feed polled by hand is next polled pollSeconds later; a feed with a nextPollAt waits for it', async (t) => {
  const srv = await server(t, { '/feed': (_req, res) => res.writeHead(200).end(SAMPLE_XML) });
  const store = new MemoryStore([{ id: 'a', feedUrl: `${srv.base}/feed`, pollSeconds: 120 }, { id: 'b', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  store.states.set('b', { ...emptyFeedState(), nextPollAt: 5_000 + 45_000 });
  const scheduled: { id: number; ms: number; cancelled: boolean }[] = [];
  let n = 0;
  const clock = { now: () => 5_000, schedule: (_fn: () => void, ms: number) => { const e = { id: n++, ms, cancelled: false }; scheduled.push(e); return () => { e.cancelled = true; }; } };
  const { p } = poller(store, { clock, resyncMs: 3_600_000 });
  p.start();
  t.same(scheduled.filter((e) => !e.cancelled).map((e) => e.ms).sort((x, y) => x - y), [0, 45_000, 3_600_000]);
  await p.pollNow('a');
  t.same(scheduled.filter((e) => !e.cancelled).map((e) => e.ms).sort((x, y) => x - y), [45_000, 120_000, 3_600_000], 'a re-armed for pollSeconds later, its old timer cancelled');
  await p.stop();
  t.ok(scheduled.every((e) => e.cancelled));
});

t.test('start() polls each feed on its own timer, at its nextPollAt', async (t) => {
  const srv = await server(t, { '/feed': (_req, res) => res.writeHead(200).end(SAMPLE_XML) });
  const store = new MemoryStore([{ id: 'timed', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const scheduled: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const clock = { now: () => 5_000, schedule: (fn: () => void, ms: number) => { const e = { fn, ms, cancelled: false }; scheduled.push(e); return () => { e.cancelled = true; }; } };
  const { p, ingested } = poller(store, { clock, resyncMs: 3_600_000 });
  p.start();
  t.ok(scheduled.some((e) => e.ms === 3_600_000), 'the list of feeds is read again periodically');
  const first = scheduled.find((e) => e.ms === 0)!;
  t.ok(first, 'a feed never polled is polled at once');
  first.fn();
  while (!store.states.get('timed')) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(ingested.length, 1);
  t.ok(scheduled.some((e) => e.ms === 60_000 && !e.cancelled), 'the next poll after pollSeconds');
  await p.stop();
  t.ok(scheduled.every((e) => e.cancelled || e === first), 'stop cancels the timers (the one that fired aside)');
});

t.test('the seen list is capped, oldest dropped', async (t) => {
  const entries = Array.from({ length: SEEN_CAP + 5 }, (_, i) => `<entry><id>n${i}</id><title>x</title><updated>2026-12-07T03:00:00Z</updated></entry>`).join('');
  const srv = await server(t, { '/feed': (_req, res) => res.writeHead(200).end(`<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>${entries}</feed>`) });
  const store = new MemoryStore([{ id: 'cap', feedUrl: `${srv.base}/feed`, pollSeconds: 60 }]);
  const { p } = poller(store);
  const s = await p.pollNow('cap');
  t.equal(s.seen.length, SEEN_CAP);
  t.notOk(s.seen.includes('n0|1796612400000'), 'the oldest dropped');
  await p.stop();
});

t.test('serializeXml: an inline alert cut out of its feed reads as the same alert', async (t) => {
  const atom = writeAtomFeed({ id: 'f', title: 't', author: { name: 'a' }, entries: [{ alert: capAlertSchema.parse(alertA) }] });
  const alertEl = parseXml(atom).children.find((c) => c.local === 'entry')!.children.find((c) => c.local === 'content')!.children[0]!;
  const xml = serializeXml(alertEl);
  const r = readCap(xml);
  t.ok(r.ok && r.alert.identifier === 'vn.test.1');
  const prefixed = serializeXml(parseXml('<a:x xmlns:a="urn:a" xmlns:b="urn:b"><a:y b:z="1 &amp; &lt;2&quot;">t&amp;</a:y><w xmlns="urn:w"/></a:x>').children[0]!);
  t.equal(prefixed, '<?xml version="1.0" encoding="UTF-8"?>\n<a:y xmlns:a="urn:a" xmlns:b="urn:b" b:z="1 &#38; &#60;2&#34;">t&amp;</a:y>');
});

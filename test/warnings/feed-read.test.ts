/**
 * Reading what a pulled source answers (server/src/warnings/feed-read.ts): a CAP alert, our own Atom feed,
 * another publisher's Atom feed with links only, RSS 2.0, and what is neither.
 */
import t from 'tap';
import { capAlertSchema } from '@loaxa/shared';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { writeAtomFeed } from '../../server/src/warnings/cap-write.js';
import { readWarningDocument } from '../../server/src/warnings/feed-read.js';
import { minimalAlert, SAMPLE_XML } from './fixtures/alerts.js';

t.test('a CAP alert as it is', async (t) => {
  const d = readWarningDocument(SAMPLE_XML);
  t.ok(d.ok && d.kind === 'cap' && readCap(d.alert).ok);
});

t.test('our own Atom feed: alerts inline', async (t) => {
  const alerts = [minimalAlert(), minimalAlert({ identifier: 'vn.loaxa.99.0002', sent: '2026-12-07T11:00:00+07:00' })].map((a) => capAlertSchema.parse(a));
  const xml = writeAtomFeed({ id: 'https://x.example/feed', title: 'f', author: { name: 'a' }, entries: alerts.map((alert) => ({ alert, url: `https://x.example/cap/${alert.identifier}.xml` })) });
  const d = readWarningDocument(xml);
  if (!d.ok || d.kind !== 'atom') throw new Error('not read as Atom');
  t.equal(d.entries.length, 2);
  t.same(d.entries.map((e) => e.capUrls), [['https://x.example/cap/vn.loaxa.99.0001.xml'], ['https://x.example/cap/vn.loaxa.99.0002.xml']]);
  t.equal(d.entries[1]!.updated, Date.UTC(2026, 11, 7, 4, 0, 0));
  const r = readCap(d.entries[1]!.alert!);
  t.ok(r.ok && r.alert.identifier === 'vn.loaxa.99.0002', 'the inline alert reads');
});

t.test('an Atom index with links only, relative and hostile ones', async (t) => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:uuid:1</id><title>KTTV</title><updated>2026-12-07T03:00:00Z</updated>
  <entry><id>e1</id><title>Lũ quét</title><updated>2026-12-07T03:00:00Z</updated>
    <link rel="alternate" type="text/html" href="/tin/1.html"/>
    <link rel="related" type="application/cap+xml" href="/cap/1.xml"/>
  </entry>
  <entry><id>e2</id><title>x</title><updated>not a date</updated>
    <link href="file:///etc/passwd"/><link type="application/cap+xml; charset=utf-8" href="javascript:alert(1)"/><content type="application/cap+xml" src="https://kttv.example.vn/cap/2.xml"/>
  </entry>
</feed>`;
  const d = readWarningDocument(xml, 'https://kttv.example.vn/feeds/atom.xml');
  if (!d.ok || d.kind !== 'atom') throw new Error('not read as Atom');
  t.same(d.entries[0]!.capUrls, ['https://kttv.example.vn/cap/1.xml', 'https://kttv.example.vn/tin/1.html'], 'CAP-typed links first, made absolute');
  t.same(d.entries[1]!.capUrls, ['https://kttv.example.vn/cap/2.xml'], 'only http(s) links are kept');
  t.equal(d.entries[1]!.updated, null);
  t.equal(d.entries[0]!.alert, null);
});

t.test('RSS 2.0', async (t) => {
  const xml = `<rss version="2.0"><channel><title>KTTV</title>
    <item><title>Bão số 3</title><link>https://kttv.example.vn/tin/3</link><guid>kttv-3</guid><pubDate>Mon, 07 Dec 2026 10:00:00 +0700</pubDate>
      <enclosure url="/cap/3.xml" type="application/cap+xml" length="1234"/></item>
  </channel></rss>`;
  const d = readWarningDocument(xml, 'https://kttv.example.vn/rss');
  if (!d.ok || d.kind !== 'rss') throw new Error('not read as RSS');
  t.same(d.entries, [{ id: 'kttv-3', title: 'Bão số 3', updated: Date.UTC(2026, 11, 7, 3, 0, 0), alert: null, capUrls: ['https://kttv.example.vn/cap/3.xml', 'https://kttv.example.vn/tin/3'] }]);
});

t.test('neither, or hostile', async (t) => {
  const d = readWarningDocument('<html><body/></html>');
  t.ok(!d.ok && d.reason === 'unknown-format');
  const x = readWarningDocument('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>');
  t.ok(!x.ok && x.reason === 'doctype');
});

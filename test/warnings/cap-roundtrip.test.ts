/**
 * What we write reads back to the same model (server/src/warnings/cap-write.ts → cap-read.ts): generated
 * alerts that use every CAP 1.2 element, text that needs escaping, and the Atom feed that carries them.
 */
import t from 'tap';
import { capAlertSchema, CAP_NAMESPACE } from '@loaxa/shared';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { decimal, writeAtomFeed, writeCap, ATOM_NAMESPACE } from '../../server/src/warnings/cap-write.js';
import { attribute, childrenNamed, parseXml } from '../../server/src/warnings/xml.js';
import { generator, minimalAlert, SAMPLE_XML } from './fixtures/alerts.js';

t.test('generated alerts: write, read, same model', async (t) => {
  for (const seed of [1, 2, 3, 20261207]) {
    const next = generator(seed);
    let same = 0;
    for (let i = 0; i < 100; i++) {
      const model = capAlertSchema.parse(next());
      const xml = writeCap(model);
      const back = readCap(xml);
      if (!back.ok) {
        t.fail(`seed ${seed} #${i}: ${back.message}\n${xml}`);
        return;
      }
      if (JSON.stringify(back.alert) !== JSON.stringify(model)) {
        t.same(back.alert, model, `seed ${seed} #${i}`);
        return;
      }
      same++;
    }
    t.equal(same, 100, `seed ${seed}: 100 alerts round-trip`);
  }
});

t.test('the sample reads, writes and reads again to the same model', async (t) => {
  const first = readCap(SAMPLE_XML);
  if (!first.ok) throw new Error(first.message);
  const again = readCap(writeCap(first.alert));
  t.ok(again.ok);
  if (again.ok) t.same(again.alert, first.alert);
});

t.test('escaping', async (t) => {
  const xml = writeCap(minimalAlert({ note: 'a < b && c > d ]]> "q" \'s\' x\ry' }));
  t.match(xml, /<note>a &lt; b &amp;&amp; c &gt; d \]\]&gt; "q" 's' x&#13;y<\/note>/);
  const r = readCap(xml);
  t.equal(r.ok && r.alert.note, 'a < b && c > d ]]> "q" \'s\' x\ry');
  t.throws(() => writeCap(minimalAlert({ note: 'bell \u0007' })), /XML cannot hold/, 'a character XML cannot hold is refused, not written');
  t.throws(() => writeCap(minimalAlert({ identifier: 'a b' })), 'an invalid alert is not written');
  t.equal(decimal(1e-7), '0.0000001', 'decimals never in exponent form');
  t.equal(decimal(21.5), '21.5');
});

t.test('the Atom feed carries each alert whole', async (t) => {
  const next = generator(99);
  const alerts = Array.from({ length: 5 }, () => capAlertSchema.parse(next()));
  const xml = writeAtomFeed({
    id: 'https://tinh-mau.example.vn/cap/feed.xml',
    title: 'Cảnh báo thiên tai — tỉnh Mẫu',
    selfUrl: 'https://tinh-mau.example.vn/cap/feed.xml?a=1&b=2',
    author: { name: 'Loa Xã tỉnh Mẫu' },
    entries: alerts.map((alert, i) => ({ alert, url: i % 2 ? `https://tinh-mau.example.vn/cap/${encodeURIComponent(alert.identifier)}.xml` : undefined })),
  });
  const feed = parseXml(xml);
  t.equal(feed.ns, ATOM_NAMESPACE);
  const el = (parent: typeof feed, name: string) => childrenNamed(parent, ATOM_NAMESPACE, name);
  t.equal(el(feed, 'id')[0]!.text, 'https://tinh-mau.example.vn/cap/feed.xml');
  t.equal(attribute(el(feed, 'link')[0]!, 'href'), 'https://tinh-mau.example.vn/cap/feed.xml?a=1&b=2');
  t.equal(el(el(feed, 'author')[0]!, 'name')[0]!.text, 'Loa Xã tỉnh Mẫu');
  const latest = alerts.map((a) => a.sent).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  t.equal(el(feed, 'updated')[0]!.text, latest, 'the feed is as new as its newest alert');
  const entries = el(feed, 'entry');
  t.equal(entries.length, 5);
  const ids = new Set<string>();
  entries.forEach((entry, i) => {
    ids.add(el(entry, 'id')[0]!.text);
    t.equal(el(entry, 'updated')[0]!.text, alerts[i]!.sent);
    t.ok(el(entry, 'title')[0]!.text.length > 0, 'a title');
    const content = el(entry, 'content')[0]!;
    t.equal(attribute(content, 'type'), 'application/cap+xml');
    const inner = content.children[0]!;
    t.equal(inner.ns, CAP_NAMESPACE);
    const r = readCap(inner);
    t.ok(r.ok && JSON.stringify(r.alert) === JSON.stringify(alerts[i]), `entry ${i + 1}: the alert reads back the same`);
    const link = el(entry, 'link')[0];
    if (i % 2) t.equal(link && attribute(link, 'type'), 'application/cap+xml');
    else t.equal(link, undefined);
  });
  t.equal(ids.size, 5, 'entry ids are distinct');
});

/**
 * Mutated documents never crash the readers: the XML reader throws only XmlRefused, and readCap and
 * readWarningDocument return their errors as values, whatever a source sends. Seeded, so a failure replays.
 */
import t from 'tap';
import { capAlertSchema } from '@loaxa/shared';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { writeAtomFeed, writeCap } from '../../server/src/warnings/cap-write.js';
import { readWarningDocument } from '../../server/src/warnings/feed-read.js';
import { parseXml, XmlRefused } from '../../server/src/warnings/xml.js';
import { generator, rng, SAMPLE_XML } from './fixtures/alerts.js';

const WEIRD = ['', ' ', '<', '>', '&', '&amp;', '&#0;', ']]>', '"', "'", '=', '/', '<!--', '-->', '<![CDATA[', '<?x ?>', '<!DOCTYPE a>', 'xmlns="urn:x"', 'NaN', '1e999', '-', ',', '91,181', '\u0000', '\uD800', '😀', '<info>', '</area>', '<polygon>1,1</polygon>', '<references>a,b</references>'];

function mutate(r: () => number, xml: string): string {
  const pos = () => Math.floor(r() * (xml.length + 1));
  const a = pos();
  const b = Math.min(xml.length, a + Math.floor(r() * 40));
  switch (Math.floor(r() * 5)) {
    case 0:
      return xml.slice(0, a) + xml.slice(b); // delete a range
    case 1:
      return xml.slice(0, b) + xml.slice(a, b) + xml.slice(b); // duplicate a range
    case 2:
      return xml.slice(0, a) + WEIRD[Math.floor(r() * WEIRD.length)]! + xml.slice(a); // insert
    case 3: {
      // replace one element's text
      const m = [...xml.matchAll(/>([^<]+)</g)];
      const hit = m[Math.floor(r() * m.length)];
      if (!hit) return xml;
      return xml.slice(0, hit.index + 1) + WEIRD[Math.floor(r() * WEIRD.length)]! + xml.slice(hit.index + 1 + hit[1]!.length);
    }
    default: {
      // move a line elsewhere
      const lines = xml.split('\n');
      const [line] = lines.splice(Math.floor(r() * lines.length), 1);
      lines.splice(Math.floor(r() * lines.length), 0, line!);
      return lines.join('\n');
    }
  }
}

t.test('mutated CAP and feeds: errors as values, never a crash', async (t) => {
  const seed = 18_2021;
  const r = rng(seed);
  const next = generator(seed);
  const sources = [SAMPLE_XML, ...Array.from({ length: 10 }, () => writeCap(next())), writeAtomFeed({ id: 'urn:x', title: 't', author: { name: 'a' }, entries: [{ alert: capAlertSchema.parse(next()) }] })];
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 1500; i++) {
    let xml = sources[i % sources.length]!;
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) xml = mutate(r, xml);
    try {
      try {
        parseXml(xml);
      } catch (e) {
        if (!(e instanceof XmlRefused)) throw e;
      }
      const res = readCap(xml);
      if (res.ok) accepted++;
      else refused++;
      readWarningDocument(xml, 'https://x.example/feed');
    } catch (e) {
      t.fail(`seed ${seed}, case ${i}: ${(e as Error).stack}\n${xml}`);
      return;
    }
  }
  t.ok(accepted > 0 && refused > 0, `${accepted} still valid, ${refused} refused, none crashed`);
});

t.test('the CAP schema answers junk with issues, never an exception (it also checks JSON from the form)', async (t) => {
  const junk: unknown[] = [
    {}, null, 5, 'alert', [],
    { scope: 'Private', addresses: 5, msgType: 'Update', references: 'x' },
    { scope: 'Restricted', restriction: 7 },
    { info: [{ area: [{ ceiling: 'x', altitude: null }] }] },
    { info: [{ area: [{ polygon: [[], [[1]], 'x', [[1, 2], [3, 4]]], circle: [{ center: [] }] }] }] },
  ];
  for (const v of junk) t.equal(capAlertSchema.safeParse(v).success, false, JSON.stringify(v));
});

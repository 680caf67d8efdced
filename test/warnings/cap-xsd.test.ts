/**
 * What we publish validates against the CAP 1.2 XML schema (fixtures/CAP-v1.2.xsd), checked by libxml2's
 * xmllint: single alerts and the alerts inside our Atom feed. Skipped with a message when xmllint is not
 * installed (Debian/Ubuntu: `apt-get install libxml2-utils`).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capAlertSchema } from '@loaxa/shared';
import { writeAtomFeed, writeCap } from '../../server/src/warnings/cap-write.js';
import { generator, minimalAlert, SAMPLE_XML } from './fixtures/alerts.js';

const XSD = fileURLToPath(new URL('./fixtures/CAP-v1.2.xsd', import.meta.url));
const XMLLINT = spawnSync('xmllint', ['--version'], { encoding: 'utf8' }).status === 0;
const SKIP = XMLLINT ? false : 'xmllint not installed (apt-get install libxml2-utils): the CAP 1.2 schema checks need it';

function validate(files: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, ...files], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

t.test('our alerts validate against CAP-v1.2.xsd', { skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-cap-xsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  const write = (name: string, xml: string) => {
    const f = join(dir, name);
    writeFileSync(f, xml);
    files.push(f);
  };
  write('sample.xml', SAMPLE_XML);
  write('minimal.xml', writeCap(minimalAlert()));
  for (const seed of [5, 6]) {
    const next = generator(seed);
    for (let i = 0; i < 40; i++) write(`gen-${seed}-${i}.xml`, writeCap(next()));
  }
  const r = validate(files);
  t.equal(r.status, 0, r.stderr.split('\n').filter((l) => !l.endsWith(' validates')).slice(0, 10).join('\n') || `${files.length} documents validate`);
});

t.test('the validator is really checking: a wrong document fails', { skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-cap-xsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = [
    writeCap(minimalAlert()).replace('<status>Actual</status>', '<status>Real</status>'),
    writeCap(minimalAlert()).replace('+07:00</sent>', 'Z</sent>'),
    writeCap(minimalAlert()).replace(/<sender>[^<]*<\/sender>/, ''),
  ];
  bad.forEach((xml, i) => {
    const f = join(dir, `bad-${i}.xml`);
    writeFileSync(f, xml);
    t.not(validate([f]).status, 0, `bad document ${i + 1} is refused by the schema`);
  });
});

t.test('the alerts inside our Atom feed validate', { skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-cap-xsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const next = generator(7);
  const alerts = Array.from({ length: 4 }, () => capAlertSchema.parse(next()));
  const feed = join(dir, 'feed.xml');
  writeFileSync(feed, writeAtomFeed({ id: 'urn:uuid:8a4a4b4e-4d1c-4c43-9d0a-3f7a2c1b9e10', title: 'Cảnh báo', author: { name: 'Loa Xã' }, entries: alerts.map((alert) => ({ alert })) }));
  // Each embedded alert taken out by libxml2 itself (not by our reader) and validated as a document.
  const files = alerts.map((_, i) => {
    const r = spawnSync('xmllint', ['--xpath', `(//*[local-name()='alert'])[${i + 1}]`, feed], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const f = join(dir, `entry-${i}.xml`);
    writeFileSync(f, `<?xml version="1.0" encoding="UTF-8"?>\n${r.stdout}`);
    return f;
  });
  const r = validate(files);
  t.equal(r.status, 0, r.stderr.split('\n').filter((l) => !l.endsWith(' validates')).slice(0, 10).join('\n') || 'every embedded alert validates');
});

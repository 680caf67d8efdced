/**
 * Reading CAP 1.2 (server/src/warnings/cap-read.ts): a real-shaped alert, every msgType/status
 * combination, the structure the XML schema imposes, the values the standard allows, and errors that name
 * the element.
 */
import t, { type Test } from 'tap';
import { capDateTimeToMs, capReferenceKey, capReferenceOf, formatCapDateTime } from '@loaxa/shared';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { writeCap } from '../../server/src/warnings/cap-write.js';
import { minimalAlert, SAMPLE_XML } from './fixtures/alerts.js';

const CAP = 'urn:oasis:names:tc:emergency:cap:1.2';
/** The sample with one substring replaced, which must be present. */
function edit(from: string, to: string, xml = SAMPLE_XML): string {
  if (!xml.includes(from)) throw new Error(`fixture has no ${from}`);
  return xml.replace(from, to);
}
function fails(t: Test, xml: string, reason: string, path: string | RegExp, what: string): void {
  const r = readCap(xml);
  if (r.ok) {
    t.fail(`${what}: accepted`);
    return;
  }
  t.equal(r.reason, reason, `${what}: ${r.message}`);
  if (typeof path === 'string') t.equal(r.path, path, `${what}: path`);
  else t.match(r.path, path, `${what}: path`);
}

t.test('a Vietnamese flash-flood alert reads into the model', async (t) => {
  const r = readCap(SAMPLE_XML);
  if (!r.ok) throw new Error(r.message);
  const a = r.alert;
  t.equal(a.identifier, 'vn.kttv.tinhmau.2026-12-07.0042');
  t.equal(a.msgType, 'Alert');
  t.same(a.references, []);
  const info = a.info[0]!;
  t.same(info.category, ['Met', 'Geo']);
  t.equal(info.event, 'lũ quét, sạt lở đất');
  t.equal(info.description, 'Mưa lớn 100-200 mm trong 24 giờ tới; nguy cơ lũ quét & sạt lở đất cao.');
  t.same(info.parameter, [{ valueName: 'VN-QD18-2021-CapDoRuiRo', value: '3' }]);
  t.same(info.area[0]!.geocode.map((g) => g.value), ['99003', '99004']);
  t.same(info.area[1]!.polygon, [[[21.5, 103.9], [21.6, 103.9], [21.6, 104], [21.5, 104], [21.5, 103.9]]]);
  t.same(info.area[1]!.circle, [{ center: [21.55, 103.95], radiusKm: 5 }]);
  t.equal(r.signature, null);
  t.equal(capDateTimeToMs(info.expires!), Date.UTC(2026, 11, 8, 0, 0, 0));
  t.equal(capReferenceKey(capReferenceOf(a)), 'kttv-tinhmau@example.gov.vn,vn.kttv.tinhmau.2026-12-07.0042,2026-12-07T10:00:00+07:00', 'how an Update would name it');
});

t.test('every msgType with every status', async (t) => {
  const statuses = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
  const types = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
  const earlier = { sender: 'loaxa@tinh-mau.example.vn', identifier: 'vn.loaxa.99.0000', sent: '2026-12-07T09:00:00+07:00' };
  for (const status of statuses) {
    for (const msgType of types) {
      const references = msgType === 'Alert' ? [] : [earlier];
      const xml = writeCap(minimalAlert({ status, msgType, references, ...(status === 'Exercise' || msgType === 'Error' ? { note: 'diễn tập' } : {}) }));
      const r = readCap(xml);
      t.ok(r.ok && r.alert.status === status && r.alert.msgType === msgType && r.alert.references.length === references.length, `${status}/${msgType}`);
    }
  }
  for (const msgType of ['Update', 'Cancel', 'Ack', 'Error']) {
    fails(t, edit('<msgType>Alert</msgType>', `<msgType>${msgType}</msgType>`), 'invalid', '/alert/references', `${msgType} without references`);
  }
  const cancel = edit('<scope>Public</scope>', '<scope>Public</scope>\n  <references>a@b.vn,id-1,2026-12-07T09:00:00+07:00 a@b.vn,id-2,2026-12-07T09:30:00-00:00</references>', edit('<msgType>Alert</msgType>', '<msgType>Cancel</msgType>'));
  const r = readCap(cancel);
  t.ok(r.ok && r.alert.references.length === 2 && r.alert.references[1]!.identifier === 'id-2', 'references read as triples');
  fails(t, edit('<scope>Public</scope>', '<scope>Public</scope><references>a@b.vn,id-1</references>'), 'structure', '/alert/references', 'a reference without its sent');
  fails(t, edit('<status>Actual</status>', '<status>actual</status>'), 'invalid', '/alert/status', 'a status outside the list (case counts)');
  fails(t, edit('<msgType>Alert</msgType>', '<msgType>Notice</msgType>'), 'invalid', '/alert/msgType', 'a msgType outside the list');
});

t.test('scope rules of §3.2.1', async (t) => {
  fails(t, edit('<scope>Public</scope>', '<scope>Private</scope>'), 'invalid', '/alert/addresses', 'Private without addresses');
  fails(t, edit('<scope>Public</scope>', '<scope>Restricted</scope>'), 'invalid', '/alert/restriction', 'Restricted without restriction');
  fails(t, edit('<scope>Public</scope>', '<scope>Public</scope><restriction>x</restriction>'), 'invalid', '/alert/restriction', 'Public with a restriction');
  const r = readCap(edit('<scope>Public</scope>', '<scope>Private</scope><addresses>xa-tan-lap "Ban chỉ huy PCTT" x</addresses>'));
  t.ok(r.ok && r.alert.addresses.length === 3 && r.alert.addresses[1] === 'Ban chỉ huy PCTT', 'quoted addresses');
});

t.test('the schema structure: order, cardinality, required elements, foreign elements', async (t) => {
  fails(t, edit('<sender>kttv-tinhmau@example.gov.vn</sender>\n  <sent>2026-12-07T10:00:00+07:00</sent>', '<sent>2026-12-07T10:00:00+07:00</sent>\n  <sender>kttv-tinhmau@example.gov.vn</sender>'), 'structure', '/alert/sender', 'sender after sent');
  fails(t, edit('<status>Actual</status>', '<status>Actual</status><status>Test</status>'), 'structure', '/alert/status', 'status twice');
  fails(t, edit('<scope>Public</scope>\n', ''), 'structure', '/alert/scope', 'scope missing');
  fails(t, edit('<category>Met</category>\n    <category>Geo</category>\n', ''), 'structure', '/alert/info[1]/category', 'no category');
  fails(t, edit('<areaDesc>Lưu vực suối Nậm Mu</areaDesc>', ''), 'structure', '/alert/info[1]/area[2]/areaDesc', 'area without areaDesc');
  fails(t, edit('<headline>', '<foo>x</foo><headline>'), 'structure', '/alert/info[1]/foo', 'an unknown element');
  fails(t, edit('<headline>', '<x:headline xmlns:x="urn:other">x</x:headline><headline>'), 'structure', /\/alert\/info\[1\]\/x:headline/, 'a foreign element inside info');
  fails(t, edit('<event>lũ quét, sạt lở đất</event>', '<event><b>lũ</b></event>'), 'structure', '/alert/info[1]/event', 'markup in a text element');
  fails(t, edit('urn:oasis:names:tc:emergency:cap:1.2', 'urn:oasis:names:tc:emergency:cap:1.1'), 'not-cap', '/alert', 'CAP 1.1');
  fails(t, edit('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">', '<alert>'), 'not-cap', '/alert', 'no namespace');
  fails(t, edit('<identifier>', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><identifier>'), 'doctype', /line \d+/, 'a DTD inside');
  fails(t, edit('Actual', '&e;'), 'bad-entity', /line 6/, 'an entity');
});

t.test('an enveloped signature is allowed last and handed back', async (t) => {
  const sig = '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>AA==</SignatureValue></Signature>';
  const r = readCap(edit('</info>\n</alert>', `</info>\n${sig}\n</alert>`));
  t.ok(r.ok && r.signature?.local === 'Signature' && r.signature.children.length === 2);
  fails(t, edit('<identifier>', `${sig}<identifier>`), 'structure', '/alert', 'a signature before the content');
});

t.test('values: DateTime form, polygons, circles, numbers, identifiers', async (t) => {
  for (const bad of ['2026-12-07T10:00:00Z', '2026-12-07T10:00:00.5+07:00', '2026-12-07 10:00:00+07:00', '2026-02-30T10:00:00+07:00', '2026-12-07T24:00:00+07:00', '2026-12-07T10:00:00+07']) {
    fails(t, edit('2026-12-07T10:00:00+07:00', bad), 'invalid', '/alert/sent', `sent ${bad}`);
  }
  fails(t, edit('<expires>2026-12-08T07:00:00+07:00', '<expires>2026-12-08T07:00:00Z'), 'invalid', '/alert/info[1]/expires', 'expires with Z');
  t.ok(readCap(edit('2026-12-07T10:00:00+07:00', '2026-12-07T03:00:00+00:00')).ok, '+00:00 is read (the XSD pattern allows it)');
  t.equal(formatCapDateTime(Date.UTC(2026, 11, 7, 3, 0, 0, 999), 0), '2026-12-07T03:00:00-00:00', 'we write UTC as -00:00, no fractions');
  t.equal(formatCapDateTime(Date.UTC(2026, 11, 7, 3, 0, 0)), '2026-12-07T10:00:00+07:00');

  const polygon = '21.50,103.90 21.60,103.90 21.60,104.00 21.50,104.00 21.50,103.90';
  fails(t, edit(polygon, '21.50,103.90 21.60,103.90 21.50,103.90'), 'invalid', /^\/alert\/info\[1\]\/area\[2\]\/polygon\[1\]$/, 'three points');
  for (const few of ['', '   ', '21.5,103.9', '21.5,103.9 21.5,103.9']) fails(t, edit(polygon, few), 'invalid', '/alert/info[1]/area[2]/polygon[1]', `polygon "${few}"`);
  fails(t, edit(polygon, '21.50,103.90 21.60,103.90 21.60,104.00 21.50,104.00'), 'invalid', '/alert/info[1]/area[2]/polygon[1]', 'not closed');
  fails(t, edit(polygon, '21.50;103.90 21.60,103.90 21.60,104.00 21.50,104.00 21.50,103.90'), 'structure', '/alert/info[1]/area[2]/polygon[1]', 'a bad pair');
  fails(t, edit(polygon, '91,103.90 21.60,103.90 21.60,104.00 21.50,104.00 91,103.90'), 'invalid', '/alert/info[1]/area[2]/polygon[1] point 1 latitude', 'latitude past 90');
  fails(t, edit('<circle>21.55,103.95 5</circle>', '<circle>21.55,103.95</circle>'), 'structure', '/alert/info[1]/area[2]/circle[1]', 'a circle without radius');
  fails(t, edit('<circle>21.55,103.95 5</circle>', '<circle>21.55,103.95 -5</circle>'), 'invalid', '/alert/info[1]/area[2]/circle[1] radius', 'a negative radius');
  fails(t, edit('<circle>21.55,103.95 5</circle>', '<circle>21.55,103.95 5</circle><ceiling>100</ceiling>'), 'invalid', '/alert/info[1]/area[2]/ceiling', 'ceiling without altitude');
  fails(t, edit('<circle>21.55,103.95 5</circle>', '<circle>21.55,103.95 5</circle><altitude>1e3</altitude>'), 'structure', '/alert/info[1]/area[2]/altitude', 'altitude not an xs:decimal');
  fails(t, edit('vn.kttv.tinhmau.2026-12-07.0042', 'vn kttv'), 'invalid', '/alert/identifier', 'an identifier with a space');
  fails(t, edit('<category>Geo</category>', '<category>Weather</category>'), 'invalid', '/alert/info[1]/category[2]', 'a category outside the list');
});

t.test('values are trimmed; a pretty-printed alert reads as a compact one', async (t) => {
  const r = readCap(edit('<status>Actual</status>', '<status>\n    Actual\n  </status>'));
  t.ok(r.ok && r.alert.status === 'Actual');
  t.equal(readCap(new TextEncoder().encode(SAMPLE_XML)).ok, true, 'read from bytes');
  t.equal(CAP, 'urn:oasis:names:tc:emergency:cap:1.2');
});

/**
 * The bounded XML reader (server/src/warnings/xml.ts) against hostile documents — external entities, entity
 * expansion, oversized, deeply nested — and the well-formedness rules it keeps.
 */
import t, { type Test } from 'tap';
import { attribute, childrenNamed, parseXml, XmlRefused, type XmlRefusal } from '../../server/src/warnings/xml.js';

function refused(t: Test, xml: string | Uint8Array, reason: XmlRefusal, what: string, limits = {}): void {
  try {
    parseXml(xml, limits);
    t.fail(`${what}: accepted`);
  } catch (e) {
    if (!(e instanceof XmlRefused)) throw e;
    t.equal(e.reason, reason, `${what}: ${e.message}`);
  }
}

t.test('hostile documents are refused before anything is expanded or fetched', async (t) => {
  const xxe = `<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<alert>&xxe;</alert>`;
  refused(t, xxe, 'doctype', 'external entity (XXE)');
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;
  refused(t, laughs, 'doctype', 'billion laughs');
  refused(t, '<!DOCTYPE alert SYSTEM "http://evil.example/cap.dtd"><alert/>', 'doctype', 'external DTD');
  refused(t, '<!doctype alert><alert/>', 'doctype', 'lowercase doctype');
  refused(t, '<alert>&xxe;</alert>', 'bad-entity', 'an undeclared entity without a DTD');
  refused(t, '<alert>&lol2;&lol2;</alert>', 'bad-entity', 'expansion needs declarations, which cannot exist');
  refused(t, '<alert><!ENTITY x "y"></alert>', 'malformed', 'a markup declaration inside the document');
  refused(t, '<?xml-stylesheet href="x.xsl"?><alert/>', 'processing-instruction', 'processing instruction before the root');
  refused(t, '<alert><?php echo 1 ?></alert>', 'processing-instruction', 'processing instruction inside');
  refused(t, '<alert/><?xml version="1.0"?>', 'malformed', 'a second XML declaration');
  refused(t, ' <?xml version="1.0"?><alert/>', 'malformed', 'the declaration not at the start');
});

t.test('size, depth, element, attribute and text bounds', async (t) => {
  refused(t, `<a>${'x'.repeat(1024 * 1024)}</a>`, 'too-large', 'over 1 MiB as text');
  refused(t, new Uint8Array(1024 * 1024 + 1).fill(0x20), 'too-large', 'over 1 MiB as bytes (checked before decoding)');
  refused(t, `<a>${'é'.repeat(600_000)}</a>`, 'too-large', 'a string under 1 Mi characters but over 1 MiB of UTF-8');
  refused(t, `${'<a>'.repeat(33)}${'</a>'.repeat(33)}`, 'too-deep', '33 levels');
  t.ok(parseXml(`${'<a>'.repeat(32)}${'</a>'.repeat(32)}`), '32 levels are fine');
  refused(t, `<r>${'<a>'.repeat(100_000)}`, 'too-deep', 'a very deep document fails at the limit, not at the end');
  refused(t, `<r>${'<a/>'.repeat(101)}</r>`, 'too-many-elements', 'element count', { maxElements: 100 });
  refused(t, `<a ${Array.from({ length: 33 }, (_, i) => `a${i}="1"`).join(' ')}/>`, 'too-many-attributes', '33 attributes');
  refused(t, `<a>${'x'.repeat(101)}</a>`, 'text-too-long', 'text', { maxTextLength: 100 });
  refused(t, `<a>${'x'.repeat(60)}<![CDATA[${'y'.repeat(60)}]]></a>`, 'text-too-long', 'text and CDATA pieces add up', { maxTextLength: 100 });
  refused(t, `<a b="${'x'.repeat(101)}"/>`, 'text-too-long', 'attribute value', { maxAttributeLength: 100 });
});

t.test('entities: the five predefined ones and character references only', async (t) => {
  t.equal(parseXml('<a>&lt;&gt;&amp;&apos;&quot;</a>').text, `<>&'"`);
  t.equal(parseXml('<a>&#65;&#x42;&#x1F600;&#272;</a>').text, 'AB😀Đ');
  t.equal(parseXml('<a>&amp;lt;</a>').text, '&lt;', 'decoded once, never twice');
  t.equal(parseXml('<a b="x&amp;y &#x9;z"/>').attrs[0]!.value, 'x&y \tz', 'in attributes too');
  refused(t, '<a>&#0;</a>', 'bad-entity', 'NUL');
  refused(t, '<a>&#x1;</a>', 'bad-entity', 'a control character');
  refused(t, '<a>&#xD800;</a>', 'bad-entity', 'a surrogate');
  refused(t, '<a>&#xFFFE;</a>', 'bad-entity', 'U+FFFE');
  refused(t, '<a>&#x110000;</a>', 'bad-entity', 'past U+10FFFF');
  refused(t, '<a>&#99999999;</a>', 'bad-entity', 'too many digits');
  refused(t, '<a>AT&T</a>', 'bad-entity', 'a bare ampersand');
  refused(t, '<a>&nbsp;</a>', 'bad-entity', 'an HTML entity');
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) refused(t, `<a>&${name};</a>`, 'bad-entity', `&${name}; (not a property of a plain object)`);
  refused(t, '<a b="&foo;"/>', 'bad-entity', 'an unknown entity in an attribute');
});

t.test('characters and encodings', async (t) => {
  refused(t, '<a>\u0001</a>', 'bad-char', 'a raw control character');
  refused(t, '<a>\uD800</a>', 'bad-char', 'a lone surrogate');
  refused(t, new Uint8Array([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), 'encoding', 'invalid UTF-8');
  refused(t, new Uint8Array([0xff, 0xfe, 0x3c, 0x00]), 'encoding', 'UTF-16');
  refused(t, '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'encoding', 'a declared non-UTF-8 encoding');
  refused(t, '<?xml version="1.1"?><a/>', 'malformed', 'XML 1.1');
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<?xml version="1.0" encoding="utf-8"?><a>Lũ quét</a>')]);
  t.equal(parseXml(bom).text, 'Lũ quét', 'UTF-8 with a byte order mark');
  t.equal(parseXml('<a>x\r\ny\rz&#13;</a>').text, 'x\ny\nz\r', 'line ends normalized, a character reference kept');
});

t.test('well-formedness', async (t) => {
  refused(t, '', 'malformed', 'empty');
  refused(t, '<a>', 'malformed', 'unclosed');
  refused(t, '<a></b>', 'malformed', 'mismatched');
  refused(t, '<a/><b/>', 'malformed', 'two roots');
  refused(t, 'x<a/>', 'malformed', 'text before the root');
  refused(t, '<a b="1" b="2"/>', 'malformed', 'a repeated attribute');
  refused(t, '<a b=1/>', 'malformed', 'an unquoted attribute');
  refused(t, '<a b="<"/>', 'malformed', '"<" in an attribute');
  refused(t, '<a b="1"c="2"/>', 'malformed', 'attributes without space');
  refused(t, '<a>]]></a>', 'malformed', '"]]>" in text');
  refused(t, '<a><!-- x -- y --></a>', 'malformed', '"--" in a comment');
  refused(t, '<a><![CDATA[x</a>', 'malformed', 'unterminated CDATA');
  refused(t, '<1a/>', 'malformed', 'a name starting with a digit');
  const doc = parseXml('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- c -->\n<a>\n  <b x=\'1\'>t<![CDATA[<not markup>]]></b>\n  <b/>\n</a>\n<!-- after -->\n');
  t.equal(doc.children.length, 2);
  t.equal(doc.children[0]!.text, 't<not markup>');
  t.equal(doc.children[0]!.line, 4, 'line numbers of start tags');
  t.equal(attribute(doc.children[0]!, 'x'), '1');
});

t.test('namespaces as CAP and Atom use them', async (t) => {
  const doc = parseXml(
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:c="urn:oasis:names:tc:emergency:cap:1.2"><entry><c:alert><c:identifier>x</c:identifier></c:alert>' +
      '<content type="application/cap+xml"><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>y</identifier></alert></content><link xml:lang="vi" href="h"/></entry></feed>',
  );
  t.equal(doc.ns, 'http://www.w3.org/2005/Atom');
  const entry = doc.children[0]!;
  const prefixed = childrenNamed(entry, 'urn:oasis:names:tc:emergency:cap:1.2', 'alert')[0]!;
  t.equal(prefixed.children[0]!.ns, 'urn:oasis:names:tc:emergency:cap:1.2', 'a prefixed element');
  const inner = childrenNamed(entry, 'http://www.w3.org/2005/Atom', 'content')[0]!.children[0]!;
  t.equal(inner.ns, 'urn:oasis:names:tc:emergency:cap:1.2', 'a default namespace redeclared inside');
  t.equal(inner.children[0]!.ns, 'urn:oasis:names:tc:emergency:cap:1.2', 'and inherited');
  const link = childrenNamed(entry, 'http://www.w3.org/2005/Atom', 'link')[0]!;
  t.equal(attribute(link, 'href'), 'h', 'an unprefixed attribute is in no namespace');
  t.equal(attribute(link, 'lang', 'http://www.w3.org/XML/1998/namespace'), 'vi', 'xml: is always bound');
  refused(t, '<x:a/>', 'namespace', 'an undeclared prefix');
  refused(t, '<a xmlns:p="u" xmlns:q="u" p:b="1" q:b="2"/>', 'namespace', 'the same expanded attribute twice');
  refused(t, '<a xmlns:p=""/>', 'namespace', 'undeclaring a prefix (XML 1.0 namespaces)');
  refused(t, '<a xmlns:xml="urn:other"/>', 'namespace', 'rebinding xml');
});

t.test('errors say where', async (t) => {
  try {
    parseXml('<a>\n  <b>\n    &bogus;\n  </b>\n</a>');
    t.fail('accepted');
  } catch (e) {
    t.ok(e instanceof XmlRefused);
    t.match((e as XmlRefused).message, /at 3:5/);
  }
});

t.test('a large well-formed document stays linear', async (t) => {
  const xml = `<r>${'<a x="1">text &amp; more</a>\n'.repeat(19_000)}</r>`;
  const start = performance.now();
  const doc = parseXml(xml);
  t.equal(doc.children.length, 19_000);
  t.ok(performance.now() - start < 2_000, 'read in well under 2 s');
});

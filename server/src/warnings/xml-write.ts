/**
 * An element read by xml.ts written back as a standalone XML document. The feed poller needs it for an alert
 * that arrives inline in an Atom entry (`<content type="application/cap+xml">`, issue 18): the ingest path
 * takes a CAP document's bytes, and an alert inside a feed is not one until it is cut out with the namespace
 * bindings it inherited from the feed.
 *
 * Why rewrite rather than slice the source text: the reader keeps no source offsets, and a slice would need
 * the ancestors' namespace declarations anyway. What is lost: comments, the order of text between child
 * elements (CAP 1.2 has no mixed content, §3.2) and the exact bytes — so an XML Signature over an inline
 * alert (CAP 1.2 §3.3.4.1) does not survive; a signed alert must be fetched as its own document (a link).
 */
import { escapeAttribute, escapeText } from './cap-write.js';
import { XML_NS, type XmlElement } from './xml.js';

const prefixOf = (qname: string): string => {
  const colon = qname.indexOf(':');
  return colon === -1 ? '' : qname.slice(0, colon);
};

/** `el` and its subtree as UTF-8 text with an XML declaration, every namespace it uses declared on it. */
export function serializeXml(el: XmlElement): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  write(el, new Map([['xml', XML_NS]]), out);
  return out.join('');
}

function write(el: XmlElement, scope: ReadonlyMap<string, string>, out: string[]): void {
  // Declare what the element's own name and its prefixed attributes need and the scope does not already bind
  // (an unprefixed attribute is in no namespace and needs nothing, Namespaces in XML §6.2).
  const declare = new Map<string, string>();
  const need = (prefix: string, ns: string) => {
    if ((declare.get(prefix) ?? scope.get(prefix) ?? '') !== ns) declare.set(prefix, ns);
  };
  need(prefixOf(el.name), el.ns);
  for (const a of el.attrs) if (prefixOf(a.name) !== '') need(prefixOf(a.name), a.ns);
  let inner = scope;
  if (declare.size > 0) {
    const next = new Map(scope);
    for (const [p, ns] of declare) next.set(p, ns);
    inner = next;
  }
  out.push('<', el.name);
  for (const [p, ns] of declare) out.push(' ', p === '' ? 'xmlns' : `xmlns:${p}`, '="', escapeAttribute(ns), '"');
  for (const a of el.attrs) out.push(' ', a.name, '="', escapeAttribute(a.value), '"');
  if (el.children.length === 0 && el.text === '') {
    out.push('/>');
    return;
  }
  out.push('>');
  // Text first, then the children: mixed content is not kept in order by the reader (see above).
  if (el.text !== '') out.push(escapeText(el.children.length > 0 ? el.text.trim() : el.text));
  for (const c of el.children) write(c, inner, out);
  out.push('</', el.name, '>');
}

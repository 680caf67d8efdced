/**
 * A small, strict, bounded XML 1.0 reader for what warning sources send us: CAP 1.2 alerts and the Atom/RSS
 * feeds that list them (issue 18). It reads into a tree of elements and nothing more.
 *
 * Why our own and not a general parser: everything that makes XML dangerous to read from the network lives
 * in the document type declaration (entity definitions → "billion laughs" expansion, external entities →
 * file and network reads, external DTDs → fetches). CAP 1.2 (§3.1, the XML schema) never needs a DTD, so the
 * safest rule is the simplest: any `<!DOCTYPE` is refused, and with it every entity except the five XML
 * predefines (XML 1.0 §4.6) and numeric character references. On top of that every dimension an attacker
 * controls is bounded (size, depth, element count, attributes, text), so a hostile document costs at most
 * O(maxBytes) time and memory. About 300 lines we can read in full beat a dependency whose DTD switches we
 * would have to trust across upgrades.
 *
 * What it does not do: DTD validation, other encodings than UTF-8 (CAP messages are UTF-8 in practice and
 * XML 1.0 §4.3.3 makes UTF-8 the default), XML 1.1, and mixed content in order (an element keeps its child
 * elements in order and the concatenation of its direct text; neither CAP nor Atom's data needs more).
 */

/** Why a document was refused. */
export type XmlRefusal =
  | 'too-large'
  | 'too-deep'
  | 'too-many-elements'
  | 'too-many-attributes'
  | 'text-too-long'
  | 'doctype'
  | 'processing-instruction'
  | 'bad-entity'
  | 'bad-char'
  | 'encoding'
  | 'namespace'
  | 'malformed';

export class XmlRefused extends Error {
  override readonly name = 'XmlRefused';
  constructor(
    readonly reason: XmlRefusal,
    readonly detail: string,
    /** 1-based line and column of the offending spot, when known. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`XML refused (${reason}): ${detail}${line === undefined ? '' : ` at ${line}:${column ?? 0}`}`);
  }
}

export interface XmlLimits {
  /** Whole document in UTF-8 bytes. CAP alerts are a few KiB; feeds of recent alerts some hundreds. */
  maxBytes: number;
  /** Element nesting. CAP 1.2 needs 4 (alert/info/area/geocode/value), Atom + embedded CAP about 9. */
  maxDepth: number;
  maxElements: number;
  /** Attributes on one element, namespace declarations included. */
  maxAttributes: number;
  /** Direct text of one element (all its text and CDATA pieces together), in UTF-16 code units. */
  maxTextLength: number;
  /** One attribute value, in UTF-16 code units. */
  maxAttributeLength: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 20_000,
  maxAttributes: 32,
  maxTextLength: 512 * 1024,
  maxAttributeLength: 8 * 1024,
});

export interface XmlAttribute {
  /** As written, with its prefix. */
  name: string;
  local: string;
  /** Namespace URI; '' when none (an unprefixed attribute is in no namespace, Namespaces in XML §6.2). */
  ns: string;
  value: string;
}

export interface XmlElement {
  /** As written, with its prefix. */
  name: string;
  local: string;
  /** Namespace URI; '' when none. */
  ns: string;
  attrs: XmlAttribute[];
  children: XmlElement[];
  /** Direct text and CDATA of this element, concatenated, references decoded. */
  text: string;
  line: number;
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

// XML 1.0 §2.2 Char; in `u` mode a lone surrogate is a code point outside every range, so it is refused.
const BAD_CHAR = /[^\t\n\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// XML 1.0 §2.3 Name (NameStartChar NameChar*).
const START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
// The class holds ranges of code points written as escapes (U+0300–U+036F among them), not a combined character.
// eslint-disable-next-line no-misleading-character-class
const NAME = new RegExp(`^[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`, 'u');
/** A run of characters up to the next that ends a name (sticky: matched at a position, not searched). */
const NAME_RUN = /[^\s/>=<"'&]*/y;
// A Map, not an object literal: "&constructor;" must not find Object.prototype.constructor.
const PREDEFINED: ReadonlyMap<string, string> = new Map([['lt', '<'], ['gt', '>'], ['amp', '&'], ['apos', "'"], ['quot', '"']]);

function isChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Bytes → string: UTF-8 only, strictly decoded (an invalid sequence is refused, not replaced). */
function decode(input: string | Uint8Array, limits: XmlLimits): string {
  if (typeof input === 'string') {
    // Counted before anything else is done with it; a string's UTF-8 size is at most 3 × its length.
    if (input.length > limits.maxBytes || Buffer.byteLength(input, 'utf8') > limits.maxBytes) {
      throw new XmlRefused('too-large', `more than ${limits.maxBytes} bytes`);
    }
    return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  }
  if (input.byteLength > limits.maxBytes) throw new XmlRefused('too-large', `more than ${limits.maxBytes} bytes`);
  if ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe)) {
    throw new XmlRefused('encoding', 'UTF-16 is not accepted; send UTF-8');
  }
  try {
    // ignoreBOM: false strips a UTF-8 byte order mark.
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new XmlRefused('encoding', 'not valid UTF-8');
  }
}

interface Open {
  el: XmlElement;
  text: string[];
  textLength: number;
  /** Namespace bindings in scope (prefix → URI; '' is the default namespace). */
  scope: ReadonlyMap<string, string>;
}

/** Reads one XML document into its root element, or throws XmlRefused. */
export function parseXml(input: string | Uint8Array, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim: XmlLimits = { ...DEFAULT_XML_LIMITS, ...limits };
  // XML 1.0 §2.11: CR LF and lone CR are read as LF.
  const src = decode(input, lim).replace(/\r\n?/g, '\n');
  const bad = BAD_CHAR.exec(src);
  if (bad) throw at('bad-char', `character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);

  let pos = 0;
  let elements = 0;
  let root: XmlElement | null = null;
  const stack: Open[] = [];
  const rootScope = new Map<string, string>([['xml', XML_NS]]);

  // Lines of start tags, counted forward from the last one asked (tags come in document order), so the
  // whole document costs one pass however many elements it has.
  let lineCursor = 0;
  let lineCount = 1;
  function lineOf(index: number): number {
    for (let i = src.indexOf('\n', lineCursor); i !== -1 && i < index; i = src.indexOf('\n', i + 1)) {
      lineCount++;
      lineCursor = i + 1;
    }
    return lineCount;
  }

  function at(reason: XmlRefusal, detail: string, index: number): XmlRefused {
    let line = 1;
    let lineStart = 0;
    for (let i = src.indexOf('\n'); i !== -1 && i < index; i = src.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return new XmlRefused(reason, detail, line, index - lineStart + 1);
  }

  /** Decodes the references of a text or attribute value (`raw` holds no markup). */
  function references(raw: string, start: number): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&<\s]{0,32});?/g, (whole, body: string, offset: number) => {
      if (!whole.endsWith(';')) throw at('bad-entity', 'a bare "&" must be written "&amp;"', start + offset);
      const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
      if (num) {
        const cp = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
        if (!isChar(cp)) throw at('bad-entity', `&${body}; is not a character XML allows`, start + offset);
        return String.fromCodePoint(cp);
      }
      const named = PREDEFINED.get(body);
      // Without a DTD no other entity can be declared (XML 1.0 §4.1 WFC: Entity Declared).
      if (named === undefined) throw at('bad-entity', `&${body}; is not one of the five predefined entities`, start + offset);
      return named;
    });
  }

  function addText(piece: string, index: number): void {
    const top = stack[stack.length - 1];
    if (!top) {
      if (/\S/.test(piece)) throw at('malformed', 'text outside the root element', index);
      return;
    }
    top.textLength += piece.length;
    if (top.textLength > lim.maxTextLength) throw at('text-too-long', `text of <${top.el.name}> longer than ${lim.maxTextLength}`, index);
    top.text.push(piece);
  }

  function readName(): string {
    const start = pos;
    NAME_RUN.lastIndex = pos;
    pos += NAME_RUN.exec(src)![0].length;
    const name = src.slice(start, pos);
    if (name.length === 0 || name.length > 256 || !NAME.test(name)) throw at('malformed', `bad name "${name.slice(0, 40)}"`, start);
    return name;
  }

  function skipSpace(): boolean {
    const start = pos;
    while (pos < src.length && (src[pos] === ' ' || src[pos] === '\t' || src[pos] === '\n')) pos++;
    return pos > start;
  }

  function resolve(qname: string, scope: ReadonlyMap<string, string>, isAttr: boolean, index: number): { local: string; ns: string } {
    const colon = qname.indexOf(':');
    if (colon === -1) return { local: qname, ns: isAttr ? '' : (scope.get('') ?? '') };
    const prefix = qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (local.length === 0 || local.includes(':')) throw at('namespace', `bad qualified name "${qname}"`, index);
    const ns = scope.get(prefix);
    if (ns === undefined) throw at('namespace', `prefix "${prefix}" is not declared`, index);
    return { local, ns };
  }

  function startTag(): void {
    const tagStart = pos;
    pos++; // '<'
    const name = readName();
    const raw: { name: string; value: string; index: number }[] = [];
    let selfClosing = false;
    for (;;) {
      const spaced = skipSpace();
      if (src.startsWith('/>', pos)) {
        pos += 2;
        selfClosing = true;
        break;
      }
      if (src[pos] === '>') {
        pos++;
        break;
      }
      if (pos >= src.length) throw at('malformed', `unclosed tag <${name}>`, tagStart);
      if (!spaced) throw at('malformed', 'attributes must be separated by white space', pos);
      const attrIndex = pos;
      const attrName = readName();
      skipSpace();
      if (src[pos] !== '=') throw at('malformed', `attribute ${attrName} has no value`, pos);
      pos++;
      skipSpace();
      const quote = src[pos];
      if (quote !== '"' && quote !== "'") throw at('malformed', `attribute ${attrName}: value must be quoted`, pos);
      const end = src.indexOf(quote, pos + 1);
      if (end === -1) throw at('malformed', `attribute ${attrName}: unterminated value`, pos);
      const rawValue = src.slice(pos + 1, end);
      if (rawValue.includes('<')) throw at('malformed', `attribute ${attrName}: "<" in a value`, pos);
      if (rawValue.length > lim.maxAttributeLength) throw at('text-too-long', `attribute ${attrName} longer than ${lim.maxAttributeLength}`, pos);
      if (raw.some((a) => a.name === attrName)) throw at('malformed', `attribute ${attrName} given twice`, attrIndex);
      if (raw.length >= lim.maxAttributes) throw at('too-many-attributes', `more than ${lim.maxAttributes} attributes on <${name}>`, attrIndex);
      // XML 1.0 §3.3.3: white space in a (CDATA) attribute value is read as a space; references after that.
      raw.push({ name: attrName, value: references(rawValue.replace(/[\t\n]/g, ' '), pos + 1), index: attrIndex });
      pos = end + 1;
    }

    const parent = stack[stack.length - 1];
    if (!parent && root) throw at('malformed', 'a second root element', tagStart);
    if (stack.length + 1 > lim.maxDepth) throw at('too-deep', `nesting deeper than ${lim.maxDepth}`, tagStart);
    if (++elements > lim.maxElements) throw at('too-many-elements', `more than ${lim.maxElements} elements`, tagStart);

    let scope: ReadonlyMap<string, string> = parent ? parent.scope : rootScope;
    const declarations = raw.filter((a) => a.name === 'xmlns' || a.name.startsWith('xmlns:'));
    if (declarations.length > 0) {
      const next = new Map(scope);
      for (const d of declarations) {
        const prefix = d.name === 'xmlns' ? '' : d.name.slice(6);
        // Namespaces in XML §3: "xml" and "xmlns" are reserved, and a prefix cannot be undeclared in 1.0.
        if (prefix === 'xmlns' || (prefix === 'xml') !== (d.value === XML_NS) || d.value === XMLNS_NS || (prefix !== '' && d.value === '')) {
          throw at('namespace', `illegal declaration ${d.name}="${d.value}"`, d.index);
        }
        next.set(prefix, d.value);
      }
      scope = next;
    }
    const el: XmlElement = { name, ...resolve(name, scope, false, tagStart), attrs: [], children: [], text: '', line: 0 };
    el.line = lineOf(tagStart);
    const seen = new Set<string>();
    for (const a of raw) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      const r = resolve(a.name, scope, true, a.index);
      const key = `${r.ns} ${r.local}`;
      if (seen.has(key)) throw at('namespace', `attribute {${r.ns}}${r.local} given twice`, a.index);
      seen.add(key);
      el.attrs.push({ name: a.name, ...r, value: a.value });
    }
    if (parent) parent.el.children.push(el);
    else root = el;
    if (!selfClosing) stack.push({ el, text: [], textLength: 0, scope });
  }

  function endTag(): void {
    const tagStart = pos;
    pos += 2; // '</'
    const name = readName();
    skipSpace();
    if (src[pos] !== '>') throw at('malformed', `bad end tag </${name}`, tagStart);
    pos++;
    const top = stack.pop();
    if (!top) throw at('malformed', `end tag </${name}> without a start`, tagStart);
    if (top.el.name !== name) throw at('malformed', `</${name}> closes <${top.el.name}>`, tagStart);
    top.el.text = top.text.join('');
  }

  // XML 1.0 §2.8: the declaration, if any, is the very first thing.
  if (src.startsWith('<?xml') && /^<\?xml[\s?]/.test(src)) {
    const end = src.indexOf('?>');
    if (end === -1) throw at('malformed', 'unterminated XML declaration', 0);
    const decl = src.slice(5, end);
    const m = /^\s+version\s*=\s*(["'])1\.0\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(yes|no)\4)?\s*$/.exec(decl);
    if (!m) throw at('malformed', 'bad XML declaration (version must be 1.0)', 0);
    if (m[3] !== undefined && !/^utf-?8$/i.test(m[3])) throw at('encoding', `encoding ${m[3]} is not accepted; send UTF-8`, 0);
    pos = end + 2;
  }

  while (pos < src.length) {
    const lt = src.indexOf('<', pos);
    const textEnd = lt === -1 ? src.length : lt;
    if (textEnd > pos) {
      const raw = src.slice(pos, textEnd);
      // XML 1.0 §2.4: "]]>" may not appear in character data.
      if (raw.includes(']]>')) throw at('malformed', '"]]>" in text', pos + raw.indexOf(']]>'));
      addText(references(raw, pos), pos);
      pos = textEnd;
      continue;
    }
    if (src.startsWith('<!--', pos)) {
      const end = src.indexOf('--', pos + 4);
      if (end === -1) throw at('malformed', 'unterminated comment', pos);
      if (src[end + 2] !== '>') throw at('malformed', '"--" inside a comment', end);
      pos = end + 3;
    } else if (src.startsWith('<![CDATA[', pos)) {
      if (stack.length === 0) throw at('malformed', 'CDATA outside the root element', pos);
      const end = src.indexOf(']]>', pos + 9);
      if (end === -1) throw at('malformed', 'unterminated CDATA section', pos);
      addText(src.slice(pos + 9, end), pos);
      pos = end + 3;
    } else if (/^<!doctype/i.test(src.slice(pos, pos + 9))) {
      throw at('doctype', 'a document type declaration (DTD, entities) is never accepted', pos);
    } else if (src.startsWith('<?', pos)) {
      throw at(/^<\?xml[\s?]/i.test(src.slice(pos, pos + 6)) ? 'malformed' : 'processing-instruction', 'processing instructions are not accepted (the XML declaration only at the start)', pos);
    } else if (src.startsWith('<!', pos)) {
      throw at('malformed', 'markup declarations are not accepted', pos);
    } else if (src.startsWith('</', pos)) {
      endTag();
    } else {
      startTag();
    }
  }
  if (stack.length > 0) throw at('malformed', `<${stack[stack.length - 1]!.el.name}> is not closed`, src.length);
  if (!root) throw at('malformed', 'no root element', src.length);
  return root;
}

/** The value of an attribute by local name and namespace ('' for an unprefixed one). */
export function attribute(el: XmlElement, local: string, ns = ''): string | undefined {
  return el.attrs.find((a) => a.local === local && a.ns === ns)?.value;
}

/** Child elements with this namespace and local name, in document order. */
export function childrenNamed(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.ns === ns && c.local === local);
}

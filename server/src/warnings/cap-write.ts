/**
 * The model → CAP 1.2 XML, and alerts → an Atom 1.0 feed (RFC 4287) with each alert inside its entry, the
 * way CAP feeds are published (the OASIS "CAP feeds" practice and national feeds such as the WMO register's).
 *
 * The alert is checked against the model before anything is written, so what comes out always satisfies
 * the CAP 1.2 XML schema (test/warnings/cap-xsd.test.ts validates it with xmllint against CAP-v1.2.xsd)
 * and reads back to the same model (test/warnings/cap-roundtrip.test.ts).
 */
import { capAlertSchema, CAP_MIME_TYPE, CAP_NAMESPACE, type CapAlert, type CapAlertInput, type CapPoint } from '@loaxa/shared';

/** Text content: the three characters markup needs, and CR, which a reader would otherwise turn into LF (XML 1.0 §2.11). */
export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** An attribute value in double quotes: white space other than the space is escaped so it survives §3.3.3. */
export function escapeAttribute(s: string): string {
  return s.replace(/[&<>"\r\n\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A decimal as xs:decimal writes it: never exponent notation. */
export function decimal(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, '');
}

const point = (p: CapPoint) => `${decimal(p[0])},${decimal(p[1])}`;
/** §3.2.1: a list item with spaces goes in double quotes. */
const quotedList = (xs: readonly string[]) => xs.map((x) => (/\s/.test(x) ? `"${x}"` : x)).join(' ');

class Writer {
  readonly lines: string[] = [];
  constructor(private readonly indent: string) {}
  leaf(depth: number, name: string, value: string | number | undefined): void {
    if (value === undefined) return;
    this.lines.push(`${this.indent.repeat(depth)}<${name}>${typeof value === 'number' ? decimal(value) : escapeText(value)}</${name}>`);
  }
  open(depth: number, name: string, attrs = ''): void {
    this.lines.push(`${this.indent.repeat(depth)}<${name}${attrs}>`);
  }
  close(depth: number, name: string): void {
    this.lines.push(`${this.indent.repeat(depth)}</${name}>`);
  }
  pairs(depth: number, name: string, pairs: readonly { valueName: string; value: string }[]): void {
    for (const p of pairs) {
      this.open(depth, name);
      this.leaf(depth + 1, 'valueName', p.valueName);
      this.leaf(depth + 1, 'value', p.value);
      this.close(depth, name);
    }
  }
}

/** Writes the alert element (no XML declaration) at `depth`, for a document or inside an Atom entry. */
function writeAlertElement(w: Writer, a: CapAlert, depth: number): void {
  const d = depth + 1;
  w.open(depth, 'alert', ` xmlns="${CAP_NAMESPACE}"`);
  w.leaf(d, 'identifier', a.identifier);
  w.leaf(d, 'sender', a.sender);
  w.leaf(d, 'sent', a.sent);
  w.leaf(d, 'status', a.status);
  w.leaf(d, 'msgType', a.msgType);
  w.leaf(d, 'source', a.source);
  w.leaf(d, 'scope', a.scope);
  w.leaf(d, 'restriction', a.restriction);
  if (a.addresses.length > 0) w.leaf(d, 'addresses', quotedList(a.addresses));
  for (const c of a.code) w.leaf(d, 'code', c);
  w.leaf(d, 'note', a.note);
  if (a.references.length > 0) w.leaf(d, 'references', a.references.map((r) => `${r.sender},${r.identifier},${r.sent}`).join(' '));
  if (a.incidents.length > 0) w.leaf(d, 'incidents', quotedList(a.incidents));
  for (const info of a.info) {
    const i = d + 1;
    w.open(d, 'info');
    w.leaf(i, 'language', info.language);
    for (const c of info.category) w.leaf(i, 'category', c);
    w.leaf(i, 'event', info.event);
    for (const r of info.responseType) w.leaf(i, 'responseType', r);
    w.leaf(i, 'urgency', info.urgency);
    w.leaf(i, 'severity', info.severity);
    w.leaf(i, 'certainty', info.certainty);
    w.leaf(i, 'audience', info.audience);
    w.pairs(i, 'eventCode', info.eventCode);
    w.leaf(i, 'effective', info.effective);
    w.leaf(i, 'onset', info.onset);
    w.leaf(i, 'expires', info.expires);
    w.leaf(i, 'senderName', info.senderName);
    w.leaf(i, 'headline', info.headline);
    w.leaf(i, 'description', info.description);
    w.leaf(i, 'instruction', info.instruction);
    w.leaf(i, 'web', info.web);
    w.leaf(i, 'contact', info.contact);
    w.pairs(i, 'parameter', info.parameter);
    for (const r of info.resource) {
      w.open(i, 'resource');
      w.leaf(i + 1, 'resourceDesc', r.resourceDesc);
      w.leaf(i + 1, 'mimeType', r.mimeType);
      w.leaf(i + 1, 'size', r.size);
      w.leaf(i + 1, 'uri', r.uri);
      w.leaf(i + 1, 'derefUri', r.derefUri);
      w.leaf(i + 1, 'digest', r.digest);
      w.close(i, 'resource');
    }
    for (const area of info.area) {
      w.open(i, 'area');
      w.leaf(i + 1, 'areaDesc', area.areaDesc);
      for (const p of area.polygon) w.leaf(i + 1, 'polygon', p.map(point).join(' '));
      for (const c of area.circle) w.leaf(i + 1, 'circle', `${point(c.center)} ${decimal(c.radiusKm)}`);
      w.pairs(i + 1, 'geocode', area.geocode);
      w.leaf(i + 1, 'altitude', area.altitude);
      w.leaf(i + 1, 'ceiling', area.ceiling);
      w.close(i, 'area');
    }
    w.close(d, 'info');
  }
  w.close(depth, 'alert');
}

/** A CAP 1.2 document (UTF-8, with its XML declaration). Throws a ZodError when the alert is not valid CAP. */
export function writeCap(alert: CapAlertInput | CapAlert): string {
  const a = capAlertSchema.parse(alert);
  const w = new Writer('  ');
  writeAlertElement(w, a, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${w.lines.join('\n')}\n`;
}

export const ATOM_NAMESPACE = 'http://www.w3.org/2005/Atom';

export interface AtomFeed {
  /** A permanent IRI for the feed (RFC 4287 §4.2.6), e.g. its URL. */
  id: string;
  title: string;
  /** The feed's own URL, written as rel="self". */
  selfUrl?: string;
  author: { name: string; uri?: string; email?: string };
  /** When the feed last changed, as an RFC 3339 date (a CAP DateTime is one); defaults to the latest entry's. */
  updated?: string;
  entries: AtomAlertEntry[];
}

export interface AtomAlertEntry {
  alert: CapAlertInput | CapAlert;
  /** Where this alert's CAP document can be fetched; written as rel="alternate" type="application/cap+xml". */
  url?: string;
  /** The entry's permanent id; defaults to `url`, then to a tag: IRI made of the alert's identifier. */
  id?: string;
}

/** The CAP "sent" of the latest alert, compared as instants. */
function latest(dates: readonly string[]): string | undefined {
  let best: { at: number; v: string } | undefined;
  for (const v of dates) {
    const at = Date.parse(v);
    if (!best || at > best.at) best = { at, v };
  }
  return best?.v;
}

/**
 * An Atom 1.0 feed with one entry per alert: title from the first info's headline (or event), updated =
 * the alert's `sent`, and the whole CAP alert inline as `<content type="application/cap+xml">` (RFC 4287
 * §4.1.3.3: XML media types are carried as child elements), plus a link to it when a URL is given.
 */
export function writeAtomFeed(feed: AtomFeed): string {
  const alerts = feed.entries.map((e) => ({ ...e, alert: capAlertSchema.parse(e.alert) }));
  const updated = feed.updated ?? latest(alerts.map((e) => e.alert.sent)) ?? '1970-01-01T00:00:00-00:00';
  const w = new Writer('  ');
  w.open(0, 'feed', ` xmlns="${ATOM_NAMESPACE}"`);
  w.leaf(1, 'id', feed.id);
  w.leaf(1, 'title', feed.title);
  w.leaf(1, 'updated', updated);
  if (feed.selfUrl) w.lines.push(`  <link rel="self" type="application/atom+xml" href="${escapeAttribute(feed.selfUrl)}"/>`);
  w.open(1, 'author');
  w.leaf(2, 'name', feed.author.name);
  w.leaf(2, 'uri', feed.author.uri);
  w.leaf(2, 'email', feed.author.email);
  w.close(1, 'author');
  for (const e of alerts) {
    const a = e.alert;
    const info = a.info[0];
    w.open(1, 'entry');
    w.leaf(2, 'id', e.id ?? e.url ?? `tag:${a.sender},${a.sent.slice(0, 10)}:${a.identifier}`);
    w.leaf(2, 'title', info?.headline ?? info?.event ?? a.identifier);
    w.leaf(2, 'updated', a.sent);
    if (e.url) w.lines.push(`    <link rel="alternate" type="${CAP_MIME_TYPE}" href="${escapeAttribute(e.url)}"/>`);
    if (info?.description) w.leaf(2, 'summary', info.description.slice(0, 1000));
    w.open(2, 'content', ` type="${CAP_MIME_TYPE}"`);
    writeAlertElement(w, a, 3);
    w.close(2, 'content');
    w.close(1, 'entry');
  }
  w.close(0, 'feed');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${w.lines.join('\n')}\n`;
}

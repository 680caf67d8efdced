/**
 * What a pulled warning source answers, read with the bounded XML reader: a CAP 1.2 alert itself, or an
 * Atom 1.0 (RFC 4287) or RSS 2.0 feed that lists alerts — inline (Atom `<content type="application/cap+xml">`,
 * as cap-write.ts publishes them) or by link (Atom `<link type="application/cap+xml">` or rel="alternate";
 * RSS `<enclosure>` or `<link>`). Pure: fetching, ETags, backoff and deduplication by CAP identifier are the
 * poller's (issue 18 wiring).
 */
import { CAP_MIME_TYPE, CAP_NAMESPACE } from '@loaxa/shared';
import { attribute, childrenNamed, parseXml, XmlRefused, type XmlElement, type XmlLimits, type XmlRefusal } from './xml.js';
import { ATOM_NAMESPACE } from './cap-write.js';

export interface FeedEntry {
  /** Atom id or RSS guid (else the link), to notice entries already seen. */
  id: string;
  title: string;
  /** ms since the epoch, or null when missing or unreadable. */
  updated: number | null;
  /** The alert inside the entry, to read with readCap. */
  alert: XmlElement | null;
  /** Where the CAP document may be fetched, absolute, CAP-typed links first. */
  capUrls: string[];
}

export type WarningDocument =
  | { ok: true; kind: 'cap'; alert: XmlElement }
  | { ok: true; kind: 'atom' | 'rss'; entries: FeedEntry[] }
  | { ok: false; reason: XmlRefusal | 'unknown-format'; message: string };

/** A URL made absolute against the feed's; only http(s) is kept (a feed cannot send us to file: or data:). */
function absolute(href: string | undefined, base: string | undefined): string | null {
  if (!href) return null;
  try {
    const u = base ? new URL(href.trim(), base) : new URL(href.trim());
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

const unique = (xs: (string | null)[]): string[] => [...new Set(xs.filter((x): x is string => x !== null))];
const isCapType = (t: string | undefined) => t !== undefined && t.split(';')[0]!.trim().toLowerCase() === CAP_MIME_TYPE;
const date = (s: string | undefined): number | null => {
  if (!s) return null;
  const ms = Date.parse(s.trim());
  return Number.isFinite(ms) ? ms : null;
};

function atomEntries(feed: XmlElement, base: string | undefined): FeedEntry[] {
  const a = (el: XmlElement, name: string) => childrenNamed(el, ATOM_NAMESPACE, name);
  return a(feed, 'entry').map((entry) => {
    const content = a(entry, 'content')[0];
    const inline = content && isCapType(attribute(content, 'type')) ? content.children.find((c) => c.ns === CAP_NAMESPACE && c.local === 'alert') ?? null : null;
    const links = a(entry, 'link');
    const capLinks = links.filter((l) => isCapType(attribute(l, 'type')));
    const alternates = links.filter((l) => (attribute(l, 'rel') ?? 'alternate') === 'alternate' && !isCapType(attribute(l, 'type')));
    const capUrls = unique([...capLinks, ...alternates].map((l) => absolute(attribute(l, 'href'), base)).concat(content && isCapType(attribute(content, 'type')) ? absolute(attribute(content, 'src'), base) : null));
    return {
      id: a(entry, 'id')[0]?.text.trim() || capUrls[0] || '',
      title: a(entry, 'title')[0]?.text.trim() ?? '',
      updated: date(a(entry, 'updated')[0]?.text ?? a(entry, 'published')[0]?.text),
      alert: inline,
      capUrls,
    };
  });
}

function rssEntries(rss: XmlElement, base: string | undefined): FeedEntry[] {
  const channel = childrenNamed(rss, '', 'channel')[0];
  if (!channel) return [];
  const c = (el: XmlElement, name: string) => childrenNamed(el, '', name)[0];
  return childrenNamed(channel, '', 'item').map((item) => {
    const enclosures = childrenNamed(item, '', 'enclosure');
    const capUrls = unique([
      ...enclosures.filter((e) => isCapType(attribute(e, 'type'))).map((e) => absolute(attribute(e, 'url'), base)),
      absolute(c(item, 'link')?.text, base),
    ]);
    return {
      id: c(item, 'guid')?.text.trim() || capUrls[0] || '',
      title: c(item, 'title')?.text.trim() ?? '',
      updated: date(c(item, 'pubDate')?.text),
      alert: null,
      capUrls,
    };
  });
}

/** Reads a pulled document; `baseUrl` is where it came from, to resolve relative links. */
export function readWarningDocument(input: string | Uint8Array, baseUrl?: string, limits?: Partial<XmlLimits>): WarningDocument {
  let root: XmlElement;
  try {
    root = parseXml(input, limits);
  } catch (e) {
    if (e instanceof XmlRefused) return { ok: false, reason: e.reason, message: e.message };
    throw e;
  }
  if (root.ns === CAP_NAMESPACE && root.local === 'alert') return { ok: true, kind: 'cap', alert: root };
  if (root.ns === ATOM_NAMESPACE && root.local === 'feed') return { ok: true, kind: 'atom', entries: atomEntries(root, baseUrl) };
  if (root.ns === '' && root.local === 'rss') return { ok: true, kind: 'rss', entries: rssEntries(root, baseUrl) };
  return { ok: false, reason: 'unknown-format', message: `neither a CAP 1.2 alert, an Atom feed nor RSS 2.0: <${root.name}> in namespace "${root.ns}"` };
}

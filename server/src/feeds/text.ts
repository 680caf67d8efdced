/**
 * Escaping and dates for the commune's feeds and pages (issue 22). Titles and texts are what operators typed:
 * `<`, `&`, quotes and `]]>` are escaped as entities (never CDATA, which `]]>` would close), and characters XML
 * 1.0 forbids (C0 controls, lone surrogates, U+FFFE/FFFF; XML 1.0 §2.2) are dropped, so one pasted control
 * character cannot make a commune's whole feed unreadable to every podcast app.
 */
import { BULLETIN_CATEGORY_LABELS_VI } from '@loaxa/shared';

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text content and attribute values alike (XML and HTML). */
export function esc(v: string): string {
  return v.replace(NOT_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** RFC 822 (as RSS 2.0 asks, with a four-digit year): `Mon, 07 Dec 2026 14:23:36 GMT`. */
export const rfc822 = (ms: number): string => new Date(ms).toUTCString();

/** RFC 3339 for Atom. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const VN_OFFSET_MS = 7 * 3600_000;
const two = (n: number) => String(n).padStart(2, '0');

/** `14:05 07/12/2026` in Vietnam time (UTC+7, no daylight saving), as the pages show it. */
export function vietnamTime(ms: number): string {
  const d = new Date(ms + VN_OFFSET_MS);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())} ${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

/** `H:MM:SS` for itunes:duration. */
export function clockDuration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  return `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** `3 phút 5 giây` for people. */
export function spokenDuration(ms: number): string {
  // Whole seconds down, as the browser's player counts them, so the two never disagree on the page.
  const s = Math.max(1, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} phút${s % 60 ? ` ${s % 60} giây` : ''}` : `${s} giây`;
}

export function categoryLabel(category: string | null, warning: boolean): string {
  if (warning) return 'Cảnh báo thiên tai';
  return category && category in BULLETIN_CATEGORY_LABELS_VI ? BULLETIN_CATEGORY_LABELS_VI[category as keyof typeof BULLETIN_CATEGORY_LABELS_VI] : 'Thông tin chung';
}

/** The first `max` characters of a text, cut at a word, for descriptions and previews. */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Paragraphs of a text as HTML (escaped). */
export const paragraphs = (text: string): string =>
  text
    .split(/\n\s*\n|\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${esc(p)}</p>`)
    .join('');

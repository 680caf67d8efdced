/**
 * Relays in the web app (issue 15 § Relays): the source form's URL list, a relay's length as typed, the
 * words for a source's status, a check's reason and a relay's causes, and the server's validation of a
 * source in Vietnamese. Pure, so every rule is unit-tested without a browser (test/web/relays.test.ts).
 */
import { RELAY_MAX_DURATION_MS, RELAY_MIN_DURATION_MS, SOURCE_MAX_URLS } from '@loaxa/shared/api';
import type { RelayCause, RelayReport, RelayReportItem } from '../api/types.js';
import { LOCALE, t } from '../i18n/vi.js';

export { SOURCE_MAX_URLS };

// ---------------------------------------------------------------------------------------------------------
// The URL list of the source form: in order of preference (the box plays the first that works).

/** One more, empty row at the end (up to the server's limit). */
export function addUrl(urls: readonly string[]): string[] {
  return urls.length >= SOURCE_MAX_URLS ? urls.slice() : [...urls, ''];
}

/** Row `i` moved up (`by` = -1) or down (+1); a move past either end changes nothing. */
export function moveUrl(urls: readonly string[], i: number, by: -1 | 1): string[] {
  const j = i + by;
  const out = urls.slice();
  if (i < 0 || i >= urls.length || j < 0 || j >= urls.length) return out;
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/** Row `i` removed; the form always keeps one row to type into. */
export function removeUrl(urls: readonly string[], i: number): string[] {
  const out = urls.filter((_, k) => k !== i);
  return out.length ? out : [''];
}

export function setUrl(urls: readonly string[], i: number, value: string): string[] {
  const out = urls.slice();
  out[i] = value;
  return out;
}

/**
 * What is sent: each URL trimmed, blank rows dropped. Everything else (a URL at all, http(s) only, no
 * duplicates, 1 to 8) is the server's to judge; its answer comes back in Vietnamese (`sourceErrors`), mapped
 * onto the rows as typed through `rowOf`.
 */
export function urlsToSend(urls: readonly string[]): { urls: string[]; rowOf: number[] } {
  const out: string[] = [];
  const rowOf: number[] = [];
  urls.forEach((u, row) => {
    if (u.trim()) {
      out.push(u.trim());
      rowOf.push(row);
    }
  });
  return { urls: out, rowOf };
}

// ---------------------------------------------------------------------------------------------------------
// A relay's length: a number of minutes or hours, 1 minute to 12 hours (shared/src/api/limits.ts).

export type DurationUnit = 'minutes' | 'hours';
export type DurationResult = { ok: true; ms: number } | { ok: false; error: 'empty' | 'nan' | 'short' | 'long' };

/** "30" minutes → 1,800,000 ms; "1,5" hours (a Vietnamese decimal comma) → 5,400,000 ms; whole seconds. */
export function relayDurationMs(value: string, unit: DurationUnit): DurationResult {
  const v = value.trim().replace(',', '.');
  if (!v) return { ok: false, error: 'empty' };
  if (!/^\d+(\.\d+)?$/.test(v)) return { ok: false, error: 'nan' };
  const ms = Math.round(Number(v) * (unit === 'hours' ? 3600 : 60)) * 1000;
  if (ms < RELAY_MIN_DURATION_MS) return { ok: false, error: 'short' };
  if (ms > RELAY_MAX_DURATION_MS) return { ok: false, error: 'long' };
  return { ok: true, ms };
}

const oneDecimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });

/** A length for people: "45 giây", "30 phút", "1 giờ 30 phút", "12 giờ". */
export function fmtLength(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} giây`;
  const totalMin = Math.round(s / 60);
  if (s < 3600) return s % 60 && s < 600 ? `${Math.floor(s / 60)} phút ${s % 60} giây` : `${totalMin} phút`;
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  return m ? `${h} giờ ${m} phút` : `${h} giờ`;
}

/** Minutes with one decimal, as the as-run counts them: 754,000 ms → "12,6". */
export function fmtMinutes(ms: number): string {
  return oneDecimal.format(Math.round(ms / 6000) / 10);
}

// ---------------------------------------------------------------------------------------------------------
// Words: a source's status, a check's reason, a relay's cause.

export type SourceStatus = 'up' | 'silent' | 'down' | 'unchecked';

export function statusLabel(status: string): string {
  return t.sources.status[status] ?? status;
}

export function causeLabel(cause: string): string {
  return t.relay.causes[cause] ?? cause;
}

/**
 * The server's reason for a down or silent URL (English: ffmpeg's words or the checker's) in Vietnamese. The
 * original stays next to it on the page for whoever fixes the stream; this is what an official reads.
 */
export function reasonLabel(reason: string | null): string | null {
  if (!reason) return null;
  const r = t.sources.reasons;
  const num = (re: RegExp) => oneDecimal.format(Number(re.exec(reason)?.[1] ?? 0));
  if (/only silence for/i.test(reason)) return r.silence(num(/for ([\d.]+) s/));
  if (/sent nothing for/i.test(reason)) return r.stalled(num(/for ([\d.]+) s/));
  if (/no audio within/i.test(reason)) return r.noAudioWithin(num(/within ([\d.]+) s/));
  if (/stopped after/i.test(reason)) return r.stopped(num(/after ([\d.]+) s/));
  if (/no audio could be decoded/i.test(reason)) return r.undecodable;
  if (/connection refused/i.test(reason)) return r.refused;
  if (/\b404\b|not found/i.test(reason)) return r.notFound;
  if (/\b40[13]\b|forbidden|unauthori[sz]ed|denied/i.test(reason)) return r.denied;
  const http = /\b(4\d\d|5\d\d)\b/.exec(reason);
  if (http) return r.httpError(http[1]!);
  if (/name or service not known|resolve|getaddrinfo|no address/i.test(reason)) return r.dns;
  if (/timed out/i.test(reason)) return r.timeout;
  if (/invalid data|not a|header/i.test(reason)) return r.invalid;
  return r.other;
}

// ---------------------------------------------------------------------------------------------------------
// The server's refusals of a source, in Vietnamese, attached to the field they concern.

export type SourceField = 'name' | 'urls' | 'areaCode' | 'fallbackBulletinId' | 'form';
/** `row`: the URL row as typed (after `urlsToSend` dropped blank ones). */
export interface SourceError {
  field: SourceField;
  row?: number;
  message: string;
}

/**
 * `{status, message, fields}` of an ApiFailure for a source create or edit → messages per field. The
 * schemas' English messages (shared/src/api/sources.ts) and the route's (server/src/routes/sources.ts) are
 * recognised; anything else is reported on the form as a whole, never dropped.
 */
export function sourceErrors(failure: { status: number; message: string; fields: readonly { path: string; message: string }[] }, rowOf: readonly number[] = []): SourceError[] {
  const e = t.sources.errors;
  const out: SourceError[] = [];
  const push = (x: SourceError) => {
    if (!out.some((o) => o.field === x.field && o.row === x.row && o.message === x.message)) out.push(x);
  };
  if (failure.status === 403) {
    if (/installation-wide/i.test(failure.message)) push({ field: 'areaCode', message: e.wholeOnly });
    else if (/outside your area/i.test(failure.message)) push({ field: 'areaCode', message: e.areaOutside });
    return out;
  }
  if (failure.status !== 400) return out;
  for (const f of failure.fields) {
    const url = /^urls\.(\d+)$/.exec(f.path);
    if (url) {
      const i = Number(url[1]);
      const row = rowOf[i] ?? i;
      push({ field: 'urls', row, message: /http:\/\/ and https:\/\//.test(f.message) ? e.scheme(row + 1) : e.url(row + 1) });
    } else if (f.path === 'urls') {
      push({ field: 'urls', message: /twice/.test(f.message) ? e.duplicate : /at most/i.test(f.message) || /too big/i.test(f.message) ? e.tooMany(SOURCE_MAX_URLS) : e.noUrls });
    } else if (f.path === 'name') {
      push({ field: 'name', message: e.name });
    } else if (f.path === 'areaCode') {
      push({ field: 'areaCode', message: /legacy/.test(f.message) ? e.legacyArea : e.unknownArea });
    } else if (f.path === 'fallbackBulletinId') {
      const m = failure.message;
      push({
        field: 'fallbackBulletinId',
        message: /another relay/.test(m) ? e.fallbackRelay : /must be ready/.test(m) ? e.fallbackNotReady : /narrower/.test(m) ? e.fallbackNarrow : e.unknownFallback,
      });
    } else if (/at least one field/.test(f.message)) {
      push({ field: 'form', message: e.noChange });
    } else {
      push({ field: 'form', message: `${e.other} (${f.path}: ${f.message})` });
    }
  }
  if (!out.length) push({ field: 'form', message: `${e.other} (${failure.message})` });
  return out;
}

/** The source's name in the relay's default title, until the official types one. */
export function defaultRelayTitle(sourceName: string): string {
  return t.relay.defaultTitle(sourceName).slice(0, 200);
}

// ---------------------------------------------------------------------------------------------------------
// The relay report of an area and period, one table per relay occurrence.

/** One relay occurrence: its title, source and window, then a row per box. */
export interface RelayGroup {
  key: string;
  broadcastId: string;
  title: string;
  sourceName: string | null;
  occurrenceAt: string;
  windowEndsAt: string;
  items: RelayReportItem[];
}

export function groupRelays(report: RelayReport): RelayGroup[] {
  const groups = new Map<string, RelayGroup>();
  for (const i of report.items) {
    const key = `${i.broadcastId} ${i.occurrenceAt}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, broadcastId: i.broadcastId, title: i.title, sourceName: i.sourceName, occurrenceAt: i.occurrenceAt, windowEndsAt: i.windowEndsAt, items: [] }));
    g.items.push(i);
  }
  return [...groups.values()].sort((a, b) => b.occurrenceAt.localeCompare(a.occurrenceAt));
}

/**
 * What a box relays now as far as its report tells, for a page opened mid-relay (the SSE `relay` events only
 * say what changes from then on). Exact while a gap is open, after a failover to another URL, and for a
 * single-URL source; after a gap closed on a source of several URLs the report does not say which one serves
 * (a `returned` URL is not a switch), so: null, unknown until the next event.
 */
export function nowFromReport(item: Pick<RelayReportItem, 'state' | 'gaps' | 'switches' | 'urls' | 'windowEndsAt'>, reportAt: number): { url: string | null; cause: RelayCause } | null {
  if (item.state !== 'playing') return null;
  const lastGap = item.gaps.at(-1);
  const clippedNow = Math.min(reportAt, Date.parse(item.windowEndsAt));
  // The report clips an open gap at its own "now": a gap ending within a couple of seconds of it is still open.
  if (lastGap && Date.parse(lastGap.to) >= clippedNow - 2000) return { url: null, cause: lastGap.cause };
  const afterGap = lastGap ? Date.parse(lastGap.to) : 0;
  const lastSwitch = item.switches.at(-1);
  if (lastSwitch && Date.parse(lastSwitch.at) >= afterGap) return { url: lastSwitch.url, cause: lastSwitch.cause };
  if (item.urls.length === 1 && !lastGap) return { url: item.urls[0]!.url, cause: 'started' };
  if (item.urls.length === 1 && lastGap) return { url: item.urls[0]!.url, cause: 'returned' };
  return null;
}

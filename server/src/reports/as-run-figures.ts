/**
 * The as-run report's counting, shared by `GET /api/v1/reports/as-run` and the monthly report (issue 20), so
 * the monthly figures are the as-run's figures for the same month, never a second way of counting.
 */
import type { RelayReportItem } from '@loaxa/shared';
import type { AsRunRow } from '../repos/as-run.js';
import type { RelayDeliveryRow, RelayLogEntry } from '../repos/relay-log.js';
import { relayTimeline } from '../domain/relay-timeline.js';
import { hideCredentialsIn, hideUrlCredentials } from '../services/source-checker.js';

export const COUNTED = ['played', 'missed', 'failed', 'cancelled', 'expired'] as const;
export type Counts = { scheduled: number; pending: number; airtimeMs: number } & Record<(typeof COUNTED)[number], number>;
export const emptyCounts = (): Counts => ({ scheduled: 0, played: 0, missed: 0, failed: 0, cancelled: 0, expired: 0, pending: 0, airtimeMs: 0 });
export function count(c: Counts, r: AsRunRow): void {
  c.scheduled++;
  if ((COUNTED as readonly string[]).includes(r.state)) c[r.state as (typeof COUNTED)[number]]++;
  else c.pending++;
  if (r.state === 'played') c.airtimeMs += airtimeOf(r);
}

/** What a played item aired: a relay what its box counted (gaps excluded: issue 15), a file its play times. */
export function airtimeOf(r: AsRunRow): number {
  // Issue 15 review (5): a box's airedMs counts only for a relay, and only up to what it could have aired.
  if (r.relaySourceId !== null && r.airedMs !== null) return clampAired(r.airedMs, r);
  return r.startedAt && r.endedAt ? r.endedAt - r.startedAt : (r.durationMs ?? 0);
}

/** A box's own count of a relay's aired ms, never above the relay's length or its play times (issue 15 review (5)). */
export function clampAired(airedMs: number, r: { durationMs: number | null; startedAt: number | null; endedAt: number | null }): number {
  let max = r.durationMs ?? Infinity;
  if (r.startedAt && r.endedAt) max = Math.min(max, Math.max(0, r.endedAt - r.startedAt));
  return Math.max(0, Math.min(airedMs, max));
}

/** One box's airing of a relay as the report shows it: its events folded into served time and gaps. */
export function relayItem(r: RelayDeliveryRow, events: readonly RelayLogEntry[], now: number): RelayReportItem {
  const windowEnd = r.occurrenceAt + r.durationMs;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const timeline = relayTimeline(events, { from: r.occurrenceAt, to: Math.min(windowEnd, r.endedAt ?? Infinity, now) });
  const relayedMs = r.airedMs === null ? timeline.servedMs : clampAired(r.airedMs, r);
  return {
    broadcastId: r.broadcastId,
    title: r.title,
    sourceId: r.sourceId,
    sourceName: r.sourceName,
    occurrenceAt: iso(r.occurrenceAt)!,
    windowEndsAt: iso(windowEnd)!,
    deviceId: r.deviceId,
    deviceName: r.deviceName,
    areaCode: r.areaCode,
    state: r.state,
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    relayedMs,
    relayedMinutes: Math.round(relayedMs / 6000) / 10,
    airedMs: r.airedMs,
    gaps: timeline.gaps.map((g) => ({ from: iso(g.from)!, to: iso(g.to)!, ms: g.to - g.from, cause: g.cause, detail: g.detail })),
    // Issue 15 review (1): report readers see which URL served, not its credentials.
    switches: timeline.switches.map((w) => ({ at: iso(w.at)!, cause: w.cause, url: hideUrlCredentials(w.url), detail: w.detail === null ? null : hideCredentialsIn(w.detail) })),
    urls: timeline.urls.map((u) => ({ ...u, url: hideUrlCredentials(u.url) })),
  };
}


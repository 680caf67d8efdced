/**
 * One box's relay as the as-run shows it (issue 15 § As-run), pure, from the relay events it reported. An
 * event's `url` is the URL serving from then on (shared/src/messages.ts), whatever its cause:
 * - a URL serves from an event naming it until the next event of any kind: `started`, `returned`, or a
 *   failover to the next URL (`error`/`silence`/`stalled` naming the URL the box moved to: the device agent
 *   switches at once and reports that one event);
 * - a gap runs from a failover that leaves no URL serving (`url` null: every URL failed, `fallback`,
 *   `interrupted`) until an event names a URL again, or the relay ends; its cause is the failover that opened
 *   it (a `fallback` right after an `error` is that error's consequence, not a new gap);
 * - everything is clipped to the relay's window (its occurrence plus the bulletin's duration), to the end
 *   the box reported (`played`) and to now, so an unfinished relay counts up to the present only.
 */
import type { RelayCause } from '@loaxa/shared';

export interface RelayEventLike {
  url: string | null;
  cause: RelayCause;
  at: number;
  detail: string | null;
}

export interface RelayGapSpan {
  from: number;
  to: number;
  cause: RelayCause;
  detail: string | null;
}

/** A failover straight to another URL (no gap by the box's reports): when, why, and to which URL. */
export interface RelaySwitch {
  at: number;
  cause: RelayCause;
  url: string;
  detail: string | null;
}

export interface RelayTimeline {
  servedMs: number;
  gaps: RelayGapSpan[];
  switches: RelaySwitch[];
  /** Each URL that served, in the order it first served, with for how long. */
  urls: Array<{ url: string; servedMs: number }>;
}

const FAILOVER: ReadonlySet<RelayCause> = new Set(['error', 'silence', 'stalled', 'fallback', 'interrupted']);

export function relayTimeline(events: readonly RelayEventLike[], window: { from: number; to: number }): RelayTimeline {
  const clip = (t: number) => Math.min(window.to, Math.max(window.from, t));
  const served = new Map<string, number>();
  const gaps: RelayGapSpan[] = [];
  let serving: { url: string; since: number } | null = null;
  let gap: { cause: RelayCause; detail: string | null; since: number } | null = null;
  const switches: RelaySwitch[] = [];

  const stopServing = (at: number) => {
    if (serving) served.set(serving.url, (served.get(serving.url) ?? 0) + Math.max(0, clip(at) - clip(serving.since)));
    serving = null;
  };
  const closeGap = (at: number) => {
    if (gap && clip(at) > clip(gap.since)) gaps.push({ from: clip(gap.since), to: clip(at), cause: gap.cause, detail: gap.detail });
    gap = null;
  };

  // Stable by time: two reports in the same millisecond keep the order they were stored in.
  const sorted = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map((x) => x.e);
  for (const e of sorted) {
    stopServing(e.at);
    if (e.url !== null && e.cause !== 'ended') {
      closeGap(e.at);
      serving = { url: e.url, since: e.at };
      if (e.cause !== 'started' && e.cause !== 'returned') switches.push({ at: e.at, cause: e.cause, url: e.url, detail: e.detail });
    } else if (FAILOVER.has(e.cause)) {
      gap ??= { cause: e.cause, detail: e.detail, since: e.at };
    } else {
      // `ended` (the window is over, or the relay was stopped), or a start naming no URL: nothing missing.
      closeGap(e.at);
    }
  }
  stopServing(window.to);
  closeGap(window.to);
  return { servedMs: [...served.values()].reduce((a, b) => a + b, 0), gaps, switches, urls: [...served].map(([url, ms]) => ({ url, servedMs: ms })) };
}

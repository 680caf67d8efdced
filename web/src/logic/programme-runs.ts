/**
 * A programme on the air (issue 15: the box "reports per item"; "the as-run report lists programmes and their
 * items"): its airings in the as-run report, and where each box is on the live page. Pure, unit-tested in
 * test/web/programmes.test.ts.
 */
import type { AsRunProgrammeItem, AsRunReport, ProgrammeItemEvent } from '../api/types.js';
import { t } from '../i18n/vi.js';

export interface ProgrammeAiring {
  key: string;
  broadcastId: string;
  title: string;
  occurrenceAt: string;
  commune: string;
  deviceId: string;
  deviceName: string;
  /** The delivery's state for the whole programme on this box. */
  state: string;
  version: number;
  items: AsRunProgrammeItem[];
}

/** Every programme airing of an as-run report, newest first, one per box and occurrence. */
export function programmeAirings(report: Pick<AsRunReport, 'communes'>): ProgrammeAiring[] {
  const out: ProgrammeAiring[] = [];
  for (const c of report.communes)
    for (const d of c.devices)
      for (const i of d.items)
        if (i.programme)
          out.push({
            key: `${i.broadcastId} ${i.occurrenceAt} ${d.deviceId}`,
            broadcastId: i.broadcastId,
            title: i.title,
            occurrenceAt: i.occurrenceAt,
            commune: c.name,
            deviceId: d.deviceId,
            deviceName: d.name,
            state: i.state,
            version: i.programme.version,
            items: [...i.programme.items].sort((a, b) => a.index - b.index),
          });
  return out.sort((a, b) => b.occurrenceAt.localeCompare(a.occurrenceAt) || a.deviceName.localeCompare(b.deviceName));
}

/** How many of an airing's items aired to their end. */
export function playedItems(items: readonly Pick<AsRunProgrammeItem, 'state'>[]): number {
  return items.filter((i) => i.state === 'played').length;
}

// ---------------------------------------------------------------------------------------------------------
// The live page: where each box is in the programme, from its `programme-item` events.

/**
 * The event that says where a box is now, given the one kept so far: a later occurrence wins, then a later
 * item, then (same item) a later event — so a late `playing` never hides the `played` that followed it.
 */
export function laterItemEvent<E extends Pick<ProgrammeItemEvent, 'occurrenceAt' | 'index' | 'at'>>(prev: E | undefined, e: E): E {
  if (!prev) return e;
  const occ = Date.parse(e.occurrenceAt) - Date.parse(prev.occurrenceAt);
  if (occ !== 0) return occ > 0 ? e : prev;
  if (e.index !== prev.index) return e.index > prev.index ? e : prev;
  return Date.parse(e.at) >= Date.parse(prev.at) ? e : prev;
}

/**
 * Why an item went as it did, in Vietnamese, from the box's reason (the agent's English, led by an error code
 * of shared/src/errors.ts); null when not recognised (the page then shows the box's words alone).
 */
export function itemReasonLabel(reason: string | null): string | null {
  if (!reason) return null;
  const r = t.programmeRun.reasons;
  const resumed = /continued at item (\d+)/i.exec(reason);
  if (resumed) return r.resumed(Number(resumed[1]) + 1);
  if (/LOAXA_DOWNLOAD_FAILED/.test(reason)) return r.download;
  if (/LOAXA_HASH_MISMATCH/.test(reason)) return r.corrupt;
  if (/LOAXA_EXPIRED/.test(reason)) return r.expired;
  if (/programme was stopped/i.test(reason)) return r.stopped;
  if (/interrupt|emergency|preempt/i.test(reason)) return r.interrupted;
  if (/LOAXA_PLAYBACK_FAILED/.test(reason)) return r.playback;
  return null;
}

/**
 * Conflicts as people read them (issue 20, broken 6): one line per clash, not per box. A broadcast to a commune
 * of 16 boxes that overlaps one airing is one conflict on 16 boxes, listed once with the boxes counted and a few
 * named; the other airing is named by its bulletin's title, never by its id.
 */
import type { BroadcastCheck } from '../api/types.js';

type Conflict = BroadcastCheck['conflicts'][number];

export interface ConflictGroup {
  occurrenceAt: string;
  outcome: Conflict['outcome'];
  otherBroadcastId: string;
  otherOccurrenceAt: string;
  /** null: a broadcast of another area, whose title the caller may not see. */
  otherTitle: string | null;
  /** The boxes' names (their ids when a name is missing), in the order the server listed them. */
  devices: string[];
}

/** Groups by our airing, the other airing and what happens between them; groups in time order. */
export function groupConflicts(conflicts: readonly Conflict[]): ConflictGroup[] {
  const groups = new Map<string, ConflictGroup>();
  for (const c of conflicts) {
    const key = `${c.occurrenceAt}|${c.otherBroadcastId}|${c.otherOccurrenceAt}|${c.outcome}`;
    let g = groups.get(key);
    if (!g) {
      g = { occurrenceAt: c.occurrenceAt, outcome: c.outcome, otherBroadcastId: c.otherBroadcastId, otherOccurrenceAt: c.otherOccurrenceAt, otherTitle: c.otherTitle ?? null, devices: [] };
      groups.set(key, g);
    }
    g.devices.push(c.deviceName ?? c.deviceId);
  }
  return [...groups.values()].sort((a, b) => Date.parse(a.occurrenceAt) - Date.parse(b.occurrenceAt) || Date.parse(a.otherOccurrenceAt) - Date.parse(b.otherOccurrenceAt));
}

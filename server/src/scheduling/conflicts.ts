/**
 * Conflict report before saving a broadcast (issue 4: "creating or editing a broadcast reports the overlaps
 * it causes per device before saving"). Pure: the caller expands occurrences and loads what each device
 * already has. The outcome says, from the proposed broadcast's side, what the Circular 39 arbitration
 * (shared/src/priority.ts, as the boxes apply it) will do with each overlapping pair.
 */
import { outranks, type Priority } from '@loaxa/shared';

export interface ProposedBroadcast {
  broadcastId: string;
  priority: Priority;
  durationMs: number;
  /** Occurrence start instants, epoch ms (from expandOccurrences). */
  occurrences: readonly number[];
  deviceIds: readonly string[];
}

export interface ExistingOccurrence {
  broadcastId: string;
  occurrenceAt: number;
  durationMs: number;
  priority: Priority;
}

export type ConflictOutcome =
  /** The proposed item starts while the other plays and cuts it off. */
  | 'interrupts'
  /** The other starts while the proposed item plays and cuts it off. */
  | 'interrupted-by'
  /** The proposed item waits until the other has finished. */
  | 'queued-after'
  /** The other waits until the proposed item has finished. */
  | 'queues-before';

export interface Conflict {
  deviceId: string;
  occurrenceAt: number;
  otherBroadcastId: string;
  otherOccurrenceAt: number;
  /** Length of the overlap of the two nominal intervals [start, start + duration). */
  overlapMs: number;
  outcome: ConflictOutcome;
}

/**
 * The outcome for a proposed item against an overlapping other one:
 * - higher priority: interrupts the other if the other started first, otherwise plays first (queues-before);
 * - lower priority: interrupted by the other if it started first, otherwise waits (queued-after);
 * - equal priority never interrupts: whoever starts first plays first; at the very same instant what is
 *   already scheduled keeps its place and the newcomer queues after it.
 */
export function conflictOutcome(
  mine: { priority: Priority; startAt: number },
  other: { priority: Priority; startAt: number },
): ConflictOutcome {
  if (outranks(mine.priority, other.priority)) return other.startAt < mine.startAt ? 'interrupts' : 'queues-before';
  if (outranks(other.priority, mine.priority)) return mine.startAt < other.startAt ? 'interrupted-by' : 'queued-after';
  return mine.startAt < other.startAt ? 'queues-before' : 'queued-after';
}

/**
 * Overlaps the proposed broadcast causes, per device, sorted by device, occurrence and other occurrence.
 * Existing occurrences of the proposed broadcast itself are ignored: an edit does not collide with its old self.
 * Intervals are half-open, so back-to-back items do not conflict.
 */
export function findConflicts(
  proposed: ProposedBroadcast,
  existingByDevice: ReadonlyMap<string, readonly ExistingOccurrence[]> | Readonly<Record<string, readonly ExistingOccurrence[]>>,
): Conflict[] {
  const lookup = (id: string): readonly ExistingOccurrence[] =>
    existingByDevice instanceof Map ? (existingByDevice.get(id) ?? []) : ((existingByDevice as Record<string, readonly ExistingOccurrence[]>)[id] ?? []);
  const mine = [...new Set(proposed.occurrences)].sort((a, b) => a - b);
  const out: Conflict[] = [];
  for (const deviceId of [...new Set(proposed.deviceIds)].sort()) {
    const others = lookup(deviceId)
      .filter((o) => o.broadcastId !== proposed.broadcastId && o.durationMs > 0)
      .sort((a, b) => a.occurrenceAt - b.occurrenceAt || (a.broadcastId < b.broadcastId ? -1 : a.broadcastId > b.broadcastId ? 1 : 0));
    if (!others.length) continue;
    const longest = Math.max(...others.map((o) => o.durationMs));
    for (const at of mine) {
      const end = at + proposed.durationMs;
      // Only others starting in (at − longest, end) can overlap; find the first by binary search.
      let i = lowerBound(others, at - longest);
      for (; i < others.length && (others[i] as ExistingOccurrence).occurrenceAt < end; i++) {
        const o = others[i] as ExistingOccurrence;
        const overlapMs = Math.min(end, o.occurrenceAt + o.durationMs) - Math.max(at, o.occurrenceAt);
        if (overlapMs <= 0) continue;
        out.push({
          deviceId, occurrenceAt: at, otherBroadcastId: o.broadcastId, otherOccurrenceAt: o.occurrenceAt, overlapMs,
          outcome: conflictOutcome({ priority: proposed.priority, startAt: at }, { priority: o.priority, startAt: o.occurrenceAt }),
        });
      }
    }
  }
  return out;
}

/** Index of the first item starting after `t` (items sorted by start). */
function lowerBound(items: readonly ExistingOccurrence[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid] as ExistingOccurrence).occurrenceAt <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Priority arbitration on one device, Circular 39/2020/TT-BTTTT (ARCHITECTURE.md § Priority):
 * `emergency` (khẩn cấp) interrupts anything and plays at once; `priority` (ưu tiên) interrupts `normal`
 * (thông thường); equal priority never interrupts — not even two emergencies — and queues by start time.
 * An interrupted item resumes from the offset where it stopped or restarts from the beginning
 * (a setting per broadcast, issue 4). Pure: a simulation over the items' nominal start times.
 */
import type { Priority } from '@loaxa/shared';

export const PRIORITY_RANK: Record<Priority, number> = { normal: 0, priority: 1, emergency: 2 };

/** True when an item of priority `a` may cut off a playing item of priority `b`. */
export function outranks(a: Priority, b: Priority): boolean {
  return PRIORITY_RANK[a] > PRIORITY_RANK[b];
}

export type ResumeMode = 'resume' | 'restart';

export interface PlayoutItem {
  id: string;
  priority: Priority;
  /** Scheduled start, epoch ms. */
  startAt: number;
  durationMs: number;
  resumeMode: ResumeMode;
}

/** A stretch of one item actually playing: media from `fromOffsetMs` to `toOffsetMs`. */
export interface PlayoutSegment {
  id: string;
  startAt: number;
  endAt: number;
  fromOffsetMs: number;
  toOffsetMs: number;
}

export interface Interruption {
  id: string;
  at: number;
  byId: string;
  /** Media offset where playing stopped. */
  stoppedAtOffsetMs: number;
  /** When it plays again and from which media offset (0 for `restart`). */
  resumeAt: number;
  resumeMode: ResumeMode;
  resumeFromOffsetMs: number;
}

export interface ItemOutcome {
  firstStartAt: number;
  endAt: number;
  /** How late it first started against its schedule (queued behind equal or higher priority). */
  delayMs: number;
}

export interface PlayoutPlan {
  /** Chronological; segments never overlap. */
  segments: PlayoutSegment[];
  /** In the order they happen. */
  interruptions: Interruption[];
  items: Record<string, ItemOutcome>;
}

interface Waiting {
  item: PlayoutItem;
  offsetMs: number;
  pendingInterruption?: Omit<Interruption, 'resumeAt' | 'resumeFromOffsetMs'>;
}

/** Queue order: higher priority first, then earlier scheduled start, then id (deterministic ties). */
function before(a: PlayoutItem, b: PlayoutItem): number {
  return PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || a.startAt - b.startAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** What plays when on one device, which items are interrupted, and when and how they come back. */
export function planPlayout(items: readonly PlayoutItem[]): PlayoutPlan {
  const ids = new Set<string>();
  for (const it of items) {
    if (ids.has(it.id)) throw new RangeError(`duplicate item id ${it.id}`);
    if (!(it.durationMs > 0) || !Number.isFinite(it.durationMs)) throw new RangeError(`item ${it.id}: durationMs must be positive`);
    if (!Number.isFinite(it.startAt)) throw new RangeError(`item ${it.id}: startAt must be finite`);
    ids.add(it.id);
  }
  const arrivals = [...items].sort((a, b) => a.startAt - b.startAt || before(a, b));
  const plan: PlayoutPlan = { segments: [], interruptions: [], items: {} };
  const queue: Waiting[] = [];
  let current: { w: Waiting; since: number } | null = null;
  let next = 0;

  const start = (w: Waiting, at: number): void => {
    const pi = w.pendingInterruption;
    if (pi) {
      if (pi.resumeMode === 'restart') w.offsetMs = 0;
      plan.interruptions.push({ ...pi, resumeAt: at, resumeFromOffsetMs: w.offsetMs });
      delete w.pendingInterruption;
    }
    plan.items[w.item.id] ??= { firstStartAt: at, endAt: at, delayMs: at - w.item.startAt };
    current = { w, since: at };
  };
  const stop = (at: number): Waiting => {
    const { w, since } = current as { w: Waiting; since: number };
    const to = w.offsetMs + (at - since);
    plan.segments.push({ id: w.item.id, startAt: since, endAt: at, fromOffsetMs: w.offsetMs, toOffsetMs: to });
    (plan.items[w.item.id] as ItemOutcome).endAt = at;
    w.offsetMs = to;
    current = null;
    return w;
  };
  const takeBest = (): Waiting | undefined => {
    queue.sort((a, b) => before(a.item, b.item));
    return queue.shift();
  };

  while (next < arrivals.length || current || queue.length) {
    const cur = current as { w: Waiting; since: number } | null;
    const endsAt = cur ? cur.since + (cur.w.item.durationMs - cur.w.offsetMs) : Infinity;
    const arrivesAt = next < arrivals.length ? (arrivals[next] as PlayoutItem).startAt : Infinity;
    const t = Math.min(endsAt, arrivesAt);
    // Ends first, then arrivals at the same instant, then the choice: an item finishing exactly when
    // another is due is not "interrupted".
    if (cur && endsAt <= t) stop(t);
    while (next < arrivals.length && (arrivals[next] as PlayoutItem).startAt <= t) queue.push({ item: arrivals[next++] as PlayoutItem, offsetMs: 0 });
    const playing = current as { w: Waiting; since: number } | null;
    if (playing) {
      queue.sort((a, b) => before(a.item, b.item));
      const best = queue[0];
      if (best && outranks(best.item.priority, playing.w.item.priority)) {
        const stopped = stop(t);
        stopped.pendingInterruption = {
          id: stopped.item.id, at: t, byId: best.item.id, stoppedAtOffsetMs: stopped.offsetMs, resumeMode: stopped.item.resumeMode,
        };
        queue.push(stopped);
        start(takeBest() as Waiting, t);
      }
    } else {
      const best = takeBest();
      if (best) start(best, t);
    }
  }
  return plan;
}

/**
 * The priority rules of priority.ts (Circular 39/2020/TT-BTTTT, ARCHITECTURE.md § Priority) as a simulation
 * of one box: given the items due on it, what plays when, which items are interrupted, and when and from
 * which offset they come back — an interrupted item resumes where it stopped or restarts from the beginning
 * (a setting per broadcast, issue 4). Pure, over the items' nominal start times and durations.
 *
 * No production path calls it: the box arbitrates live (device-agent/src/speaker.ts and playout.ts, with the
 * same `outranks` and `pickNext`), and the server's conflict report judges pairs (server/src/scheduling/
 * conflicts.ts). It is the executable statement of the rules as a whole — what the circular says a box does
 * over time — that tests check the rules against (test/shared/playout-plan.test.ts), and the model a
 * timeline preview would use.
 */
import type { Priority, RESUME_MODES } from './api/enums.js';
import { compareContenders, outranks } from './priority.js';

/** How an interrupted item comes back (Circular 39): where it stopped, or from the beginning. */
export type ResumeMode = (typeof RESUME_MODES)[number];

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

/** Queue order (priority.ts), with the id as the last tie-breaker so that a plan is deterministic. */
function before(a: PlayoutItem, b: PlayoutItem): number {
  return compareContenders({ priority: a.priority, startAt: a.startAt, seq: a.id }, { priority: b.priority, startAt: b.startAt, seq: b.id });
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

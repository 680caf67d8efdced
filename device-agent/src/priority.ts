/**
 * Priority arbitration (Circular 39/2020/TT-BTTTT): `emergency` plays at once and interrupts anything,
 * `priority` interrupts normal items, and equal priority never interrupts. Pure, so it is tested without I/O.
 */
import type { Priority } from '@loaxa/shared';

const RANK: Record<Priority, number> = { normal: 0, priority: 1, emergency: 2 };

export function priorityRank(p: Priority): number {
  return RANK[p];
}

/** Whether an item arriving while another plays stops it. */
export function interrupts(incoming: Priority, current: Priority): boolean {
  return RANK[incoming] > RANK[current];
}

export interface Contender {
  priority: Priority;
  startAt: number;
  /** Arrival order, the last tie-breaker. */
  seq: number;
}

/** Which waiting item goes next: highest priority, then earliest start, then first come. */
export function compareContenders(a: Contender, b: Contender): number {
  return RANK[b.priority] - RANK[a.priority] || a.startAt - b.startAt || a.seq - b.seq;
}

export function pickNext<T extends Contender>(waiting: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const w of waiting) if (!best || compareContenders(w, best) < 0) best = w;
  return best;
}

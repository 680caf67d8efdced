/**
 * The priority rules of Circular 39/2020/TT-BTTTT, written once for the server and the device agent
 * (ARCHITECTURE.md § Priority): `emergency` (khẩn cấp) plays at once and interrupts anything; `priority`
 * (ưu tiên) interrupts `normal` (thông thường); equal priority never interrupts — not even two emergencies —
 * and waits its turn. Every decision the code takes on a priority goes through one of the names below rather
 * than comparing the string, so a rule read here is the rule the server and the boxes apply.
 * Pure and browser-safe: no Node module, no clock.
 */
import type { Priority } from './api/enums.js';

/** Higher interrupts lower (Circular 39): normal < priority < emergency. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { normal: 0, priority: 1, emergency: 2 };

export function priorityRank(p: Priority): number {
  return PRIORITY_RANK[p];
}

/**
 * Whether an item of priority `a` cuts off an item of priority `b` that is playing (the box's speaker, a
 * conflict report, the playout plan). Strictly higher only: equal priority never interrupts.
 */
export function outranks(a: Priority, b: Priority): boolean {
  return PRIORITY_RANK[a] > PRIORITY_RANK[b];
}

/**
 * Neither interrupts the other (Circular 39: equal priority never interrupts), so rank cannot settle which
 * of two colliding items goes first: a province `priority` offer that collides with the commune's own
 * `priority` items waits for the commune to set the order (scheduling/inbox.ts).
 */
export function sameRank(a: Priority, b: Priority): boolean {
  return PRIORITY_RANK[a] === PRIORITY_RANK[b];
}

/**
 * Plays at once: the `emergency` of Circular 39, which interrupts anything and waits for nobody. What
 * follows from it, each in one place that asks this: it goes to its target areas' topics before any per-box
 * work (the area fan-out, services/emergency-fan-out.ts) and the per-box sends run after the operator has been
 * answered (services/broadcast-service.ts); it may skip approval for the roles in LOAXA_EMERGENCY_ROLES and,
 * since nobody stands between the click and the loudspeakers, it needs a recent login (same file); an offer
 * of it airs without the commune accepting it or setting its order (scheduling/inbox.ts).
 */
export function playsAtOnce(p: Priority): boolean {
  return p === 'emergency';
}

/**
 * A province offer of this priority waits in the commune's inbox until the commune accepts it (Circular 39:
 * the commune decides when a normal item airs); `priority` and `emergency` offers air without acceptance.
 */
export function needsAcceptance(p: Priority): boolean {
  return p === 'normal';
}

/**
 * The commune may decline an offer of this priority. Circular 39 gives communes no refusal of `priority`
 * and `emergency` items: only a normal offer can be declined.
 */
export function mayBeDeclined(p: Priority): boolean {
  return p === 'normal';
}

/**
 * Order among items waiting for the speaker, without the last tie-breaker: higher priority first, then the
 * earlier scheduled start (Circular 39: the waiting item of highest rank goes next; among equals, first
 * scheduled, first served).
 */
export function queueOrder(a: { priority: Priority; startAt: number }, b: { priority: Priority; startAt: number }): number {
  return PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || a.startAt - b.startAt;
}

export interface Contender {
  priority: Priority;
  startAt: number;
  /** The last tie-breaker, so the order is total: arrival order on a box, an id in a plan. */
  seq: number | string;
}

/** Which waiting item goes next: `queueOrder`, then the lower `seq` (first come). Negative: `a` first. */
export function compareContenders(a: Contender, b: Contender): number {
  return queueOrder(a, b) || (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);
}

/** The waiting item that takes the speaker once it is free (none when nothing waits). */
export function pickNext<T extends Contender>(waiting: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const w of waiting) if (!best || compareContenders(w, best) < 0) best = w;
  return best;
}

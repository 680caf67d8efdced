/**
 * Who holds the speaker (one ALSA output, one item at a time), following Circular 39/2020/TT-BTTTT:
 * a higher priority takes it at once from a lower one, which is told to stop (`preempt`); equal or lower
 * priority waits, and waiting items go by priority, then start time, then arrival (shared/src/priority.ts).
 */
import { outranks, pickNext, type Priority } from '@loaxa/shared';

export interface SpeakerClaim {
  key: string;
  priority: Priority;
  startAt: number;
  /** Arrival order, the last tie-breaker. */
  seq: number;
  /** Aborting it leaves the queue (the claim's item was cancelled or the agent stops). */
  signal: AbortSignal;
  /** A higher-priority claim took the speaker: stop playing (the speaker is handed over once released). */
  preempt(by: SpeakerClaim): void;
}

interface Slot {
  claim: SpeakerClaim;
  released: Promise<void>;
  release: () => void;
}

interface Waiter {
  claim: SpeakerClaim;
  priority: Priority;
  startAt: number;
  seq: number;
  grant: () => void;
}

export class Speaker {
  private current: Slot | null = null;
  private waiting: Waiter[] = [];

  /** The claim holding the speaker, if any. */
  get holder(): SpeakerClaim | null {
    return this.current?.claim ?? null;
  }

  /**
   * Resolves with a release function once `claim` may use the speaker. A higher priority takes it from
   * the holder at once (after the holder has released it: no two outputs on one device). Otherwise the
   * claim waits its turn until `deadline` (epoch ms on `now`), then rejects with `timeout()`.
   */
  acquire(claim: SpeakerClaim, deadline: number, now: () => number, timeout: () => Error): Promise<() => void> {
    if (claim.signal.aborted) return Promise.reject(claim.signal.reason as Error);
    if (now() > deadline) return Promise.reject(timeout());
    const cur = this.current;
    if (!cur) return Promise.resolve(this.take(claim));
    if (outranks(claim.priority, cur.claim.priority)) {
      cur.claim.preempt(claim);
      const release = this.take(claim);
      return cur.released.then(() => release);
    }
    return new Promise((resolve, reject) => {
      const { signal } = claim;
      const leave = (err: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting = this.waiting.filter((w) => w !== waiter);
        reject(err);
      };
      const onAbort = (): void => leave(signal.reason as Error);
      const timer = setTimeout(() => leave(timeout()), Math.max(0, deadline - now()));
      const waiter: Waiter = {
        claim,
        priority: claim.priority,
        startAt: claim.startAt,
        seq: claim.seq,
        grant: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(this.take(claim));
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Takes the speaker now if it is free (sounds of the box itself); null when busy. */
  tryTake(claim: SpeakerClaim): (() => void) | null {
    return this.current ? null : this.take(claim);
  }

  private take(claim: SpeakerClaim): () => void {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slot: Slot = { claim, released, release };
    this.current = slot;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      slot.release();
      if (this.current !== slot) return; // an interrupting claim already holds the speaker
      this.current = null;
      const next = pickNext(this.waiting);
      if (next) {
        this.waiting = this.waiting.filter((w) => w !== next);
        next.grant();
      }
    };
  }
}

/**
 * Slows down password guessing: after `maxFailures` attempts for one username (or from one address)
 * within `windowMs` that did not succeed, further attempts are refused with 429 until `lockMs` has passed.
 * In memory: a restart clears it, which costs an attacker a restart of the server — acceptable for a guard,
 * not a record.
 *
 * An attempt is counted *before* its password is checked (`attempt`), and forgiven only when it succeeds
 * (`succeeded`). Counting after the slow hash let 300 logins sent at once all pass the lock check while the
 * first hashes were still running: 175 password checks against a limit of 5 (issue 13, finding 5).
 */
export interface LoginGuardOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  now?: () => number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
  /** The attempt that set the lock, and the failures counted before it: a success of that attempt undoes both. */
  lockedBy?: { at: number; failures: number[] };
}

/** One counted attempt, to hand back to `succeeded`. */
export interface Attempt {
  /** Milliseconds to wait when a key was locked (nothing was counted), else 0. */
  wait: number;
  at: number;
}

export class LoginGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: LoginGuardOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Milliseconds until `keys` may try again, or 0 when they may now. */
  retryAfter(keys: readonly string[]): number {
    const now = this.now();
    return Math.max(0, ...keys.map((k) => (this.entries.get(k)?.lockedUntil ?? 0) - now));
  }

  /**
   * Takes one attempt for `keys` before the password is checked: answers the milliseconds to wait when a
   * key is locked (and counts nothing), else counts the attempt as failed — locking the keys when it is
   * the last one allowed — and answers 0. Check and count are one synchronous step, so attempts running
   * at the same time cannot all pass a check that none of them has counted yet.
   */
  attempt(keys: readonly string[]): Attempt {
    const now = this.now();
    const wait = this.retryAfter(keys);
    if (wait > 0) return { wait, at: now };
    for (const k of keys) {
      const e = this.entries.get(k) ?? { failures: [], lockedUntil: 0 };
      e.failures = e.failures.filter((t) => now - t < this.opts.windowMs);
      e.failures.push(now);
      if (e.failures.length >= this.opts.maxFailures) {
        e.lockedUntil = now + this.opts.lockMs;
        e.lockedBy = { at: now, failures: e.failures.slice(0, -1) };
        e.failures = [];
      }
      this.entries.set(k, e);
    }
    if (this.entries.size > 100_000) this.prune(now);
    return { wait: 0, at: now };
  }

  /**
   * The attempt succeeded. The account (`keys[0]`) is forgiven whole: its earlier failures and any lock. The
   * other keys (the address) only get this attempt back: their earlier failures stand and run out with time,
   * or anyone with one valid login could reset an address's budget between guesses and spray passwords over
   * many accounts (issue 13 review).
   */
  succeeded(keys: readonly string[], attempt: Attempt): void {
    const [account, ...others] = keys;
    if (account !== undefined) this.entries.delete(account);
    for (const k of others) {
      const e = this.entries.get(k);
      if (!e) continue;
      if (e.lockedBy?.at === attempt.at) {
        e.lockedUntil = 0;
        e.failures = e.lockedBy.failures;
        delete e.lockedBy;
        continue;
      }
      const i = e.failures.lastIndexOf(attempt.at);
      if (i >= 0) e.failures.splice(i, 1);
    }
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil < now && e.failures.every((t) => now - t >= this.opts.windowMs)) this.entries.delete(k);
  }
}

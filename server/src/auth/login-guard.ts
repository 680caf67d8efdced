/**
 * Slows down password guessing: after `maxFailures` failed logins for one username (or from one address)
 * within `windowMs`, further attempts are refused with 429 until `lockMs` has passed. In memory: a restart
 * clears it, which costs an attacker a restart of the server — acceptable for a guard, not a record.
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

  failed(keys: readonly string[]): void {
    const now = this.now();
    for (const k of keys) {
      const e = this.entries.get(k) ?? { failures: [], lockedUntil: 0 };
      e.failures = e.failures.filter((t) => now - t < this.opts.windowMs);
      e.failures.push(now);
      if (e.failures.length >= this.opts.maxFailures) {
        e.lockedUntil = now + this.opts.lockMs;
        e.failures = [];
      }
      this.entries.set(k, e);
    }
    if (this.entries.size > 100_000) this.prune(now);
  }

  succeeded(keys: readonly string[]): void {
    for (const k of keys) this.entries.delete(k);
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil < now && e.failures.every((t) => now - t >= this.opts.windowMs)) this.entries.delete(k);
  }
}

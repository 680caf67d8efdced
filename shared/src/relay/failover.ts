/**
 * Which of a relay's URLs plays, decided without I/O (issue 15: "when the stream fails or is silent for
 * 10 s the box moves to the next URL …; when all fail it plays the source's fallback item …; when the
 * source returns inside the window the relay continues"). The URLs are in order of preference:
 * - a failure moves to the next URL that has not failed; none left means the fallback;
 * - a failed URL is tried again (probed, while something else plays) after a back-off that doubles with
 *   each failure in a row, so a dead source costs a 4G box little; the most preferred due URL goes first;
 * - only URLs preferred to the one playing are probed (all of them during the fallback): a probe that
 *   serves makes its URL the one playing ("returned");
 * - a URL that served steadily for `steadyMs` starts its back-off afresh when it fails, while one that
 *   fails again soon after returning keeps backing off, so a flapping source cannot make the box hop every
 *   few seconds.
 * Times are plain numbers on the caller's clock, so tests drive it with a fake one.
 */

export type FailCause = 'error' | 'silence' | 'stalled';

export interface RetryPolicy {
  /** First wait before a failed URL is tried again. */
  firstMs: number;
  /** The wait doubles per failure in a row up to this. */
  maxMs: number;
  /** Serving this long clears a URL's failure count. */
  steadyMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 5_000, maxMs: 60_000, steadyMs: 60_000 };

interface UrlState {
  /** Waiting to be tried again. */
  failed: boolean;
  /** Failures in a row, kept when it returns until it has served steadily (sets the back-off). */
  streak: number;
  /** When it may be tried again (meaningful while failed). */
  retryAt: number;
  /** When it last began serving (null: never in this relay). */
  servingSince: number | null;
}

export class FailoverPlan {
  private readonly urls: UrlState[];
  private current: number | null = 0;

  constructor(
    readonly count: number,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError('a relay needs at least one URL');
    this.urls = Array.from({ length: count }, () => ({ failed: false, streak: 0, retryAt: 0, servingSince: null }));
  }

  /** The URL playing (or being started); null while the fallback plays. */
  get active(): number | null {
    return this.current;
  }

  /** Whether URL `i` is waiting to be tried again. */
  isFailed(i: number): boolean {
    return this.urls[i]!.failed;
  }

  /** URL `i` began serving audio at `now`. */
  serving(i: number, now: number): void {
    this.urls[i]!.servingSince ??= now;
  }

  /**
   * The URL playing failed at `now`: answers the next one to play (the first healthy URL after it, then
   * before it), or null when none is left (the fallback plays).
   */
  fail(i: number, now: number): number | null {
    this.markFailed(i, now);
    if (this.current !== i) return this.current;
    for (let step = 1; step < this.count; step++) {
      const j = (i + step) % this.count;
      if (!this.urls[j]!.failed) return (this.current = j);
    }
    return (this.current = null);
  }

  /**
   * The URL to probe next and from when: among the failed URLs preferred to the one playing (all during the
   * fallback), the most preferred one already due, else the one due first. Null: nothing to probe.
   */
  nextProbe(now: number): { index: number; at: number } | null {
    const limit = this.current ?? this.count;
    let best: { index: number; at: number } | null = null;
    for (let j = 0; j < limit; j++) {
      const u = this.urls[j]!;
      if (!u.failed) continue;
      if (u.retryAt <= now) return { index: j, at: u.retryAt };
      if (!best || u.retryAt < best.at) best = { index: j, at: u.retryAt };
    }
    return best;
  }

  /** A probe of URL `j` failed (error, stall, only silence): it waits longer before the next try. */
  probeFailed(j: number, now: number): void {
    this.markFailed(j, now);
  }

  /** A probe of URL `j` served audio: it plays from now on ("returned"). */
  returned(j: number, now: number): void {
    const u = this.urls[j]!;
    u.failed = false;
    u.servingSince = now;
    this.current = j;
  }

  private markFailed(i: number, now: number): void {
    const u = this.urls[i]!;
    // A flapping source (fails again soon after serving) keeps its streak, hence its long back-off.
    if (u.servingSince !== null && now - u.servingSince >= this.retry.steadyMs) u.streak = 0;
    u.streak += 1;
    u.failed = true;
    u.servingSince = null;
    u.retryAt = now + Math.min(this.retry.maxMs, this.retry.firstMs * 2 ** (u.streak - 1));
  }
}

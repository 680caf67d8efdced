/**
 * A hand-moved clock for code that takes a `now: () => number` option (and, where it waits, a `schedule`
 * or `sleep` option): a test advances it instead of sleeping, so instants that must differ (or a window
 * that must pass) do so exactly and at once, and a timer fires only when the test says its time has come.
 */
export interface FakeClock {
  now: () => number;
  /**
   * Moves the clock forward by `ms` and answers the new time. Timers due by then fire in order, each at
   * its own instant, synchronously; what a resolved `sleep` continues with runs once the test awaits.
   */
  advance(ms: number): number;
  /** Calls `fn` once the clock has been advanced `ms` from now; answers a function that cancels it. */
  schedule: (fn: () => void, ms: number) => () => void;
  /** Resolves once the clock has been advanced `ms` from now; rejects with the signal's reason if it aborts first. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Timers (and sleeps) not yet fired or cancelled. */
  pending(): number;
}

export function fakeClock(start = Date.now()): FakeClock {
  let at = start;
  let seq = 0;
  const timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  const schedule = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: at + Math.max(0, ms), seq: seq++, fn };
    timers.push(timer);
    return () => {
      const i = timers.indexOf(timer);
      if (i >= 0) timers.splice(i, 1);
    };
  };
  return {
    now: () => at,
    advance(ms) {
      const until = at + ms;
      for (;;) {
        // The earliest due timer (first scheduled among equals); a timer may schedule another.
        let next: (typeof timers)[number] | undefined;
        for (const tm of timers) if (tm.at <= until && (!next || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq))) next = tm;
        if (!next) break;
        timers.splice(timers.indexOf(next), 1);
        at = Math.max(at, next.at);
        next.fn();
      }
      at = until;
      return at;
    },
    schedule,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        const onAbort = (): void => {
          cancel();
          reject(signal!.reason as Error);
        };
        const cancel = schedule(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    pending: () => timers.length,
  };
}

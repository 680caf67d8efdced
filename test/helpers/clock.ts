/**
 * A hand-moved clock for code that takes a `now: () => number` option: a test advances it instead of
 * sleeping, so instants that must differ (or a window that must pass) do so exactly and at once.
 */
export interface FakeClock {
  now: () => number;
  /** Moves the clock forward by `ms` and answers the new time. */
  advance(ms: number): number;
}

export function fakeClock(start = Date.now()): FakeClock {
  let at = start;
  return {
    now: () => at,
    advance: (ms) => (at += ms),
  };
}

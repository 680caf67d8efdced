/** Small time helpers shared by the agent's components. */
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  /** Epoch milliseconds on the device's clock. */
  now(): number;
  /**
   * Resolves once `ms` have passed on this clock; rejects when `signal` aborts. Absent (the system clock):
   * real timers. A test's fake clock has one, so that waits it checks pass when the test advances it.
   */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Node timers overflow beyond 2^31-1 ms; long waits are taken in slices (which also follow clock steps). */
const MAX_SLICE_MS = 3_600_000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

/** Waits until `at` on `clock`; rejects when `signal` aborts. */
export async function sleepUntil(clock: Clock, at: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  for (let left = at - clock.now(); left > 0; left = at - clock.now()) {
    const slice = Math.min(left, MAX_SLICE_MS);
    await (clock.sleep ? clock.sleep(slice, signal) : sleep(slice, signal));
  }
}

/**
 * Calls `fn` once `ms` have passed on `clock` and answers a function that cancels it: a plain timer for the
 * system clock, the clock's own `sleep` when it has one.
 */
export function after(clock: Clock, ms: number, fn: () => void): () => void {
  if (!clock.sleep) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  }
  const cancelled = new AbortController();
  clock.sleep(Math.max(0, ms), cancelled.signal).then(fn, () => undefined);
  return () => cancelled.abort();
}

/** `base` ± `fraction` (0.1 → ±10 %), so a fleet started together does not act in step. */
export function jitter(base: number, fraction: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(base * (1 - fraction + 2 * fraction * random())));
}

/** Settles like `promise`, or rejects as soon as `signal` aborts (the promise itself keeps running). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

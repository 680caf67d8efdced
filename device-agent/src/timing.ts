/** Small time helpers shared by the agent's components. */
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  /** Epoch milliseconds on the device's clock. */
  now(): number;
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
    await sleep(Math.min(left, MAX_SLICE_MS), signal);
  }
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

// Bounded parallelism. Cloud providers rate-limit per key, and each worker thread runs one job at a time,
// so "as many as possible" is never the right number of requests in flight.

/** A counting semaphore: at most `max` run() bodies execute at once; the rest wait in FIFO order. */
export class Limiter {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/**
 * Maps with at most `limit` calls in flight; results keep the input order. The first failure stops new
 * calls from starting and is what the returned promise rejects with (calls already running finish).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/**
 * A budget of `capacity` units shared by weight: a run takes `weight` units (at most the whole budget) and
 * waits until they are free. A run that fits starts even when a heavier one waits before it, so a short
 * bulletin is never stuck behind a long one (a heavy run can be delayed by a steady stream of light ones;
 * with minutes of audio as the unit, that stream would be an installation rendering nothing else).
 */
export class WeightedLimiter {
  #free: number;
  readonly #waiting: Array<{ weight: number; start: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`capacity must be positive, got ${capacity}`);
    this.#free = capacity;
  }

  /** Units not taken by running bodies. */
  get free(): number {
    return this.#free;
  }

  async run<T>(weight: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const w = Math.min(this.capacity, Math.max(0, weight));
    signal?.throwIfAborted();
    if (w <= this.#free && this.#waiting.length === 0) this.#free -= w;
    else {
      // The units are taken by #drain before `start` runs, so nobody can slip in between.
      await new Promise<void>((resolve, reject) => {
        const entry = {
          weight: w,
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const i = this.#waiting.indexOf(entry);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(entry);
        this.#drain();
      });
    }
    try {
      return await fn();
    } finally {
      this.#free += w;
      this.#drain();
    }
  }

  #drain(): void {
    for (let i = 0; i < this.#waiting.length; ) {
      const entry = this.#waiting[i]!;
      if (entry.weight <= this.#free) {
        this.#waiting.splice(i, 1);
        this.#free -= entry.weight;
        entry.start();
      } else i++;
    }
  }
}

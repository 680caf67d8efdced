// Tries engines in the configured order: a cloud voice first, say, and the embedded eSpeak when the cloud
// fails, rate-limits or is slow. A bulletin must go out during a storm even if the provider is down, so
// every engine gets a time limit and the last resort is normally the local one.
//
// The audio records which engine made it (Pcm.engine), so the bulletin can say "espeak-ng" instead of
// pretending the cloud voice read it. An engine that failed is put at the back of the order for
// `cooldownMs` (or as long as its Retry-After asks), so the rest of a bulletin does not wait on a dead
// provider sentence by sentence, and fewer sentences of one bulletin switch voices.

import { TtsError, TtsRateLimitError, TtsTimeoutError } from './tts-errors.js';
import type { Pcm, SynthesisRequest, TtsEngine } from './tts-engine.js';

export interface FallbackEntry {
  engine: TtsEngine;
  /** Overrides FallbackEngineOptions.timeoutMs for this engine. */
  timeoutMs?: number;
}

export interface FallbackEngineOptions {
  /** Per engine and chunk; past it the next engine is tried. Default 30 s. */
  timeoutMs?: number;
  /** How long a failed engine goes to the back of the order. Default 60 s; 0 turns it off. */
  cooldownMs?: number;
  /** Told whenever an engine fails and the next one is tried (for the log). */
  onFallback?: (event: { failed: string; next: string; error: Error }) => void;
  /** The clock cooldowns are measured on (epoch ms); tests pass a fake one. Default Date.now. */
  now?: () => number;
}

interface Entry {
  engine: TtsEngine;
  timeoutMs: number;
  coolUntil: number;
}

export class FallbackEngine implements TtsEngine {
  readonly name: string;
  readonly cacheKey: string;
  readonly concurrency: number;
  readonly #entries: Entry[];
  readonly #cooldownMs: number;
  readonly #onFallback: FallbackEngineOptions['onFallback'];
  readonly #now: () => number;

  constructor(engines: ReadonlyArray<TtsEngine | FallbackEntry>, opts: FallbackEngineOptions = {}) {
    if (engines.length === 0) throw new Error('FallbackEngine needs at least one engine');
    const timeoutMs = opts.timeoutMs ?? 30_000;
    this.#entries = engines.map((e) => ('engine' in e ? { engine: e.engine, timeoutMs: e.timeoutMs ?? timeoutMs, coolUntil: 0 } : { engine: e, timeoutMs, coolUntil: 0 }));
    this.#cooldownMs = opts.cooldownMs ?? 60_000;
    this.#onFallback = opts.onFallback;
    this.#now = opts.now ?? Date.now;
    this.name = this.#entries.map((e) => e.engine.name).join('>');
    this.cacheKey = this.#entries.map((e) => e.engine.cacheKey ?? e.engine.name).join('>');
    // Sized for the preferred engine; when it is down, extra chunks queue inside the fallback engine.
    this.concurrency = this.#entries[0]!.engine.concurrency ?? 1;
  }

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    const errors: Error[] = [];
    const order = this.#order();
    for (const [i, entry] of order.entries()) {
      req.signal?.throwIfAborted();
      try {
        const pcm = await attempt(entry, req);
        entry.coolUntil = 0;
        const preferred = entry === this.#entries[0];
        return { ...pcm, engine: pcm.engine ?? entry.engine.name, fallback: !preferred || pcm.fallback === true };
      } catch (err) {
        if (req.signal?.aborted) throw err; // the caller gave up: no fallback, no blame on the engine
        const error = err instanceof Error ? err : new Error(String(err));
        errors.push(error);
        this.#coolDown(entry, error);
        const next = order[i + 1];
        if (next) this.#onFallback?.({ failed: entry.engine.name, next: next.engine.name, error });
      }
    }
    throw new AggregateError(errors, `every TTS engine failed: ${errors.map((e) => e.message).join('; ')}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.#entries.map(async (e) => e.engine.close?.()));
  }

  /** Configured order, except that engines cooling down after a failure go last (still tried, in order). */
  #order(): Entry[] {
    const now = this.#now();
    return [...this.#entries.filter((e) => e.coolUntil <= now), ...this.#entries.filter((e) => e.coolUntil > now)];
  }

  #coolDown(entry: Entry, error: Error): void {
    // A request this engine cannot serve (an unmapped voice, a speed outside its range) says nothing about
    // its health; the next sentence may be fine.
    if (error instanceof TtsError && error.kind === 'unsupported') return;
    const retryAfter = error instanceof TtsRateLimitError ? (error.retryAfterMs ?? 0) : 0;
    const wait = Math.max(this.#cooldownMs, retryAfter);
    if (wait > 0) entry.coolUntil = this.#now() + wait;
  }
}

/**
 * Runs one engine under its time limit. The engine gets an abort signal, but is not trusted to honour it:
 * the race guarantees we move on at the deadline even if the engine's promise never settles.
 */
async function attempt(entry: Entry, req: SynthesisRequest): Promise<Pcm> {
  const ac = new AbortController();
  const onCallerAbort = () => ac.abort(req.signal!.reason);
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(
    () => ac.abort(new TtsTimeoutError(entry.engine.name, `no audio within ${entry.timeoutMs} ms`)),
    entry.timeoutMs,
  );
  const gaveUp = new Promise<never>((_, reject) => {
    ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
  });
  const work = entry.engine.synthesize({ ...req, signal: ac.signal });
  work.catch(() => {}); // it may still reject after we gave up on it
  try {
    return await Promise.race([work, gaveUp]);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  }
}

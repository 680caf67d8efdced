/**
 * Getting an item's audio into the cache before it airs: a cache hit, or downloads with exponential
 * backoff (jittered, so a fleet retrying after an outage does not hit the server in step) until the
 * item's window would close — then it is missed, with the last download error as the reason.
 */
import type { Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import { DownloadError, HashMismatchError, type MediaCache } from './media-cache.js';
import { abortable, jitter, sleep, type Clock } from './timing.js';

/** The item cannot start within its window. */
export class MissedError extends Error {
  override name = 'MissedError';
}

const MAX_RETRY_MS = 30_000;

/** A play's file: the item itself, or a relay's fallback (issue 15), fetched the same way before air time. */
export type MediaRef = NonNullable<Payload<'play'>['media']>;

export async function obtainMedia(
  media: MediaRef,
  deadline: number,
  signal: AbortSignal,
  deps: { cache: MediaCache; clock: Clock; logger: Logger; downloadRetryMs: () => number },
): Promise<string> {
  const { sha256, url, bytes } = media;
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const hit = await deps.cache.lookup(sha256);
    if (hit) return hit;
    try {
      return await abortable(deps.cache.fetchOnce(sha256, url, bytes), signal);
    } catch (err) {
      if (signal.aborted || err instanceof HashMismatchError || (err instanceof DownloadError && err.permanent)) throw err;
      const wait = jitter(Math.min(deps.downloadRetryMs() * 2 ** attempt, MAX_RETRY_MS), 0.2);
      const message = err instanceof Error ? err.message : String(err);
      if (deps.clock.now() + wait > deadline) throw new MissedError(`not cached before the end of its window: ${message}`);
      deps.logger.warn({ sha256, attempt, retryInMs: wait, err: message }, 'download failed; retrying');
      await sleep(wait, signal);
    }
  }
}

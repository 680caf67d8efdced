/**
 * Fetching a programme's files before air time (issue 15: "the box pre-fetches every file of a programme"):
 * a few at a time, each like a single item's audio (obtain-media.ts: the cache, then downloads with back-off),
 * all given up at `until` — a file not had by then costs only its own item, never the programme.
 */
import { ErrorCode } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { MediaCache } from './media-cache.js';
import { MissedError, obtainMedia, type MediaRef } from './obtain-media.js';
import { after, type Clock } from './timing.js';

/** Files fetched at once: quick, without one box taking a cell's whole uplink. */
const FETCH_CONCURRENCY = 3;

export interface FetchedFiles {
  /** sha256 → the file in the cache. */
  files: Map<string, string>;
  /** sha256 → why it could not be had (with the error code when there is one). */
  errors: Map<string, string>;
}

/**
 * Fetches every distinct file of `media` until `until` (device clock). Rejects only when `signal` aborts (the
 * delivery was cancelled, withdrawn or the agent stops); a file that fails is answered in `errors`.
 */
export async function fetchFiles(
  media: readonly MediaRef[],
  until: number,
  signal: AbortSignal,
  deps: { cache: MediaCache; clock: Clock; logger: Logger; downloadRetryMs: () => number },
): Promise<FetchedFiles> {
  const queue = [...new Map(media.map((m) => [m.sha256, m])).values()];
  const files = new Map<string, string>();
  const errors = new Map<string, string>();
  // Downloads still running at `until` are given up: once the programme airs, its items wait for nothing.
  const cut = new AbortController();
  const cancelCut = after(deps.clock, Math.max(0, until - deps.clock.now()), () => cut.abort(new MissedError('not cached by the start of the programme')));
  const both = AbortSignal.any([signal, cut.signal]);
  const worker = async (): Promise<void> => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      try {
        files.set(m.sha256, await obtainMedia(m, until, both, deps));
      } catch (err) {
        if (signal.aborted) throw err;
        // Reported as the item's reason: with the error's own code (a hash mismatch…), else a download failure.
        const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : ErrorCode.DOWNLOAD_FAILED;
        errors.set(m.sha256, `${code}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, worker));
  } finally {
    cancelCut();
  }
  return { files, errors };
}

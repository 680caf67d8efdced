/**
 * Where live delivery states come from, behind one interface the view subscribes to:
 * - `sseFeed`: the detail once, then each `delivery` event of `GET /api/v1/events?broadcast=<id>` folded
 *   into it (a full re-read every 30 s and whenever an event names something the detail lacks);
 * - `pollingFeed`: `GET /api/v1/broadcasts/{id}` every 2 s, used when EventSource is missing or the stream fails.
 * The SSE stream also carries `relay` events (issue 15: which URL each box relays now), handed to `onRelay`;
 * polling has none (the relay report on the page is re-read instead). Likewise `programme-item` events (issue
 * 15: which item of a programme each box is at), handed to `onProgrammeItem`.
 *
 * When the server cannot be reached (the stream drops, a read fails on the network or times out, a proxy answers
 * 502–504), `onError` gets a `ServerUnreachable` carrying when the outage began, and gets it again on each
 * later failure with the same start; the next good read (`onUpdate`) ends it. Issue 20, broken 4: the page
 * kept showing "Đang phát" with no warning while the server was down, since EventSource retries silently and
 * only the 30 s re-read could notice.
 */
import { ApiFailure, type ApiClient } from '../../api/client.js';
import type { BroadcastDetail, DeliveryEvent, ProgrammeItemEvent, RelayEvent } from '../../api/types.js';
import { applyDeliveryEvent } from '../../logic/deliveries.js';

export interface BroadcastFeed {
  /** Calls `onUpdate` with the whole current detail whenever it changes; answers the unsubscribe. */
  subscribe(
    id: string,
    onUpdate: (detail: BroadcastDetail, at: Date) => void,
    onError: (err: unknown) => void,
    onRelay?: (e: RelayEvent) => void,
    onProgrammeItem?: (e: ProgrammeItemEvent) => void,
  ): () => void;
}

/** The server did not answer; `since` is when this outage began (what the page had is from before then). */
export class ServerUnreachable extends Error {
  constructor(readonly since: Date) {
    super('server unreachable');
    this.name = 'ServerUnreachable';
  }
}

/** How often a broadcast waiting for approval is re-read (SSE carries deliveries, not decisions). */
const WAITING_RESYNC_MS = 5_000;
/** A read gives up after this long: a silent network drops nothing, it just never answers. */
const READ_TIMEOUT_MS = 10_000;

/** Whether a failed read means the server is out of reach, rather than an answer (403, 404, …) from it. */
function unreachable(err: unknown): boolean {
  if (err instanceof ApiFailure) return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504;
  const name = (err as Error | null)?.name;
  return name === 'TimeoutError' || name === 'TypeError';
}

/** Tracks one outage: reports it with its start until `ok()` ends it; other errors pass through. */
function outage(onError: (err: unknown) => void) {
  let since: Date | null = null;
  return {
    ok() {
      since = null;
    },
    lost() {
      since ??= new Date();
      onError(new ServerUnreachable(since));
    },
    failed(err: unknown) {
      if (unreachable(err)) this.lost();
      else onError(err);
    },
  };
}

/**
 * A read of the broadcast that gives up after READ_TIMEOUT_MS (a `TimeoutError`) or when `stop` aborts it
 * (an `AbortError`). By hand, not AbortSignal.any: older phone browsers lack it.
 */
async function readWithTimeout(api: ApiClient, id: string, stop: AbortSignal): Promise<BroadcastDetail> {
  const ctl = new AbortController();
  let timedOut = false;
  const onStop = () => ctl.abort();
  stop.addEventListener('abort', onStop);
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, READ_TIMEOUT_MS);
  try {
    return await api.broadcast(id, ctl.signal);
  } catch (err) {
    if (timedOut) throw Object.assign(new Error('read timed out'), { name: 'TimeoutError' });
    throw err;
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

export function pollingFeed(api: ApiClient, intervalMs = 2000): BroadcastFeed {
  return {
    subscribe(id, onUpdate, onError) {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ctl = new AbortController();
      const out = outage(onError);
      const tick = async () => {
        try {
          const detail = await readWithTimeout(api, id, ctl.signal);
          out.ok();
          if (!stopped) onUpdate(detail, new Date());
        } catch (err) {
          if (!stopped && (err as Error).name !== 'AbortError') out.failed(err);
        }
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      };
      void tick();
      return () => {
        stopped = true;
        clearTimeout(timer);
        ctl.abort();
      };
    },
  };
}

export function sseFeed(api: ApiClient, opts: { resyncMs?: number; fallback?: BroadcastFeed } = {}): BroadcastFeed {
  const resyncMs = opts.resyncMs ?? 30_000;
  return {
    subscribe(id, onUpdate, onError, onRelay, onProgrammeItem) {
      let stopped = false;
      let detail: BroadcastDetail | null = null;
      let pending: DeliveryEvent[] = [];
      let fallbackStop: (() => void) | null = null;
      let loading = false;
      const ctl = new AbortController();
      const out = outage(onError);
      const refetch = async () => {
        if (loading || stopped) return;
        loading = true;
        try {
          const fresh = await readWithTimeout(api, id, ctl.signal);
          if (stopped) return;
          out.ok();
          detail = fresh;
          const queued = pending;
          pending = [];
          for (const e of queued) {
            const r = applyDeliveryEvent(detail, e);
            if (r.kind === 'updated') detail = r.detail;
          }
          onUpdate(detail, new Date());
        } catch (err) {
          if (!stopped && (err as Error).name !== 'AbortError') out.failed(err);
        } finally {
          loading = false;
        }
      };
      const source = new EventSource(`/api/v1/events?broadcast=${encodeURIComponent(id)}`);
      source.addEventListener('delivery', (msg) => {
        const e = JSON.parse((msg as MessageEvent<string>).data) as DeliveryEvent;
        if (!detail || loading) {
          pending.push(e);
          return;
        }
        const r = applyDeliveryEvent(detail, e);
        if (r.kind === 'updated') {
          detail = r.detail;
          onUpdate(detail, new Date());
        } else if (r.kind === 'refetch') {
          pending.push(e);
          void refetch();
        }
      });
      source.addEventListener('relay', (msg) => {
        if (!stopped) onRelay?.(JSON.parse((msg as MessageEvent<string>).data) as RelayEvent);
      });
      source.addEventListener('programme-item', (msg) => {
        if (!stopped) onProgrammeItem?.(JSON.parse((msg as MessageEvent<string>).data) as ProgrammeItemEvent);
      });
      source.addEventListener('open', () => void refetch());
      source.addEventListener('error', () => {
        if (stopped) return;
        // The stream dropped: no event reaches the page until it is back, so what it shows may be old. Say so
        // now; the read at 'open' (EventSource reconnects by itself) ends it.
        if (source.readyState !== EventSource.OPEN) out.lost();
        // If the stream is refused outright, poll instead.
        if (source.readyState === EventSource.CLOSED && !fallbackStop) {
          fallbackStop = (opts.fallback ?? pollingFeed(api)).subscribe(id, onUpdate, onError);
        }
      });
      // A broadcast waiting for its approver changes by a decision, which no delivery event announces: it is
      // re-read every few seconds so the page shows the decision soon after it is made (issue 20, broken 7).
      let lastRead = Date.now();
      const tickMs = Math.min(resyncMs, WAITING_RESYNC_MS);
      const resync = setInterval(() => {
        const due = detail?.status === 'submitted' ? tickMs : resyncMs;
        if (Date.now() - lastRead < due - 50) return;
        lastRead = Date.now();
        void refetch();
      }, tickMs);
      void refetch();
      return () => {
        stopped = true;
        source.close();
        ctl.abort();
        clearInterval(resync);
        fallbackStop?.();
      };
    },
  };
}

/** SSE where the browser has EventSource, else polling every 2 s. */
export function defaultFeed(api: ApiClient): BroadcastFeed {
  return typeof EventSource === 'function' ? sseFeed(api) : pollingFeed(api, 2000);
}

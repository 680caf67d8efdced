/**
 * Where live delivery states come from, behind one interface the view subscribes to:
 * - `sseFeed`: the detail once, then each `delivery` event of `GET /api/v1/events?broadcast=<id>` folded
 *   into it (a full re-read every 30 s and whenever an event names something the detail lacks);
 * - `pollingFeed`: `GET /api/v1/broadcasts/{id}` every 2 s, used when EventSource is missing or the stream fails.
 * The SSE stream also carries `relay` events (issue 15: which URL each box relays now), handed to `onRelay`;
 * polling has none (the relay report on the page is re-read instead). Likewise `programme-item` events (issue
 * 15: which item of a programme each box is at), handed to `onProgrammeItem`.
 */
import type { ApiClient } from '../../api/client.js';
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

export function pollingFeed(api: ApiClient, intervalMs = 2000): BroadcastFeed {
  return {
    subscribe(id, onUpdate, onError) {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let ctl: AbortController | null = null;
      const tick = async () => {
        ctl = new AbortController();
        try {
          const detail = await api.broadcast(id, ctl.signal);
          if (!stopped) onUpdate(detail, new Date());
        } catch (err) {
          if (!stopped && (err as Error).name !== 'AbortError') onError(err);
        }
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      };
      void tick();
      return () => {
        stopped = true;
        clearTimeout(timer);
        ctl?.abort();
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
      const refetch = async () => {
        if (loading || stopped) return;
        loading = true;
        try {
          const fresh = await api.broadcast(id);
          if (stopped) return;
          detail = fresh;
          const queued = pending;
          pending = [];
          for (const e of queued) {
            const r = applyDeliveryEvent(detail, e);
            if (r.kind === 'updated') detail = r.detail;
          }
          onUpdate(detail, new Date());
        } catch (err) {
          if (!stopped) onError(err);
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
        // EventSource reconnects by itself; if the stream is refused outright, poll instead.
        if (source.readyState === EventSource.CLOSED && !fallbackStop && !stopped) {
          fallbackStop = (opts.fallback ?? pollingFeed(api)).subscribe(id, onUpdate, onError);
        }
      });
      const resync = setInterval(() => void refetch(), resyncMs);
      void refetch();
      return () => {
        stopped = true;
        source.close();
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

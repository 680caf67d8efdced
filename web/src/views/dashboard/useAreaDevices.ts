/**
 * All devices of an area for the map, read page by page (1,000 a page), started only once `ready` (the
 * coverage is on screen) so the map's pages never delay the numbers people came for.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../../api/client.js';
import type { Device } from '../../api/types.js';

export interface AreaDevices {
  devices: Device[];
  total: number;
  loading: boolean;
  error: unknown;
}

export function useAreaDevices(api: ApiClient, area: string | null, ready: boolean, delayMs = 50): AreaDevices {
  const [state, setState] = useState<AreaDevices>({ devices: [], total: 0, loading: true, error: null });
  useEffect(() => {
    if (!area || !ready) return;
    const ctl = new AbortController();
    setState({ devices: [], total: 0, loading: true, error: null });
    const timer = setTimeout(async () => {
      let all: Device[] = [];
      let cursor: string | null = null;
      try {
        do {
          const page = await api.devices({ area, limit: 1000, cursor }, ctl.signal);
          all = all.concat(page.items);
          cursor = page.next;
          if (!ctl.signal.aborted) setState({ devices: all, total: page.total, loading: cursor !== null, error: null });
        } while (cursor && !ctl.signal.aborted);
      } catch (error) {
        if (!ctl.signal.aborted) setState((s) => ({ ...s, loading: false, error }));
      }
    }, delayMs);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [area, ready]);
  return state;
}

/**
 * Bulletins a source may fall back to: ready, with audio, not a relay. The API has no list of bulletins, so
 * the candidates are those of the caller's recent broadcasts (approved and submitted, newest first), read one
 * by one — at most MAX of them; the current fallback is always among them.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../../api/client.js';

const PER_STATUS = 100;
const MAX = 40;

export interface ReadyBulletin {
  id: string;
  title: string;
  durationMs: number;
}

export function useReadyBulletins(api: ApiClient, current: string | null): ReadyBulletin[] | null {
  const [items, setItems] = useState<ReadyBulletin[] | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const pages = await Promise.all((['approved', 'submitted'] as const).map((s) => api.broadcasts(s, { limit: PER_STATUS }).then((p) => p.items, () => [])));
      const ids = [...new Set([...(current ? [current] : []), ...pages.flat().map((b) => b.bulletinId)])].slice(0, MAX);
      const found = await Promise.all(ids.map((id) => api.bulletin(id).then((b) => b, () => null)));
      const ready = found.flatMap((b) => (b && b.status === 'ready' && b.audio && !b.relay ? [{ id: b.id, title: b.title, durationMs: b.audio.durationMs }] : []));
      if (live) setItems(ready);
    })().catch(() => live && setItems([]));
    return () => {
      live = false;
    };
  }, [current]);
  return items;
}

/**
 * Bulletins a source may fall back to: ready, with audio, not a relay nor a programme — the newest of the
 * user's area (`GET /api/v1/bulletins?status=ready&source=text,recording`), and the current fallback always
 * among them.
 */
import { useEffect, useState } from 'preact/hooks';
import { readAll, type ApiClient } from '../../api/client.js';

const MAX = 300;

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
      const listed = await readAll((cursor) => api.bulletins({ status: 'ready', source: 'text,recording', limit: 100, cursor }), MAX);
      const extra = current && !listed.some((b) => b.id === current) ? [await api.bulletin(current).then((b) => b, () => null)] : [];
      const ready = [...listed, ...extra].flatMap((b) => (b && b.status === 'ready' && b.audio && b.source !== 'relay' && b.source !== 'programme' ? [{ id: b.id, title: b.title, durationMs: b.audio.durationMs }] : []));
      if (live) setItems(ready);
    })().catch(() => live && setItems([]));
    return () => {
      live = false;
    };
  }, [current]);
  return items;
}

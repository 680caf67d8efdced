/**
 * What a programme's items may name: ready bulletins (speech or uploaded recordings, never a relay or another
 * programme) and the live sources usable in the user's area with their status. The API has no list of
 * bulletins, so the candidates are those of the caller's recent broadcasts (as the source form's fallback
 * picker finds them, views/sources/useReadyBulletins.ts) plus those the programme already names, so an
 * edited programme always shows its own items.
 */
import { useEffect, useState } from 'preact/hooks';
import { readAll, type ApiClient } from '../../api/client.js';
import type { Source } from '../../api/types.js';

const PER_STATUS = 100;
const MAX = 60;

export interface PickableBulletin {
  id: string;
  title: string;
  durationMs: number;
  /** An uploaded recording (music, a jingle) rather than synthesized speech. */
  recording: boolean;
}

export function usePickableBulletins(api: ApiClient, named: readonly string[]): PickableBulletin[] | null {
  const [items, setItems] = useState<PickableBulletin[] | null>(null);
  const key = [...new Set(named)].sort().join(',');
  useEffect(() => {
    let live = true;
    (async () => {
      const pages = await Promise.all((['approved', 'submitted'] as const).map((s) => api.broadcasts(s, { limit: PER_STATUS }).then((p) => p.items, () => [])));
      const ids = [...new Set([...(key ? key.split(',') : []), ...pages.flat().map((b) => b.bulletinId)])].slice(0, MAX);
      const found = await Promise.all(ids.map((id) => api.bulletin(id).then((b) => b, () => null)));
      const ready = found.flatMap((b) => (b && b.status === 'ready' && b.audio && !b.relay && !b.programme ? [{ id: b.id, title: b.title, durationMs: b.audio.durationMs, recording: b.audio.engine === 'recording' }] : []));
      if (live) setItems(ready.sort((a, b) => a.title.localeCompare(b.title, 'vi')));
    })().catch(() => live && setItems([]));
    return () => {
      live = false;
    };
  }, [key]);
  return items;
}

export function useSources(api: ApiClient): Source[] | null {
  const [items, setItems] = useState<Source[] | null>(null);
  useEffect(() => {
    let live = true;
    readAll((cursor) => api.sources({ limit: 200, cursor }), 2000).then(
      (s) => live && setItems(s),
      () => live && setItems([]),
    );
    return () => {
      live = false;
    };
  }, []);
  return items;
}

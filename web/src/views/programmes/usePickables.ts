/**
 * What a programme's items may name: ready bulletins with audio (speech or uploaded recordings, never a relay
 * or another programme: `GET /api/v1/bulletins?status=ready&source=text,recording`, newest first) and the live
 * sources usable in the user's area with their status. Those the programme already names are read too, so an
 * edited programme always shows its own items even when they are older than the list reaches.
 */
import { useEffect, useState } from 'preact/hooks';
import { readAll, type ApiClient } from '../../api/client.js';
import type { Bulletin, Source } from '../../api/types.js';

/** The newest this many: enough to pick from on a phone; older ones are named by the programme or searched. */
const MAX = 300;

export interface PickableBulletin {
  id: string;
  title: string;
  durationMs: number;
  /** An uploaded recording (music, a jingle) rather than synthesized speech. */
  recording: boolean;
}

const pickable = (b: Bulletin | null): PickableBulletin[] =>
  b && b.status === 'ready' && b.audio && (b.source === 'text' || b.source === 'recording') ? [{ id: b.id, title: b.title, durationMs: b.audio.durationMs, recording: b.source === 'recording' }] : [];

export function usePickableBulletins(api: ApiClient, named: readonly string[]): PickableBulletin[] | null {
  const [items, setItems] = useState<PickableBulletin[] | null>(null);
  const key = [...new Set(named)].sort().join(',');
  useEffect(() => {
    let live = true;
    (async () => {
      const listed = await readAll((cursor) => api.bulletins({ status: 'ready', source: 'text,recording', limit: 100, cursor }), MAX);
      const have = new Set(listed.map((b) => b.id));
      const missing = (key ? key.split(',') : []).filter((id) => !have.has(id));
      const extra = await Promise.all(missing.map((id) => api.bulletin(id).then((b) => b, () => null)));
      const ready = [...listed, ...extra].flatMap(pickable);
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

/** Names looked up one id at a time (bulletin titles, device names), fetched once and kept for the session. */
import { useEffect, useState } from 'preact/hooks';

const caches = new Map<string, Map<string, string>>();

export function useLookup(kind: string, ids: readonly string[], fetchOne: (id: string) => Promise<string>): Map<string, string> {
  let cache = caches.get(kind);
  if (!cache) caches.set(kind, (cache = new Map()));
  const [, bump] = useState(0);
  const key = ids.join(',');
  useEffect(() => {
    const c = cache;
    const queue = [...new Set(ids)].filter((id) => !c.has(id));
    if (!queue.length) return;
    let live = true;
    const worker = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        try {
          c.set(id, await fetchOne(id));
        } catch {
          c.set(id, id);
        }
      }
    };
    void Promise.all(Array.from({ length: 6 }, worker)).then(() => live && bump((n) => n + 1));
    return () => {
      live = false;
    };
  }, [kind, key]);
  return cache;
}

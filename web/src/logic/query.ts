/** A page's filters in a query string (issue 20, search and filters), apart from the hook that keeps them in the address (app/url-state.ts). */
export type QueryState<K extends string> = Record<K, string>;

/** The values of `keys` in a query string; missing ones are ''. */
export function readQuery<K extends string>(keys: readonly K[], search: string): QueryState<K> {
  const params = new URLSearchParams(search);
  return Object.fromEntries(keys.map((k) => [k, params.get(k)?.trim() ?? ''])) as QueryState<K>;
}

/** The query string of `state` over `search` (other keys kept), without a leading `?`. */
export function writeQuery<K extends string>(state: QueryState<K>, search: string): string {
  const params = new URLSearchParams(search);
  for (const [k, v] of Object.entries(state) as [K, string][]) {
    if (v) params.set(k, v);
    else params.delete(k);
  }
  return params.toString();
}

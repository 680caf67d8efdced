/**
 * Filters kept in the address (issue 20, search and filters: "a link reopens the same search"): each page
 * names its keys; values are read from `location.search` when the page opens and written back with
 * `history.replaceState` as they change (typing a word is not a step for the back button). Keys a page does
 * not name, and empty values, are left out of the address.
 */
import { useState } from 'preact/hooks';

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

export function useQueryState<K extends string>(keys: readonly K[]): [QueryState<K>, (patch: Partial<QueryState<K>>) => void] {
  const [state, setState] = useState<QueryState<K>>(() => readQuery(keys, location.search));
  const update = (patch: Partial<QueryState<K>>) =>
    setState((cur) => {
      const next = { ...cur, ...patch };
      const query = writeQuery(next, location.search);
      history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
      return next;
    });
  return [state, update];
}

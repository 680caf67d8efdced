/**
 * Filters kept in the address (issue 20, search and filters: "a link reopens the same search"): each page
 * names its keys; values are read from `location.search` when the page opens and written back with
 * `history.replaceState` as they change (typing a word is not a step for the back button). Keys a page does
 * not name, and empty values, are left out of the address.
 */
import { useState } from 'preact/hooks';
import { readQuery, writeQuery, type QueryState } from '../logic/query.js';

export type { QueryState } from '../logic/query.js';

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

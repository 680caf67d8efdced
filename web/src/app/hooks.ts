import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export type Async<T> = { status: 'loading' } | { status: 'ok'; value: T } | { status: 'error'; error: unknown };

/** Runs `load` when `deps` change (aborting the previous run) and exposes its state and a reload. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): [Async<T>, () => void] {
  const [state, setState] = useState<Async<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => (s.status === 'ok' ? s : { status: 'loading' }));
    loadRef.current(ctl.signal).then(
      (value) => !ctl.signal.aborted && setState({ status: 'ok', value }),
      (error: unknown) => !ctl.signal.aborted && setState({ status: 'error', error }),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return [state, reload];
}

/** Paging over an in-memory list. */
export function usePaged<T>(items: readonly T[], size: number): { page: number; pages: number; setPage: (p: number) => void; slice: T[] } {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(page, pages - 1);
  return { page: p, pages, setPage, slice: items.slice(p * size, (p + 1) * size) };
}

/** A value that follows `value` after `ms` of quiet. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

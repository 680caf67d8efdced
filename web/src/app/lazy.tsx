/** Loads a view's code on first use, so the first page downloads only the shell and what it shows. */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alert, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';

type Loader<P> = () => Promise<{ default: ComponentType<P> }>;
const cache = new Map<Loader<never>, ComponentType<never>>();

export function Lazy<P extends object>({ load, props }: { load: Loader<P>; props: P }) {
  const [Comp, setComp] = useState<ComponentType<P> | null>(() => (cache.get(load as Loader<never>) as ComponentType<P> | undefined) ?? null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (Comp) return;
    let live = true;
    load().then(
      (m) => {
        cache.set(load as Loader<never>, m.default as ComponentType<never>);
        if (live) setComp(() => m.default);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (failed) return <Alert>{t.errors.network}</Alert>;
  if (!Comp) return <Loading />;
  return <Comp {...props} />;
}

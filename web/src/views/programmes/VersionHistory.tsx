/**
 * A programme's versions (issue 15: "stored with a version … an edit makes a new version"): who saved each
 * and when, its items and length; an old version opens read-only with its items as they were.
 */
import { useState } from 'preact/hooks';
import type { Programme } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { fmtLength } from '../../logic/relays.js';
import { ProgrammeItemsList } from './ProgrammeItemsList.js';
import { useUserNames } from './useUserNames.js';

export function VersionHistory({ id, current }: { id: string; current: number }) {
  const { api } = useSession();
  const [versions] = useAsync((signal) => api.programmeVersions(id, signal), [id, current]);
  const [open, setOpen] = useState<{ version: number; value: Programme | null; error: unknown } | null>(null);
  const who = useUserNames(versions.status === 'ok' ? versions.value.items.map((v) => v.createdBy) : []);
  const p = t.programmes;

  const view = (version: number) => {
    if (open?.version === version) return setOpen(null);
    setOpen({ version, value: null, error: null });
    api.programmeVersion(id, version).then(
      (value) => setOpen((o) => (o?.version === version ? { version, value, error: null } : o)),
      (error: unknown) => setOpen((o) => (o?.version === version ? { version, value: null, error } : o)),
    );
  };

  return (
    <Card title={p.history} id="programme-history">
      {versions.status === 'loading' && <Loading />}
      {versions.status === 'error' && <Alert kind="warning">{errorMessage(versions.error)}</Alert>}
      {versions.status === 'ok' && !versions.value.items.length && <Empty>{p.historyEmpty}</Empty>}
      {versions.status === 'ok' && versions.value.items.length > 0 && (
        <ul class="item-list" data-testid="programme-versions">
          {[...versions.value.items]
            .sort((a, b) => b.version - a.version)
            .map((v) => (
              <li key={v.version} class="item column" data-version={v.version}>
                <div class="row wrap">
                  <strong class="grow">
                    {p.version(v.version)}
                    {v.version === current && <span class="muted"> ({p.current})</span>}
                  </strong>
                  <button type="button" class="btn btn-small btn-ghost" aria-expanded={open?.version === v.version} onClick={() => view(v.version)}>
                    {open?.version === v.version ? p.hide : p.view} <span class="sr-only">{p.version(v.version)}</span>
                  </button>
                </div>
                <span class="small muted">
                  {p.historyLine(fmtDateTime(v.createdAt), who(v.createdBy))} · {p.items(v.itemCount)} · {fmtLength(v.durationMs)}
                </span>
                {open?.version === v.version && (
                  <div class="old-version" aria-label={p.oldVersion(v.version)} role="region">
                    {open.error !== null ? <Alert>{errorMessage(open.error)}</Alert> : open.value ? <ProgrammeItemsList programme={open.value} /> : <Loading />}
                  </div>
                )}
              </li>
            ))}
        </ul>
      )}
    </Card>
  );
}

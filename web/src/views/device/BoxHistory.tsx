/** A box's fault history and what it was given to play (issue 20, the box page). */
import { useState } from 'preact/hooks';
import type { DeviceAsRunItem } from '@loaxa/shared/api';
import { useAsync } from '../../app/hooks.js';
import { errorMessage } from '../../app/errors.js';
import { Alert, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { broadcastPath } from '../../logic/routes.js';
import { useBoxApi } from './api.js';
import { s } from './strings.js';

export function FaultsCard({ id }: { id: string }) {
  const box = useBoxApi();
  const [faults] = useAsync((signal) => box.faults(id, signal), [id]);
  return (
    <Card title={s.faults}>
      {faults.status === 'loading' ? (
        <Loading />
      ) : faults.status === 'error' ? (
        <Alert>{errorMessage(faults.error)}</Alert>
      ) : !faults.value.items.length ? (
        <Empty>{s.noFaults}</Empty>
      ) : (
        <ul class="box-list" data-testid="box-faults">
          {faults.value.items.map((f) => (
            <li key={`${f.kind}-${f.startedAt}`}>
              <strong>{t.devices.faultNames[f.kind] ?? f.kind}</strong>{' '}
              {f.endedAt ? s.faultSpan(fmtDateTime(f.startedAt), fmtDateTime(f.endedAt)) : <>{s.faultSince(fmtDateTime(f.startedAt))} · <strong>{s.faultOpen}</strong></>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function AsRunCard({ id }: { id: string }) {
  const box = useBoxApi();
  const [cursor, setCursor] = useState<string | null>(null);
  const [shown, setShown] = useState<DeviceAsRunItem[]>([]);
  const [page] = useAsync(async (signal) => {
    const p = await box.asRun(id, cursor, signal);
    setShown((prev) => (cursor ? [...prev, ...p.items] : p.items));
    return p;
  }, [id, cursor]);
  if (page.status === 'error') return <Card title={s.played}><Alert>{errorMessage(page.error)}</Alert></Card>;
  return (
    <Card title={s.played}>
      {page.status === 'loading' && !shown.length ? (
        <Loading />
      ) : !shown.length ? (
        <Empty>{s.noPlayed}</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="box-as-run">
            <thead>
              <tr>
                <th scope="col">{s.colBulletin}</th>
                <th scope="col">{s.colAt}</th>
                <th scope="col">{s.colResult}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={`${r.broadcastId}-${r.occurrenceAt}`}>
                  <td>
                    <Link href={broadcastPath(r.broadcastId)}>{r.title}</Link>
                    {r.priority !== 'normal' && <small class="muted"> · {t.priorities[r.priority]}</small>}
                  </td>
                  <td>{fmtDateTime(r.startedAt ?? r.occurrenceAt)}</td>
                  <td>{t.deliveryStates[r.state]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.status === 'ok' && page.value.next && (
        <button type="button" class="btn btn-small" onClick={() => setCursor(page.value.next)}>
          {s.more}
        </button>
      )}
    </Card>
  );
}

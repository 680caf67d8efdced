/**
 * A programme on its broadcast's live page (issue 15: the box "reports per item"): the programme's items,
 * and for each box the item it is at now and how that item went, from the SSE `programme-item` events the
 * page's feed hands over. Item titles come from the version the box plays (fetched once per version).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Programme, ProgrammeItemEvent } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { Card, Empty } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtTime } from '../../logic/format.js';
import { itemReasonLabel } from '../../logic/programme-runs.js';
import { ProgrammeItemsList } from './ProgrammeItemsList.js';

export function ProgrammeLivePanel({ programmeId, live, names }: { programmeId: string; live: ReadonlyMap<string, ProgrammeItemEvent>; names: ReadonlyMap<string, string> }) {
  const { api } = useSession();
  const [versions, setVersions] = useState<Map<number, Programme>>(new Map());
  const [current, setCurrent] = useState<Programme | null>(null);
  const wanted = [...new Set([...live.values()].map((e) => e.version))].filter((v) => !versions.has(v)).join(',');

  useEffect(() => {
    api.programme(programmeId).then((p) => {
      setCurrent(p);
      setVersions((m) => new Map(m).set(p.version, p));
    }, () => undefined);
  }, [programmeId]);
  useEffect(() => {
    for (const v of wanted ? wanted.split(',').map(Number) : []) api.programmeVersion(programmeId, v).then((p) => setVersions((m) => new Map(m).set(v, p)), () => undefined);
  }, [wanted]);

  const r = t.programmeRun;
  const rows = [...live.values()].sort((a, b) => (names.get(a.deviceId) ?? a.deviceId).localeCompare(names.get(b.deviceId) ?? b.deviceId));
  return (
    <Card title={r.nowTitle} id="programme-live">
      {current && <ProgrammeItemsList programme={current} />}
      {!rows.length ? (
        <Empty>{r.nowEmpty}</Empty>
      ) : (
        <ul class="programme-now" data-testid="programme-now">
          {rows.map((e) => {
            const title = versions.get(e.version)?.items[e.index]?.title ?? '';
            return (
              <li key={e.deviceId} data-state={e.state}>
                {r.nowLine(names.get(e.deviceId) ?? e.deviceId, e.index + 1, title, r.states[e.state] ?? e.state)} <span class="muted small">{fmtTime(e.at)}</span>
                {e.reason && <span class="muted small"> · {itemReasonLabel(e.reason) ?? e.reason}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

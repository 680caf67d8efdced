/** What `POST /broadcasts/check` found: who approves, how many boxes, the coming airings and the overlaps. */
import type { BroadcastCheck } from '../../api/types.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { groupConflicts } from '../../logic/conflicts.js';

const MAX_SHOWN = 20;

export function CheckReport({ check }: { check: BroadcastCheck }) {
  const groups = groupConflicts(check.conflicts);
  return (
    <div class="check-report" data-testid="check-report" aria-live="polite">
      <p>
        <strong>{t.schedule.devicesCount(check.devices)}</strong> · {t.schedule.willBe[check.status]}
      </p>
      <h3>{t.schedule.occurrences}</h3>
      {check.occurrences.length ? (
        <ul class="inline-list">
          {check.occurrences.slice(0, MAX_SHOWN).map((o) => (
            <li key={o}>{fmtDateTime(o)}</li>
          ))}
          {check.occurrences.length > MAX_SHOWN && <li>… +{check.occurrences.length - MAX_SHOWN}</li>}
        </ul>
      ) : (
        <p class="muted">{t.schedule.noOccurrences}</p>
      )}
      <h3>
        {t.schedule.conflicts} ({groups.length})
      </h3>
      {groups.length === 0 ? (
        <Alert kind="success">{t.schedule.noConflicts}</Alert>
      ) : (
        <Alert kind="warning">
          <ul class="conflicts">
            {groups.slice(0, MAX_SHOWN).map((g) => (
              <li key={`${g.occurrenceAt}|${g.otherBroadcastId}|${g.otherOccurrenceAt}|${g.outcome}`}>
                {t.schedule.conflictLine(fmtDateTime(g.occurrenceAt), t.schedule.outcomes[g.outcome] ?? g.outcome, g.otherTitle, fmtDateTime(g.otherOccurrenceAt))}{' '}
                <span class="muted">{t.schedule.conflictBoxes(g.devices)}</span>
              </li>
            ))}
            {groups.length > MAX_SHOWN && <li>… +{groups.length - MAX_SHOWN}</li>}
          </ul>
        </Alert>
      )}
    </div>
  );
}

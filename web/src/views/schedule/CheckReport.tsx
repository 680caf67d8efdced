/** What `POST /broadcasts/check` found: who approves, how many boxes, the coming airings and the overlaps. */
import type { BroadcastCheck } from '../../api/types.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';

const MAX_SHOWN = 20;

export function CheckReport({ check }: { check: BroadcastCheck }) {
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
        {t.schedule.conflicts} ({check.conflicts.length})
      </h3>
      {check.conflicts.length === 0 ? (
        <Alert kind="success">{t.schedule.noConflicts}</Alert>
      ) : (
        <Alert kind="warning">
          <ul class="conflicts">
            {check.conflicts.slice(0, MAX_SHOWN).map((c, i) => (
              <li key={i}>{t.schedule.conflictLine(c.deviceId, fmtDateTime(c.occurrenceAt), t.schedule.outcomes[c.outcome] ?? c.outcome, c.otherBroadcastId, fmtDateTime(c.otherOccurrenceAt))}</li>
            ))}
            {check.conflicts.length > MAX_SHOWN && <li>… +{check.conflicts.length - MAX_SHOWN}</li>}
          </ul>
        </Alert>
      )}
    </div>
  );
}

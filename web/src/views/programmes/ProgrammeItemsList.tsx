/** A stored version's items, read-only: position, kind, title as the server named it, and length. */
import type { Programme } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { fmtLength } from '../../logic/relays.js';
import { savedLength } from '../../logic/programmes.js';

export function ProgrammeItemsList({ programme }: { programme: Programme }) {
  const p = t.programmes;
  const total = savedLength(programme);
  return (
    <>
      <ol class="programme-readonly">
        {programme.items.map((i) => (
          <li key={i.index} data-kind={i.kind}>
            <span class="muted small">{p.kinds[i.kind]}</span> <strong>{i.title}</strong>{' '}
            <span class="muted small">{i.durationMs !== null ? fmtLength(i.durationMs) : i.input.kind === 'relay' && i.input.until ? p.untilLabel(i.input.until) : ''}</span>
          </li>
        ))}
      </ol>
      <p class="small">
        {p.total}: <strong>{total.until ? p.totalUntil(fmtLength(total.ms), total.until) : fmtLength(total.ms)}</strong>
      </p>
    </>
  );
}

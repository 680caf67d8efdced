/** Communes that are not covered, and why. */
import type { Coverage } from '../../api/types.js';
import { usePaged } from '../../app/hooks.js';
import { Empty, Pager } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';

const PAGE = 20;

export function reasonLabel(reason: string): string {
  return t.dashboard.reasons[reason] ?? (reason.startsWith('fault:') ? `${t.devices.faults}: ${reason.slice(6)}` : reason);
}

export function NotCovered({ items }: { items: Coverage['notCovered'] }) {
  const paged = usePaged(items, PAGE);
  if (!items.length) return <Empty>{t.dashboard.notCoveredEmpty}</Empty>;
  return (
    <div>
      <ul class="not-covered" data-testid="not-covered">
        {paged.slice.map((n) => (
          <li key={n.code}>
            <span>{n.name}</span>
            <span class={`reason reason-${n.reason.replace(':', '-')}`}>{reasonLabel(n.reason)}</span>
          </li>
        ))}
      </ul>
      <Pager page={paged.page} pages={paged.pages} onPage={paged.setPage} total={items.length} size={PAGE} />
    </div>
  );
}

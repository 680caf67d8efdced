/** The headline numbers: installed and working coverage, and devices by state. */
import type { Coverage } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { fmtNumber, fmtPct } from '../../logic/format.js';

function Gauge({ label, hint, pct, count, tone }: { label: string; hint: string; pct: number; count: string; tone: string }) {
  return (
    <div class={`tile tile-${tone}`}>
      <h2 class="tile-label">{label}</h2>
      <p class="tile-value" data-testid={`pct-${tone}`}>
        {fmtPct(pct)}
      </p>
      <div class="meter" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} aria-label={label}>
        <span style={{ width: `${Math.max(0, Math.min(100, pct))}%` }} />
      </div>
      <p class="tile-sub">{count}</p>
      <p class="tile-hint muted">{hint}</p>
    </div>
  );
}

export function CoverageTiles({ c }: { c: Coverage }) {
  const offline = Math.max(0, c.devices.total - c.devices.online);
  return (
    <div class="tiles">
      <Gauge label={t.dashboard.installed} hint={t.dashboard.installedHint} pct={c.installedPct} count={t.dashboard.communesOf(c.communes.installed, c.communes.total)} tone="installed" />
      <Gauge label={t.dashboard.working} hint={t.dashboard.workingHint} pct={c.workingPct} count={t.dashboard.communesOf(c.communes.working, c.communes.total)} tone="working" />
      <div class="tile tile-devices">
        <h2 class="tile-label">{t.dashboard.devices}</h2>
        <p class="tile-value">{fmtNumber(c.devices.total)}</p>
        <ul class="device-counts">
          <li>
            <span class="dot dot-online" aria-hidden="true" /> {t.dashboard.online}: <strong>{fmtNumber(c.devices.online)}</strong>
          </li>
          <li>
            <span class="dot dot-offline" aria-hidden="true" /> {t.dashboard.offline}: <strong>{fmtNumber(offline)}</strong>
          </li>
          <li>
            <span class="dot dot-faulty" aria-hidden="true" /> {t.dashboard.faulty}: <strong>{fmtNumber(c.devices.faulty)}</strong>
          </li>
          <li>
            <span class="dot dot-playing" aria-hidden="true" /> {t.dashboard.playing}: <strong>{fmtNumber(c.devices.playing)}</strong>
          </li>
        </ul>
      </div>
    </div>
  );
}

/** The level meter of a live airing or a recording: RMS as the bar, peak as a tick, and a word on the level. */
import { t } from '../../i18n/vi.js';
import { meterPercent, meterZone } from '../../logic/live.js';

const oneDecimal = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 0 });

export function LiveMeter({ peakDb, rmsDb, local = false }: { peakDb: number | null; rmsDb: number | null; local?: boolean }) {
  const bar = meterPercent(rmsDb);
  const peak = meterPercent(peakDb);
  const zone = meterZone(peakDb, rmsDb);
  const valueText = peakDb === null ? t.golive.meterSilent : t.golive.meterValue(oneDecimal.format(peakDb));
  return (
    <div class="live-meter-wrap">
      <div
        class={`live-meter zone-${zone}`}
        role="meter"
        aria-label={t.golive.meter}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={peak}
        aria-valuetext={valueText}
        data-testid="live-meter"
        data-percent={peak}
        data-local={local ? 'true' : 'false'}
      >
        <span class="live-meter-bar" style={{ width: `${bar}%` }} />
        <span class="live-meter-peak" style={{ left: `${peak}%` }} />
      </div>
      <p class={`small live-meter-zone zone-${zone}`}>
        {t.golive.zones[zone]}
        {local && <span class="muted"> · {t.golive.localMeter}</span>}
      </p>
    </div>
  );
}

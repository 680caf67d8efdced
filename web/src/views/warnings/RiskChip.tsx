/** A risk level in its Decision 18 colour with its words ("Cấp 3 · rủi ro lớn"): the colour is never the only cue. */
import { riskColours, riskLabel } from './warnings-logic.js';

export function RiskChip({ level }: { level: number | null }) {
  return (
    <span class="wrn-chip" style={riskColours(level)} data-level={level ?? ''}>
      {riskLabel(level)}
    </span>
  );
}

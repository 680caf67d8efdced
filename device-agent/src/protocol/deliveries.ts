/**
 * Deliveries as the protocol names and reports them. A delivery is one occurrence of one broadcast
 * (`broadcastId@occurrenceAt`), whichever command carried it (its own topic, an area topic, the agenda):
 * a box takes it at most once (CONTRACTS.md § MQTT). Each transition (acknowledged → cached → playing →
 * played, or failed / missed / cancelled) is reported on `event`. Pure: the agent (playout.ts,
 * reporter.ts) and the fleet's load-test box (firmware-sim fleet-box.ts) both build their reports here
 * (issue 14).
 */
import type { DeliveryState, Payload } from '@loaxa/shared';

/** One transition as reported on `event` (the reporter adds the time). */
export interface DeliveryReport {
  commandId: string;
  broadcastId: string;
  occurrenceAt: number;
  state: DeliveryState;
  reason?: string;
  sha256?: string;
}

/** Reasons longer than this are cut (the event schema bounds them). */
export const MAX_REASON = 500;

/** States in which the box holds the audio: their reports name it, so the server knows which file played. */
const WITH_MEDIA: ReadonlySet<DeliveryState> = new Set(['cached', 'playing', 'played']);

export function deliveryKey(broadcastId: string, occurrenceAt: number): string {
  return `${broadcastId}@${occurrenceAt}`;
}

/** The report of `state` for a play item taken by `commandId`. */
export function deliveryReport(
  commandId: string,
  play: { broadcastId: string; occurrenceAt: number; media: { sha256: string } },
  state: DeliveryState,
  reason?: string,
): DeliveryReport {
  const r: DeliveryReport = { commandId, broadcastId: play.broadcastId, occurrenceAt: play.occurrenceAt, state };
  if (reason !== undefined) r.reason = reason.slice(0, MAX_REASON);
  if (WITH_MEDIA.has(state)) r.sha256 = play.media.sha256;
  return r;
}

/** The `event` payload of a delivery report made at `at`. */
export function deliveryEvent(r: DeliveryReport, at: number): Payload<'event'> {
  return { kind: 'delivery', ...r, at };
}

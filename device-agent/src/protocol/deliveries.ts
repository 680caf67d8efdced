/**
 * Deliveries as the protocol names and reports them. A delivery is one occurrence of one broadcast
 * (`broadcastId@occurrenceAt`), whichever command carried it (its own topic, an area topic, the agenda):
 * a box takes it at most once (CONTRACTS.md § MQTT). Each transition (acknowledged → cached → playing →
 * played, or failed / missed / cancelled) is reported on `event`. Pure: the agent (playout.ts,
 * reporter.ts) and the fleet's load-test box (firmware-sim fleet-box.ts) both build their reports here
 * (issue 14).
 */
import type { DeliveryState, Payload, ProgrammeItemState, RelayCause } from '@loaxa/shared';

/** One transition as reported on `event` (the reporter adds the time). */
export interface DeliveryReport {
  commandId: string;
  broadcastId: string;
  occurrenceAt: number;
  state: DeliveryState;
  reason?: string;
  sha256?: string;
  /** A relay's `played`: milliseconds of the stream that reached the speaker (issue 15). */
  airedMs?: number;
}

/** Reasons longer than this are cut (the event schema bounds them). */
export const MAX_REASON = 500;

/** States in which the box holds the audio: their reports name it, so the server knows which file played. */
const WITH_MEDIA: ReadonlySet<DeliveryState> = new Set(['cached', 'playing', 'played']);

export function deliveryKey(broadcastId: string, occurrenceAt: number): string {
  return `${broadcastId}@${occurrenceAt}`;
}

/**
 * The report of `state` for a play item taken by `commandId`. A file's reports name it by hash; a relay's
 * do not (its fallback file is not what aired), and its `played` says how much of the stream did.
 */
export function deliveryReport(
  commandId: string,
  play: { broadcastId: string; occurrenceAt: number; media?: { sha256: string } | undefined; stream?: unknown },
  state: DeliveryState,
  reason?: string,
  airedMs?: number,
): DeliveryReport {
  const r: DeliveryReport = { commandId, broadcastId: play.broadcastId, occurrenceAt: play.occurrenceAt, state };
  if (reason !== undefined) r.reason = reason.slice(0, MAX_REASON);
  if (WITH_MEDIA.has(state) && play.media && play.stream === undefined) r.sha256 = play.media.sha256;
  if (airedMs !== undefined) r.airedMs = Math.max(0, Math.min(MAX_AIRED_MS, Math.round(airedMs)));
  return r;
}

/** The event schema's bound on `airedMs` (a day). */
const MAX_AIRED_MS = 24 * 3600_000;

/** One change of a relay (relay/stream-relay.ts `RelayChange`) of one delivery. */
export interface RelayReport {
  broadcastId: string;
  occurrenceAt: number;
  cause: RelayCause;
  url: string | null;
  at: number;
  detail?: string;
}

/** The `event` payload of a relay change (issue 15). */
export function relayEvent(r: RelayReport): Payload<'event'> {
  return { kind: 'relay', broadcastId: r.broadcastId, occurrenceAt: r.occurrenceAt, url: r.url, cause: r.cause, at: r.at, ...(r.detail ? { detail: r.detail.slice(0, MAX_REASON) } : {}) };
}

/** The `event` payload of a delivery report made at `at`. */
export function deliveryEvent(r: DeliveryReport, at: number): Payload<'event'> {
  return { kind: 'delivery', ...r, at };
}

/** How one item of a programme went (issue 15: "reports per item"); the delivery of the whole is reported apart. */
export interface ProgrammeItemReport {
  broadcastId: string;
  occurrenceAt: number;
  /** The programme version that played. */
  version: number;
  index: number;
  state: ProgrammeItemState;
  /** Device clock. */
  at: number;
  /** Milliseconds of the item that reached the speaker (a pause: of silence kept). */
  airedMs?: number;
  reason?: string;
}

/** The `event` payload of a programme item's report (issue 15), bounded as the schema wants. */
export function programmeItemEvent(r: ProgrammeItemReport): Payload<'event'> {
  return {
    kind: 'programme-item',
    broadcastId: r.broadcastId,
    occurrenceAt: r.occurrenceAt,
    version: r.version,
    index: r.index,
    state: r.state,
    at: r.at,
    ...(r.airedMs !== undefined ? { airedMs: Math.max(0, Math.min(MAX_AIRED_MS, Math.round(r.airedMs))) } : {}),
    ...(r.reason !== undefined ? { reason: r.reason.slice(0, MAX_REASON) } : {}),
  };
}

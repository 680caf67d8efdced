/**
 * Live delivery states: folding one SSE `delivery` event into the broadcast detail the view shows.
 * Reports can arrive late or twice (MQTT QoS 1), so an event never moves a delivery backwards.
 */
import type { BroadcastDetail, DeliveryEvent, DeliveryState } from '../api/types.js';

const RANK: Record<DeliveryState, number> = { queued: 0, sent: 1, acknowledged: 2, cached: 3, playing: 4, played: 5, failed: 5, missed: 5, cancelled: 5, expired: 5 };

export type ApplyResult = { kind: 'updated'; detail: BroadcastDetail } | { kind: 'ignored' } | { kind: 'refetch' };

export function summarize(deliveries: BroadcastDetail['deliveries']): BroadcastDetail['summary'] {
  const out: BroadcastDetail['summary'] = {};
  for (const d of deliveries) out[d.state] = (out[d.state] ?? 0) + 1;
  return out;
}

/**
 * `updated`: a new detail with the event applied; `ignored`: nothing to change (other broadcast, stale or
 * repeated report); `refetch`: the event is about an occurrence or device the detail does not hold yet.
 */
export function applyDeliveryEvent(detail: BroadcastDetail, e: DeliveryEvent): ApplyResult {
  if (e.broadcastId !== detail.id) return { kind: 'ignored' };
  if (detail.occurrenceAt === null || Date.parse(e.occurrenceAt) !== Date.parse(detail.occurrenceAt)) {
    return Date.parse(e.occurrenceAt) > Date.parse(detail.occurrenceAt ?? '1970-01-01T00:00:00Z') || detail.occurrenceAt === null ? { kind: 'refetch' } : { kind: 'ignored' };
  }
  const i = detail.deliveries.findIndex((d) => d.deviceId === e.deviceId);
  if (i < 0) return { kind: 'refetch' };
  const cur = detail.deliveries[i]!;
  if (cur.state === e.state || RANK[e.state] <= RANK[cur.state]) return { kind: 'ignored' };
  const next = { deviceId: e.deviceId, occurrenceAt: cur.occurrenceAt, state: e.state, at: e.at, ...(e.reason ? { reason: e.reason } : {}) };
  const deliveries = detail.deliveries.slice();
  deliveries[i] = next;
  return { kind: 'updated', detail: { ...detail, deliveries, summary: summarize(deliveries) } };
}

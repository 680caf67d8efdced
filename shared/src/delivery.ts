/**
 * Delivery states of one broadcast occurrence on one device (ARCHITECTURE.md):
 * queued → sent → acknowledged → cached → playing → played, or failed / missed / cancelled / expired.
 * Pure rules, shared by the server (which stores them) and the agent (which reports them).
 */
import { z } from 'zod';
import { DELIVERY_STATES, type DeliveryState } from './api/enums.js';

/** The states themselves are listed with the other enumerations of the contract (api/enums.ts, no zod: the web app bundles it). */
export { DELIVERY_STATES, type DeliveryState };
export const deliveryStateSchema = z.enum(DELIVERY_STATES);

export const TERMINAL_STATES: ReadonlySet<DeliveryState> = new Set(['played', 'failed', 'missed', 'cancelled', 'expired']);

const ORDER: Record<DeliveryState, number> = {
  queued: 0,
  sent: 1,
  acknowledged: 2,
  cached: 3,
  playing: 4,
  played: 5,
  failed: 5,
  missed: 5,
  cancelled: 5,
  expired: 5,
};

export function isTerminal(state: DeliveryState): boolean {
  return TERMINAL_STATES.has(state);
}

/**
 * Whether a stored delivery may move from `from` to `to`. Reports can arrive late or twice (QoS 1 is
 * at-least-once [MQTT-4.3.2]), so a report that would move a delivery backwards is ignored rather than applied,
 * and a terminal state is final.
 */
export function canTransition(from: DeliveryState, to: DeliveryState): boolean {
  if (from === to) return false;
  if (isTerminal(from)) return false;
  return ORDER[to] > ORDER[from];
}

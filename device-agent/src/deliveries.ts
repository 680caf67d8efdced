/**
 * Names and records of deliveries on the device: a delivery is one occurrence of one broadcast
 * (`broadcastId@occurrenceAt`), whichever command carried it. Finished ones are remembered — and kept on
 * disk by the agent — so a late copy (a QoS 1 redelivery, the area topic, the agenda after a reboot) is
 * never played twice: at most once per delivery and per command id (CONTRACTS.md § MQTT).
 */
import type { DeliveryState } from '@loaxa/shared';
import { RecentIds } from './agent-state.js';

// The key and the report are part of the protocol, shared with the fleet's load-test box (issue 14).
export { deliveryKey, deliveryReport, deliveryEvent, type DeliveryReport } from './protocol/deliveries.js';

export interface FinishedDelivery {
  key: string;
  commandId: string;
  state: DeliveryState;
}

/** Finished deliveries remembered: more than a week of a busy box's items. */
export const FINISHED_CAPACITY = 2_000;

export class FinishedDeliveries {
  private readonly byKey = new RecentIds<FinishedDelivery>(FINISHED_CAPACITY);
  private readonly commands = new RecentIds<true>(FINISHED_CAPACITY);

  add(f: FinishedDelivery): void {
    this.byKey.set(f.key, f);
    if (f.commandId) this.commands.set(f.commandId, true);
  }

  get(key: string): FinishedDelivery | undefined {
    return this.byKey.get(key);
  }

  hasCommand(commandId: string): boolean {
    return this.commands.has(commandId);
  }

  /** Oldest first. */
  list(): FinishedDelivery[] {
    return this.byKey.ids().map((k) => this.byKey.get(k)!);
  }
}

/**
 * The typed event bus between server features (STYLE.md: features never import each other to notify).
 * Emitters: the delivery service (transitions, presence, faults). Listeners: the live-status stream.
 */
import { EventEmitter } from 'node:events';
import type { DeliveryState } from '@loaxa/shared';

export interface ServerEventMap {
  delivery: [{ broadcastId: string; deviceId: string; occurrenceAt: number; state: DeliveryState; at: number; reason: string | null }];
  device: [{ deviceId: string; online?: boolean; fault?: { kind: string; active: boolean; at: number } }];
}

export class ServerEvents extends EventEmitter<ServerEventMap> {
  constructor() {
    super();
    // Every open dashboard adds listeners; the default cap of 10 would warn at the eleventh browser tab.
    this.setMaxListeners(0);
  }
}

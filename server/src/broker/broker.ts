/**
 * A whole broker as the server runs it: the bus (bus.ts), plus its life cycle and the power to cut a box off.
 * The embedded aedes broker and an external one (LOAXA_MQTT_URL) both are one; `createBroker` (index.ts) picks.
 * Apart from bus.ts, which the dynamic-security driver imports, so that not even a cycle of types forms.
 */
import type { MessageBus } from './bus.js';
import type { BrokerIdentities } from './identities.js';
import type { MosquittoDynsec } from './mosquitto-dynsec.js';

export interface Broker extends MessageBus {
  /** Listens (embedded) or connects (external); answers the MQTT port (the configured one for an external broker). */
  start(): Promise<{ port: number }>;
  /** Bounded; safe to call twice. */
  stop(): Promise<void>;
  /** Disconnects every live connection of a device at once (revoked credentials, a flood). */
  disconnect(deviceId: string): void;
  /**
   * For `GET /metrics`: whether the server has its broker (embedded: listening; external: connected), and the
   * boxes' connections when the server can count them (embedded only; an external broker exports its own).
   */
  health(): { up: boolean; deviceConnections: number | null };
  /** Device identities in an external broker's own store (Mosquitto dynamic security), when it has one. */
  readonly dynsec?: MosquittoDynsec | null;
  /**
   * Device identities the server must give the broker itself: the dynsec plugin's, or Mosquitto's password and
   * ACL files (issue 21). Null when the broker checks logins its own way (embedded, HTTP auth).
   */
  readonly deviceIdentities?: BrokerIdentities | null;
}

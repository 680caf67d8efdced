/**
 * The device protocol's pure pieces (issue 14): what the agent and the fleet's load-test boxes
 * (firmware-sim fleet-box.ts) both say on MQTT, built in one place so the two cannot drift.
 */
export { connectOptions, statusMessage, subscriptionTopics, refusedTopics, inboundKind, type ConnectSpec, type StatusSpec } from './session.js';
export {
  HEARTBEAT_JITTER,
  firstHeartbeatDelay,
  nextHeartbeatDelay,
  telemetryPayload,
  healthBlock,
  type TelemetryStatus,
  type HealthReadings,
  type HealthCounters,
} from './telemetry.js';
export { MAX_REASON, deliveryKey, deliveryReport, deliveryEvent, relayEvent, programmeItemEvent, type DeliveryReport, type RelayReport, type ProgrammeItemReport } from './deliveries.js';

/**
 * The heartbeat as the server sees it: its rhythm (a fleet must not report in step) and the `telemetry`
 * payload with its health block. Pure: the agent (heartbeat.ts, health.ts) fills it from its playout, cache
 * and hardware readers, the fleet's load-test box (firmware-sim fleet-box.ts) from fixed readings, and both
 * send what these functions build (issue 14).
 */
import type { Payload, TelemetryHealth } from '@loaxa/shared';
import type { FaultKind } from '../faults.js';
import type { NetworkSnapshot } from '../hardware/network.js';
import type { SystemSnapshot } from '../hardware/system-info.js';
import { jitter } from '../timing.js';

/** Each period is drawn ± this fraction. */
export const HEARTBEAT_JITTER = 0.1;

/** The first beat comes at a random moment within one period, so a fleet started together is spread out. */
export function firstHeartbeatDelay(periodMs: number, random: () => number = Math.random): number {
  return periodMs * random();
}

export function nextHeartbeatDelay(periodMs: number, random: () => number = Math.random): number {
  return jitter(periodMs, HEARTBEAT_JITTER, random);
}

/** What the box knows of itself at a beat (everything but the health block). */
export interface TelemetryStatus {
  uptimeS: number;
  volume: number;
  cacheBytes: number;
  cacheItems: number;
  playing: { broadcastId: string; occurrenceAt: number } | null;
  /** Null while not known: the field is then left out. */
  clockOffsetMs: number | null;
}

export function telemetryPayload(s: TelemetryStatus, health: TelemetryHealth, agentVersion: string): Payload<'telemetry'> {
  const payload: Payload<'telemetry'> = {
    uptimeS: s.uptimeS,
    volume: s.volume,
    cacheBytes: s.cacheBytes,
    cacheItems: s.cacheItems,
    playing: s.playing,
    agentVersion,
    health,
  };
  if (s.clockOffsetMs !== null) payload.clockOffsetMs = s.clockOffsetMs;
  return payload;
}

/** The hardware's readings; a reader that failed or timed out leaves its part undefined. */
export interface HealthReadings {
  system?: SystemSnapshot | undefined;
  network?: NetworkSnapshot | undefined;
  /** null: the box cannot tell (no timedatectl). */
  clockSynced?: boolean | null | undefined;
  /** null: no amplifier power control. */
  amplifierOn: boolean | null;
}

/** What the agent counts itself. */
export interface HealthCounters {
  faults: FaultKind[];
  linkFailures: number;
  modemRecoveries: number;
}

/** The health block: failed readings only leave their fields out, never the heartbeat. */
export function healthBlock(r: HealthReadings, c: HealthCounters): TelemetryHealth {
  const health: TelemetryHealth = { ...r.system };
  if (r.network) health.network = r.network;
  if (r.clockSynced !== undefined) health.clockSynced = r.clockSynced;
  health.amplifierOn = r.amplifierOn;
  health.faults = c.faults;
  health.linkFailures = c.linkFailures;
  health.modemRecoveries = c.modemRecoveries;
  return health;
}

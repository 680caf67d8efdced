/**
 * The health block of every heartbeat, gathered from the hardware readers at once. Each reader has its
 * own time limit and failures only leave their fields out: a hung `mmcli` costs a heartbeat its signal
 * strength, never the heartbeat.
 */
import type { TelemetryHealth } from '@loaxa/shared';
import type { Hardware } from './hardware/index.js';
import { healthBlock, type HealthCounters } from './protocol/telemetry.js';

const READER_TIMEOUT_MS = 4_000;

function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
}

export async function collectHealth(
  hw: Hardware,
  extra: HealthCounters,
  timeoutMs = READER_TIMEOUT_MS,
): Promise<TelemetryHealth> {
  const [system, network, synced] = await Promise.all([within(hw.system.read(), timeoutMs), within(hw.network.read(), timeoutMs), within(hw.timeSync.synchronized(), timeoutMs)]);
  return healthBlock({ system, network, clockSynced: synced, amplifierOn: hw.amplifier.on }, extra);
}

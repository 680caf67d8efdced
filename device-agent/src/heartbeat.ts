/**
 * The heartbeat: `telemetry` every `heartbeatMs` ± 10 % (a fleet must not report in step) at QoS 0 — a
 * lost one is replaced by the next, so nothing is queued while offline. Each carries the volume, cache
 * use, the item on air, the clock offset to the server and the health block (health.ts).
 */
import { encodeMessage } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { Hardware } from './hardware/index.js';
import { collectHealth } from './health.js';
import { firstHeartbeatDelay, nextHeartbeatDelay, telemetryPayload, type HealthCounters, type TelemetryStatus } from './protocol/telemetry.js';
import type { Clock } from './timing.js';
import { AGENT_VERSION } from './version.js';

export interface HeartbeatDeps {
  hardware: Hardware;
  clock: Clock;
  logger: Logger;
  periodMs: () => number;
  connected: () => boolean;
  publish: (body: string) => void;
  /** What the agent knows at a beat: the payload's own fields and its counters for the health block. */
  status: () => TelemetryStatus & HealthCounters;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly deps: HeartbeatDeps) {}

  /** The first beat comes at a random moment within one period. */
  start(): void {
    this.running = true;
    this.schedule(firstHeartbeatDelay(this.deps.periodMs()));
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The period changed: the next beat comes one new period from now. */
  reschedule(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(nextHeartbeatDelay(this.deps.periodMs()));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.beat().finally(() => {
        if (this.running && this.timer) this.schedule(nextHeartbeatDelay(this.deps.periodMs()));
      });
    }, delayMs);
  }

  private async beat(): Promise<void> {
    if (!this.deps.connected() || !this.running) return;
    const s = this.deps.status();
    const health = await collectHealth(this.deps.hardware, { faults: s.faults, linkFailures: s.linkFailures, modemRecoveries: s.modemRecoveries });
    const payload = telemetryPayload(s, health, AGENT_VERSION);
    let body: string;
    try {
      body = encodeMessage('telemetry', payload, { ts: this.deps.clock.now() });
    } catch (err) {
      this.deps.logger.error({ err }, 'refusing to send invalid telemetry');
      return;
    }
    if (this.running && this.deps.connected()) this.deps.publish(body);
  }
}

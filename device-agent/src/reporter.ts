/**
 * Reports to the server on `event`: delivery transitions (the as-run log), relay changes (which URL served,
 * failovers, fallback; issue 15), programme items (issue 15) and fault starts and ends.
 * Each goes through the disk outbox (report-outbox.ts), so a report made while the link is down — or just
 * before a power cut — arrives late rather than never.
 */
import { encodeMessage, topics, type Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { FaultKind, FaultTransition } from './faults.js';
import { deliveryEvent, programmeItemEvent, relayEvent, type DeliveryReport, type ProgrammeItemReport, type RelayReport } from './protocol/deliveries.js';
import { ReportOutbox } from './report-outbox.js';
import type { Clock } from './timing.js';

export interface ReporterDeps {
  deviceId: string;
  stateDir: string;
  maxQueueBytes: () => number;
  clock: Clock;
  logger: Logger;
  connected: () => boolean;
  /** QoS 1 publish that resolves on the broker's acknowledgement. */
  publish: (topic: string, body: string) => Promise<void>;
}

export class Reporter {
  private readonly outbox: ReportOutbox;
  /** Faults whose current start this process has reported. */
  private readonly announced = new Set<FaultKind>();

  constructor(private readonly deps: ReporterDeps) {
    const topic = topics.deviceEvent(deps.deviceId);
    this.outbox = new ReportOutbox({
      stateDir: deps.stateDir,
      maxBytes: deps.maxQueueBytes,
      logger: deps.logger,
      connected: deps.connected,
      publish: (body) => deps.publish(topic, body),
    });
  }

  /** Reports waiting on disk for the broker. */
  get queued(): number {
    return this.outbox.pending;
  }

  /**
   * Reads the reports queued by earlier runs. Faults carried over from before a restart are announced
   * again, with their original start, before anything this run reports (their end, say): the first copy
   * may have been lost with an older agent. The server takes a repeated start as the same fault.
   */
  async open(carried: readonly FaultTransition[]): Promise<void> {
    await this.outbox.open();
    for (const f of carried) if (!this.announced.has(f.fault)) this.fault(f);
  }

  /** The link is up: queued reports go first, in order. */
  connected(): void {
    this.outbox.connected();
  }

  /** The link is lost: reports in flight are sent again once it is back. */
  disconnected(): void {
    this.outbox.disconnected();
  }

  delivery(r: DeliveryReport): void {
    this.deps.logger.info({ broadcastId: r.broadcastId, occurrenceAt: r.occurrenceAt, state: r.state, reason: r.reason }, 'delivery');
    this.send(deliveryEvent(r, this.deps.clock.now()));
  }

  relay(r: RelayReport): void {
    this.send(relayEvent(r));
  }

  programmeItem(r: ProgrammeItemReport): void {
    this.deps.logger.info({ broadcastId: r.broadcastId, occurrenceAt: r.occurrenceAt, index: r.index, state: r.state, reason: r.reason }, 'programme item');
    this.send(programmeItemEvent(r));
  }

  fault(t: FaultTransition): void {
    if (t.active) this.announced.add(t.fault);
    else this.announced.delete(t.fault);
    this.send({ kind: 'fault', fault: t.fault, active: t.active, at: t.at, ...(t.detail ? { detail: t.detail.slice(0, 500) } : {}) });
  }

  /** Resolves when every report made so far is on disk; stops sending. */
  close(): Promise<void> {
    return this.outbox.close();
  }

  /** Encodes through the shared schema; an invalid report is logged, never queued. */
  private send(payload: Payload<'event'>): void {
    let body: string;
    try {
      body = encodeMessage('event', payload, { ts: this.deps.clock.now() });
    } catch (err) {
      this.deps.logger.error({ err }, 'refusing to send an invalid report');
      return;
    }
    this.outbox.add(body);
  }
}

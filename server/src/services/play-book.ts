/**
 * The broadcasts of one dispatch pass and their `play` payloads, read and checked against the schema once
 * per pass rather than once per device: an emergency to 10,000 boxes is one broadcast, one bulletin, one
 * payload (issue 8 § Make it fast).
 */
import type { Logger } from 'pino';
import { CheckedPayload, type Payload } from '@loaxa/shared';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';

export interface PlayPayloadSource {
  playPayload(broadcast: Broadcast, occurrenceAt: number): Payload<'play'> | null;
}

/** Broadcasts and their play payloads, read and checked once per pass rather than once per device. */
export class PlayBook {
  private readonly broadcasts = new Map<string, Broadcast | null>();
  private readonly payloads = new Map<string, CheckedPayload<'play'> | null>();

  constructor(
    private readonly svc: PlayPayloadSource,
    private readonly repo: BroadcastRepository,
    private readonly log: Logger,
  ) {}

  /** A broadcast the caller already holds. */
  seed(b: Broadcast): this {
    this.broadcasts.set(b.id, b);
    return this;
  }

  broadcast(id: string): Broadcast | null {
    let b = this.broadcasts.get(id);
    if (b === undefined) this.broadcasts.set(id, (b = this.repo.get(id)));
    return b;
  }

  /** The occurrence's play payload, checked against its schema (null: not sendable, and logged). */
  payload(b: Broadcast, occurrenceAt: number): CheckedPayload<'play'> | null {
    const key = `${b.id}@${occurrenceAt}`;
    let p = this.payloads.get(key);
    if (p === undefined) {
      const raw = this.svc.playPayload(b, occurrenceAt);
      try {
        p = raw ? new CheckedPayload('play', raw) : null;
      } catch (err) {
        this.log.error({ err, broadcastId: b.id }, 'play command does not pass its schema; not sent');
        p = null;
      }
      this.payloads.set(key, p);
    }
    return p;
  }
}

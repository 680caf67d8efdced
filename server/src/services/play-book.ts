/**
 * The broadcasts of one dispatch pass and their `play` payloads, read and checked against the schema once
 * per pass rather than once per device: an emergency to 10,000 boxes is one broadcast, one bulletin, one
 * payload (issue 8 § Make it fast). How a payload is made from a broadcast, a file or a relay, is here too.
 */
import type { Logger } from 'pino';
import { CheckedPayload, type Payload } from '@loaxa/shared';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { Bulletin, BulletinRepository } from '../repos/bulletins.js';
import type { SourceRepository } from '../repos/sources.js';

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

/** The `play` of an occurrence from its broadcast and bulletin: a file, or a relay of a live source (issue 15). */
export class PlayPayloads implements PlayPayloadSource {
  constructor(private readonly deps: { bulletins: BulletinRepository; sources?: SourceRepository | undefined; log: Logger }) {}

  playPayload(broadcast: Broadcast, occurrenceAt: number): Payload<'play'> | null {
    const bulletin = this.deps.bulletins.get(broadcast.bulletinId);
    if (bulletin?.source === 'relay') return this.relayPayload(broadcast, occurrenceAt, bulletin);
    if (!bulletin?.audioSha256 || !bulletin.durationMs) {
      this.deps.log.error({ broadcastId: broadcast.id }, 'broadcast has no audio; not sent');
      return null;
    }
    return {
      broadcastId: broadcast.id,
      occurrenceAt,
      priority: broadcast.priority,
      media: {
        sha256: bulletin.audioSha256,
        url: `${broadcast.mediaBaseUrl}/media/${bulletin.audioSha256}`,
        durationMs: bulletin.durationMs,
        ...(bulletin.audioBytes ? { bytes: bulletin.audioBytes } : {}),
      },
      startAt: occurrenceAt,
      windowMs: broadcast.windowMs,
      title: bulletin.title.slice(0, 300),
      resume: broadcast.resumeMode,
    };
  }

  /**
   * A relay (issue 15): the box pulls the source's URLs itself, in order, for the bulletin's duration; `media`
   * is the source's fallback bulletin, played when every URL fails (absent: the relay stops cleanly). The
   * URLs are read at each pass, so an edited source reaches the boxes with their next agenda. A source with
   * `restream: true` (few listener slots upstream, or credentials boxes must not hold) is heard through the
   * server instead: one URL, `/streams/{sourceId}` on the server the broadcast's media come from (the public
   * URL, or the address the broadcast was made through), opened with the box's own credentials
   * (`deviceAuth`); the server pulls the source once and fails over between its URLs (relay/restream.ts).
   */
  private relayPayload(broadcast: Broadcast, occurrenceAt: number, bulletin: Bulletin): Payload<'play'> | null {
    const source = bulletin.relaySourceId ? this.deps.sources?.get(bulletin.relaySourceId) : null;
    if (!source || source.deletedAt !== null || !bulletin.durationMs) {
      this.deps.log.error({ broadcastId: broadcast.id, sourceId: bulletin.relaySourceId }, 'relay broadcast has no source; not sent');
      return null;
    }
    const fallback = source.fallbackBulletinId ? this.deps.bulletins.get(source.fallbackBulletinId) : null;
    const media =
      fallback?.audioSha256 && fallback.durationMs
        ? { sha256: fallback.audioSha256, url: `${broadcast.mediaBaseUrl}/media/${fallback.audioSha256}`, durationMs: fallback.durationMs, ...(fallback.audioBytes ? { bytes: fallback.audioBytes } : {}) }
        : undefined;
    return {
      broadcastId: broadcast.id,
      occurrenceAt,
      priority: broadcast.priority,
      ...(media ? { media } : {}),
      stream: source.restream
        ? { sourceId: source.id, urls: [`${broadcast.mediaBaseUrl}/streams/${encodeURIComponent(source.id)}`], durationMs: bulletin.durationMs, deviceAuth: true }
        : { sourceId: source.id, urls: [...source.urls], durationMs: bulletin.durationMs },
      startAt: occurrenceAt,
      windowMs: broadcast.windowMs,
      title: bulletin.title.slice(0, 300),
      resume: broadcast.resumeMode,
    };
  }
}

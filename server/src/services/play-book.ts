/**
 * The broadcasts of one dispatch pass and their `play` payloads, read and checked against the schema once
 * per pass rather than once per device: an emergency to 10,000 boxes is one broadcast, one bulletin, one
 * payload (issue 8 § Make it fast). How a payload is made from a broadcast, a file or a relay, is here too.
 */
import type { Logger } from 'pino';
import { CheckedPayload, LIVE_MAX_MS, type Payload, type ProgrammeItemRef } from '@loaxa/shared';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { Bulletin, BulletinRepository } from '../repos/bulletins.js';
import type { SourceRepository, StreamSource } from '../repos/sources.js';
import type { ProgrammeRepository } from '../repos/programmes.js';
import type { LiveRepository, LiveSessionRecord } from '../repos/live.js';
import { instantOf, localDayOf, parseHHmm } from '../scheduling/local-time.js';

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

/** The `play` of an occurrence from its broadcast and bulletin: a file, a relay of a live source, a programme (issue 15) or a live voice (issue 16). */
export class PlayPayloads implements PlayPayloadSource {
  constructor(private readonly deps: { bulletins: BulletinRepository; sources?: SourceRepository | undefined; programmes?: ProgrammeRepository | undefined; live?: Pick<LiveRepository, 'get'> | undefined; log: Logger }) {}

  playPayload(broadcast: Broadcast, occurrenceAt: number): Payload<'play'> | null {
    const bulletin = this.deps.bulletins.get(broadcast.bulletinId);
    if (bulletin?.source === 'live') {
      // The airing's own broadcast plays the voice as it is spoken; any later broadcast of the same bulletin
      // airs its recording, a file like any other (issue 16: "can be aired again").
      const live = this.deps.live?.get(bulletin.id);
      if (live && live.broadcastId === broadcast.id) return this.livePayload(broadcast, occurrenceAt, bulletin, live);
    }
    if (bulletin?.source === 'relay') return this.relayPayload(broadcast, occurrenceAt, bulletin);
    if (bulletin?.source === 'programme') return this.programmePayload(broadcast, occurrenceAt, bulletin);
    if (!bulletin?.audioSha256 || !bulletin.durationMs) {
      this.deps.log.error({ broadcastId: broadcast.id }, 'broadcast has no audio; not sent');
      return null;
    }
    return {
      ...this.common(broadcast, occurrenceAt, bulletin),
      media: mediaRef(broadcast, bulletin.audioSha256, bulletin.durationMs, bulletin.audioBytes),
    };
  }

  /** What every play carries besides what it plays. */
  private common(broadcast: Broadcast, occurrenceAt: number, bulletin: Bulletin) {
    return {
      broadcastId: broadcast.id,
      occurrenceAt,
      priority: broadcast.priority,
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
    const media = this.fallbackOf(broadcast, source);
    return {
      ...this.common(broadcast, occurrenceAt, bulletin),
      ...(media ? { media } : {}),
      stream: { ...streamOf(broadcast, source), durationMs: bulletin.durationMs },
    };
  }

  /**
   * A live voice (issue 16): one URL — the server's `/live/{id}` opened with the box's own credentials, or
   * the Icecast mount it is pushed to — and `live: true`: no failover, no fallback, no retries; the box plays
   * it until the stream ends and reports the ms it aired. `durationMs` is the longest an airing may last,
   * so the box's plan keeps the speaker for it; the stream's end ends it sooner. An airing that has ended
   * is sent to nobody (its unstarted deliveries were cancelled; a box asking now would get 410).
   */
  private livePayload(broadcast: Broadcast, occurrenceAt: number, bulletin: Bulletin, live: LiveSessionRecord): Payload<'play'> | null {
    if (live.state === 'ended') return null;
    return {
      ...this.common(broadcast, occurrenceAt, bulletin),
      stream: { sourceId: live.id, urls: [live.streamUrl], durationMs: LIVE_MAX_MS, ...(live.deviceAuth ? { deviceAuth: true } : {}), live: true },
    };
  }

  /** The source's fallback file, when it has one with audio. */
  private fallbackOf(broadcast: Broadcast, source: StreamSource): MediaRef | undefined {
    const fallback = source.fallbackBulletinId ? this.deps.bulletins.get(source.fallbackBulletinId) : null;
    return fallback?.audioSha256 && fallback.durationMs ? mediaRef(broadcast, fallback.audioSha256, fallback.durationMs, fallback.audioBytes) : undefined;
  }

  /**
   * A programme (issue 15): its current version's items in order. Files come as `media` (fetched before air
   * time), relay segments as `stream` — the same URLs (or restream) a relay gets, with the source's fallback as
   * the item's `media` — and an `until` as the instant `endsAt`, the first time it is that o'clock in Vietnam
   * at or after the occurrence begins (a programme at 23:50 relaying "until 00:30" ends the next day).
   * A segment whose source was deleted is left out and logged; the others keep their index, which the box's
   * reports name.
   */
  private programmePayload(broadcast: Broadcast, occurrenceAt: number, bulletin: Bulletin): Payload<'play'> | null {
    const v = bulletin.programmeVersion ? this.deps.programmes?.version(bulletin.id, bulletin.programmeVersion) : null;
    if (!v) {
      this.deps.log.error({ broadcastId: broadcast.id, programmeId: bulletin.id }, 'programme broadcast has no items; not sent');
      return null;
    }
    const items: ProgrammeItemRef[] = [];
    for (const r of v.rendered) {
      const title = r.title.slice(0, 300);
      if (r.media) items.push({ index: r.index, kind: r.kind, title, media: mediaRef(broadcast, r.media.sha256, r.media.durationMs, r.media.bytes) });
      else if (r.pauseMs) items.push({ index: r.index, kind: 'pause', title, pauseMs: r.pauseMs });
      else if (r.relay) {
        const source = this.deps.sources?.get(r.relay.sourceId);
        if (!source || source.deletedAt !== null) {
          this.deps.log.error({ broadcastId: broadcast.id, programmeId: bulletin.id, index: r.index, sourceId: r.relay.sourceId }, 'programme relay segment has no source; left out');
          continue;
        }
        const end = r.relay.until !== undefined ? { endsAt: endsAtOf(r.relay.until, occurrenceAt) } : { durationMs: r.relay.durationMs! };
        const media = this.fallbackOf(broadcast, source);
        items.push({ index: r.index, kind: 'relay', title, stream: { ...streamOf(broadcast, source), ...end }, ...(media ? { media } : {}) });
      }
    }
    if (items.length === 0) return null;
    return { ...this.common(broadcast, occurrenceAt, bulletin), programme: { programmeId: bulletin.id, version: v.version, items } };
  }
}

type MediaRef = NonNullable<Payload<'play'>['media']>;

function mediaRef(broadcast: Broadcast, sha256: string, durationMs: number, bytes: number | null): MediaRef {
  return { sha256, url: `${broadcast.mediaBaseUrl}/media/${sha256}`, durationMs, ...(bytes ? { bytes } : {}) };
}

/** Where a box pulls a source: its URLs in order, or the server's restream of it with the box's credentials. */
function streamOf(broadcast: Broadcast, source: StreamSource): { sourceId: string; urls: string[]; deviceAuth?: boolean } {
  return source.restream
    ? { sourceId: source.id, urls: [`${broadcast.mediaBaseUrl}/streams/${encodeURIComponent(source.id)}`], deviceAuth: true }
    : { sourceId: source.id, urls: [...source.urls] };
}

/** The first instant at `HH:MM` Vietnam time (UTC+7, no DST) at or after `from`. */
export function endsAtOf(until: string, from: number): number {
  const minute = parseHHmm(until);
  const day = localDayOf(from);
  const today = instantOf(day, minute);
  return today >= from ? today : instantOf(day + 1, minute);
}

/**
 * The upstream national link (issue 17; Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS): this commune system reports
 * to its province's source system. Every LOAXA_NATIONAL_STATUS_SECONDS each registered box's status, at each
 * airing's start and end a play log, and our answer to each bulletin that came down (`ack`), all through the
 * on-disk outbox (`./outbox.ts`) and sent strictly in order, one at a time: a province down for a week gets
 * everything when it returns, in the order it happened.
 *
 * Sending: a network error, a timeout, a 5xx, an answer that is not the mapping's answer form or too big, or a
 * failed login leaves the event pending and waits (exponential, with jitter, capped at 5 min) — the province's
 * flaky link is the normal case, and thousands of communes retrying in step would knock it down again. A
 * refusal (TrangThaiGui 1, a 4xx other than 401) is kept as refused with the answer and the next event goes.
 *
 * Delivery transitions arrive on the event bus (40,000 within seconds for an emergency to 10,000 boxes):
 * gathered and appended in one transaction after the emitting call returns, so ingest is not slowed.
 */
import type { Logger } from 'pino';
import { encodeUp, type Mapping, type NationalSystem, type UpstreamEvent } from '@loaxa/shared';
import type { NationalLinkConfig } from '../../config.js';
import type { ServerEvents } from '../../services/events.js';
import type { NationalOutboxRepository, OutboxItem, OutboxState } from './outbox.js';
import type { NationalLinkReadings } from './readings.js';
import type { SendOutcome } from './upstream-client.js';
import { airingEvent, nationalBox, statusEvent, type DeliveryTransition, type Vendor } from './event-source.js';

/** How the link talks to the province (UpstreamClient; a test may give another). */
export interface UpstreamSender {
  readonly loggedIn: boolean;
  send(req: ReturnType<typeof encodeUp>): Promise<SendOutcome>;
  close(): void;
}

export interface LinkClock {
  now: () => number;
  schedule: (fn: () => void, ms: number) => () => void;
}

export interface NationalLinkDeps {
  config: NationalLinkConfig;
  mapping: Mapping;
  /** *NguonID* and *TenNguon*: asked at each use (the installation's areas may be imported after the start). */
  source: () => NationalSystem;
  vendor: Vendor;
  outbox: NationalOutboxRepository;
  readings: NationalLinkReadings;
  events: ServerEvents;
  client: UpstreamSender;
  clock: LinkClock;
  logger: Logger;
  /** Jitter's randomness (tests may fix it). */
  random?: () => number;
}

export interface NationalLinkState {
  configured: true;
  upstreamUrl: string;
  mapping: string;
  sourceId: string;
  loggedIn: boolean;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  nextAttemptAt: number | null;
  pending: number;
  oldestPendingAt: number | null;
  sent: number;
  refused: number;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Sent statuses are kept an hour for the admin's view; other sent or refused events 30 days. */
const STATUS_KEEP_MS = 3600_000;
const KEEP_MS = 30 * 86_400_000;

export class NationalLink {
  private readonly log: Logger;
  private readonly random: () => number;
  private stopped = true;
  private cancelTick: (() => void) | null = null;
  private cancelPrune: (() => void) | null = null;
  private cancelWake: (() => void) | null = null;
  private wakeAt: number | null = null;
  private pumping: Promise<void> | null = null;
  /** Something was queued while sending: look again once the current pass ends. */
  private again = false;
  /** Consecutive failed attempts: the backoff's exponent; a success or a refusal resets it. */
  private failures = 0;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private transitions: DeliveryTransition[] = [];
  private flushQueued = false;
  private readonly onDelivery = (t: DeliveryTransition): void => {
    if (t.state !== 'playing' && t.state !== 'played' && t.state !== 'failed' && t.state !== 'missed') return;
    this.transitions.push(t);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flushAirings());
    }
  };

  constructor(private readonly deps: NationalLinkDeps) {
    this.log = deps.logger.child({ module: 'national-link' });
    this.random = deps.random ?? Math.random;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.deps.events.on('delivery', this.onDelivery);
    // The first status after one interval: at start every box is offline until it reconnects, and 10,000
    // "OFFLINE" statuses would tell the province a false story.
    this.scheduleTick();
    const prune = () => {
      try {
        this.deps.outbox.prune(this.deps.clock.now(), STATUS_KEEP_MS, KEEP_MS);
      } catch (err) {
        this.log.error({ err }, 'pruning the national outbox failed');
      }
      this.cancelPrune = this.deps.clock.schedule(prune, PRUNE_EVERY_MS);
    };
    this.cancelPrune = this.deps.clock.schedule(prune, PRUNE_EVERY_MS);
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.flushAirings();
    this.stopped = true;
    this.deps.events.off('delivery', this.onDelivery);
    this.cancelTick?.();
    this.cancelPrune?.();
    this.cancelWake?.();
    this.cancelTick = this.cancelPrune = this.cancelWake = null;
    this.deps.client.close();
    await this.pumping;
  }

  /** Our answer about a bulletin that came down (the downlink calls it): queued behind what is already waiting. */
  ack(bulletinId: string, accepted: boolean, detail: string): void {
    const event: UpstreamEvent = { kind: 'schedule-ack', at: this.deps.clock.now(), source: this.deps.source(), bulletinId: bulletinId.slice(0, 128), accepted, detail: detail.slice(0, 500) };
    this.deps.outbox.append([{ event }], this.deps.clock.now());
    this.kick();
  }

  /** Every box's status now, in one transaction (10,000 boxes: one commit). Answers how many were queued. */
  tickStatus(): number {
    const now = this.deps.clock.now();
    const source = this.deps.source();
    const events = this.deps.readings.boxes().map((r) => ({ event: statusEvent(r, now, source, this.deps.vendor) }));
    const n = this.deps.outbox.append(events, now);
    this.kick();
    return n;
  }

  state(): NationalLinkState {
    const c = this.deps.outbox.counts();
    return {
      configured: true,
      upstreamUrl: withoutUserinfo(this.deps.config.url),
      mapping: this.deps.mapping.name,
      sourceId: this.deps.source().id,
      loggedIn: this.deps.client.loggedIn,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      nextAttemptAt: this.wakeAt,
      pending: c.pending,
      oldestPendingAt: c.oldestPendingAt,
      sent: c.sent,
      refused: c.refused,
    };
  }

  list(filter: { state?: OutboxState | undefined; limit: number; before?: number | undefined }): OutboxItem[] {
    return this.deps.outbox.list(filter);
  }

  /** Resolves once nothing is being sent (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private scheduleTick(): void {
    this.cancelTick = this.deps.clock.schedule(() => {
      if (this.stopped) return;
      try {
        this.tickStatus();
      } catch (err) {
        this.log.error({ err }, 'the national status tick failed');
      }
      this.scheduleTick();
    }, this.deps.config.statusSeconds * 1000);
  }

  /** Turns the transitions gathered since the last flush into play logs, appended in one transaction. */
  private flushAirings(): void {
    this.flushQueued = false;
    const batch = this.transitions;
    this.transitions = [];
    if (batch.length === 0 || this.stopped) return;
    try {
      const now = this.deps.clock.now();
      const facts = new Map<string, ReturnType<NationalLinkReadings['airing']>>();
      const boxes = new Map<string, ReturnType<NationalLinkReadings['box']>>();
      const items: Array<{ event: UpstreamEvent; dedupeKey: string }> = [];
      const source = this.deps.source();
      for (const t of batch) {
        if (!facts.has(t.broadcastId)) facts.set(t.broadcastId, this.deps.readings.airing(t.broadcastId));
        if (!boxes.has(t.deviceId)) boxes.set(t.deviceId, this.deps.readings.box(t.deviceId));
        const f = facts.get(t.broadcastId);
        const b = boxes.get(t.deviceId);
        if (!f || !b) continue;
        const startedAt = t.state === 'playing' ? t.at : this.deps.readings.startedAt(t.broadcastId, t.deviceId, t.occurrenceAt);
        const event = airingEvent(t, { box: nationalBox(b, this.deps.vendor), facts: f, startedAt, source, author: source.name, now });
        // One start and one end per airing: a box's report delivered twice, or a resumed airing's second
        // `playing` (Circular 39: interrupted by a higher priority), is not a second record.
        if (event) items.push({ event, dedupeKey: `${event.kind}:${event.airingId}` });
      }
      this.deps.outbox.append(items, now);
      this.kick();
    } catch (err) {
      this.log.error({ err, transitions: batch.length }, 'play logs could not be queued for the province');
    }
  }

  /** Starts sending if nothing is being sent and no backoff is waiting. */
  private kick(): void {
    if (this.stopped || this.cancelWake) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.again = false;
    this.pumping = this.pump()
      .catch((err: unknown) => {
        // A database error while sending: logged, tried again after a pause like any failure.
        this.log.error({ err }, 'the national link stopped sending');
        if (!this.stopped) this.wait(BACKOFF_CAP_MS);
      })
      .finally(() => {
        this.pumping = null;
        if (this.again) this.kick();
      });
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const head = this.deps.outbox.head();
      if (!head) return;
      const now = this.deps.clock.now();
      if (head.nextAttemptAt > now) {
        this.wait(head.nextAttemptAt - now);
        return;
      }
      let req;
      try {
        req = encodeUp(this.deps.mapping, head.event);
      } catch (err) {
        // A mapping that cannot write this event (a province file without a code we use): it never will, so it
        // is refused here rather than holding up everything behind it.
        this.deps.outbox.markRefused(head, '', `Không mã hóa được theo ánh xạ ${this.deps.mapping.name}: ${(err as Error).message}`, now);
        continue;
      }
      const outcome = await this.deps.client.send(req);
      const at = this.deps.clock.now();
      if (outcome.kind === 'accepted') {
        this.deps.outbox.markSent(head, outcome.answer, at);
        this.failures = 0;
        this.lastSuccessAt = at;
      } else if (outcome.kind === 'refused') {
        this.deps.outbox.markRefused(head, outcome.answer, outcome.reason, at);
        this.failures = 0;
        this.lastSuccessAt = at;
        this.log.warn({ seq: head.seq, kind: head.kind, reason: outcome.reason }, 'the province refused a message');
      } else {
        this.failures++;
        const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.failures - 1, 20));
        const delay = Math.round(base * (0.5 + this.random() / 2));
        this.deps.outbox.markFailed(head.seq, outcome.error, at + delay);
        this.lastError = outcome.error;
        this.lastErrorAt = at;
        this.log.warn({ seq: head.seq, kind: head.kind, error: outcome.error, retryInMs: delay }, 'sending to the province failed; will retry');
        if (!this.stopped) this.wait(delay);
        return;
      }
    }
  }

  private wait(ms: number): void {
    this.cancelWake?.();
    this.wakeAt = this.deps.clock.now() + ms;
    this.cancelWake = this.deps.clock.schedule(() => {
      this.cancelWake = null;
      this.wakeAt = null;
      this.kick();
    }, ms);
  }
}

/** The URL as shown to admins: without `user:pass@` (issue 17 review: the configured URL may carry credentials). */
export function withoutUserinfo(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

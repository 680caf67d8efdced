/**
 * Live voice (issue 16): "the server checks the user, the target and the priority once, then republishes one
 * stream that boxes pull over HTTP with their own credentials; the start and stop reach the boxes over MQTT
 * with the usual envelope and ids". An airing is a bulletin of kind `live` and an approved broadcast of it,
 * sent at once through the usual delivery path — so Circular 39 applies unchanged: an emergency goes to its
 * areas' topics first and interrupts anything, a priority airing interrupts normal items — whose play
 * payload names the stream (services/play-book.ts). The running part is a LiveAiring (live-airing.ts); this
 * service writes what it reports and does what follows its end: the boxes not yet playing are cancelled, and
 * the recording is mastered like an upload into the bulletin's audio, listed and airable again.
 */
import type { Logger } from 'pino';
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LIVE_MAX_MS, canApprove, type LiveEndReason, type LiveSession, type Priority } from '@loaxa/shared';
import type { Config } from '../config.js';
import type { Principal } from '../auth/scope.js';
import { badRequest, conflict, forbidden, notFound, unavailable } from '../http/errors.js';
import type { LiveRepository, LiveSessionRecord } from '../repos/live.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { Broadcast, BroadcastRepository, BroadcastTarget } from '../repos/broadcasts.js';
import type { BroadcastService } from '../services/broadcast-service.js';
import type { Scheduler } from '../services/scheduler.js';
import type { DeliveryService } from '../services/delivery-service.js';
import type { AgendaService } from '../services/agenda-service.js';
import type { BulletinService } from '../services/bulletin-service.js';
import { MIN_RECORDING_MS } from '../services/recording.js';
import { vnOffsetMs } from '../scheduling/local-time.js';
import { newId } from '../ids.js';
import type { Listener } from '../relay/fanout.js';
import { liveRefusal } from './live-roles.js';
import { DEFAULT_LIVE_TUNING, LiveAiring, type AiringResult, type LiveTuning } from './live-airing.js';
import type { LiveSink } from './live-stream.js';

/** Airings at once on one server: each runs one ffmpeg (~15 MB, a few % of a core). */
const MAX_AIRINGS = 20;
/** How long going live waits for the Icecast mount to take the stream before the boxes are sent it. */
const ICECAST_READY_MS = 3_000;
/** A WAV header and 0.3 s of 48 kHz mono: less is nothing worth mastering. */
const MIN_RECORDING_BYTES = 44 + (MIN_RECORDING_MS * 96);

export interface LiveServiceDeps {
  config: Pick<Config, 'liveRoles'>;
  /** The data directory, resolved: recordings grow in its uploads/ as uploads do. */
  dataDir: string;
  live: LiveRepository;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  broadcastService: BroadcastService;
  scheduler: Pick<Scheduler, 'targetDevices'>;
  delivery: Pick<DeliveryService, 'cancel'>;
  agenda: Pick<AgendaService, 'markDirty' | 'flush'>;
  bulletinService: Pick<BulletinService, 'synthesize'>;
  ffmpegPath: string;
  logger: Logger;
  /** Where the boxes pull an airing, when not the server itself (the Icecast mount: live/icecast-push.ts). */
  icecast?: { publicUrl(id: string): string; openSink(id: string): LiveSink } | undefined;
  tuning?: Partial<LiveTuning>;
}

interface Running {
  airing: LiveAiring;
  createdBy: string;
  broadcast: Broadcast;
  done: Promise<void>;
}

export class LiveService {
  private readonly running = new Map<string, Running>();
  private readonly tuning: LiveTuning;
  private readonly log: Logger;
  private stopping = false;

  constructor(private readonly deps: LiveServiceDeps) {
    this.tuning = { ...DEFAULT_LIVE_TUNING, ...deps.tuning };
    this.log = deps.logger.child({ module: 'live' });
  }

  /**
   * After a crash: airings the last process left on air are ended (`server-stopping`) before the scheduler
   * resends anything, their boxes not yet playing cancelled, and what reached the disk is mastered by the
   * bulletin service's own restart of unfinished bulletins (or the bulletin fails, when nothing did).
   */
  async start(): Promise<void> {
    for (const rec of this.deps.live.open()) {
      this.deps.live.end(rec.id, { reason: 'server-stopping', at: Date.now(), endedBy: null, airedMs: rec.airedMs });
      const b = this.deps.broadcasts.get(rec.broadcastId);
      if (b) await this.cancelNotStarted(b, 'server-stopping');
      this.afterRecording(rec.id, this.recordingPath(rec.id), null, false);
      this.log.warn({ liveId: rec.id }, 'a live airing was cut by the last stop of the server; ended');
    }
  }

  /** Live airings on air now (`GET /metrics`). */
  get onAir(): number {
    return this.running.size;
  }

  /** `POST /api/v1/live`: checks once, makes the bulletin and the approved broadcast, sends it. */
  async create(user: Principal, body: { target: BroadcastTarget; priority: Priority; title?: string | undefined }, mediaBaseUrl: string): Promise<LiveSession> {
    const refusal = liveRefusal(this.deps.config.liveRoles, user.role, body.priority);
    if (refusal) throw forbidden(refusal);
    const now = Date.now();
    this.deps.broadcastService.assertFreshLogin(user, body.priority, now);
    this.deps.broadcastService.checkTargets(user, body.target);
    if (this.deps.scheduler.targetDevices({ target: body.target }).length === 0) {
      throw badRequest('no speaker box is installed in the target: choose areas or boxes that have some', [{ path: 'target', message: 'no box' }]);
    }
    if (this.stopping) throw unavailable('the server is stopping');
    for (const [id, r] of this.running) if (r.createdBy === user.id) throw conflict(`you are already live (${id}): end that airing first`);
    if (this.running.size >= MAX_AIRINGS) throw unavailable(`${MAX_AIRINGS} live airings are on already, the most this server runs at once; try again when one ends`);

    const id = newId('bt');
    const streamUrl = this.deps.icecast ? this.deps.icecast.publicUrl(id) : `${mediaBaseUrl}/live/${encodeURIComponent(id)}`;
    const broadcast: Broadcast = {
      id: newId('bc'),
      bulletinId: id,
      priority: body.priority,
      target: body.target,
      schedule: null,
      startAt: now,
      // A box that comes online (or is freed by an emergency) mid-airing may still join it.
      windowMs: LIVE_MAX_MS,
      // Approved as it is made: LOAXA_LIVE_ROLES was the approval (issue 16: live audio cannot wait).
      status: 'approved',
      mediaBaseUrl,
      createdBy: user.id,
      createdAt: now,
      // Circular 39: a stream interrupted by a higher priority resumes live (ARCHITECTURE.md § Streams).
      resumeMode: 'resume',
      decidedBy: user.id,
      decidedAt: now,
      decisionReason: null,
      materializedUntil: 0,
    };
    const title = body.title ?? `Phát trực tiếp ${localTime(now)}`;
    this.deps.live.transaction(() => {
      this.deps.bulletins.insertLive({ id, title, category: null, createdBy: user.id, areaCode: user.areaCode, uploadPath: this.recordingPath(id) }, now);
      this.deps.broadcastService.store(broadcast);
      this.deps.live.insert({ id, broadcastId: broadcast.id, createdBy: user.id, streamUrl, deviceAuth: !this.deps.icecast, createdAt: now });
    });
    // Running before the play goes out: boxes that tune in at once find it (silence until the voice). With
    // Icecast, its mount must exist before the boxes ask it (it answers 404 for a mount without a source).
    const airing = this.run(id, user.id, broadcast);
    if (this.deps.icecast) await Promise.race([airing.sinkReady, new Promise((r) => setTimeout(r, ICECAST_READY_MS).unref())]);
    try {
      await this.deps.broadcastService.launch(broadcast);
    } catch (err) {
      // Written and approved: the scheduler's next pass sends what this could not.
      this.log.error({ err, liveId: id }, 'live: sending the play failed; the scheduler retries');
    }
    this.log[body.priority === 'normal' ? 'info' : 'warn']({ liveId: id, broadcastId: broadcast.id, priority: body.priority, userId: user.id, role: user.role }, 'live airing created (approved by LOAXA_LIVE_ROLES)');
    return this.view(id)!;
  }

  /** The airing as the API shows it. */
  view(id: string): LiveSession | null {
    const rec = this.deps.live.get(id);
    const bulletin = this.deps.bulletins.get(id);
    const broadcast = rec ? this.deps.broadcasts.get(rec.broadcastId) : null;
    if (!rec || !bulletin || !broadcast) return null;
    const airing = this.running.get(id)?.airing;
    return {
      id,
      broadcastId: broadcast.id,
      title: bulletin.title,
      priority: broadcast.priority,
      state: rec.state,
      endReason: rec.endReason,
      audioPath: `/api/v1/live/${encodeURIComponent(id)}/audio`,
      devices: this.deps.live.deliveryCounts(broadcast.id).total,
      startedAt: new Date(rec.createdAt).toISOString(),
      endedAt: rec.endedAt === null ? null : new Date(rec.endedAt).toISOString(),
      airedMs: airing ? Math.round(airing.airedMs) : rec.airedMs,
    };
  }

  record(id: string): LiveSessionRecord | null {
    return this.deps.live.get(id);
  }

  /** The running airing, for the operator's socket (only its creator's: the route checks). */
  airing(id: string): { airing: LiveAiring; createdBy: string } | null {
    return this.running.get(id) ?? null;
  }

  /** `POST /api/v1/live/{id}/stop`: its speaker or an approver; answers once the boxes' streams have ended. */
  async stop(user: Principal, id: string): Promise<LiveSession> {
    const rec = this.deps.live.get(id);
    if (!rec) throw notFound(`live airing ${id}`);
    if (rec.createdBy !== user.id && !canApprove(user)) throw forbidden('only the one who went live, or an approver, may end this airing');
    const r = this.running.get(id);
    if (!r || rec.state === 'ended') throw conflict(`live airing ${id} has already ended (${rec.endReason ?? 'ended'})`);
    r.airing.end('stopped', user.id);
    await r.done;
    return this.view(id)!;
  }

  /**
   * Whether a box may hear an airing now: only a box it was sent to (a delivery not cancelled or expired), and
   * while it runs. 'unknown' (404), 'refused' (403), 'gone' (410), 'busy' (429), or null: `listen` next, in the same tick.
   */
  refusal(id: string, deviceId: string): 'unknown' | 'refused' | 'gone' | 'busy' | null {
    const rec = this.deps.live.get(id);
    if (!rec) return 'unknown';
    const b = this.deps.broadcasts.get(rec.broadcastId);
    const d = b ? this.deps.broadcasts.delivery(b.id, deviceId, b.startAt) : null;
    if (!d || d.state === 'cancelled' || d.state === 'expired') return 'refused';
    const r = this.running.get(id);
    if (!r || rec.state === 'ended') return 'gone';
    return r.airing.refusal(deviceId);
  }

  /** Adds a box's stream to a running airing (after `refusal` said null); null when it is not running. */
  listen(id: string, deviceId: string, listener: Listener): (() => void) | null {
    return this.running.get(id)?.airing.listen(deviceId, listener) ?? null;
  }

  /** Cuts a box's streams of every airing (its credentials changed, it was revoked or deleted). */
  cut(deviceId: string): void {
    for (const r of this.running.values()) r.airing.cut(deviceId);
  }

  /** Ends every airing (`server-stopping`); resolves once each has finished its end. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()];
    for (const r of all) r.airing.end('server-stopping', null);
    await Promise.all(all.map((r) => r.done));
  }

  private run(id: string, createdBy: string, broadcast: Broadcast): LiveAiring {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const airing = new LiveAiring({
      id,
      ffmpegPath: this.deps.ffmpegPath,
      recordingPath: this.recordingPath(id),
      logger: this.deps.logger,
      tuning: this.tuning,
      onAir: (inputType) => this.deps.live.setOnAir(id, inputType, Date.now()),
      counts: () => this.deps.live.deliveryCounts(broadcast.id),
      finished: (result) => void this.finished(id, broadcast, result).finally(resolve),
      ...(this.deps.icecast ? { openSink: () => this.deps.icecast!.openSink(id) } : {}),
    });
    this.running.set(id, { airing, createdBy, broadcast, done });
    airing.begin();
    return airing;
  }

  private async finished(id: string, broadcast: Broadcast, r: AiringResult): Promise<void> {
    this.running.delete(id);
    try {
      this.deps.live.end(id, { reason: r.reason, at: Date.now(), endedBy: r.endedBy, airedMs: r.airedMs });
      this.log.info({ liveId: id, reason: r.reason, airedMs: r.airedMs, recordedMs: Math.round(r.recordedMs) }, 'live airing ended');
      await this.cancelNotStarted(broadcast, r.reason);
      this.afterRecording(id, this.recordingPath(id), r.recordingError, r.recordedMs >= MIN_RECORDING_MS);
    } catch (err) {
      this.log.error({ err, liveId: id }, 'live: what follows the end of an airing failed');
    }
  }

  /** The boxes that had not begun the airing drop it (those playing air what they hold and report it). */
  private async cancelNotStarted(b: Broadcast, reason: LiveEndReason): Promise<void> {
    const devices = await this.deps.delivery.cancel(b, b.startAt, `the live airing ended (${reason}) before this box began playing it`, { notStarted: true });
    this.deps.agenda.markDirty(devices);
    await this.deps.agenda.flush();
  }

  /** The recording becomes the bulletin's audio, mastered like an upload; or the bulletin fails, saying why. */
  private afterRecording(id: string, path: string, writeError: Error | null, enough: boolean): void {
    const size = existsSync(path) ? statSync(path).size : 0;
    if (!writeError && (enough || size >= MIN_RECORDING_BYTES)) {
      this.deps.bulletins.setProgress(id, 50, 'mastering');
      // It records its own failure on the bulletin; it can still reject when the server stops under it (the
      // database closed mid-job), and the next start masters the recording again.
      this.deps.bulletinService.synthesize(id).catch((err: unknown) => this.log.warn({ err, liveId: id }, 'live: mastering the recording was cut short; the next start resumes it'));
      return;
    }
    const why = writeError ? 'the recording could not be written on the server (is its disk full?)' : 'nothing was recorded: the airing ended before any voice arrived';
    this.deps.bulletins.markFailed(id, why);
    void rm(path, { force: true }).catch(() => undefined);
  }

  private recordingPath(id: string): string {
    return join(this.deps.dataDir, 'uploads', `${id}.live.wav`);
  }
}

/** "14:05 07/12/2026", Vietnam time: the default title of an airing. */
function localTime(at: number): string {
  const d = new Date(at + vnOffsetMs(at));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())} ${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}


/**
 * What a parent sends down (issue 17: a province's source system, or a central Loa Xã) enters the Circular 39
 * paths that already exist (Circular 39/2020/TT-BTTTT; ARCHITECTURE.md § Priority, § The national link):
 * - an **emergency** is an approved broadcast at once to the listed areas: it interrupts everything;
 * - a **priority** bulletin airs on its schedule unless it collides with a commune's own priority items; that
 *   commune gets it in its inbox with the collision named, and sets the order;
 * - a **normal** one, or any with *CheDoPhat* "commune decides", is an offer in each listed commune's inbox.
 * A repeated *BanTinId* replaces what it became (a changed schedule or audio) and never airs twice; a delete
 * cancels what is ahead and stops what airs; a reschedule moves it; a device control becomes our maintenance
 * commands. The actor of all of it is the parent (a system actor: its own users row, disabled, so nobody logs in
 * as it), never a person. After each, the parent is told through the upstream link (`schedule-ack`) when
 * the link is on.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeMessage, topics, type DownBulletin, type DownDelete, type DownDeviceControl, type DownReschedule, type DownstreamCommand, type MessageType } from '@loaxa/shared';
import type { Principal } from '../../auth/scope.js';
import { hashPassword, generatePassword } from '../../auth/passwords.js';
import { ApiError } from '../../http/errors.js';
import { newId } from '../../ids.js';
import type { AreaRepository } from '../../repos/areas.js';
import type { Broadcast, BroadcastRepository } from '../../repos/broadcasts.js';
import type { BulletinRepository } from '../../repos/bulletins.js';
import type { DeviceRepository } from '../../repos/devices.js';
import type { OfferRecord, OfferRepository } from '../../repos/offers.js';
import type { UserRepository } from '../../repos/users.js';
import type { NationalBulletinRecord, NationalBulletinRepository, NationalBulletinState } from '../../repos/national-bulletins.js';
import type { NationalDeviceRepository } from '../../repos/national-devices.js';
import type { NationalPeerRecord } from '../../repos/national-peers.js';
import type { StreamAddressGuard } from '../../relay/address-guard.js';
import type { MessageBus } from '../../broker/bus.js';
import type { BroadcastService } from '../../services/broadcast-service.js';
import type { BulletinService } from '../../services/bulletin-service.js';
import type { RequestCorrelator } from '../../services/requests.js';
import { decodeRecording, NotAudioError } from '../../services/recording.js';
import { decideOffer, type CommuneItem } from '../../scheduling/inbox.js';
import { expandOccurrences } from '../../scheduling/recurrence.js';
import { scheduleOf } from '../../services/scheduler.js';
import { AudioFetchError, fetchAudio } from './fetch-audio.js';
import { DEFAULT_JOB_SLOTS, JobSlots, type JobSlotLimits, type JobTicket } from './job-slots.js';
import { mapSchedule, ScheduleRefusal, type MappedSchedule } from './schedule.js';

const DAY_MS = 86_400_000;
/** Collisions are looked for over the week ahead: what the boxes' agendas hold (as for POST /broadcasts). */
const COLLISION_HORIZON_MS = 7 * DAY_MS;
/** A box has this long to answer a maintenance command before it counts as not reached. */
const COMMAND_TIMEOUT_MS = 10_000;

/** The outcome of one command: the HTTP status and the answer (*TrangThaiGui*, *MoTa*). */
export interface DownlinkOutcome {
  status: number;
  ok: boolean;
  message: string;
  /** With a 503: when to send again (the answer's Retry-After, seconds). */
  retryAfterS?: number;
}

/** Our answer about a bulletin, for the upstream link's `schedule-ack` (helper of the link; absent when it is off). */
export type ScheduleAck = (peer: NationalPeerRecord, ack: { bulletinId: string; accepted: boolean; detail: string }) => void;

export interface DownlinkDeps {
  areas: AreaRepository;
  devices: DeviceRepository;
  users: UserRepository;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  offers: OfferRepository;
  broadcastService: BroadcastService;
  bulletinService: BulletinService;
  bus: MessageBus;
  requests: RequestCorrelator;
  nationalBulletins: NationalBulletinRepository;
  nationalDevices: NationalDeviceRepository;
  addressGuard: Pick<StreamAddressGuard, 'checkedAddresses'>;
  /** Where fetched audio waits for decoding (the uploads folder). */
  uploadDir: string;
  audioMaxBytes?: number;
  audioTimeoutMs?: number;
  /** How long the parent's request waits for a bulletin to be fetched and mastered before it is answered "taken, in progress". */
  answerWaitMs?: number;
  /** How many audio jobs run and wait at once (job-slots.ts); default DEFAULT_JOB_SLOTS. */
  jobSlots?: JobSlotLimits;
  commandTimeoutMs?: number;
  ack?: ScheduleAck | undefined;
  logger: Logger;
  now?: () => number;
}

/** When a parent told "too busy" (503) should send again. */
const BUSY_RETRY_AFTER_S = 30;
const refused = (status: number, message: string): DownlinkOutcome => ({ status, ok: false, message });
const accepted = (message: string): DownlinkOutcome => ({ status: 200, ok: true, message });

/** The id of a parent's system actor (its users row): the peer's own id. */
export const systemActorId = (peer: Pick<NationalPeerRecord, 'id'>) => peer.id;

export class Downlink {
  private readonly log: Logger;
  /** Bulletins being fetched and mastered, by peer and BanTinId: a repeat while one runs joins it. */
  private readonly running = new Map<string, Promise<DownlinkOutcome>>();
  /** Audio jobs (fetch + decode + master) at once, per parent and in all (issue 17 review: unbounded). */
  private readonly slots: JobSlots;

  constructor(private readonly deps: DownlinkDeps) {
    this.log = deps.logger.child({ module: 'national-downlink' });
    this.slots = new JobSlots(deps.jobSlots ?? DEFAULT_JOB_SLOTS);
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /**
   * The parent as the actor of what it sends: a users row of its own (FKs of broadcasts, offers and bulletins
   * name it; the audit shows it), disabled, with a password nobody knows, and marked `system`: PATCH, login
   * and the users list refuse or skip it (issue 17 review: an admin could give it a password). Acting,
   * it may do what a province admin does, but only inside its areas (checked here before anything is made).
   */
  async ensureActor(peer: NationalPeerRecord): Promise<void> {
    const id = systemActorId(peer);
    if (this.deps.users.byId(id)) return;
    this.deps.users.insert({ id, username: `national:${peer.username}`, passwordHash: await hashPassword(generatePassword()), role: 'viewer', areaCode: null, disabled: true, createdAt: this.now(), system: true });
  }

  private principal(peer: NationalPeerRecord): Principal {
    return { id: systemActorId(peer), username: `national:${peer.username}`, role: 'province-admin', areaCode: null, authenticatedAt: this.now() };
  }

  /** Runs one command from a parent; never throws for a command's fault (the answer says it). */
  async handle(peer: NationalPeerRecord, cmd: DownstreamCommand, ctx: { mediaBaseUrl: string }): Promise<DownlinkOutcome> {
    if (peer.role !== 'parent') return refused(403, 'Hệ thống con không được gửi bản tin xuống');
    if (cmd.source.id !== peer.sourceId) return refused(403, `NguonID ${cmd.source.id} không phải của hệ thống nguồn này (${peer.sourceId})`);
    await this.ensureActor(peer);
    try {
      switch (cmd.kind) {
        case 'bulletin':
          return await this.bulletin(peer, cmd, ctx.mediaBaseUrl);
        case 'bulletin-delete':
          return await this.remove(peer, cmd);
        case 'bulletin-reschedule':
          return await this.reschedule(peer, cmd, ctx.mediaBaseUrl);
        case 'device-control':
          return await this.control(peer, cmd);
      }
    } catch (err) {
      if (err instanceof ScheduleRefusal) return refused(400, err.message);
      if (err instanceof ApiError) return refused(err.statusCode >= 500 ? 503 : 400, `Không nhận được: ${err.message}`);
      this.log.error({ err, peerId: peer.id, kind: cmd.kind }, 'a command from the parent failed');
      return refused(500, 'Lỗi máy chủ khi xử lý; gửi lại sau');
    }
  }

  // ---- areas ------------------------------------------------------------------------------------------

  /** Why the parent may not act on `code`, or null: it must be a current area of ours inside the parent's areas. */
  private areaRefusal(peer: NationalPeerRecord, code: string): string | null {
    const area = this.deps.areas.get(code);
    if (!area || area.validUntil) return `Địa bàn ${code} không có trong danh mục địa bàn`;
    const up = this.deps.areas.ancestry(code);
    if (!peer.areaCodes.some((c) => up.includes(c))) return `Địa bàn ${code} nằm ngoài địa bàn của hệ thống nguồn này`;
    return null;
  }

  private communesOf(areaCodes: readonly string[]): string[] {
    const out = new Set<string>();
    for (const code of areaCodes) for (const c of this.deps.areas.subtree(code)) if (this.deps.areas.get(c)?.level === 'commune') out.add(c);
    return [...out].sort();
  }

  // ---- bulletin -----------------------------------------------------------------------------------------

  private key(peer: NationalPeerRecord, id: string): string {
    return `${peer.id}\n${id}`;
  }

  private async bulletin(peer: NationalPeerRecord, cmd: DownBulletin, mediaBaseUrl: string): Promise<DownlinkOutcome> {
    for (const code of cmd.areaCodes) {
      const why = this.areaRefusal(peer, code);
      if (why) return refused(403, why);
    }
    const plan = mapSchedule(cmd, this.now());
    const key = this.key(peer, cmd.bulletinId);
    const joined = this.running.get(key);
    if (joined) return this.answerWithin(joined, cmd.bulletinId);
    const existing = this.deps.nationalBulletins.get(peer.id, cmd.bulletinId);
    const json = JSON.stringify(cmd);
    // The same bulletin sent again (a retry after a lost answer, the parent's own resend): nothing airs twice.
    if (existing && existing.commandJson === json && existing.state !== 'failed' && existing.state !== 'fetching') {
      return accepted(`Bản tin ${cmd.bulletinId} đã nhận trước đó (${stateText(existing.state)}); không phát lại`);
    }
    // A place among the audio jobs before anything is written: with too many running and waiting, the
    // parent is told to send again later and nothing changes (issue 17 review: one parent could start any
    // number of downloads and masterings at once).
    const ticket = this.slots.tryEnter(peer.id);
    if (!ticket) return { ...refused(503, `Đang xử lý quá nhiều bản tin cùng lúc; gửi lại bản tin ${cmd.bulletinId} sau ${BUSY_RETRY_AFTER_S} giây`), retryAfterS: BUSY_RETRY_AFTER_S };
    const job = this.take(peer, cmd, plan, existing, mediaBaseUrl, ticket).finally(() => {
      ticket.release();
      this.running.delete(key);
    });
    this.running.set(key, job);
    return this.answerWithin(job, cmd.bulletinId);
  }

  /** The job's outcome, or "taken, in progress" when it runs longer than the parent should wait (the ack follows). */
  private async answerWithin(job: Promise<DownlinkOutcome>, bulletinId: string): Promise<DownlinkOutcome> {
    const wait = this.deps.answerWaitMs ?? 8000;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<DownlinkOutcome>((r) => {
      timer = setTimeout(() => r(accepted(`Đã nhận bản tin ${bulletinId}; đang tải và xử lý âm thanh, kết quả gửi qua xác nhận lịch phát`)), wait);
      timer.unref();
    });
    try {
      return await Promise.race([job, slow]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async take(peer: NationalPeerRecord, cmd: DownBulletin, plan: MappedSchedule, existing: NationalBulletinRecord | null, mediaBaseUrl: string, ticket: JobTicket): Promise<DownlinkOutcome> {
    const now = this.now();
    const receivedAt = existing?.receivedAt ?? now;
    const base = { peerId: peer.id, upstreamId: cmd.bulletinId, commandJson: JSON.stringify(cmd), receivedAt, broadcastIds: [] as string[], offerIds: [] as string[] };
    // The same audio link as before keeps the audio already mastered; a new link is fetched again.
    const previous = existing?.commandJson ? (JSON.parse(existing.commandJson) as DownBulletin) : null;
    let bulletinId = previous && previous.link === cmd.link && existing?.bulletinId && this.deps.bulletins.get(existing.bulletinId)?.status === 'ready' ? existing.bulletinId : null;
    if (!bulletinId) {
      this.deps.nationalBulletins.put({ ...base, bulletinId: existing?.bulletinId ?? null, broadcastIds: existing?.broadcastIds ?? [], offerIds: existing?.offerIds ?? [], state: 'fetching', detail: 'đang tải âm thanh', updatedAt: now });
      await ticket.ready;
      let made: { bulletinId: string } | { refusal: DownlinkOutcome };
      try {
        made = await this.makeBulletin(peer, cmd);
      } finally {
        ticket.release();
      }
      if ('refusal' in made) {
        this.deps.nationalBulletins.put({ ...base, bulletinId: existing?.bulletinId ?? null, broadcastIds: existing?.broadcastIds ?? [], offerIds: existing?.offerIds ?? [], state: 'failed', detail: made.refusal.message, updatedAt: this.now() });
        this.ack(peer, cmd.bulletinId, false, made.refusal.message);
        return made.refusal;
      }
      bulletinId = made.bulletinId;
    } else ticket.release(); // the audio mastered before is kept: no job
    // A repeated BanTinId replaces what it became: the old airings are cancelled (stopped if on air), the old
    // offers withdrawn, and the bulletin goes its way again with the new schedule or audio.
    if (existing) await this.retire(peer, existing, 'được nguồn thay bằng bản mới');
    const placed = await this.place(peer, cmd, bulletinId, plan, mediaBaseUrl);
    this.deps.nationalBulletins.put({ ...base, bulletinId, broadcastIds: placed.broadcastIds, offerIds: placed.offerIds, state: placed.state, detail: placed.detail, updatedAt: this.now() });
    this.log.info({ peerId: peer.id, upstreamId: cmd.bulletinId, priority: cmd.priority, state: placed.state, broadcasts: placed.broadcastIds.length, offers: placed.offerIds.length }, 'bulletin from the parent taken');
    this.ack(peer, cmd.bulletinId, true, placed.detail);
    return accepted(`${existing ? 'Đã cập nhật' : 'Đã nhận'} bản tin ${cmd.bulletinId}: ${placed.detail}`);
  }

  /** Fetches the audio and masters it as an uploaded recording (the upload path's loudness treatment). */
  private async makeBulletin(peer: NationalPeerRecord, cmd: DownBulletin): Promise<{ bulletinId: string } | { refusal: DownlinkOutcome }> {
    let path: string | null = null;
    try {
      path = await fetchAudio(cmd.link, { guard: this.deps.addressGuard, dir: this.deps.uploadDir, ...(this.deps.audioMaxBytes ? { maxBytes: this.deps.audioMaxBytes } : {}), ...(this.deps.audioTimeoutMs ? { timeoutMs: this.deps.audioTimeoutMs } : {}) });
      await decodeRecording(path);
      const id = newId('bt');
      this.deps.bulletins.insert({
        id,
        title: cmd.title,
        text: cmd.summary,
        category: cmd.category,
        voice: 'vi',
        speed: 1,
        createdBy: systemActorId(peer),
        areaCode: null,
        source: 'recording',
        uploadPath: path,
        originalName: `${peer.sourceId}-${cmd.bulletinId}`.slice(0, 200),
      });
      path = null; // the bulletin owns it now
      const done = await this.deps.bulletinService.synthesize(id);
      if (done.status !== 'ready') return { refusal: refused(400, `Âm thanh không dùng được: ${done.error ?? 'không xử lý được'}`) };
      return { bulletinId: id };
    } catch (err) {
      if (err instanceof AudioFetchError) return { refusal: refused(err.permanent ? 400 : 502, `NoiDung.Link: ${err.message}`) };
      if (err instanceof NotAudioError) return { refusal: refused(400, `NoiDung.Link không phải tệp âm thanh: ${err.message}`) };
      throw err;
    } finally {
      if (path) await rm(path, { force: true });
    }
  }

  /** Puts the bulletin on its Circular 39 path; answers what it became. */
  private async place(
    peer: NationalPeerRecord,
    cmd: Pick<DownBulletin, 'bulletinId' | 'priority' | 'playMode' | 'areaCodes' | 'endDate'>,
    bulletinId: string,
    plan: MappedSchedule,
    mediaBaseUrl: string,
  ): Promise<{ state: NationalBulletinState; broadcastIds: string[]; offerIds: string[]; detail: string }> {
    const user = this.principal(peer);
    const now = this.now();
    // Emergency: at once, whatever the schedule says (Circular 39: it interrupts everything).
    if (cmd.priority === 'emergency') {
      const { broadcast } = this.deps.broadcastService.prepare(user, { bulletinId, priority: 'emergency', target: { areaCodes: [...cmd.areaCodes] } }, mediaBaseUrl, now);
      await this.deps.broadcastService.save(broadcast);
      return { state: 'aired', broadcastIds: [broadcast.id], offerIds: [], detail: `phát khẩn cấp ngay tới ${cmd.areaCodes.join(', ')}` };
    }
    const communes = this.communesOf(cmd.areaCodes);
    const drafts = plan.kind === 'now' ? [{ startAt: new Date(now).toISOString() }] : plan.schedules.map((schedule) => ({ schedule }));
    const occurrences = this.occurrencesOf(plan, bulletinId, now);
    const expiresAt = Math.max(cmd.endDate + DAY_MS, now + DAY_MS);
    // Normal, or the commune decides: an offer in each commune's inbox (the offers path), waiting for it.
    if (cmd.priority === 'normal' || cmd.playMode === 'commune-decides') {
      const reason = cmd.priority === 'normal' ? 'bản tin thường từ nguồn cấp trên chờ xã nhận và xếp lịch (Thông tư 39)' : 'nguồn cấp trên để xã quyết định lịch phát';
      const offerIds = communes.map((code) => this.offer(peer, bulletinId, code, cmd.priority, occurrences[0] ?? now, expiresAt, cmd.priority === 'normal' ? 'wait-for-accept' : 'wait-for-order', reason, []));
      return { state: 'inbox', broadcastIds: [], offerIds, detail: `vào hộp thư của ${communes.length} xã` };
    }
    // Priority: airs on its schedule unless a commune's own priority items collide; that commune sets the order.
    const bulletin = this.deps.bulletins.get(bulletinId)!;
    const airing: string[] = [];
    const offerIds: string[] = [];
    const collided: string[] = [];
    for (const code of communes) {
      const collides = this.collisions(code, occurrences, bulletin.durationMs ?? 0, now);
      if (collides.length) {
        const reason = `trùng với bản tin ưu tiên của xã (${collides.join(', ')}); xã quyết định thứ tự (Thông tư 39)`;
        offerIds.push(this.offer(peer, bulletinId, code, 'priority', occurrences[0] ?? now, expiresAt, 'wait-for-order', reason, collides));
        collided.push(code);
      } else airing.push(code);
    }
    const broadcastIds: string[] = [];
    if (airing.length) {
      for (const draft of drafts) {
        const { broadcast } = this.deps.broadcastService.prepare(user, { bulletinId, priority: 'priority', target: { areaCodes: airing }, ...draft }, mediaBaseUrl, now);
        await this.deps.broadcastService.save(broadcast);
        broadcastIds.push(broadcast.id);
      }
    }
    const parts = [airing.length ? `lên lịch phát ở ${airing.length} xã` : '', collided.length ? `vào hộp thư của ${collided.length} xã vì trùng bản tin ưu tiên của xã (${collided.join(', ')})` : ''].filter(Boolean);
    return { state: airing.length ? 'scheduled' : 'inbox', broadcastIds, offerIds, detail: parts.join('; ') || 'không có xã nào nhận' };
  }

  /** The instants it would air in the week ahead (the first of each schedule at least). */
  private occurrencesOf(plan: MappedSchedule, bulletinId: string, now: number): number[] {
    if (plan.kind === 'now') return [now];
    const durationMs = this.deps.bulletins.get(bulletinId)?.durationMs ?? 0;
    const out: number[] = [];
    for (const schedule of plan.schedules) {
      const all = expandOccurrences(scheduleOf({ schedule, startAt: now }), { from: now, to: now + 366 * DAY_MS }, { durationMs });
      out.push(...all.filter((t, i) => i === 0 || t < now + COLLISION_HORIZON_MS));
    }
    return out.sort((a, b) => a - b);
  }

  /** The commune's own priority broadcasts that overlap any of the occurrences (decideOffer's rule for each). */
  private collisions(code: string, occurrences: readonly number[], durationMs: number, now: number): string[] {
    if (occurrences.length === 0) return [];
    const devices = this.deps.devices.idsInAreas(this.deps.areas.subtree(code));
    const own: CommuneItem[] = this.deps.broadcasts
      .plannedOn(devices, occurrences[0]! - 3600_000, occurrences.at(-1)! + durationMs)
      .filter((d) => d.priority === 'priority')
      .map((d) => ({ broadcastId: d.broadcastId, priority: d.priority, startAt: d.occurrenceAt, durationMs: d.durationMs }));
    const found = new Set<string>();
    for (const at of occurrences) {
      const d = decideOffer({ id: 'probe', bulletinId: 'probe', areaCode: code, priority: 'priority', offeredAt: now, startAt: at, durationMs }, own, now);
      for (const id of d.collidesWith ?? []) found.add(id);
    }
    return [...found].sort();
  }

  private offer(peer: NationalPeerRecord, bulletinId: string, areaCode: string, priority: OfferRecord['priority'], startAt: number, expiresAt: number, action: OfferRecord['action'], reason: string, collidesWith: string[]): string {
    const now = this.now();
    const id = newId('of');
    this.deps.offers.insert({ id, bulletinId, areaCode, priority, startAt, expiresAt, status: 'pending', since: now, action, reason: `${peer.name}: ${reason}`, collidesWith, broadcastId: null, createdBy: systemActorId(peer), createdAt: now });
    return id;
  }

  /**
   * Withdraws what a bulletin became: its broadcasts cancelled (the boxes playing it are told to stop), its
   * pending offers expired, and a broadcast a commune made from its offer cancelled too — the source took it back.
   */
  private async retire(peer: NationalPeerRecord, rec: NationalBulletinRecord, why: string): Promise<number> {
    const user = this.principal(peer);
    const now = this.now();
    const broadcastIds = new Set(rec.broadcastIds);
    for (const id of rec.offerIds) {
      const o = this.deps.offers.get(id);
      if (!o) continue;
      if (o.status === 'pending' || o.status === 'accepted') this.deps.offers.update(id, { status: 'expired', since: now, reason: `${peer.name}: bản tin ${why}` });
      if (o.broadcastId) broadcastIds.add(o.broadcastId);
    }
    let stopped = 0;
    for (const id of broadcastIds) {
      const b: Broadcast | null = this.deps.broadcasts.get(id);
      if (!b || b.status === 'cancelled' || b.status === 'rejected') continue;
      stopped += await this.deps.broadcastService.cancel(user, b, undefined);
    }
    return stopped;
  }

  private async remove(peer: NationalPeerRecord, cmd: DownDelete): Promise<DownlinkOutcome> {
    const rec = this.deps.nationalBulletins.get(peer.id, cmd.bulletinId);
    if (!rec) return refused(404, `Không có bản tin ${cmd.bulletinId} từ nguồn này`);
    if (rec.state === 'deleted') return accepted(`Bản tin ${cmd.bulletinId} đã xóa trước đó`);
    await this.running.get(this.key(peer, cmd.bulletinId))?.catch(() => undefined);
    const fresh = this.deps.nationalBulletins.get(peer.id, cmd.bulletinId)!;
    const devices = await this.retire(peer, fresh, 'đã bị nguồn xóa');
    const detail = `đã hủy lịch phát và dừng phát (${devices} lượt gửi tới loa)`;
    this.deps.nationalBulletins.put({ ...fresh, state: 'deleted', detail, updatedAt: this.now() });
    this.ack(peer, cmd.bulletinId, true, `deleted: ${detail}`);
    return accepted(`Đã xóa bản tin ${cmd.bulletinId}: ${detail}`);
  }

  private async reschedule(peer: NationalPeerRecord, cmd: DownReschedule, mediaBaseUrl: string): Promise<DownlinkOutcome> {
    const rec = this.deps.nationalBulletins.get(peer.id, cmd.bulletinId);
    if (!rec || rec.state === 'deleted') return refused(404, `Không có bản tin ${cmd.bulletinId} từ nguồn này để đổi lịch`);
    if (!rec.bulletinId || rec.state === 'failed' || rec.state === 'fetching') return refused(409, `Bản tin ${cmd.bulletinId} chưa sẵn sàng (${stateText(rec.state)}); gửi lại bản tin`);
    const stored = JSON.parse(rec.commandJson) as DownBulletin;
    const moved: DownBulletin = { ...stored, playMode: cmd.playMode, startDate: cmd.startDate, endDate: cmd.endDate, schedule: cmd.schedule };
    const plan = mapSchedule(moved, this.now());
    await this.retire(peer, rec, 'được nguồn đổi lịch');
    const placed = await this.place(peer, moved, rec.bulletinId, plan, mediaBaseUrl);
    const detail = `rescheduled: ${placed.detail}`;
    this.deps.nationalBulletins.put({ ...rec, commandJson: JSON.stringify(moved), broadcastIds: placed.broadcastIds, offerIds: placed.offerIds, state: placed.state, detail, updatedAt: this.now() });
    this.ack(peer, cmd.bulletinId, true, detail);
    return accepted(`Đã đổi lịch bản tin ${cmd.bulletinId}: ${placed.detail}`);
  }

  // ---- device control -------------------------------------------------------------------------------------

  /** *DieuKhienThietBi* as our maintenance commands, to the listed boxes or every box of the areas. */
  private async control(peer: NationalPeerRecord, cmd: DownDeviceControl): Promise<DownlinkOutcome> {
    let message: { type: MessageType; payload: unknown };
    if (cmd.command === 'volume') {
      const v = Number(cmd.param);
      if (!/^\s*\d{1,3}\s*$/.test(cmd.param) || v < 0 || v > 100) return refused(400, `ThamSo của lệnh âm lượng phải là số nguyên 0–100, không phải "${cmd.param.slice(0, 20)}"`);
      message = { type: 'set-volume', payload: { volume: v } };
    } else if (cmd.command === 'restart') message = { type: 'reboot', payload: {} };
    else message = { type: 'stop', payload: {} };

    const targets = new Set<string>();
    for (const code of cmd.areaCodes) {
      const why = this.areaRefusal(peer, code);
      if (why) return refused(403, why);
    }
    if (cmd.boxes.length) {
      for (const nid of cmd.boxes) {
        const id = this.deps.nationalDevices.resolve(nid);
        const d = id ? this.deps.devices.get(id) : null;
        if (!d) return refused(404, `Không có thiết bị CumLoaID ${nid}`);
        if (this.areaRefusal(peer, d.areaCode)) return refused(403, `Thiết bị ${nid} nằm ngoài địa bàn của hệ thống nguồn này`);
        targets.add(d.id);
      }
    } else {
      if (cmd.areaCodes.length === 0) return refused(400, 'Cần DanhSachThietBi hoặc địa bàn nhận');
      for (const id of this.deps.devices.idsInAreas(cmd.areaCodes.flatMap((c) => this.deps.areas.subtree(c)))) targets.add(id);
    }
    const results = await Promise.all([...targets].map((id) => this.command(id, message)));
    const reached = results.filter((r) => r === 'ok').length;
    const offline = results.filter((r) => r === 'offline').length;
    const detail = `lệnh ${cmd.command}${cmd.command === 'volume' ? ` ${cmd.param.trim()}` : ''}: ${reached}/${targets.size} thiết bị thực hiện${offline ? `, ${offline} đang mất kết nối` : ''}`;
    this.log.info({ peerId: peer.id, command: cmd.command, targets: targets.size, reached }, 'device control from the parent');
    return targets.size > 0 && reached === 0 ? refused(200, `Không thiết bị nào thực hiện được ${detail}`) : accepted(`Đã gửi ${detail}`);
  }

  /** One maintenance command to one box, as POST /devices/{id}/commands sends it (the box's `cmd` topic, its `res` answer). */
  private async command(deviceId: string, m: { type: MessageType; payload: unknown }): Promise<'ok' | 'offline' | 'failed'> {
    const d = this.deps.devices.get(deviceId);
    if (!d?.online) return 'offline';
    const id = randomUUID();
    const timeoutMs = this.deps.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    try {
      const message = encodeMessage(m.type, m.payload as never, { id, expiresAt: Date.now() + timeoutMs });
      const res = await this.deps.requests.request(id, deviceId, timeoutMs, () => this.deps.bus.publish(topics.deviceCmd(deviceId), message, { qos: 1, retain: false }));
      return res.ok ? 'ok' : 'failed';
    } catch (err) {
      this.log.warn({ err, deviceId, type: m.type }, 'a device control did not reach the box');
      return 'failed';
    }
  }

  private ack(peer: NationalPeerRecord, bulletinId: string, ok: boolean, detail: string): void {
    try {
      this.deps.ack?.(peer, { bulletinId, accepted: ok, detail: detail.slice(0, 500) });
    } catch (err) {
      this.log.error({ err, peerId: peer.id, bulletinId }, 'the schedule ack could not be queued');
    }
  }

  /** Where fetched audio goes (the server's uploads folder). */
  static uploadDir(dataDir: string): string {
    return join(dataDir, 'uploads');
  }
}

function stateText(s: NationalBulletinState): string {
  return { fetching: 'đang tải', inbox: 'trong hộp thư xã', scheduled: 'đã lên lịch', aired: 'đã phát', deleted: 'đã xóa', failed: 'lỗi' }[s];
}

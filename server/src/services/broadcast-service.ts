/**
 * Broadcast rules that do not depend on HTTP: who may target what, whether a broadcast needs approval
 * (Circular 39 practice: a commune's own items are approved by its leadership; the province's direct
 * broadcasts air as scheduled), conflicts before saving, and cancelling or moving occurrences. Over 300 lines
 * because every check a broadcast meets before it is saved — targets, approval, relay sources, a programme's
 * relay segments and the edits that change its airings (issue 15) — is read here in one place.
 */
import type { Logger } from 'pino';
import { ErrorCode, RELAY_MAX_DURATION_MS, playsAtOnce, type Priority } from '@loaxa/shared';
import { endsAtOf } from './play-book.js';
import type { Config } from '../config.js';
import { ApiError, badRequest, conflict, forbidden } from '../http/errors.js';
import { canApprove, canWrite, coversArea, type Principal } from '../auth/scope.js';
import type { ObjectScope } from '../auth/objects.js';
import { findConflicts, type Conflict, type ExistingOccurrence } from '../scheduling/conflicts.js';
import { expandOccurrences, MAX_OCCURRENCES_PER_CALL, OccurrenceCapError } from '../scheduling/recurrence.js';
import type { Schedule } from '../scheduling/schedule.js';
import type { AreaRepository } from '../repos/areas.js';
import type { Broadcast, BroadcastRepository, BroadcastTarget } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { SourceRepository } from '../repos/sources.js';
import type { ProgrammeRepository } from '../repos/programmes.js';
import { checkProgrammeSources, checkRelaySource } from './relay-rules.js';
import type { DeliveryService } from './delivery-service.js';
import { Scheduler, scheduleOf } from './scheduler.js';
import { newId } from '../ids.js';
import type { AgendaService } from './agenda-service.js';
import type { SpeechService } from './speech.js';
import type { ServerEvents } from './events.js';
import { readingNotChecked, readingSpansOf, summarizeSpans, type ReadingDecision, type ReadingSpan } from './reading-check.js';

const DAY_MS = 86_400_000;
/** Conflicts are reported for the week ahead: what the boxes' agendas hold. */
const CONFLICT_HORIZON_MS = 7 * DAY_MS;

export interface BroadcastDraft {
  bulletinId: string;
  priority: Priority;
  target: BroadcastTarget;
  startAt?: string | undefined;
  schedule?: Schedule | undefined;
  resume?: 'resume' | 'restart' | undefined;
}

export interface Deps {
  config: Config;
  areas: AreaRepository;
  devices: DeviceRepository;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  delivery: DeliveryService;
  scheduler: Scheduler;
  agenda: AgendaService;
  objects: ObjectScope;
  /** The live sources relay bulletins name (issue 15). */
  sources: SourceRepository;
  /** Programmes' items, for their relay segments' sources (issue 15). */
  programmes?: ProgrammeRepository | undefined;
  /** How a text bulletin is read now, for the "đã kiểm tra cách đọc" rule (issue 19). */
  speech: Pick<SpeechService, 'normalize'>;
  logger: Logger;
  /** Where a submission and a decision are announced (issue 20: the notifications listen). */
  events?: Pick<ServerEvents, 'emit'> | undefined;
}

export class BroadcastService {
  constructor(private readonly deps: Deps) {}

  /** Checks every target exists, is current and lies inside the caller's area (403 otherwise). */
  checkTargets(user: Principal, target: BroadcastTarget): void {
    const { areas, devices } = this.deps;
    target.areaCodes?.forEach((code, i) => {
      const area = areas.get(code);
      if (!area) throw badRequest(`unknown area ${code}`, [{ path: `target.areaCodes.${i}`, message: 'unknown area' }]);
      if (area.validUntil) throw badRequest(`area ${code} is a legacy unit and cannot be targeted`, [{ path: `target.areaCodes.${i}`, message: 'legacy area' }]);
      if (!coversArea(user, areas.ancestry(code))) throw forbidden(`area ${code} is outside your area`);
    });
    const seen = new Set<string>();
    target.deviceIds?.forEach((id, i) => {
      // Each box once: a target naming one box 20,000 times made every visibility check of it cost 20,000
      // lookups (issue 13 review).
      if (seen.has(id)) throw badRequest(`device ${id} is named twice`, [{ path: `target.deviceIds.${i}`, message: 'duplicate' }]);
      seen.add(id);
      const d = devices.get(id);
      // A box outside the caller's area is answered as unknown, like one that does not exist: device ids of
      // other communes cannot be probed through targets (issue 13 review).
      if (!d || !this.deps.objects.deviceVisible(user, d)) throw badRequest(`unknown device ${id}`, [{ path: `target.deviceIds.${i}`, message: 'unknown device' }]);
    });
  }

  /**
   * Issue 15 review (1, 2): an edit of a programme changes what its pending broadcasts air, so its editor must
   * be one who could make each of them — every target inside the editor's area — and the new relay segments'
   * sources must serve those targets, exactly as when the broadcast was made.
   */
  checkAiringEdit(user: Principal, target: BroadcastTarget, relaySourceIds: readonly string[]): void {
    this.checkTargets(user, target);
    for (const id of new Set(relaySourceIds)) checkRelaySource(this.deps, user, id, target, 'programme');
  }

  /**
   * A forged emergency is the worst thing this product could do (it plays at once, nobody in between): it
   * needs a recent password login. A live emergency too (issue 16: "needs a recent login like other emergencies").
   */
  assertFreshLogin(user: Principal, priority: Priority, now = Date.now()): void {
    const maxAge = this.deps.config.emergencyReauthSeconds * 1000;
    if (playsAtOnce(priority) && (user.authenticatedAt === undefined || now - user.authenticatedAt > maxAge)) {
      throw new ApiError(401, ErrorCode.UNAUTHORIZED, `an emergency broadcast needs a login from the last ${Math.round(maxAge / 60_000)} minutes: log in again (POST /api/v1/auth/login) and retry`);
    }
  }

  /** Turns a draft into a broadcast (not saved), with its first occurrence and the conflicts it causes. */
  prepare(user: Principal, draft: BroadcastDraft, mediaBaseUrl: string, now = Date.now()): { broadcast: Broadcast; conflicts: Conflict[]; firstOccurrences: number[] } {
    if (!canWrite(user)) throw forbidden('viewers cannot broadcast');
    this.assertFreshLogin(user, draft.priority, now);
    const bulletin = this.deps.bulletins.get(draft.bulletinId);
    // Another commune's bulletin is answered as unknown (issue 13, finding 9): no airing it, no probing for it.
    if (!bulletin || !this.deps.objects.bulletinVisible(user, bulletin)) throw badRequest(`unknown bulletin ${draft.bulletinId}`, [{ path: 'bulletinId', message: 'unknown bulletin' }]);
    if (bulletin.status !== 'ready') throw conflict(`bulletin ${draft.bulletinId} is ${bulletin.status}; wait until its status is ready`);
    if (draft.startAt && draft.schedule) throw badRequest('give either startAt or schedule, not both', [{ path: 'schedule', message: 'conflicts with startAt' }]);
    this.checkTargets(user, draft.target);
    // After the targets' own checks, so that a box the caller may not see is still answered as unknown.
    if (bulletin.source === 'relay') checkRelaySource(this.deps, user, bulletin.relaySourceId, draft.target);
    // A programme's relay segments follow the same rules as a relay of their source (issue 15): usable by the
    // caller, and aired only inside the source's area. Its conflicts span its nominal length (duration_ms).
    if (bulletin.source === 'programme') checkProgrammeSources(this.deps, user, bulletin.id, bulletin.programmeVersion, draft.target);

    // A relay may still be joined until it ends: a box that comes back (power, link) mid-relay airs the rest of
    // it live (issue 15), so its window is the relay's length when that is longer than the play window.
    const playWindowMs = this.deps.config.playWindowSeconds * 1000;
    const windowMs = bulletin.source === 'relay' ? Math.max(playWindowMs, bulletin.durationMs ?? 0) : playWindowMs;
    let schedule: Schedule | null = draft.schedule ?? null;
    if (!schedule) {
      const at = draft.startAt ? Date.parse(draft.startAt) : now;
      if (at + windowMs < now) throw badRequest('startAt is in the past', [{ path: 'startAt', message: 'in the past' }]);
      schedule = null;
      draft = { ...draft, startAt: new Date(Math.max(at, now)).toISOString() };
    }
    const probe = scheduleOf({ schedule, startAt: draft.startAt ? Date.parse(draft.startAt) : now });
    let year: number[];
    try {
      year = expandOccurrences(probe, { from: now - windowMs, to: now + 366 * DAY_MS }, { durationMs: bulletin.durationMs ?? 0 });
    } catch (err) {
      // Too dense a schedule is the caller's input, not a server fault (issue 13, finding 10: it was a 500).
      if (err instanceof OccurrenceCapError) {
        throw badRequest(`the schedule airs more than ${MAX_OCCURRENCES_PER_CALL} times in the coming year, the most a broadcast may; use fewer times a day, fewer repeats or a shorter range`, [
          { path: 'schedule', message: `more than ${MAX_OCCURRENCES_PER_CALL} occurrences in a year` },
        ]);
      }
      throw err;
    }
    if (year.length === 0) throw badRequest('the schedule has no occurrence in the coming year', [{ path: schedule ? 'schedule' : 'startAt', message: 'no occurrence' }]);

    const status = this.needsApproval(user, draft.priority) ? 'submitted' : 'approved';
    const broadcast: Broadcast = {
      id: newId('bc'),
      bulletinId: draft.bulletinId,
      priority: draft.priority,
      target: draft.target,
      schedule,
      startAt: year[0]!,
      windowMs,
      status,
      mediaBaseUrl,
      createdBy: user.id,
      createdAt: now,
      resumeMode: draft.resume ?? 'restart',
      decidedBy: status === 'approved' ? user.id : null,
      decidedAt: status === 'approved' ? now : null,
      decisionReason: null,
      materializedUntil: 0,
    };
    const week = year.filter((t) => t < now + CONFLICT_HORIZON_MS);
    const untilMs = bulletin.source === 'programme' ? this.relayUntilMs(bulletin.id, bulletin.programmeVersion, year) : 0;
    const durationMs = (bulletin.durationMs ?? 0) + untilMs;
    // Worked out when first read, so that POST /broadcasts saves first (an emergency reaches its areas'
    // topics without waiting for the conflicts of 10,000 boxes); the answer is the same after saving,
    // since a broadcast never conflicts with itself.
    let conflicts: Conflict[] | undefined;
    const conflictsOf = () => (conflicts ??= this.conflicts(broadcast, week, this.deps.scheduler.targetDevices(broadcast), durationMs));
    return {
      broadcast,
      get conflicts() {
        return conflictsOf();
      },
      firstOccurrences: week,
    };
  }

  /**
   * Issue 15 review (7): a programme's relay segment "until HH:MM" runs to the first such time after the
   * occurrence begins — 23 hours for "until 18:00" in a 19:00 programme. Each is held to a relay's 12 hours
   * on every occurrence of the coming year (400 naming the item), and the longest counts in the conflicts.
   */
  private relayUntilMs(programmeId: string, version: number | null, occurrences: readonly number[]): number {
    const v = version ? this.deps.programmes?.version(programmeId, version) : null;
    let total = 0;
    for (const r of v?.rendered ?? []) {
      const until = r.relay?.until;
      if (until === undefined) continue;
      let longest = 0;
      for (const at of occurrences) longest = Math.max(longest, endsAtOf(until, at) - at);
      if (longest > RELAY_MAX_DURATION_MS) {
        throw badRequest(`item ${r.index + 1} relays until ${until}, ${Math.round(longest / 3600_000)} hours after the programme begins on some occurrences; a relay lasts at most ${RELAY_MAX_DURATION_MS / 3600_000} hours: change the time or the schedule`, [{ path: 'schedule', message: `relay until ${until} too long` }]);
      }
      total += longest;
    }
    return total;
  }

  private conflicts(b: Broadcast, occurrences: number[], deviceIds: string[], durationMs: number): Conflict[] {
    if (!occurrences.length) return [];
    const from = occurrences[0]!;
    const to = occurrences.at(-1)! + durationMs;
    const existing = new Map<string, ExistingOccurrence[]>();
    for (const d of this.deps.broadcasts.plannedOn(deviceIds, from - 3600_000, to)) {
      const list = existing.get(d.deviceId) ?? [];
      list.push({ broadcastId: d.broadcastId, occurrenceAt: d.occurrenceAt, durationMs: d.durationMs, priority: d.priority });
      existing.set(d.deviceId, list);
    }
    return findConflicts({ broadcastId: b.id, priority: b.priority, durationMs, occurrences, deviceIds }, existing);
  }

  /**
   * Province admins and approvers covering every target broadcast directly; operators wait for approval
   * unless the installation says they need none. An emergency skips approval only for the roles allowed
   * to (LOAXA_EMERGENCY_ROLES), and the caller logs that it did.
   */
  needsApproval(user: Principal, priority: Priority): boolean {
    if (canApprove(user)) return false;
    if (playsAtOnce(priority) && (this.deps.config.emergencyRoles as string[]).includes(user.role)) return false;
    return user.role === 'operator' ? this.deps.config.operatorsNeedApproval : true;
  }

  /** Saves the broadcast; an approved one is written out as deliveries and sent to the boxes that are due. */
  async save(b: Broadcast): Promise<number> {
    this.store(b);
    return this.launch(b);
  }

  /**
   * The first half of `save`: the broadcast's row only, synchronous, so that it can be written inside the
   * caller's transaction together with what it belongs to (an offer's accept: issue 13, finding 6).
   */
  store(b: Broadcast): void {
    this.deps.broadcasts.insertWithDeliveries(b, []);
  }

  /** The second half of `save`, once the row is committed: an approved broadcast goes out. */
  async launch(b: Broadcast): Promise<number> {
    if (b.status === 'submitted') this.deps.events?.emit('broadcast', { broadcastId: b.id, status: 'submitted', by: b.createdBy, reason: null });
    if (b.status !== 'approved') return 0;
    return playsAtOnce(b.priority) ? this.soundAlarm(b) : this.schedule(b);
  }

  /**
   * The emergency path (Circular 39: it plays at once), in the order it happens:
   * 1. one `play` on each target area's topic (emergency-fan-out.ts, to the publish), before its deliveries
   *    to 10,000 boxes are even written (issue 8);
   * 2. its occurrences written as deliveries, one per box and occurrence;
   * 3. the per-box sends and the changed agendas — a second path to each box, 10,000 of them in a province:
   *    ~5 s — run after the request has been answered: the operator who sounded the alarm is not kept waiting.
   */
  private async soundAlarm(b: Broadcast): Promise<number> {
    await this.deps.delivery.fanOutFirst(b);
    const added = this.deps.scheduler.materialize(b);
    const sending = this.sendDue().catch((err: unknown) => this.deps.logger.error({ err, broadcastId: b.id }, 'emergency per-device sends failed; the scheduler retries them'));
    this.background = this.background.then(() => sending);
    return added;
  }

  /** Any other approved broadcast: its deliveries written, then those due sent and the changed agendas. */
  private async schedule(b: Broadcast): Promise<number> {
    const added = this.deps.scheduler.materialize(b);
    await this.sendDue();
    return added;
  }

  /** Sends the due deliveries (of every broadcast) and the changed agendas. */
  private async sendDue(): Promise<void> {
    await this.deps.delivery.dispatchDue();
    await this.deps.agenda.flush();
  }

  private background: Promise<unknown> = Promise.resolve();

  /** Resolves when the per-device sends still running after an emergency was answered have finished (shutdown waits for them). */
  async idle(): Promise<void> {
    await this.background;
  }

  /**
   * The spans of a broadcast's bulletin the reader guessed or could not read (issue 19), worked out now: the
   * dictionary may have changed since the bulletin was written. None for recordings, relays, live voices.
   */
  readingSpans(b: Pick<Broadcast, 'bulletinId'>): ReadingSpan[] {
    const bulletin = this.deps.bulletins.get(b.bulletinId);
    if (!bulletin) return [];
    return bulletin.source === 'programme' ? this.programmeSpans(bulletin.id, bulletin.programmeVersion) : readingSpansOf(this.deps.speech, bulletin);
  }

  /**
   * A programme airs its text bulletins as they are read now: whoever approves the programme checks their
   * spans as for a bulletin of its own (issue 19 left them unchecked: a programme went on air with an
   * unread span in its second item and nobody was asked). Each span names its item.
   */
  private programmeSpans(programmeId: string, version: number | null): ReadingSpan[] {
    const v = version ? this.deps.programmes?.version(programmeId, version) : null;
    const out: ReadingSpan[] = [];
    v?.items.forEach((item, index) => {
      if (item.kind !== 'bulletin') return;
      const b = this.deps.bulletins.get(item.bulletinId);
      if (b) for (const s of readingSpansOf(this.deps.speech, b)) out.push({ ...s, item: { index, title: b.title } });
    });
    return out;
  }

  /**
   * Issue 19, "nothing misread in silence": whoever puts a text bulletin with guessed or unread spans on air
   * — by approving it, or by broadcasting it approved at once — says they checked them (`checked`), or is
   * refused with the spans listed (409). An emergency is never held (Circular 39: it plays at once): it airs,
   * and the unchecked spans come back as a warning and go into the audit log. Null: nothing to check.
   */
  checkReading(b: Pick<Broadcast, 'bulletinId' | 'priority'>, checked: boolean, flag: 'checked' | 'readingChecked'): ReadingDecision | null {
    const spans = this.readingSpans(b);
    if (spans.length === 0) return null;
    if (checked) return { checked: true, spans };
    if (!playsAtOnce(b.priority)) throw readingNotChecked(spans, flag);
    return { checked: false, spans, warning: `an emergency airs at once: it went on air with ${spans.length} span(s) nobody checked: ${summarizeSpans(spans)}` };
  }

  async decide(user: Principal, b: Broadcast, approve: boolean, reason: string | null, checked = false): Promise<ReadingDecision | null> {
    if (!canApprove(user)) throw forbidden('only approvers and province admins approve broadcasts');
    if (!this.deps.objects.broadcastVisible(user, b)) throw new ApiError(404, ErrorCode.NOT_FOUND, `broadcast ${b.id} not found`);
    this.checkTargets(user, b.target);
    if (b.status !== 'submitted') throw conflict(`broadcast ${b.id} is ${b.status}, not submitted`);
    const now = Date.now();
    if (approve && !b.schedule && !airsWhenApproved(b) && b.startAt + b.windowMs < now) {
      // A time the author chose has passed: airing it now is not what anyone asked for. The queue says so
      // (lastStartAt); the approver rejects it with a reason or the author moves it.
      throw conflict(`the airing time ${new Date(b.startAt).toISOString()} has passed (it could start until ${new Date(b.startAt + b.windowMs).toISOString()}): reject it, or ask its author to choose a new time`);
    }
    // Before anything is written: a refusal leaves the broadcast as it was.
    const reading = approve ? this.checkReading(b, checked, 'checked') : null;
    if (approve && !b.schedule && airsWhenApproved(b)) {
      // Issue 20, broken 1: "Phát ngay" from an operator who needs approval airs when it is approved. Its
      // start was the submission; approved later than the play window after it, no occurrence fell inside the
      // scheduler's window and it aired nowhere while showing "approved". The start becomes the approval.
      this.deps.broadcasts.startAt(b.id, Math.max(now, b.startAt));
    }
    this.deps.broadcasts.decide(b.id, approve ? 'approved' : 'rejected', user.id, reason);
    this.deps.events?.emit('broadcast', { broadcastId: b.id, status: approve ? 'approved' : 'rejected', by: user.id, reason });
    if (approve) await this.launch(this.deps.broadcasts.get(b.id)!);
    return reading;
  }

  /** Cancels a whole broadcast, or one occurrence of it (an exception, the others untouched). */
  async cancel(user: Principal, b: Broadcast, occurrenceAt: number | undefined): Promise<number> {
    this.assertCanChange(user, b);
    if (b.status === 'cancelled' || b.status === 'rejected') throw conflict(`broadcast ${b.id} is already ${b.status}`);
    if (occurrenceAt === undefined) {
      this.deps.broadcasts.decide(b.id, 'cancelled', user.id, `cancelled by ${user.username}`);
      if (b.status === 'submitted') this.deps.events?.emit('broadcast', { broadcastId: b.id, status: 'withdrawn', by: user.id, reason: null });
    } else {
      this.assertOccurrence(b, occurrenceAt);
      this.deps.broadcasts.addException(b.id, { occurrenceAt, action: 'cancel' }, user.id);
    }
    const devices = await this.deps.delivery.cancel(b, occurrenceAt, `cancelled by ${user.username}`);
    this.deps.agenda.markDirty(devices);
    await this.deps.agenda.flush();
    return devices.length;
  }

  /** Moves one occurrence to another instant; its deliveries at the old time are cancelled. */
  async move(user: Principal, b: Broadcast, occurrenceAt: number, to: number): Promise<void> {
    this.assertCanChange(user, b);
    if (b.status !== 'approved' && b.status !== 'submitted') throw conflict(`broadcast ${b.id} is ${b.status}`);
    this.assertOccurrence(b, occurrenceAt);
    // Moving a cancelled airing replaced its cancellation and brought it back on air at the new time.
    if (this.deps.broadcasts.exceptions(b.id).some((e) => e.occurrenceAt === occurrenceAt && e.action === 'cancel')) throw conflict(`the airing at ${new Date(occurrenceAt).toISOString()} was cancelled; it cannot be moved`);
    if (to + b.windowMs < Date.now()) throw badRequest('the new time is in the past', [{ path: 'startAt', message: 'in the past' }]);
    this.deps.broadcasts.addException(b.id, { occurrenceAt, action: 'move', to }, user.id);
    this.deps.agenda.markDirty(await this.deps.delivery.cancel(b, occurrenceAt, `moved to ${new Date(to).toISOString()} by ${user.username}`));
    if (b.status === 'approved') {
      this.deps.scheduler.materialize(b);
      await this.deps.delivery.dispatchDue();
    }
    await this.deps.agenda.flush();
  }

  private assertCanChange(user: Principal, b: Broadcast): void {
    if (!canWrite(user)) throw forbidden('viewers cannot change broadcasts');
    if (!this.deps.objects.broadcastVisible(user, b)) throw new ApiError(404, ErrorCode.NOT_FOUND, `broadcast ${b.id} not found`);
    if (b.createdBy !== user.id && !canApprove(user)) throw forbidden('only the author or an approver may change this broadcast');
    this.checkTargets(user, b.target);
  }

  private assertOccurrence(b: Broadcast, occurrenceAt: number): void {
    const plain = expandOccurrences(scheduleOf(b), { from: occurrenceAt, to: occurrenceAt + 1 });
    if (!plain.includes(occurrenceAt)) throw badRequest(`broadcast ${b.id} has no occurrence at ${new Date(occurrenceAt).toISOString()}`, [{ path: 'occurrenceAt', message: 'not an occurrence' }]);
  }
}

/**
 * A one-off the author sent to air at once ("Phát ngay": no time given, or a time already reached), so it
 * airs when approved: `prepare` starts such a broadcast at its creation.
 */
export function airsWhenApproved(b: Pick<Broadcast, 'schedule' | 'startAt' | 'createdAt'>): boolean {
  return !b.schedule && b.startAt <= b.createdAt;
}

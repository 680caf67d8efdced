/**
 * The week calendar (issue 20): every airing that reaches an area's boxes (or one box) in a range — area
 * targets above it (the province's broadcast reaches each commune) and inside it (a village), its boxes
 * named one by one, programmes, relays, warnings' `every` schedules and live airings alike, since each is a
 * broadcast — with what its boxes did with it; and the series move, which shifts one time of day of a
 * recurring broadcast and tells the boxes like any other schedule change (BroadcastService.move's path).
 */
import {
  CALENDAR_MAX_DAYS,
  CALENDAR_MAX_ITEMS,
  canApprove,
  canWrite,
  type Calendar,
  type CalendarItem,
  type CalendarStatus,
  type DeliveryState,
} from '@loaxa/shared';
import type { Principal } from '../auth/scope.js';
import type { ObjectScope } from '../auth/objects.js';
import { badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import type { AreaRepository } from '../repos/areas.js';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { BroadcastService } from '../services/broadcast-service.js';
import type { DeliveryService } from '../services/delivery-service.js';
import type { AgendaService } from '../services/agenda-service.js';
import { scheduleOf, type Scheduler } from '../services/scheduler.js';
import { AGENDA_HORIZON_MS } from './agenda.js';
import type { CalendarRepository } from './calendar-repo.js';
import { expandOccurrences, OccurrenceCapError } from './recurrence.js';
import { seriesTimeOf, shiftSeriesTime, type SeriesShiftRefusal } from './series-shift.js';
import { instantOf, parseHHmm } from './local-time.js';
import type { Schedule } from './schedule.js';

export interface CalendarDeps {
  areas: AreaRepository;
  devices: DeviceRepository;
  /** Each box's area from memory (the credential cache, as ObjectScope reads it): a target may name 10,000 boxes. */
  deviceAreas: { get(id: string): { areaCode: string } | null };
  broadcasts: BroadcastRepository;
  bulletins: BulletinRepository;
  objects: ObjectScope;
  broadcastService: Pick<BroadcastService, 'checkTargets'>;
  delivery: Pick<DeliveryService, 'cancel' | 'dispatchDue'>;
  scheduler: Pick<Scheduler, 'materialize'>;
  agenda: Pick<AgendaService, 'markDirty' | 'flush'>;
  calendar: CalendarRepository;
  now?: () => number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isSeries = (s: Schedule | null) => !!s && (s.kind !== 'once' || !!s.repeat);

/** What the boxes did with one airing, from their deliveries' states (counts). */
function statusFromDeliveries(states: Map<DeliveryState, number> | undefined, over: boolean): CalendarStatus {
  if (states?.get('playing')) return 'airing';
  if (states?.get('played')) return 'aired';
  const total = [...(states?.values() ?? [])].reduce((a, b) => a + b, 0);
  if (total > 0 && states?.get('cancelled') === total) return 'cancelled';
  return over ? 'missed' : 'scheduled';
}

const SHIFT_REFUSALS: Record<SeriesShiftRefusal, string> = {
  'not-a-series': 'only a daily, weekly or monthly series can have its time of day moved; move its airings one by one',
  'no-such-time': 'the series has no airing at that time of day',
  'time-taken': 'the series already airs at the new time',
  ended: 'the series has ended',
};

export class CalendarService {
  private readonly now: () => number;
  constructor(private readonly deps: CalendarDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The calendar of `areaCode` (default: the caller's area) or of one box, in [from, to). */
  week(user: Principal, q: { areaCode?: string | undefined; deviceId?: string | undefined; from: number; to: number }): Calendar {
    const { areas, devices, objects } = this.deps;
    let areaCode = q.areaCode ?? user.areaCode;
    let deviceId: string | null = null;
    if (q.deviceId) {
      const d = devices.get(q.deviceId);
      if (!d || !objects.deviceVisible(user, d)) throw notFound(`device ${q.deviceId}`);
      deviceId = d.id;
      areaCode = d.areaCode;
    }
    if (!areaCode) throw badRequest('choose an area (areaCode) or a box (deviceId)', [{ path: 'areaCode', message: 'required for installation-wide users' }]);
    if (!areas.get(areaCode)) throw badRequest(`unknown area ${areaCode}`, [{ path: 'areaCode', message: 'unknown area' }]);
    // A commune's calendar is its own business: another commune's is refused like any area outside the caller's.
    if (!objects.holdsArea(user, areaCode)) throw forbidden(`area ${areaCode} is outside your area`);

    const above = new Set(areas.ancestry(areaCode));
    const inside = deviceId ? new Set<string>() : new Set(areas.subtree(areaCode));
    const reaches = (b: Broadcast): boolean => {
      if ((b.target.areaCodes ?? []).some((c) => above.has(c) || inside.has(c))) return true;
      const ids = b.target.deviceIds ?? [];
      if (deviceId) return ids.includes(deviceId);
      return ids.some((id) => {
        const a = this.deps.deviceAreas.get(id);
        return a !== null && inside.has(a.areaCode);
      });
    };

    const now = this.now();
    const { from, to } = q;
    const list: Broadcast[] = [];
    for (const id of this.deps.calendar.candidates(from, to)) {
      const b = this.deps.broadcasts.get(id);
      if (b && reaches(b) && objects.broadcastVisible(user, b)) list.push(b);
    }
    // The deliveries of moved airings and those still being aired when the range begins are read too.
    const maxWindow = Math.max(0, ...list.map((b) => b.windowMs));
    const tallies = this.deps.calendar.tally(list.map((b) => b.id), from - maxWindow, to, deviceId ? { deviceId } : { areaCodes: [...inside] });
    const byAiring = new Map<string, Map<DeliveryState, number>>();
    for (const r of tallies) {
      const key = `${r.broadcastId}\0${r.occurrenceAt}`;
      let m = byAiring.get(key);
      if (!m) byAiring.set(key, (m = new Map()));
      m.set(r.state, r.n);
    }

    const items: CalendarItem[] = [];
    let truncated = false;
    for (const b of list) {
      const bulletin = this.deps.bulletins.get(b.bulletinId);
      const changeable = this.mayChange(user, b);
      const base = {
        broadcastId: b.id,
        priority: b.priority,
        title: bulletin?.title ?? '',
        kind: bulletin?.source ?? 'text',
        durationMs: bulletin?.durationMs ?? null,
        broadcastStatus: b.status,
        series: isSeries(b.schedule),
      };
      const schedule = scheduleOf(b);
      let plain: number[];
      try {
        plain = expandOccurrences(schedule, { from, to }, { cap: CALENDAR_MAX_ITEMS });
      } catch (err) {
        if (!(err instanceof OccurrenceCapError)) throw err;
        // A warning aired every minute for two weeks: its first airings, a day at a time, up to the cap.
        truncated = true;
        plain = [];
        for (let day = from; day < to && plain.length < CALENDAR_MAX_ITEMS; day += 86_400_000) plain.push(...expandOccurrences(schedule, { from: day, to: Math.min(to, day + 86_400_000) }, { cap: CALENDAR_MAX_ITEMS }));
      }
      const exceptions = this.deps.broadcasts.exceptions(b.id);
      const byAt = new Map(exceptions.map((e) => [e.occurrenceAt, e]));
      // A broadcast cancelled as a whole shows its cancelled airings in the two weeks after (this week's and
      // next week's page, where whoever cancelled it looks), not in every week of its schedule for ever.
      const stoppedUntil = b.status === 'cancelled' ? (b.decidedAt ?? now) + CALENDAR_MAX_DAYS * 86_400_000 : Infinity;
      const listed = new Set<number>();
      const add = (occurrenceAt: number, startAt: number, extra: Partial<CalendarItem> & { status?: CalendarStatus }) => {
        if (startAt < from || startAt >= to || startAt >= stoppedUntil) return;
        const states = byAiring.get(`${b.id}\0${startAt}`);
        const over = startAt + b.windowMs < now;
        let status: CalendarStatus = extra.status ?? (b.status === 'submitted' ? 'pending' : statusFromDeliveries(states, over));
        if (b.status === 'cancelled' && status !== 'aired' && status !== 'airing') status = 'cancelled';
        items.push({
          ...base,
          occurrenceAt: iso(occurrenceAt),
          startAt: iso(startAt),
          seriesTime: seriesTimeOf(b.schedule, occurrenceAt),
          canChange: changeable && !over && (status === 'scheduled' || status === 'pending'),
          ...extra,
          status,
        });
        listed.add(startAt);
      };
      for (const t of plain) {
        const e = byAt.get(t);
        if (e?.action === 'cancel') add(t, t, { status: 'cancelled' });
        else if (e?.action === 'move') add(t, t, { status: 'moved', movedTo: iso(e.to) });
        else add(t, t, {});
      }
      // Airings moved into the range from outside it, and moved within it, at their new place.
      for (const e of exceptions) {
        if (e.action !== 'move' || e.to < from || e.to >= to) continue;
        if (expandOccurrences(schedule, { from: e.occurrenceAt, to: e.occurrenceAt + 1 }).length !== 1) continue;
        add(e.occurrenceAt, e.to, { movedFrom: iso(e.occurrenceAt) });
      }
      // What the boxes hold that the schedule no longer says: a series whose time was moved keeps the airings
      // it aired at the old time. Those cancelled everywhere left the calendar with the move.
      for (const [key, states] of byAiring) {
        const [id, at] = key.split('\0') as [string, string];
        const t = Number(at);
        if (id !== b.id || listed.has(t) || statusFromDeliveries(states, true) === 'cancelled') continue;
        add(t, t, {});
        items[items.length - 1]!.canChange = false;
      }
    }
    items.sort((x, y) => x.startAt.localeCompare(y.startAt) || x.broadcastId.localeCompare(y.broadcastId));
    if (items.length > CALENDAR_MAX_ITEMS) {
      truncated = true;
      items.length = CALENDAR_MAX_ITEMS;
    }
    return { areaCode, deviceId, from: iso(from), to: iso(to), items, truncated };
  }

  /** The rule BroadcastService applies before a cancel or a move, answered as a yes or no for the page. */
  private mayChange(user: Principal, b: Broadcast): boolean {
    if (!canWrite(user) || (b.createdBy !== user.id && !canApprove(user))) return false;
    if (b.status !== 'approved' && b.status !== 'submitted') return false;
    try {
      this.deps.broadcastService.checkTargets(user, b.target);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The series move: every coming airing at `time` (HH:mm, Vietnam time) airs at `to`. The checks of a
   * one-airing move (BroadcastService.move: author or approver, targets inside the caller's area, an
   * approved or waiting broadcast); the airings the boxes hold at the old time are cancelled, the new ones
   * written and sent, the agendas of the boxes that changed pushed.
   */
  async shiftSeries(user: Principal, b: Broadcast, time: string, to: string): Promise<{ schedule: Schedule; cancelled: number }> {
    if (!canWrite(user)) throw forbidden('viewers cannot change broadcasts');
    if (b.createdBy !== user.id && !canApprove(user)) throw forbidden('only the author or an approver may change this broadcast');
    this.deps.broadcastService.checkTargets(user, b.target);
    if (b.status !== 'approved' && b.status !== 'submitted') throw conflict(`broadcast ${b.id} is ${b.status}`);
    const now = this.now();
    const shift = shiftSeriesTime(b.schedule, time, to, now);
    if (!shift.ok) throw (shift.reason === 'no-such-time' || shift.reason === 'time-taken' ? badRequest(SHIFT_REFUSALS[shift.reason], [{ path: shift.reason === 'time-taken' ? 'to' : 'time', message: shift.reason }]) : conflict(SHIFT_REFUSALS[shift.reason]));
    const { broadcasts, delivery, agenda, scheduler } = this.deps;
    const oldSchedule = scheduleOf(b);
    const horizon = now + AGENDA_HORIZON_MS;
    // A coming airing cancelled or moved on its own stays so at its new time of day.
    const oldMinute = parseHHmm(time);
    const newMinute = parseHHmm(to);
    const remapped = broadcasts.exceptions(b.id).filter((e) => e.occurrenceAt >= now && seriesTimeOf(b.schedule, e.occurrenceAt) === time);
    // The first airing of the new schedule is its start (two months hold one of any monthly schedule's).
    const firstNew = expandOccurrences(shift.schedule, { from: now, to: now + 62 * 86_400_000 }).at(0);
    if (!broadcasts.transaction(() => {
      if (!this.deps.calendar.setSchedule(b.id, shift.schedule, firstNew ?? b.startAt)) return false;
      for (const e of remapped) {
        const day = Math.floor((e.occurrenceAt - instantOf(0, oldMinute)) / 86_400_000);
        const at = instantOf(day, newMinute);
        broadcasts.addException(b.id, e.action === 'cancel' ? { occurrenceAt: at, action: 'cancel' } : { occurrenceAt: at, action: 'move', to: e.to }, user.id, now);
      }
      if (shift.today) broadcasts.addException(b.id, shift.today, user.id, now);
      return true;
    })) throw conflict(`broadcast ${b.id} changed meanwhile; try again`);
    // The boxes' airings at the old time (those the new schedule has not) are cancelled, as a moved airing's are.
    const keep = new Set(expandOccurrences(shift.schedule, { from: now, to: horizon }));
    const dropped = expandOccurrences(oldSchedule, { from: now, to: horizon }).filter((t) => !keep.has(t));
    const moved = new Set<string>();
    for (const t of dropped) for (const id of await delivery.cancel(b, t, `series moved from ${time} to ${to}`)) moved.add(id);
    agenda.markDirty([...moved]);
    const updated = broadcasts.get(b.id)!;
    if (updated.status === 'approved') {
      scheduler.materialize(updated);
      await delivery.dispatchDue();
    }
    await agenda.flush();
    return { schedule: shift.schedule, cancelled: moved.size };
  }
}

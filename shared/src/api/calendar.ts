/**
 * The week calendar (issue 20, "what people reach for every day"): every airing of every broadcast that
 * reaches one area's boxes (or one box) in a range of at most two weeks, and the series move (shift one of a
 * recurring broadcast's times of day). Cancelling or moving one airing uses the broadcasts' own routes.
 */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '../ids.js';
import { prioritySchema } from '../messages.js';
import { BROADCAST_STATUSES, BULLETIN_SOURCES } from './enums.js';
import { instantSchema } from './schedule.js';

/** The longest range one call answers: two weeks (the page shows one). */
export const CALENDAR_MAX_DAYS = 14;
/** The most airings one call lists; beyond it the answer says `truncated` (a minute-by-minute warning over a province). */
export const CALENDAR_MAX_ITEMS = 2000;

/**
 * What became of one airing, as the caller's boxes saw it: `pending` waits for approval; `moved` is the
 * place an airing left (its `movedTo` says where it went); `airing`/`aired` when a box of the area is
 * playing/played it; `missed` when its time passed and none did.
 */
export const CALENDAR_STATUSES = ['pending', 'scheduled', 'moved', 'cancelled', 'airing', 'aired', 'missed'] as const;
export type CalendarStatus = (typeof CALENDAR_STATUSES)[number];

export const calendarQuerySchema = z
  .object({
    /** The area (a commune, usually); the caller's own when absent. */
    areaCode: areaCodeSchema.optional(),
    /** One box: its week only. */
    deviceId: idSchema.optional(),
    from: instantSchema,
    to: instantSchema,
  })
  .refine((q) => Date.parse(q.to) > Date.parse(q.from), { message: 'to must be after from', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= CALENDAR_MAX_DAYS * 86_400_000, { message: `at most ${CALENDAR_MAX_DAYS} days at a time`, path: ['to'] });
export type CalendarQuery = z.infer<typeof calendarQuerySchema>;

export const calendarItemSchema = z.object({
  broadcastId: z.string(),
  /** The airing's own instant in its series: what the cancel and move routes name. */
  occurrenceAt: z.string(),
  /** When it airs (for a `moved` item: where it was). */
  startAt: z.string(),
  status: z.enum(CALENDAR_STATUSES),
  /** For a moved airing: at its old place, where it went; at its new place, where it came from. */
  movedTo: z.string().optional(),
  movedFrom: z.string().optional(),
  priority: prioritySchema,
  title: z.string(),
  /** The bulletin's kind: text, recording, relay, programme, live. */
  kind: z.enum(BULLETIN_SOURCES),
  /** The audio's length; null while unknown (a relay or a live voice without an end). */
  durationMs: z.number().int().nullable(),
  broadcastStatus: z.enum(BROADCAST_STATUSES),
  /** Part of a recurring schedule (the whole series can be cancelled). */
  series: z.boolean(),
  /** Its time of day (HH:mm, Vietnam time) is one of its series' times, which can be shifted as a whole. */
  seriesTime: z.string().nullable(),
  /** The caller may cancel or move it (author or approver, every target inside their area, not over yet). */
  canChange: z.boolean(),
});
export type CalendarItem = z.infer<typeof calendarItemSchema>;

export const calendarSchema = z.object({
  areaCode: z.string(),
  deviceId: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  items: z.array(calendarItemSchema),
  /** More than CALENDAR_MAX_ITEMS airings: the first ones are listed. */
  truncated: z.boolean(),
});
export type Calendar = z.infer<typeof calendarSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (Vietnam time)');
/** Shift one time of day of a recurring broadcast: every coming airing at `time` airs at `to` instead. */
export const seriesTimeBodySchema = z.object({ time: hhmm, to: hhmm }).refine((b) => b.time !== b.to, { message: 'the new time is the same', path: ['to'] });
export type SeriesTimeBody = z.infer<typeof seriesTimeBodySchema>;
export const seriesTimeMovedSchema = z.object({ id: z.string(), times: z.array(z.string()), from: z.string(), cancelledDeliveries: z.number().int() });
export type SeriesTimeMoved = z.infer<typeof seriesTimeMovedSchema>;

/** `/api/v1/broadcasts`: a ready bulletin aired on areas and devices, now, later or on a schedule, and its approval. */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '../ids.js';
import { deliveryStateSchema, type DeliveryState } from '../delivery.js';
import { prioritySchema } from '../messages.js';
import { pageQuerySchema } from './common.js';
import { BROADCAST_STATUSES, CONFLICT_OUTCOMES, PRIORITIES, NEW_BROADCAST_STATUSES, OCCURRENCE_STATUSES, RESUME_MODES } from './enums.js';
import { instantSchema, scheduleSchema, type Schedule } from './schedule.js';
import { reportSpanSchema } from './tts.js';
import { DAY_RANGE_MESSAGE, dayRangeOrdered, dayRangeShape, searchTextSchema } from './search.js';

/**
 * A span of a text bulletin the reader guessed (a foreign word, a name without its tones) or could not read
 * (issue 19, "nothing misread in silence"): the approver listens to it and ticks "đã kiểm tra".
 */
export const readingSpanSchema = reportSpanSchema.extend({
  kind: z.enum(['guessed', 'unread']),
  /** In a programme: the item (0-based) whose bulletin text holds the span; its offsets are in that text. */
  item: z.object({ index: z.number().int(), title: z.string() }).optional(),
});

export const broadcastTargetSchema = z
  .object({ areaCodes: z.array(areaCodeSchema).max(5000).optional(), deviceIds: z.array(idSchema).max(20_000).optional() })
  .refine((t) => (t.areaCodes?.length ?? 0) + (t.deviceIds?.length ?? 0) > 0, { message: 'name at least one area code or device id' });

export const broadcastDraftSchema = z.object({
  bulletinId: idSchema,
  priority: prioritySchema.default('normal'),
  target: broadcastTargetSchema,
  startAt: instantSchema.optional(),
  schedule: scheduleSchema.optional(),
  /** Circular 39: an interrupted item resumes where it stopped or starts over. */
  resume: z.enum(RESUME_MODES).optional(),
  /**
   * Issue 19: a text bulletin with guessed or unread spans is approved at once (a province admin's or an
   * approver's broadcast) only with this "đã kiểm tra cách đọc"; otherwise 409 listing the spans. An emergency
   * is never held: it airs, and the spans are returned as `readingWarning` and kept in the audit log.
   */
  readingChecked: z.boolean().optional(),
});

export const conflictSchema = z.object({
  deviceId: z.string(),
  occurrenceAt: z.string(),
  otherBroadcastId: z.string(),
  otherOccurrenceAt: z.string(),
  overlapMs: z.number(),
  outcome: z.enum(CONFLICT_OUTCOMES),
  /** The box's name, for people (issue 20, broken 6: raw ids were shown). */
  deviceName: z.string().optional(),
  /** The other airing's bulletin title, when the caller may see that broadcast; null when it is another area's. */
  otherTitle: z.string().nullable().optional(),
});

export const broadcastSummarySchema = z.object({
  id: z.string(),
  bulletinId: z.string(),
  priority: prioritySchema,
  status: z.string(),
  startAt: z.string(),
  schedule: z.unknown().nullable(),
  target: z.object({ areaCodes: z.array(z.string()).optional(), deviceIds: z.array(z.string()).optional() }),
  createdAt: z.string(),
  decisionReason: z.string().nullable(),
  /**
   * A one-off sent "Phát ngay" by someone who needs approval: it airs when approved, whenever that is (issue
   * 20, broken 1: approved more than its play window after submission, it used to air nowhere).
   */
  airsWhenApproved: z.boolean(),
  /** A one-off at a chosen time: the last instant it can still start (startAt + the play window); null for schedules. */
  lastStartAt: z.string().nullable(),
  /**
   * In the approval queue (`status=submitted`), for a text bulletin: the spans the reader guessed or could not
   * read, worked out now with the dictionary as it is; approving needs `{checked: true}` when any (issue 19).
   */
  readingSpans: z.array(readingSpanSchema).optional(),
});

/** An emergency aired with spans nobody checked (issue 19): it is not held, but the caller is told, and the audit log keeps them. */
export const readingWarningSchema = z.object({ message: z.string(), spans: z.array(readingSpanSchema) });
export const broadcastCreatedSchema = z.object({
  id: z.string(),
  status: z.enum(NEW_BROADCAST_STATUSES),
  startAt: z.string(),
  devices: z.number(),
  conflicts: z.array(conflictSchema),
  readingWarning: readingWarningSchema.optional(),
});
export const broadcastCheckSchema = z.object({
  status: z.enum(NEW_BROADCAST_STATUSES),
  devices: z.number(),
  occurrences: z.array(z.string()),
  conflicts: z.array(conflictSchema),
  /**
   * Issue 19: approved at once, a text bulletin's guessed or unread spans, which the broadcast needs
   * `readingChecked: true` for (an emergency airs without it, with a warning). Absent when there are none or
   * when the broadcast waits for an approver, who checks them.
   */
  readingSpans: z.array(readingSpanSchema).optional(),
});
/**
 * `GET /api/v1/broadcasts`: by status (`all`: every status), and (issue 20, search and filters) `priority`, `q`
 * (words of the bulletin's title) and `from`/`to` (the first airing on these Vietnam days, both included).
 */
export const broadcastListQuerySchema = pageQuerySchema
  .extend({
    status: z.enum([...BROADCAST_STATUSES, 'all'], { message: `trạng thái là một trong ${[...BROADCAST_STATUSES, 'all'].join(', ')}` }).default('approved'),
    priority: z.enum(PRIORITIES, { message: `mức ưu tiên là một trong ${PRIORITIES.join(', ')}` }).optional(),
    q: searchTextSchema.optional(),
    ...dayRangeShape,
  })
  .refine(dayRangeOrdered, DAY_RANGE_MESSAGE);

export const broadcastDetailQuerySchema = z.object({ occurrence: instantSchema.optional() });
export const deliverySchema = z.object({ deviceId: z.string(), occurrenceAt: z.string(), state: deliveryStateSchema, at: z.string(), reason: z.string().optional() });
export const broadcastDetailSchema = broadcastSummarySchema.extend({
  occurrenceAt: z.string().nullable(),
  summary: z.record(z.string(), z.number()),
  deliveries: z.array(deliverySchema),
});

export const occurrencesQuerySchema = z.object({ from: instantSchema.optional(), to: instantSchema.optional() });
export const occurrencesSchema = z.object({ items: z.array(z.object({ occurrenceAt: z.string(), status: z.enum(OCCURRENCE_STATUSES), movedTo: z.string().optional() })) });

export const broadcastCancelBodySchema = z.object({ occurrenceAt: instantSchema.optional() }).default({});
export const broadcastCancelledSchema = z.object({ id: z.string(), cancelledDeliveries: z.number() });

export const occurrenceParamsSchema = z.object({ id: z.string().max(64), occurrenceAt: instantSchema });
export const occurrenceMoveBodySchema = z.object({ startAt: instantSchema });
export const occurrenceMovedSchema = z.object({ id: z.string(), occurrenceAt: z.string(), movedTo: z.string() });

export const approveBodySchema = z
  .object({
    reason: z.string().max(500).optional(),
    /** "Đã kiểm tra cách đọc": needed when the bulletin's text has guessed or unread spans (issue 19). */
    checked: z.boolean().optional(),
  })
  .default({});
export const rejectBodySchema = z.object({ reason: z.string().trim().min(1).max(500) });

export type BroadcastTarget = z.input<typeof broadcastTargetSchema>;
export type BroadcastListQuery = z.input<typeof broadcastListQuerySchema>;
export type BroadcastDraft = z.input<typeof broadcastDraftSchema>;
export type Conflict = z.infer<typeof conflictSchema>;
export type BroadcastCheck = z.infer<typeof broadcastCheckSchema>;
export type BroadcastCreated = z.infer<typeof broadcastCreatedSchema>;
/** The stored schedule is answered as written (the schema leaves it unchecked on the way out). */
export type BroadcastSummary = Omit<z.infer<typeof broadcastSummarySchema>, 'schedule'> & { schedule: Schedule | null };
export type Delivery = z.infer<typeof deliverySchema>;
export type BroadcastDetail = Omit<z.infer<typeof broadcastDetailSchema>, 'schedule' | 'summary'> & {
  schedule: Schedule | null;
  summary: Partial<Record<DeliveryState, number>>;
};
export type Occurrences = z.infer<typeof occurrencesSchema>;
export type RejectBody = z.input<typeof rejectBodySchema>;
export type ApproveBody = z.input<typeof approveBodySchema>;
export type ReadingSpan = z.infer<typeof readingSpanSchema>;
export type ReadingWarning = z.infer<typeof readingWarningSchema>;

/** `GET /api/v1/reports/as-run`: scheduled vs played vs missed (and why), per commune and device. */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '../ids.js';
import { RELAY_CAUSES } from '../messages.js';
import { areaRefSchema } from './areas.js';
import { asRunProgrammeSchema } from './programmes.js';

/** A local date (its whole day in Vietnam) or an instant. */
export const dateOrInstantSchema = z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.iso.datetime({ offset: true })], {
  message: 'a local date (YYYY-MM-DD, Asia/Ho_Chi_Minh) or an ISO 8601 instant with offset',
});
export const AS_RUN_FORMATS = ['json', 'csv', 'xlsx'] as const;
export const asRunQuerySchema = z.object({ area: areaCodeSchema, from: dateOrInstantSchema, to: dateOrInstantSchema, format: z.enum(AS_RUN_FORMATS).default('json') });

export const asRunCountsSchema = z.object({ scheduled: z.number(), played: z.number(), missed: z.number(), failed: z.number(), cancelled: z.number(), expired: z.number(), pending: z.number(), airtimeMs: z.number() });
export const asRunItemSchema = z.object({
  broadcastId: z.string(), title: z.string(), priority: z.string(), occurrenceAt: z.string(), state: z.string(), startedAt: z.string().nullable(), endedAt: z.string().nullable(), reason: z.string().nullable(),
  /** A relay's airing (issue 15; the national vocabulary's TiepAm/NguonTiepAm): the source relayed and the ms the box actually aired. */
  relay: z.object({ sourceId: z.string(), sourceName: z.string().nullable(), airedMs: z.number().nullable() }).optional(),
  /** A programme's airing (issue 15): the version the box played and how each of its items went. */
  programme: asRunProgrammeSchema.optional(),
});
export const asRunReportSchema = z.object({
  area: areaRefSchema,
  from: z.string(),
  to: z.string(),
  totals: asRunCountsSchema,
  communes: z.array(asRunCountsSchema.extend({ code: z.string(), name: z.string(), devices: z.array(asRunCountsSchema.extend({ deviceId: z.string(), name: z.string(), items: z.array(asRunItemSchema) })) })),
});

/**
 * `GET /api/v1/reports/relays`: per box, the minutes of a relay actually aired, its gaps with their causes and
 * which URL served how long (issue 15 § As-run). One broadcast (its current or given occurrence), or every
 * relay in an area over a period.
 */
export const relayReportQuerySchema = z
  .object({
    broadcastId: idSchema.optional(),
    occurrenceAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with offset' }).optional(),
    area: areaCodeSchema.optional(),
    from: dateOrInstantSchema.optional(),
    to: dateOrInstantSchema.optional(),
  })
  .refine((q) => q.broadcastId !== undefined || (q.area !== undefined && q.from !== undefined && q.to !== undefined), {
    message: 'give broadcastId (and occurrenceAt), or area, from and to',
    path: ['broadcastId'],
  });
export const relayGapSchema = z.object({ from: z.string(), to: z.string(), ms: z.number(), cause: z.enum(RELAY_CAUSES), detail: z.string().nullable() });
export const relayReportItemSchema = z.object({
  broadcastId: z.string(),
  title: z.string(),
  sourceId: z.string(),
  sourceName: z.string().nullable(),
  occurrenceAt: z.string(),
  /** When the relay's window ends (its occurrence plus the bulletin's duration). */
  windowEndsAt: z.string(),
  deviceId: z.string(),
  deviceName: z.string(),
  areaCode: z.string(),
  state: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Milliseconds actually relayed: the box's own count (`airedMs` of its played report) when it sent one, else the served intervals of its relay events. */
  relayedMs: z.number(),
  relayedMinutes: z.number(),
  airedMs: z.number().nullable(),
  /** While no URL served: from a failover that left none (every URL failed, fallback, interrupted) until one served again. */
  gaps: z.array(relayGapSchema),
  /** Failovers straight to the next URL (error, silence, stalled naming the URL the box moved to). */
  switches: z.array(z.object({ at: z.string(), cause: z.enum(RELAY_CAUSES), url: z.string(), detail: z.string().nullable() })),
  /** Which URL served, and for how long, in the order first served. */
  urls: z.array(z.object({ url: z.string(), servedMs: z.number() })),
});
export const relayReportSchema = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  totals: z.object({ boxes: z.number(), relayedMs: z.number(), gapMs: z.number() }),
  items: z.array(relayReportItemSchema),
});

export type AsRunQuery = z.input<typeof asRunQuerySchema>;
export type AsRunCounts = z.infer<typeof asRunCountsSchema>;
export type AsRunItem = z.infer<typeof asRunItemSchema>;
export type AsRunReport = z.infer<typeof asRunReportSchema>;
export type RelayReportQuery = z.input<typeof relayReportQuerySchema>;
export type RelayGap = z.infer<typeof relayGapSchema>;
export type RelayReportItem = z.infer<typeof relayReportItemSchema>;
export type RelayReport = z.infer<typeof relayReportSchema>;

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

/**
 * `GET /api/v1/reports/monthly` (issue 20): a commune's or the province's month, the figures of the printable
 * administrative report. `format=pdf` draws the same figures as an A4 report (national motto, period, figures,
 * signature block); `json` answers them as they are.
 */
export const MONTHLY_REPORT_FORMATS = ['json', 'pdf'] as const;
export const monthlyReportQuerySchema = z.object({
  area: areaCodeSchema,
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'a month as YYYY-MM (Vietnam time)' }),
  format: z.enum(MONTHLY_REPORT_FORMATS).default('json'),
});
const monthlyBoxesSchema = z.object({ total: z.number(), online: z.number(), faulty: z.number(), onlinePct: z.number() });
export const monthlyCommuneRowSchema = z.object({
  code: z.string(),
  name: z.string(),
  boxes: monthlyBoxesSchema,
  airings: asRunCountsSchema,
  faults: z.number(),
});
export const monthlyReportSchema = z.object({
  area: areaRefSchema,
  /** The issuing body as the report's header names it: the superior body (may be null) and the unit. */
  issuer: z.object({ superior: z.string().nullable(), unit: z.string(), place: z.string(), reportsTo: z.string().nullable() }),
  month: z.string(),
  /** The month's first instant and the next month's, Vietnam time. */
  from: z.string(),
  to: z.string(),
  generatedAt: z.string(),
  /** Boxes now (when the report is made); `onlinePct` is online of total. */
  boxes: monthlyBoxesSchema,
  /** Coverage now, and the working coverage the server measured during the month (its snapshots; null without any). */
  coverage: z.object({
    communes: z.object({ total: z.number(), installed: z.number(), working: z.number() }),
    installedPct: z.number(),
    workingPct: z.number(),
    month: z.object({ samples: z.number(), avgWorkingPct: z.number(), minWorkingPct: z.number() }).nullable(),
  }),
  /** Broadcasts with at least one airing in the month, by priority. */
  broadcasts: z.object({ total: z.number(), byPriority: z.record(z.string(), z.number()) }),
  /** Airings (box deliveries) of the month, in all and by priority: the as-run report's counts. */
  airings: asRunCountsSchema,
  airingsByPriority: z.array(asRunCountsSchema.extend({ priority: z.string() })),
  /** Faults that began during the month, the boxes they hit, and those still open when the month ended. */
  faults: z.object({ opened: z.number(), devices: z.number(), openAtEnd: z.number(), byKind: z.array(z.object({ kind: z.string(), count: z.number() })) }),
  /** Relays aired in the month (issue 15): box airings, ms relayed, ms of gaps. */
  relays: z.object({ airings: z.number(), relayedMs: z.number(), gapMs: z.number() }),
  /** Disaster warnings (issue 18) reaching the area, taken during the month, and those that went on air. */
  warnings: z.object({ total: z.number(), aired: z.number() }),
  communes: z.array(monthlyCommuneRowSchema),
});
export type MonthlyReportQuery = z.input<typeof monthlyReportQuerySchema>;
export type MonthlyReport = z.infer<typeof monthlyReportSchema>;

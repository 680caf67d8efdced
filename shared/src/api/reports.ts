/** `GET /api/v1/reports/as-run`: scheduled vs played vs missed (and why), per commune and device. */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { areaRefSchema } from './areas.js';

/** A local date (its whole day in Vietnam) or an instant. */
export const dateOrInstantSchema = z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.iso.datetime({ offset: true })], {
  message: 'a local date (YYYY-MM-DD, Asia/Ho_Chi_Minh) or an ISO 8601 instant with offset',
});
export const AS_RUN_FORMATS = ['json', 'csv', 'xlsx'] as const;
export const asRunQuerySchema = z.object({ area: areaCodeSchema, from: dateOrInstantSchema, to: dateOrInstantSchema, format: z.enum(AS_RUN_FORMATS).default('json') });

export const asRunCountsSchema = z.object({ scheduled: z.number(), played: z.number(), missed: z.number(), failed: z.number(), cancelled: z.number(), expired: z.number(), pending: z.number(), airtimeMs: z.number() });
export const asRunItemSchema = z.object({ broadcastId: z.string(), title: z.string(), priority: z.string(), occurrenceAt: z.string(), state: z.string(), startedAt: z.string().nullable(), endedAt: z.string().nullable(), reason: z.string().nullable() });
export const asRunReportSchema = z.object({
  area: areaRefSchema,
  from: z.string(),
  to: z.string(),
  totals: asRunCountsSchema,
  communes: z.array(asRunCountsSchema.extend({ code: z.string(), name: z.string(), devices: z.array(asRunCountsSchema.extend({ deviceId: z.string(), name: z.string(), items: z.array(asRunItemSchema) })) })),
});

export type AsRunQuery = z.input<typeof asRunQuerySchema>;
export type AsRunCounts = z.infer<typeof asRunCountsSchema>;
export type AsRunItem = z.infer<typeof asRunItemSchema>;
export type AsRunReport = z.infer<typeof asRunReportSchema>;

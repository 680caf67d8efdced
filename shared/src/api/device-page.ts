/**
 * The box page (issue 20, "a box page"): a box's health readings over time, what it played, and the installer's
 * printable claim label. The box itself, its faults and its maintenance commands are `devices.ts`.
 */
import { z } from 'zod';
import { bulletinCategorySchema, deliveryStateSchema, prioritySchema } from './common.js';
import { claimCodeSchema } from './claims.js';
import { HEALTH_BUCKET_MS, HEALTH_KEEP_DAYS, HEALTH_METRICS, type HealthMetric } from './health-metrics.js';

export * from './health-metrics.js';

const isoInstant = z.string().datetime({ offset: true });

export const healthHistoryQuerySchema = z
  .object({
    /** Default: 24 hours before `to`. */
    from: isoInstant.optional(),
    /** Default: now. */
    to: isoInstant.optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= HEALTH_KEEP_DAYS * 86_400_000 + HEALTH_BUCKET_MS, {
    message: `at most ${HEALTH_KEEP_DAYS} days at once (the history is kept that long)`,
    path: ['from'],
  });
export type HealthHistoryQuery = z.input<typeof healthHistoryQuerySchema>;

const readingSchema = z.object({ min: z.number(), avg: z.number(), max: z.number() });
export type HealthReading = z.infer<typeof readingSchema>;

export const healthPointSchema = z.object({
  /** Start of the bucket. */
  at: z.string(),
  /** Heartbeats heard in the bucket (about 30 in 15 minutes at the default 30 s): the box was online. */
  samples: z.number().int(),
  /** The readings the heartbeats of the bucket carried; a reading none of them carried is absent. */
  readings: z.object(Object.fromEntries(HEALTH_METRICS.map((m) => [m, readingSchema.optional()])) as Record<HealthMetric, z.ZodOptional<typeof readingSchema>>),
});
export type HealthPoint = z.infer<typeof healthPointSchema>;

export const healthHistorySchema = z.object({
  from: z.string(),
  to: z.string(),
  bucketMs: z.number().int(),
  /** Buckets with at least one heartbeat, oldest first; a missing bucket is a span the box was silent. */
  points: z.array(healthPointSchema),
});
export type HealthHistory = z.infer<typeof healthHistorySchema>;

/** `GET /api/v1/devices/{id}/as-run`: what the box was given to play, newest first, one page at a time. */
export const deviceAsRunQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z
    .string()
    .max(200)
    .regex(/^\d{1,16}:[a-z0-9][a-z0-9-]{0,63}$/, 'not a cursor of this list')
    .optional(),
});
export type DeviceAsRunQuery = z.input<typeof deviceAsRunQuerySchema>;

export const deviceAsRunItemSchema = z.object({
  broadcastId: z.string(),
  title: z.string(),
  category: bulletinCategorySchema.nullable(),
  priority: prioritySchema,
  /** The airing's scheduled start. */
  occurrenceAt: z.string(),
  state: deliveryStateSchema,
  reason: z.string().nullable(),
  /** From the box's own reports. */
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type DeviceAsRunItem = z.infer<typeof deviceAsRunItemSchema>;
export const deviceAsRunSchema = z.object({ items: z.array(deviceAsRunItemSchema), next: z.string().nullable() });
export type DeviceAsRun = z.infer<typeof deviceAsRunSchema>;

/**
 * `POST /api/v1/devices/{id}/claim-label`: a new one-time claim code (as `claim-code`; earlier unused codes stop
 * working) with its claim URL drawn as a QR code, an SVG document, for the installer to print and stick on the box.
 */
export const claimLabelSchema = claimCodeSchema.extend({ qrSvg: z.string() });
export type ClaimLabel = z.infer<typeof claimLabelSchema>;

/** Offers of the province in communes' inboxes (Circular 39/2020/TT-BTTTT). */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { prioritySchema } from '../messages.js';
import { pageQuerySchema } from './common.js';
import { OFFER_ACTIONS, OFFER_STATUSES } from './enums.js';
import { instantSchema, scheduleSchema } from './schedule.js';

export const offerSchema = z.object({
  id: z.string(),
  bulletinId: z.string(),
  areaCode: z.string(),
  priority: prioritySchema,
  status: z.enum(OFFER_STATUSES),
  action: z.enum(OFFER_ACTIONS),
  reason: z.string().nullable(),
  collidesWith: z.array(z.string()),
  broadcastId: z.string().nullable(),
  startAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
});

export const offerCreateBodySchema = z.object({
  areaCodes: z.array(areaCodeSchema).min(1).max(5000),
  priority: prioritySchema,
  startAt: instantSchema.optional(),
  expiresAt: instantSchema.optional(),
  /**
   * The province vouches for the reading of what it offers (issue 19): a text bulletin with spans the reader
   * guessed or could not read needs `checked: true` (đã kiểm tra cách đọc), else 409 lists them. An emergency
   * is not held.
   */
  checked: z.boolean().default(false),
});
export const offersCreatedSchema = z.object({ items: z.array(offerSchema) });
export const inboxQuerySchema = pageQuerySchema.extend({ status: z.enum(OFFER_STATUSES).optional() });
export const offerAcceptBodySchema = z
  .object({
    startAt: instantSchema.optional(),
    schedule: scheduleSchema.optional(),
    /** Some of the commune's boxes only (issue 20, broken 5); all of them when absent. */
    deviceIds: z.array(z.string().max(64)).min(1).max(20_000).optional(),
  })
  .default({});
export const offerDeclineBodySchema = z.object({ reason: z.string().trim().min(1).max(500) });

export type Offer = z.infer<typeof offerSchema>;
export type OfferCreateBody = z.input<typeof offerCreateBodySchema>;
export type OfferAcceptBody = z.input<typeof offerAcceptBodySchema>;
export type OfferDeclineBody = z.input<typeof offerDeclineBodySchema>;

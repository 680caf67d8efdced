/** `GET /api/v1/events`: Server-Sent Events of delivery states, device presence, relays and programme items. */
import { z } from 'zod';
import { deliveryStateSchema } from '../delivery.js';
import { PROGRAMME_ITEM_STATES } from './enums.js';

export const eventsQuerySchema = z.object({ broadcast: z.string().max(64).optional() });
/** The data of an `event: delivery`. */
export const sseDeliveryEventSchema = z.object({
  broadcastId: z.string(),
  deviceId: z.string(),
  occurrenceAt: z.string(),
  state: deliveryStateSchema,
  at: z.string(),
  reason: z.string().nullable(),
});

/** The data of an `event: programme-item` (issue 15): how one item of a programme went on one box. */
export const sseProgrammeItemEventSchema = z.object({
  deviceId: z.string(),
  broadcastId: z.string(),
  occurrenceAt: z.string(),
  version: z.number(),
  index: z.number(),
  state: z.enum(PROGRAMME_ITEM_STATES),
  at: z.string(),
  airedMs: z.number().nullable(),
  reason: z.string().nullable(),
});

export type SseProgrammeItemEvent = z.infer<typeof sseProgrammeItemEventSchema>;
export type SseDeliveryEvent = z.infer<typeof sseDeliveryEventSchema>;

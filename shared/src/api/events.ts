/** `GET /api/v1/events`: Server-Sent Events of delivery states and device presence. */
import { z } from 'zod';
import { deliveryStateSchema } from '../delivery.js';

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

export type SseDeliveryEvent = z.infer<typeof sseDeliveryEventSchema>;

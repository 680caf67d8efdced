/** The shapes every route shares: the enumerations as schemas, the error body and the lists of CONTRACTS.md. */
import { z } from 'zod';
import { BULLETIN_CATEGORIES, OFFER_STATUSES, ROLES, VOICES } from './enums.js';

export { deliveryStateSchema } from '../delivery.js';
export { prioritySchema } from '../messages.js';
export const roleSchema = z.enum(ROLES);
export const bulletinCategorySchema = z.enum(BULLETIN_CATEGORIES);
export const voiceSchema = z.enum(VOICES);
export const offerStatusSchema = z.enum(OFFER_STATUSES);

/** The one error shape of CONTRACTS.md, `{error:{code, message, fields?}}`, for the OpenAPI description of every route. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** `?limit=` (default 100, max 1000) and `?cursor=` of CONTRACTS.md § Lists. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

/** A page of a list (CONTRACTS.md § Lists): `next` is the cursor of the following page, null at the end. */
export const listSchema = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.number().int(), next: z.string().nullable() });
export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}

/** `/:id` of a route that names one object. */
export const idParamsSchema = z.object({ id: z.string().max(64) });
export type ApiErrorBody = z.infer<typeof errorBodySchema>;

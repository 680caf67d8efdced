/** `GET /api/v1/audit`: the writes of an area, who made them and what they changed (province admins). */
import { z } from 'zod';

export const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe('Page size for JSON (default 100); for CSV, at most this many rows (default: the whole log)'),
  before: z.coerce.number().int().optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
export const auditEntrySchema = z.object({
  id: z.number(), at: z.string(), userId: z.string().nullable(), username: z.string().nullable(), ip: z.string().nullable(), method: z.string(), route: z.string(), url: z.string(), status: z.number(), body: z.unknown().nullable(),
  object: z.object({ type: z.string(), id: z.string() }).nullable().describe('The object the request wrote, when the route writes one'),
  before: z.unknown().nullable().describe('Its stored state before the request (null for a creation), secrets and hashes left out'),
  after: z.unknown().nullable().describe('Its stored state after the request (null when the request was refused or failed)'),
});
/** The log pages by id: `next` is the `before` of the next (older) page. */
export const auditPageSchema = z.object({
  items: z.array(auditEntrySchema),
  next: z.number().nullable(),
});

export type AuditQuery = z.input<typeof auditQuerySchema>;
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditPage = z.infer<typeof auditPageSchema>;

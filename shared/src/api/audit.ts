/** `GET /api/v1/audit`: the writes of an area, who made them and what they changed (province admins). */
import { z } from 'zod';
import { DAY_RANGE_MESSAGE, dayRangeOrdered, dayRangeShape } from './search.js';

/** The kinds of object a row may name (server/src/routes/audit.ts, AUDITED). */
export const AUDIT_OBJECT_TYPES = ['broadcast', 'user', 'device', 'bulletin', 'offer', 'source', 'dictionary-entry'] as const;

export const auditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).optional().describe('Page size for JSON (default 100); for CSV, at most this many rows (default: the whole log)'),
    before: z.coerce.number().int().optional(),
    format: z.enum(['json', 'csv']).default('json'),
    // Issue 20 (search and filters); the CSV export follows them too.
    user: z.string().trim().min(1).max(64, 'tên đăng nhập tối đa 64 ký tự').optional().describe('the username who acted (any case)'),
    action: z
      .string()
      .regex(/^(POST|PUT|PATCH|DELETE) \/api\/[A-Za-z0-9/:._-]{1,200}$/, 'hành động không hợp lệ: chọn một hành động trong danh sách')
      .optional()
      .describe('one action: the method and the route pattern, e.g. `POST /api/v1/broadcasts/:id/cancel`'),
    objectType: z.enum(AUDIT_OBJECT_TYPES, { message: `loại đối tượng là một trong ${AUDIT_OBJECT_TYPES.join(', ')}` }).optional(),
    objectId: z.string().trim().min(1).max(200, 'mã đối tượng quá dài').optional(),
    ...dayRangeShape,
  })
  .refine(dayRangeOrdered, DAY_RANGE_MESSAGE);
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

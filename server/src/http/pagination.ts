import { z } from 'zod';
import { badRequest } from './errors.js';

/** `?limit=` (default 100, max 1000) and `?cursor=` of CONTRACTS.md § Lists. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) throw badRequest('invalid cursor; use the `next` value of the previous page', [{ path: 'cursor', message: 'invalid cursor' }]);
  return value;
}

export function encodeCursor(lastId: string | undefined, more: boolean): string | null {
  return more && lastId ? Buffer.from(lastId, 'utf8').toString('base64url') : null;
}

export const listSchema = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.number().int(), next: z.string().nullable() });

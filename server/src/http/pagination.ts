import { badRequest } from './errors.js';

/** `?limit=`, `?cursor=` and the page shape of CONTRACTS.md § Lists are the HTTP contract's. */
export { pageQuerySchema, listSchema } from '@loaxa/shared';

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) throw badRequest('invalid cursor; use the `next` value of the previous page', [{ path: 'cursor', message: 'invalid cursor' }]);
  return value;
}

export function encodeCursor(lastId: string | undefined, more: boolean): string | null {
  return more && lastId ? Buffer.from(lastId, 'utf8').toString('base64url') : null;
}

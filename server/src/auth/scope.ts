/**
 * Area scoping: a user bound to an area may see and target only that area's subtree. Pure over the
 * ancestry of the area in question, so it is tested without a database. The rules themselves are the
 * HTTP contract's (`@loaxa/shared` api/permissions.ts), shared with the web app.
 */
import type { User } from '../repos/users.js';

export { coversArea, canApprove, canWrite } from '@loaxa/shared';

export type Principal = Pick<User, 'id' | 'username' | 'role' | 'areaCode'> & {
  /** When the session was created by a password login (for actions that need a fresh login). */
  authenticatedAt?: number;
  /** How the request authenticated: cookie sessions need a same-origin check on writes (CSRF). */
  via?: 'bearer' | 'cookie';
};

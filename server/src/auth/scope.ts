/**
 * Area scoping: a user bound to an area may see and target only that area's subtree. Pure over the
 * ancestry of the area in question, so it is tested without a database.
 */
import type { User } from '../repos/users.js';

export type Principal = Pick<User, 'id' | 'username' | 'role' | 'areaCode'> & {
  /** When the session was created by a password login (for actions that need a fresh login). */
  authenticatedAt?: number;
  /** How the request authenticated: cookie sessions need a same-origin check on writes (CSRF). */
  via?: 'bearer' | 'cookie';
};

/** Whether `user` may act on an area whose ancestry (itself first, root last) is given. */
export function coversArea(user: Principal, ancestry: readonly string[]): boolean {
  if (user.areaCode === null) return true;
  return ancestry.includes(user.areaCode);
}

/** Roles that may approve, so their own broadcasts within scope air without a second person. */
export function canApprove(user: Principal): boolean {
  return user.role === 'province-admin' || user.role === 'approver';
}

export function canWrite(user: Principal): boolean {
  return user.role !== 'viewer';
}

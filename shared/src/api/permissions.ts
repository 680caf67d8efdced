/**
 * The permission rules of CONTRACTS.md § roles, pure over a user's role and area, so the server enforces
 * them (`server/src/auth/scope.ts`, `server/src/http/access.ts`) and the web app offers only what they allow.
 */
import type { Role } from './enums.js';
import { ROLES } from './enums.js';

/** What the rules need to know about a user. */
export interface Subject {
  role: Role;
  /** The area the user is bound to; null: the whole installation. */
  areaCode: string | null;
}

export const ANY_ROLE: readonly Role[] = ROLES;
/** Roles that write: everyone but viewers (CONTRACTS.md § roles). */
export const WRITERS: readonly Role[] = ['province-admin', 'approver', 'operator'];
/** Roles that approve (and so air their own broadcasts without a second person). */
export const APPROVERS: readonly Role[] = ['province-admin', 'approver'];
export const ADMINS: readonly Role[] = ['province-admin'];

/** Whether `user` may act on an area whose ancestry (itself first, root last) is given. */
export function coversArea(user: Pick<Subject, 'areaCode'>, ancestry: readonly string[]): boolean {
  if (user.areaCode === null) return true;
  return ancestry.includes(user.areaCode);
}

/** Roles that may approve, so their own broadcasts within scope air without a second person. */
export function canApprove(user: Pick<Subject, 'role'>): boolean {
  return user.role === 'province-admin' || user.role === 'approver';
}

export function canWrite(user: Pick<Subject, 'role'>): boolean {
  return user.role !== 'viewer';
}

/**
 * Who is told what, pure over the users and the areas' ancestries (codes from the area up to the root, the area
 * first: AreaRepository.ancestry), so it is tested without a database.
 */
import { canApprove, coversArea } from '@loaxa/shared';
import type { Recipient } from './repo.js';

/**
 * A broadcast waiting: those who may decide it — approvers and province admins whose area covers every one of
 * its targets (BroadcastService.decide refuses the others) — except its author.
 */
export function approversOf(users: readonly Recipient[], targetAncestries: readonly (readonly string[])[], authorId: string): Recipient[] {
  if (targetAncestries.length === 0) return [];
  return users.filter((u) => u.id !== authorId && canApprove(u) && targetAncestries.every((a) => coversArea(u, a)));
}

/**
 * A blocking fault of a box: the users of its commune (bound to the commune or to the village it stands in). The
 * province hears of it as a coverage drop instead: a province of 10,000 boxes has a fault somewhere every day,
 * and one push per fault to every province officer would teach them to ignore the pushes.
 */
export function communeUsersOf(users: readonly Recipient[], deviceAncestry: readonly string[], communeCode: string | null): Recipient[] {
  const upTo = communeCode ? deviceAncestry.indexOf(communeCode) : -1;
  if (upTo < 0) return [];
  const local = new Set(deviceAncestry.slice(0, upTo + 1));
  return users.filter((u) => u.areaCode !== null && local.has(u.areaCode));
}

/** A commune's coverage drop: province users (the whole installation, or the commune's province) and the commune's own. */
export function coverageUsersOf(users: readonly Recipient[], communeCode: string, provinceCode: string | null): Recipient[] {
  return users.filter((u) => u.areaCode === null || u.areaCode === communeCode || (provinceCode !== null && u.areaCode === provinceCode));
}

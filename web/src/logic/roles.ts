/**
 * What each role may do, so the interface never offers an action the server would refuse: from the
 * permission rules the server enforces (`@loaxa/shared/api` permissions.ts: approvers and province admins
 * approve; viewers never write; only province admins manage users and read the audit log).
 */
import { ADMINS, canApprove, canWrite } from '@loaxa/shared/api';
import type { Role } from '../api/types.js';

export const ACTIONS = [
  'compose',
  'schedule',
  'approve',
  'offer-act',
  'cancel-broadcast',
  'view-dashboard',
  'view-devices',
  'view-reports',
  'view-broadcasts',
  'view-inbox',
  'manage-users',
  'view-audit',
  'view-sources',
  'manage-sources',
  'check-source',
  'go-live',
  'national-link',
  'view-warnings',
  'issue-warning',
  'manage-warning-sources',
  'box-command',
  'box-restart',
  'register-box',
  'view-notifications',
  'view-library',
  'settings',
] as const;
export type Action = (typeof ACTIONS)[number];

const writes = (role: Role) => canWrite({ role });
const anyone = () => true;
const admins = (role: Role) => ADMINS.includes(role);
const RULES: Record<Action, (role: Role) => boolean> = {
  compose: writes,
  schedule: writes,
  approve: (role) => canApprove({ role }),
  'offer-act': writes,
  'cancel-broadcast': writes,
  'view-dashboard': anyone,
  'view-devices': anyone,
  'view-reports': anyone,
  'view-broadcasts': anyone,
  'view-inbox': anyone,
  'manage-users': admins,
  'view-audit': admins,
  // Issue 15: everyone sees the sources of their area and whether they are up; writers may have one checked
  // now (they are about to relay it); province admins register and change them (server/src/routes/sources.ts).
  'view-sources': anyone,
  'manage-sources': admins,
  'check-source': writes,
  // Issue 16: who may go live, and at which priorities, is a server setting (LOAXA_LIVE_ROLES); the page is
  // offered to every writer and shows the server's refusal in words when the setting leaves them out.
  'go-live': writes,
  // Issue 17: the national link speaks for the whole installation; its routes answer installation-wide
  // province admins only (server/src/routes/national.ts), see `canOpen`'s scope.
  'national-link': admins,
  // Issue 18: everyone sees the disaster warnings of their area (the server scopes the list); the province's
  // approvers and admins write one on the form, approve, reject or stop one; only admins manage the sources.
  'view-warnings': anyone,
  'issue-warning': (role) => canApprove({ role }),
  'manage-warning-sources': admins,
  // Issue 20, the box page: test tone and volume for writers, restarting a box's agent for province admins, as
  // server/src/routes/device-commands.ts allows (its ALLOWED table); writers register boxes and print claim labels.
  'box-command': writes,
  'box-restart': admins,
  'register-box': writes,
  // Issue 20: everyone has their own notifications (the server answers each user's own).
  'view-notifications': anyone,
  // Issue 20: the bulletin library is for everyone who reads bulletins; reusing or copying one is offered to
  // writers only (the page asks `schedule` and `compose`), as the server refuses viewers those writes.
  'view-library': anyone,
  // Issue 20: the settings page (users, reading dictionary, area voice, offers down to communes) is for
  // approvers and province admins; its users tab for admins only ('manage-users'), as the server answers.
  settings: (role) => canApprove({ role }),
};

export function can(role: Role, action: Action): boolean {
  return RULES[action](role);
}

export const ROUTES = ['dashboard', 'golive', 'compose', 'programmes', 'broadcasts', 'approvals', 'warnings', 'inbox', 'devices', 'install', 'sources', 'national', 'reports', 'audit', 'calendar', 'notifications', 'library', 'settings'] as const;
export type RouteName = (typeof ROUTES)[number];

/** The action a page needs; a page whose action the role lacks is neither linked nor reachable. */
const NEEDS: Record<RouteName, Action> = {
  dashboard: 'view-dashboard',
  compose: 'compose',
  broadcasts: 'view-broadcasts',
  approvals: 'approve',
  inbox: 'view-inbox',
  devices: 'view-devices',
  reports: 'view-reports',
  audit: 'view-audit',
  sources: 'view-sources',
  // Issue 15: programmes are built to be broadcast, like the compose screen; viewers follow their airings in
  // the broadcasts, live and reports pages instead.
  programmes: 'compose',
  golive: 'go-live',
  national: 'national-link',
  warnings: 'view-warnings',
  // Issue 20: everyone reads the week of their area; the sheet offers changes only where the server allows them.
  calendar: 'view-broadcasts',
  // Issue 20: the installer's page (register a box, print its claim label, see it come online).
  install: 'register-box',
  notifications: 'view-notifications',
  library: 'view-library',
  settings: 'settings',
};

/** Pages whose routes answer only users of the whole installation (no area of their own). */
const INSTALLATION_WIDE: readonly RouteName[] = ['national'];

/**
 * Whether the role may open the page; with `scope` (the user's area), a page for the whole installation is
 * closed to a user bound to an area, as the server would answer 403.
 */
export function canOpen(role: Role, route: RouteName, scope?: { areaCode: string | null }): boolean {
  if (scope && scope.areaCode !== null && INSTALLATION_WIDE.includes(route)) return false;
  return can(role, NEEDS[route]);
}

/** Navigation in the order each role uses it most: communes start by composing, the province by watching. */
export function navFor(role: Role, scope?: { areaCode: string | null }): RouteName[] {
  const order: RouteName[] =
    role === 'operator'
      ? ['compose', 'library', 'golive', 'programmes', 'inbox', 'calendar', 'broadcasts', 'warnings', 'dashboard', 'devices', 'install', 'sources', 'reports', 'notifications']
      : ['dashboard', 'warnings', 'compose', 'library', 'golive', 'programmes', 'approvals', 'calendar', 'broadcasts', 'inbox', 'devices', 'install', 'sources', 'national', 'reports', 'audit', 'settings', 'notifications'];
  return order.filter((r) => canOpen(role, r, scope));
}

export function homeFor(role: Role): RouteName {
  return navFor(role)[0] ?? 'dashboard';
}

/** Whether a broadcast this user saves airs at once or waits for approval (the server decides; this is the hint). */
export function needsApproval(role: Role): boolean {
  return !can(role, 'approve');
}

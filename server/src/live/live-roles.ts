/**
 * Who may go live, at which priority (LOAXA_LIVE_ROLES). Issue 16: "live audio cannot wait for an approver,
 * so who may go live, and at which priorities, is a setting like the emergency roles; others are refused with
 * a reason they can read". A live airing is approved when it is made — there is nothing to approve later,
 * the voice is already on the speakers — so this table is the whole approval. Pure: read by config.ts at
 * start (a bad value stops the server naming the variable) and by the live service on every start.
 */
import { PRIORITIES, type Priority, type Role } from '@loaxa/shared';

/** Roles that may broadcast at all (viewers never may, whatever the setting says). */
export const LIVE_CAPABLE_ROLES = ['province-admin', 'approver', 'operator'] as const;
export type LiveRole = (typeof LIVE_CAPABLE_ROLES)[number];
export type LiveRoles = Readonly<Record<Priority, readonly LiveRole[]>>;

/**
 * Communes speak to their own villages every day (normal); an interruption of everything (Circular 39:
 * emergency plays at once, priority interrupts normal) stays with those who may approve, as LOAXA_EMERGENCY_ROLES.
 */
export const DEFAULT_LIVE_ROLES = 'normal:province-admin,approver,operator;priority:province-admin,approver;emergency:province-admin,approver';

const ROLE_NAMES: Record<LiveRole, string> = { 'province-admin': 'province admins', approver: 'approvers', operator: 'operators' };
const PRIORITY_NAMES: Record<Priority, string> = { normal: 'normal', priority: 'priority (ưu tiên)', emergency: 'emergency (khẩn cấp)' };

/**
 * `normal:province-admin,approver,operator;priority:province-admin,approver;emergency:province-admin`:
 * a priority left out allows nobody, a role listed twice counts once. Throws with what is wrong.
 */
export function parseLiveRoles(value: string): LiveRoles {
  const out: Record<Priority, LiveRole[]> = { normal: [], priority: [], emergency: [] };
  const seen = new Set<string>();
  for (const part of value.split(';').map((p) => p.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const priority = (colon < 0 ? part : part.slice(0, colon)).trim();
    if (!(PRIORITIES as readonly string[]).includes(priority)) throw new Error(`"${priority}" is not a priority (${PRIORITIES.join(', ')})`);
    if (seen.has(priority)) throw new Error(`${priority} is listed twice`);
    seen.add(priority);
    const roles = colon < 0 ? [] : part.slice(colon + 1).split(',').map((r) => r.trim()).filter(Boolean);
    for (const r of roles) {
      if (!(LIVE_CAPABLE_ROLES as readonly string[]).includes(r)) throw new Error(`"${r}" (for ${priority}) is not a role that may broadcast (${LIVE_CAPABLE_ROLES.join(', ')})`);
      if (!out[priority as Priority].includes(r as LiveRole)) out[priority as Priority].push(r as LiveRole);
    }
  }
  return out;
}

/** Why `role` may not go live at `priority`, in words the operator reads in the app; null when it may. */
export function liveRefusal(roles: LiveRoles, role: Role, priority: Priority): string | null {
  const allowed = roles[priority];
  if ((allowed as readonly string[]).includes(role)) return null;
  const who = allowed.length ? allowed.map((r) => ROLE_NAMES[r]).join(', ') : 'nobody on this installation';
  const lower = PRIORITIES.filter((p) => (roles[p] as readonly string[]).includes(role));
  const instead = lower.length ? `; you may go live at ${lower.map((p) => PRIORITY_NAMES[p]).join(' or ')}` : '';
  return `you may not go live at ${PRIORITY_NAMES[priority]} priority: only ${who} may (LOAXA_LIVE_ROLES)${instead}. Record the bulletin and broadcast it for approval, or ask one of them`;
}

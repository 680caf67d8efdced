/**
 * Reading the audit log (server/src/routes/audit.ts) for people: what a request did, in Vietnamese, how it
 * ended, which object it wrote, and which of that object's stored fields it changed.
 */
import type { AuditEntry } from '../api/types.js';
import { LOCALE, TIME_ZONE, t } from '../i18n/vi.js';

const withSeconds = new Intl.DateTimeFormat(LOCALE, { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** "22:31:10 22/11/2026" in Vietnam's time, like fmtDateTime with the seconds an audit trail needs. */
export function fmtAuditTime(iso: string | number): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : withSeconds.format(d);
}

function record(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** What the request did, e.g. "Đổi vai trò người dùng"; routes not described fall back to `METHOD route`. */
export function describeAction(e: Pick<AuditEntry, 'method' | 'route' | 'status' | 'body'>): string {
  const key = `${e.method} ${e.route}`;
  const body = record(e.body);
  if (key === 'POST /api/v1/auth/login' && e.status >= 400) return t.audit.loginFailed;
  if (key === 'POST /api/v1/broadcasts' && body?.priority === 'emergency') return t.audit.emergencyBroadcast;
  if (key === 'POST /api/v1/devices/:id/commands' && typeof body?.type === 'string' && t.audit.commands[body.type]) return t.audit.commands[body.type]!;
  if (key === 'PATCH /api/v1/users/:id' && body) {
    const edits = t.audit.userEdits;
    const named: string[] = [];
    if ('role' in body) named.push(edits.role);
    if ('areaCode' in body) named.push(edits.areaCode);
    if ('password' in body) named.push(edits.password);
    if (body.disabled === true) named.push(edits.disable);
    if (body.disabled === false) named.push(edits.enable);
    if (named.length === 1) return named[0]!;
  }
  return t.audit.actions[key] ?? key;
}

export type Tone = 'ok' | 'refused' | 'failed';

/**
 * How the request ended, in words: "Thành công", "Không có quyền", … — no HTTP code (issue 20, broken 10: the
 * log said "200 · Thành công"); the code itself is kept for the technical fold (`httpStatus`).
 */
export function outcome(status: number): { label: string; tone: Tone } {
  const tone: Tone = status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed';
  const o = t.audit.outcomes;
  const label = status < 400 ? o[200]! : (o[status] ?? (status >= 500 ? o[500]! : t.audit.refusedOther));
  return { label, tone };
}

/** The object's kind in Vietnamese and the most readable name its stored state has (username, name, title, term). */
export function objectLabel(e: Pick<AuditEntry, 'object' | 'before' | 'after'>): { kind: string; name: string | null; id: string } | null {
  if (!e.object) return null;
  const state = record(e.after) ?? record(e.before);
  let name: string | null = null;
  for (const k of ['username', 'name', 'title', 'term']) {
    const v = state?.[k];
    if (typeof v === 'string' && v) {
      name = v;
      break;
    }
  }
  return { kind: t.audit.objects[e.object.type] ?? e.object.type, name: name === e.object.id ? null : name, id: e.object.id };
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}
export type Diff = { kind: 'none-applied' | 'no-object' | 'unchanged' } | { kind: 'created' | 'changed' | 'removed'; fields: FieldChange[] };

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  return typeof a === 'object' && typeof b === 'object' ? JSON.stringify(a) === JSON.stringify(b) : false;
}

/**
 * The stored fields a request changed, old → new. A creation lists the fields it set, a deletion those it
 * removed; a refused or failed request changed nothing (the server keeps no "after" for it).
 */
export function diffOf(e: Pick<AuditEntry, 'status' | 'object' | 'before' | 'after'>): Diff {
  if (e.status >= 400) return { kind: 'none-applied' };
  const before = record(e.before);
  const after = record(e.after);
  if (!e.object || (!before && !after)) return { kind: 'no-object' };
  if (!before) return { kind: 'created', fields: Object.entries(after!).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && !v.length)).map(([field, v]) => ({ field, before: null, after: v })) };
  if (!after) return { kind: 'removed', fields: Object.entries(before).filter(([, v]) => v !== null && v !== undefined).map(([field, v]) => ({ field, before: v, after: null })) };
  const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
  const fields = keys.filter((k) => !same(before[k], after[k])).map((field) => ({ field, before: before[field] ?? null, after: after[field] ?? null }));
  return fields.length ? { kind: 'changed', fields } : { kind: 'unchanged' };
}

const LONG = 400;

/** Resolves a user id to the person's username, when the view knows it. */
export type UserName = (id: string) => string | undefined;

/** Fields that hold a user id (created_by, decided_by, user_id, …): the reader wants the person's name. */
function isUserField(field: string): boolean {
  return /_by$/.test(field) || field === 'user_id';
}

/**
 * Fields that are the server's own bookkeeping, not something a person set (issue 20, broken 10: the detail
 * showed `materialized_until` as epoch ms): shown only under "Chi tiết kỹ thuật", like any field without a
 * Vietnamese label.
 */
const TECHNICAL = new Set(['id', 'materialized_until', 'resume_mode', 'programme_version', 'password_hash', 'token_version']);

/** Whether a field belongs in the main list (a label people understand) or under the technical fold. */
export function isTechnicalField(field: string): boolean {
  return TECHNICAL.has(field) || !(field in t.audit.fields);
}

/** A stored value as a reader wants it: roles, priorities and states named, people by name, times in Vietnam's time, flags as Có/Không. */
export function fmtValue(field: string, value: unknown, areaName: (code: string) => string | undefined = () => undefined, userName: UserName = () => undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'role' && typeof value === 'string') {
    const name = (t.roles as Record<string, string>)[value];
    return name ? `${name} (${value})` : value;
  }
  if (field === 'priority' && typeof value === 'string') return (t.priorities as Record<string, string>)[value] ?? value;
  if (field === 'status' && typeof value === 'string') return t.broadcastStatus[value] ?? (t.offerStatus as Record<string, string>)[value] ?? value;
  if (field === 'category' && typeof value === 'string') return (t.categories as Record<string, string>)[value] ?? value;
  if (field === 'area_code' && typeof value === 'string') {
    const name = areaName(value);
    return name ? `${name} (${value})` : value;
  }
  if (isUserField(field) && typeof value === 'string') return userName(value) ?? t.audit.unknownUserId;
  if ((field === 'disabled' || field === 'online') && (value === 0 || value === 1 || typeof value === 'boolean')) return value ? t.audit.yes : t.audit.no;
  // An instant: a field named for one (…_at, …_until) holding epoch ms or an ISO time. 0 is "never".
  if (/_(at|until)$/.test(field) && (typeof value === 'number' || (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)))) return value === 0 ? '—' : fmtAuditTime(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > LONG ? `${text.slice(0, LONG)}…` : text;
}

export function fieldLabel(field: string): string {
  return t.audit.fields[field] ?? field;
}

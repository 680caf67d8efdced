/**
 * The audit log (issue 7): every write under /api/v1 — who, from which address, what (method, route, the
 * request body with secrets removed), to which object, its state before and after for edits, and how it
 * ended — appended after the response, and readable and exportable by province admins. Append-only in the
 * database itself (triggers refuse UPDATE and DELETE).
 *
 * Which object a route writes is declared once here (`AUDITED`), not in each handler, so a new route is
 * audited by adding one line: the object's row is read as stored, by its loader in AuditRepository
 * (repos/audit.ts), before the handler runs and again after the response, with hashes and secrets dropped.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { auditPageSchema, auditQuerySchema, dayRangeMs } from '@loaxa/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../http/auth.js';
import { errorBodySchema } from '../http/errors.js';
import { access, ADMINS } from '../http/access.js';
import type { AppContext } from '../services/context.js';
import { Readable } from 'node:stream';
import { csvCell, csvDocument } from '../http/csv.js';
import { dictionaryEntryId, parseDictionaryEntryId } from '../repos/dictionary.js';
import type { AuditRepository, AuditRow } from '../repos/audit.js';
import { dictionaryAreaOf } from './tts.js';
import { hideCredentialsIn } from '../services/source-checker.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOGIN_ROUTE = '/api/v1/auth/login';
/** The broker's own calls (every box's connect) are not user actions. */
const UNAUDITED_ROUTES = new Set([
  '/api/v1/broker/auth',
  '/api/v1/broker/acl',
  // RabbitMQ's HTTP auth backend (issue 21): four calls per box connect, and one per new topic.
  ...['user', 'vhost', 'resource', 'topic'].map((p) => `/api/v1/broker/rabbitmq/${p}`),
]);

/**
 * Whether a request is audited, by the route that matched and its method (issue 13, finding 3): every
 * state-changing call to the API, however its path is spelled (`/%61pi/v1/users` matched the users route
 * and left no row when this tested the raw URL).
 */
export function isAudited(method: string, route: string | undefined, is404: boolean): boolean {
  if (!UNSAFE.has(method) || is404 || !route) return false;
  return route.startsWith('/api/') && !UNAUDITED_ROUTES.has(route);
}

type Params = Record<string, string | undefined>;
interface AuditedObject {
  type: string;
  /** The object's id from the route parameters, or, for a creation, from the response body's `id`. */
  id(params: Params, created: string | null, request: FastifyRequest): string | null;
  /** Reads the object's row (or rows) as stored, secrets left out, or null when it does not exist (yet, or any more). */
  load(rows: AuditRepository, id: string): unknown;
}

const byParam = (name: string) => (params: Params) => params[name] ?? null;
const fromResponse = (_: Params, created: string | null) => created;

const broadcast: AuditedObject = {
  type: 'broadcast',
  id: byParam('id'),
  load: (rows, id) => rows.broadcast(id),
};
const user: AuditedObject = { type: 'user', id: byParam('id'), load: (rows, id) => rows.user(id) };
const device: AuditedObject = { type: 'device', id: byParam('id'), load: (rows, id) => rows.device(id) };
const bulletin: AuditedObject = { type: 'bulletin', id: byParam('id'), load: (rows, id) => rows.bulletin(id) };
const offer: AuditedObject = { type: 'offer', id: byParam('id'), load: (rows, id) => rows.offer(id) };
const source: AuditedObject = { type: 'source', id: byParam('id'), load: (rows, id) => rows.source(id) };
/** One term in one area (issue 13, finding 8): the area comes from the body or query, else the caller's, as the route resolves it. */
const term: AuditedObject = {
  type: 'dictionary-entry',
  id: (params, _created, request) => (params.term ? dictionaryEntryId(params.term, dictionaryAreaOf(request)) : null),
  load: (rows, id) => {
    const key = parseDictionaryEntryId(id);
    return key ? rows.dictionaryEntry(key.term, key.areaCode) : null;
  },
};

/** `METHOD route` → the object it writes. Creations name theirs from the response. */
export const AUDITED: Record<string, AuditedObject> = {
  'POST /api/v1/broadcasts': { ...broadcast, id: fromResponse },
  'POST /api/v1/broadcasts/:id/cancel': broadcast,
  'POST /api/v1/broadcasts/:id/approve': broadcast,
  'POST /api/v1/broadcasts/:id/reject': broadcast,
  'PATCH /api/v1/broadcasts/:id/occurrences/:occurrenceAt': broadcast,
  // Issue 20 review: moving a whole series is found under its broadcast, with the schedule before and after.
  'POST /api/v1/broadcasts/:id/series/time': broadcast,
  'POST /api/v1/bulletins': { ...bulletin, id: fromResponse },
  'POST /api/v1/bulletins/upload': { ...bulletin, id: fromResponse },
  'POST /api/v1/bulletins/relay': { ...bulletin, id: fromResponse },
  // Issue 22 review: who published a bulletin on the commune's pages, or took it off.
  'PATCH /api/v1/bulletins/:id/public': bulletin,
  // A programme is a bulletin (issue 15): its row shows the version each save made.
  'POST /api/v1/programmes': { ...bulletin, id: fromResponse },
  'PUT /api/v1/programmes/:id': bulletin,
  // A live airing is a bulletin (issue 16): its row shows it on air, then its recording's state.
  'POST /api/v1/live': { ...bulletin, id: fromResponse },
  'POST /api/v1/live/:id/stop': bulletin,
  'POST /api/v1/sources': { ...source, id: fromResponse },
  'PATCH /api/v1/sources/:id': source,
  'DELETE /api/v1/sources/:id': source,
  'POST /api/v1/sources/:id/check': source,
  'POST /api/v1/users': { ...user, id: fromResponse },
  'PATCH /api/v1/users/:id': user,
  'POST /api/v1/devices': { ...device, id: fromResponse },
  'POST /api/v1/devices/:id/revoke': device,
  'POST /api/v1/devices/:id/claim-code': device,
  // Issue 20: the box page's printable label issues a claim code as well.
  'POST /api/v1/devices/:id/claim-label': device,
  'POST /api/v1/devices/:id/commands': device,
  'POST /api/v1/offers/:id/accept': offer,
  'POST /api/v1/offers/:id/decline': offer,
  'PUT /api/v1/tts/dictionary/:term': term,
  'DELETE /api/v1/tts/dictionary/:term': term,
};

declare module 'fastify' {
  interface FastifyRequest {
    auditBefore?: { object: AuditedObject; id: string | null; before: unknown };
    auditCreatedId?: string;
    /** Its audit row is written (once: by onResponse, or when the handler settles after its client left). */
    auditWritten?: boolean;
    auditIp?: string;
    /**
     * What the server decided beyond the request, kept with its row under the body's `serverNote` (issue 19:
     * the reading spans an approver checked, or that an emergency aired with unchecked).
     */
    auditNote?: Record<string, unknown>;
  }
}

function routeKey(method: string, route: string | undefined): string {
  return `${method} ${route ?? ''}`;
}
// Any key ending in one of these (issue 17 review: a national peer's `outPassword`, our password at a child's
// server, was kept in clear); a boolean such as `resetPassword: true` says nothing secret and stays.
// `endpoint`, `auth`, `p256dh`: a browser's Web Push subscription is a capability (review of issue 20).
const SECRET_KEYS = /(password|secret|token|apikey|api_key|^endpoint|^auth|^p256dh)$/i;

/** Copies a body without secrets (login passwords, user passwords) and with long strings cut. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 10) return '…';
  // Issue 15 review (1): a stream URL's credentials (`http://user:pass@host/`) are a secret too.
  if (typeof value === 'string') return hideCredentialsIn(value.length > 2000 ? `${value.slice(0, 2000)}…` : value);
  if (Array.isArray(value)) return value.length > 200 ? [...value.slice(0, 200).map((v) => redact(v, depth + 1)), `… ${value.length - 200} more`] : value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) && typeof v !== 'boolean' ? '[redacted]' : redact(v, depth + 1)]));
  }
  return value;
}

const CSV_HEADER = ['id', 'at', 'user_id', 'username', 'ip', 'method', 'route', 'url', 'status', 'body', 'object_type', 'object_id', 'before', 'after'] as const;
const CSV_PAGE = 2000;
const parse = (s: string | null) => (s ? (JSON.parse(s) as unknown) : null);

function toItem(r: AuditRow) {
  return {
    id: r.id, at: new Date(r.at).toISOString(), userId: r.user_id, username: r.username, ip: r.ip, method: r.method, route: r.route, url: r.url, status: r.status, body: parse(r.body_json),
    object: r.object_type && r.object_id ? { type: r.object_type, id: r.object_id } : null,
    before: parse(r.before_json),
    after: parse(r.after_json),
  };
}

function csvRow(i: ReturnType<typeof toItem>): string {
  return `${[i.id, i.at, i.userId, i.username, i.ip, i.method, i.route, i.url, i.status, i.body, i.object?.type ?? null, i.object?.id ?? null, i.before, i.after].map(csvCell).join(',')}\r\n`;
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type AuditRouteDeps = Pick<AppContext, 'audit' | 'areas' | 'users'>;

export const auditRoutes: FastifyPluginAsyncZod<AuditRouteDeps> = async (app, deps) => {
  const log = deps.audit;
  // The state before the handler runs: preHandler comes after authentication and validation, so a request
  // refused there has no object state to show and costs no read.
  app.addHook('preHandler', async (request) => {
    const object = AUDITED[routeKey(request.method, request.routeOptions.url)];
    if (!object) return;
    const id = object.id(request.params as Params, null, request);
    try {
      request.auditBefore = { object, id, before: id ? object.load(log, id) : null };
    } catch (err) {
      request.log.error({ err }, 'audit: reading the state before the edit failed');
    }
  });
  // A creation's id is only in its response.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.auditBefore || request.auditBefore.id || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    try {
      const id = (JSON.parse(payload) as { id?: unknown }).id;
      if (typeof id === 'string') request.auditCreatedId = id;
    } catch {
      // not JSON: nothing to name
    }
    return payload;
  });
  /** Appends the request's row once, with how it ended (`status`; 499: the client left before the answer). */
  const write = (request: FastifyRequest, status: number): void => {
    if (request.auditWritten) return;
    request.auditWritten = true;
    const user = request.principal;
    let body: string | null = null;
    if (request.body !== undefined && request.body !== null) body = JSON.stringify(redact(request.body));
    if (request.auditNote) {
      const sent = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? request.body : request.body === undefined ? {} : { body: request.body };
      body = JSON.stringify(redact({ ...sent, serverNote: request.auditNote }));
    }
    // A failed login names the account that was tried (without the password): that is what an admin needs.
    const route = request.routeOptions.url!;
    const loginName = route === LOGIN_ROUTE ? ((request.body as { username?: unknown } | undefined)?.username ?? null) : null;
    const username = user?.username ?? (typeof loginName === 'string' ? loginName.slice(0, 64) : null);
    // The row's area: the acting user's, or for a login the account's; province admins read their own area's rows.
    const areaCode = user ? user.areaCode : typeof loginName === 'string' ? (deps.users.byUsername(loginName)?.areaCode ?? null) : null;
    const audited = request.auditBefore;
    const objectId = audited ? (audited.id ?? request.auditCreatedId ?? null) : null;
    let after: unknown = null;
    try {
      if (audited && objectId && (status < 400 || status === 499)) after = audited.object.load(log, objectId);
    } catch (err) {
      request.log.error({ err }, 'audit: reading the state after the edit failed');
    }
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(redact(v)));
    try {
      log.append({
        at: Date.now(),
        userId: user?.id ?? null,
        username,
        areaCode,
        ip: request.auditIp ?? request.ip,
        method: request.method,
        route,
        url: request.url.slice(0, 500),
        status,
        body,
        objectType: audited && objectId ? audited.object.type : null,
        objectId,
        before: json(audited?.before),
        // A refused or failed request changed nothing: no "after" to show.
        after: json(after),
      });
    } catch (err) {
      request.log.error({ err }, 'audit log write failed');
    }
  };

  // Registered on the root instance by app.ts (not encapsulated), so it sees every route's writes.
  app.addHook('onResponse', async (request, reply) => {
    if (isAudited(request.method, request.routeOptions.url, request.is404)) write(request, reply.statusCode);
  });
  // A client that hangs up before the answer gets no response, so no onResponse: the write it asked for
  // would leave no row (issue 13 review: a user created by a request closed 5 ms after sending). Every
  // audited handler is wrapped so that, when it settles with its client gone, the row is written then,
  // with status 499 and the object's state after.
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.some((m) => isAudited(m, route.url, false))) return;
    const handler = route.handler as (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;
    route.handler = async function audited(this: unknown, request: FastifyRequest, reply: FastifyReply) {
      let failed: unknown = null;
      // A socket that is gone has no address any more: keep it while it is there.
      request.auditIp = request.ip;
      try {
        const out = await handler.call(this, request, reply);
        if (request.auditBefore && !request.auditBefore.id && out && typeof out === 'object' && typeof (out as { id?: unknown }).id === 'string') request.auditCreatedId ??= (out as { id: string }).id;
        return out;
      } catch (err) {
        failed = err;
        throw err;
      } finally {
        // After fastify has had its turn to answer: a live client gets its row from onResponse.
        setImmediate(() => {
          if (!request.auditWritten && request.raw.socket?.destroyed) write(request, failed ? (((failed as { statusCode?: number }).statusCode ?? 500)) : 499);
        });
      }
    };
  });

  app.get(
    '/api/v1/audit',
    {
      config: { access: access.roles(ADMINS, { scope: 'rows of the caller’s area and below (audit_log.area_code)' }, { why: 'read the audit log' }) },
      schema: {
        tags: ['audit'],
        summary: 'The audit log of your area, newest first (province admins); `format=csv` exports it; `user`, `action`, `objectType`/`objectId`, `from`/`to` (Vietnam days) narrow both',
        querystring: auditQuerySchema,
        response: {
          200: auditPageSchema,
          400: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      const { before, format, user: username, action, objectType, objectId, from, to } = request.query;
      // Issue 13, finding 2: a province admin reads its own area's rows, an installation-wide admin all.
      const scope = { all: me.areaCode === null ? 1 : 0, areas: JSON.stringify(me.areaCode === null ? [] : deps.areas.subtree(me.areaCode)) };
      // Issue 20 (search and filters): the page and the CSV export both follow them.
      const space = action?.indexOf(' ') ?? -1;
      const filter = { username, method: action ? action.slice(0, space) : null, route: action ? action.slice(space + 1) : null, objectType, objectId, ...dayRangeMs({ from, to }) };
      const pageOf = { all: (p: { limit: number; before: number }) => log.page({ ...p, ...scope }, filter) };
      if (format === 'csv') {
        // The whole log (or `limit` rows), streamed page by page: an export for the province's records must
        // not stop at a page size, nor hold a year of writes in memory at once.
        const cap = request.query.limit ?? Number.MAX_SAFE_INTEGER;
        async function* lines(): AsyncGenerator<string> {
          yield csvDocument(CSV_HEADER, []);
          let cursor = before ?? Number.MAX_SAFE_INTEGER;
          for (let left = cap; left > 0; ) {
            const rows = pageOf.all({ limit: Math.min(CSV_PAGE, left), before: cursor });
            if (rows.length === 0) return;
            yield rows.map((r) => csvRow(toItem(r))).join('');
            left -= rows.length;
            cursor = rows.at(-1)!.id;
            await new Promise((r) => setImmediate(r)); // let other requests in between pages
          }
        }
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"');
        return reply.send(Readable.from(lines()) as never);
      }
      const limit = request.query.limit ?? 100;
      const rows = pageOf.all({ limit: limit + 1, before: before ?? Number.MAX_SAFE_INTEGER });
      const page = rows.slice(0, limit);
      const items = page.map(toItem);
      return { items, next: rows.length > limit ? page.at(-1)!.id : null };
    },
  );
};

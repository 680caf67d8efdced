/**
 * The audit log (issue 7): every write under /api/v1 — who, from which address, what (method, route, the
 * request body with secrets removed), and how it ended — appended after the response, and readable and
 * exportable by province admins. Append-only in the database itself (triggers refuse UPDATE and DELETE).
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, forbidden } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { csvDocument } from '../http/csv.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SECRET_KEYS = /^(password|secret|token|apikey|api_key)$/i;

/** Copies a body without secrets (login passwords, user passwords) and with long strings cut. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 10) return '…';
  if (typeof value === 'string') return value.length > 2000 ? `${value.slice(0, 2000)}…` : value;
  if (Array.isArray(value)) return value.length > 200 ? [...value.slice(0, 200).map((v) => redact(v, depth + 1)), `… ${value.length - 200} more`] : value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1)]));
  }
  return value;
}

export const auditRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const insert = ctx.db.prepare(
    'INSERT INTO audit_log (at, user_id, username, ip, method, route, url, status, body_json) VALUES (@at, @userId, @username, @ip, @method, @route, @url, @status, @body)',
  );
  // Registered on the root instance by app.ts (not encapsulated), so it sees every route's writes.
  app.addHook('onResponse', async (request, reply) => {
    if (!UNSAFE.has(request.method) || !request.url.startsWith('/api/v1/') || request.url.startsWith('/api/v1/broker/')) return;
    const user = request.principal;
    let body: string | null = null;
    if (request.body !== undefined && request.body !== null) body = JSON.stringify(redact(request.body));
    // A failed login names the account that was tried (without the password): that is what an admin needs.
    const loginName = request.url.startsWith('/api/v1/auth/login') ? ((request.body as { username?: unknown } | undefined)?.username ?? null) : null;
    try {
      insert.run({
        at: Date.now(),
        userId: user?.id ?? null,
        username: user?.username ?? (typeof loginName === 'string' ? loginName.slice(0, 64) : null),
        ip: request.ip,
        method: request.method,
        route: request.routeOptions.url ?? request.url.split('?')[0]!,
        url: request.url.slice(0, 500),
        status: reply.statusCode,
        body,
      });
    } catch (err) {
      request.log.error({ err }, 'audit log write failed');
    }
  });

  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (province admins); `format=csv` exports it',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100), before: z.coerce.number().int().optional(), format: z.enum(['json', 'csv']).default('json') }),
        response: {
          200: z.object({
            items: z.array(z.object({ id: z.number(), at: z.string(), userId: z.string().nullable(), username: z.string().nullable(), ip: z.string().nullable(), method: z.string(), route: z.string(), url: z.string(), status: z.number(), body: z.unknown().nullable() })),
            next: z.number().nullable(),
          }),
          403: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      if (principalOf(request).role !== 'province-admin') throw forbidden('only province admins read the audit log');
      const { limit, before, format } = request.query;
      const rows = ctx.db
        .prepare(`SELECT * FROM audit_log ${before ? 'WHERE id < @before' : ''} ORDER BY id DESC LIMIT @limit`)
        .all({ limit: limit + 1, ...(before ? { before } : {}) }) as Array<{ id: number; at: number; user_id: string | null; username: string | null; ip: string | null; method: string; route: string; url: string; status: number; body_json: string | null }>;
      const page = rows.slice(0, limit);
      const items = page.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), userId: r.user_id, username: r.username, ip: r.ip, method: r.method, route: r.route, url: r.url, status: r.status, body: r.body_json ? (JSON.parse(r.body_json) as unknown) : null }));
      if (format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"');
        const csv = csvDocument(['id', 'at', 'user_id', 'username', 'ip', 'method', 'route', 'url', 'status', 'body'], items.map((i) => [i.id, i.at, i.userId, i.username, i.ip, i.method, i.route, i.url, i.status, i.body]));
        return reply.serializer((b: unknown) => b as string).send(csv as never);
      }
      return { items, next: rows.length > limit ? page.at(-1)!.id : null };
    },
  );
};

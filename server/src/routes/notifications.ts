/**
 * Notifications over HTTP (issue 20): the caller's own list, unread count, marking read, their browsers' Web Push
 * subscriptions and their channels per kind. Every route acts on the logged-in user's rows only; another user's
 * notification id answers 404 like one that does not exist.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  notificationIdParamsSchema,
  notificationListQuerySchema,
  notificationListSchema,
  notificationPreferencesBodySchema,
  notificationPreferencesSchema,
  pushKeySchema,
  pushSubscriptionBodySchema,
  pushUnsubscribeBodySchema,
  unreadCountSchema,
  type Notification,
} from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, notFound } from '../http/errors.js';
import { access, ANY_ROLE } from '../http/access.js';
import type { NotificationRepository, NotificationRow } from '../notifications/repo.js';
import type { PushSender } from '../notifications/push-sender.js';

export interface NotificationRouteDeps {
  repo: NotificationRepository;
  push: PushSender;
  vapidPublicKey: string;
  emailAvailable: boolean;
  now?: () => number;
}

const OWN = { scope: 'the caller’s own notifications, subscriptions and preferences' } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const out = (r: NotificationRow): Notification => ({ id: String(r.id), kind: r.kind, title: r.title, body: r.body, link: r.link, createdAt: iso(r.createdAt)!, readAt: iso(r.readAt) });

export const notificationRoutes: FastifyPluginAsyncZod<NotificationRouteDeps> = async (app, deps) => {
  const { repo } = deps;
  const now = deps.now ?? Date.now;

  app.get(
    '/api/v1/notifications',
    {
      config: { access: access.roles(ANY_ROLE, OWN) },
      schema: { tags: ['notifications'], summary: 'The caller’s notifications, newest first, with the unread count', querystring: notificationListQuerySchema, response: { 200: notificationListSchema, 400: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      const q = request.query;
      const rows = repo.list(user.id, q.limit + 1, q.before === undefined ? undefined : Number(q.before), q.unread === 'true');
      const page = rows.slice(0, q.limit);
      return { items: page.map(out), unread: repo.unread(user.id), next: rows.length > q.limit ? String(page.at(-1)!.id) : null };
    },
  );

  app.get(
    '/api/v1/notifications/unread-count',
    { config: { access: access.roles(ANY_ROLE, OWN) }, schema: { tags: ['notifications'], summary: 'How many of the caller’s notifications are unread (the header’s badge)', response: { 200: unreadCountSchema } } },
    async (request) => ({ unread: repo.unread(principalOf(request).id) }),
  );

  app.post(
    '/api/v1/notifications/:id/read',
    {
      config: { access: access.roles(ANY_ROLE, OWN) },
      schema: { tags: ['notifications'], summary: 'Marks one of the caller’s notifications read', params: notificationIdParamsSchema, response: { 200: unreadCountSchema, 404: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      if (!repo.markRead(user.id, Number(request.params.id), now())) throw notFound(`notification ${request.params.id}`);
      return { unread: repo.unread(user.id) };
    },
  );

  app.post(
    '/api/v1/notifications/read-all',
    { config: { access: access.roles(ANY_ROLE, OWN) }, schema: { tags: ['notifications'], summary: 'Marks all of the caller’s notifications read', response: { 200: unreadCountSchema } } },
    async (request) => {
      const user = principalOf(request);
      repo.markAllRead(user.id, now());
      return { unread: repo.unread(user.id) };
    },
  );

  app.get(
    '/api/v1/notifications/push/key',
    { config: { access: access.roles(ANY_ROLE, OWN) }, schema: { tags: ['notifications'], summary: 'The server’s VAPID public key, for PushManager.subscribe (RFC 8292 applicationServerKey)', response: { 200: pushKeySchema } } },
    async () => ({ publicKey: deps.vapidPublicKey }),
  );

  app.post(
    '/api/v1/notifications/push/subscribe',
    {
      config: { access: access.roles(ANY_ROLE, OWN) },
      schema: { tags: ['notifications'], summary: 'Saves this browser’s Web Push subscription for the caller', body: pushSubscriptionBodySchema, response: { 201: z.object({ subscriptions: z.number().int() }), 400: errorBodySchema, 409: errorBodySchema } },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { endpoint, keys } = request.body;
      // The server will post to this URL: refused here, in words, when it is not https or points inside (SSRF).
      const why = await deps.push.refusal(endpoint);
      if (why) throw badRequest(why, [{ path: 'endpoint', message: why }]);
      const p256 = Buffer.from(keys.p256dh, 'base64url');
      if (p256.length !== 65 || p256[0] !== 4) throw badRequest('Khóa của trình duyệt không hợp lệ.', [{ path: 'keys.p256dh', message: 'not an uncompressed P-256 point' }]);
      if (Buffer.from(keys.auth, 'base64url').length !== 16) throw badRequest('Khóa của trình duyệt không hợp lệ.', [{ path: 'keys.auth', message: 'not 16 bytes' }]);
      if (!repo.subscribe(user.id, { endpoint, p256dh: keys.p256dh, auth: keys.auth }, now()))
        throw conflict('Trình duyệt này đang nhận thông báo của một người dùng khác. Hãy tắt thông báo rồi bật lại.');
      return reply.status(201).send({ subscriptions: repo.subscriptions(user.id).length });
    },
  );

  app.post(
    '/api/v1/notifications/push/unsubscribe',
    {
      config: { access: access.roles(ANY_ROLE, OWN) },
      schema: { tags: ['notifications'], summary: 'Removes this browser’s Web Push subscription', body: pushUnsubscribeBodySchema, response: { 200: z.object({ subscriptions: z.number().int() }), 404: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      if (!repo.unsubscribe(user.id, request.body.endpoint)) throw notFound('push subscription');
      return { subscriptions: repo.subscriptions(user.id).length };
    },
  );

  const preferences = (userId: string) => ({ ...repo.preferences(userId), emailAvailable: deps.emailAvailable, pushSubscriptions: repo.subscriptions(userId).length });

  app.get(
    '/api/v1/notifications/preferences',
    { config: { access: access.roles(ANY_ROLE, OWN) }, schema: { tags: ['notifications'], summary: 'The caller’s e-mail address and channels per kind', response: { 200: notificationPreferencesSchema } } },
    async (request) => preferences(principalOf(request).id),
  );

  app.put(
    '/api/v1/notifications/preferences',
    {
      config: { access: access.roles(ANY_ROLE, OWN) },
      schema: { tags: ['notifications'], summary: 'Sets the caller’s e-mail address and channels per kind', body: notificationPreferencesBodySchema, response: { 200: notificationPreferencesSchema, 400: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      const email = request.body.email === '' ? null : request.body.email;
      repo.setPreferences(user.id, email, request.body.channels, now());
      return preferences(user.id);
    },
  );
};

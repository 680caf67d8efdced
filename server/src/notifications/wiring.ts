/**
 * Notifications wired into the server (issue 20): the repository on the database, the VAPID keys, the push
 * sender and the mailer from the settings, the service listening on the event bus, and the routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { AppContext } from '../services/context.js';
import { notificationRoutes } from '../routes/notifications.js';
import { NotificationRepository } from './repo.js';
import { loadVapidKeys } from './vapid.js';
import { PushSender } from './push-sender.js';
import { Mailer } from './mailer.js';
import { NotificationService } from './notification-service.js';

export interface NotificationsWired {
  repo: NotificationRepository;
  service: NotificationService;
  push: PushSender;
  vapidPublicKey: string;
}

export async function wireNotifications(
  app: FastifyInstance,
  config: Config,
  ctx: Pick<AppContext, 'areas' | 'devices' | 'faults' | 'broadcasts' | 'bulletins' | 'events'>,
  deps: { db: Db; dataDir: string; logger: Logger; base: () => string; now?: () => number },
): Promise<NotificationsWired> {
  const settings = config.notifications;
  const repo = new NotificationRepository(deps.db);
  const keys = loadVapidKeys(deps.dataDir, { publicKey: settings.vapidPublicKey, privateKey: settings.vapidPrivateKey });
  // RFC 8292 §2.1: a contact for the push service; the installation's https address when it has one.
  const subject = settings.vapidSubject ?? (config.publicUrl?.startsWith('https://') ? config.publicUrl : 'mailto:loa-xa@localhost');
  const push = new PushSender({ keys, subject, allowLoopback: settings.pushAllowLoopback });
  const mail = settings.smtpUrl ? new Mailer(settings.smtpUrl, settings.smtpFrom) : null;
  const service = new NotificationService({
    repo,
    areas: ctx.areas,
    devices: ctx.devices,
    faults: ctx.faults,
    broadcasts: ctx.broadcasts,
    bulletins: ctx.bulletins,
    events: ctx.events,
    push,
    mail,
    base: deps.base,
    coverageThresholdPct: settings.coverageThresholdPct,
    logger: deps.logger.child({ module: 'notifications' }),
    ...(deps.now ? { now: deps.now } : {}),
  });
  // Review of issue 20: a lost phone must stop getting pushes when its user's sessions all end (new password,
  // role or area, disabled), not only on a clean logout from that phone.
  ctx.events.on('sessions', (e) => {
    if (e.all) repo.dropUser(e.userId);
  });
  await app.register(notificationRoutes, { repo, push, vapidPublicKey: keys.publicKey, emailAvailable: mail !== null, ...(deps.now ? { now: deps.now } : {}) });
  return { repo, service, push, vapidPublicKey: keys.publicKey };
}

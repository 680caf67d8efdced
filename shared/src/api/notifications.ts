/**
 * Notifications (issue 20, "what people reach for every day"): the list behind the header's badge, marking read,
 * a browser's Web Push subscription and each user's choice of channels per kind. Every route is the caller's own
 * (user-scoped): nobody reads or marks another user's notifications.
 */
import { z } from 'zod';

/**
 * - `approval`: a broadcast waits for someone who may approve it (approvers covering its targets);
 * - `decision`: the author's broadcast was approved or rejected (with the reason);
 * - `fault`: a box of the user's commune reported a blocking fault (it cannot air);
 * - `coverage`: a commune's share of working boxes fell below the installation's threshold.
 */
export const NOTIFICATION_KINDS = ['approval', 'decision', 'fault', 'coverage'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const notificationKindSchema = z.enum(NOTIFICATION_KINDS);

export const NOTIFICATION_CHANNELS = ['push', 'email'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export const notificationSchema = z.object({
  id: z.string(),
  kind: notificationKindSchema,
  /** Vietnamese, written when the notification was made (what the push and the e-mail said too). */
  title: z.string(),
  body: z.string(),
  /** A path of the web app: the thing the notification is about. */
  link: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type Notification = z.infer<typeof notificationSchema>;

export const NOTIFICATION_PAGE_MAX = 100;

export const notificationListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(NOTIFICATION_PAGE_MAX).default(30),
  /** The `next` of the previous page: older notifications than this one. */
  before: z.string().regex(/^\d{1,15}$/).optional(),
  unread: z.enum(['true', 'false']).optional(),
});
export type NotificationListQuery = z.input<typeof notificationListQuerySchema>;

export const notificationListSchema = z.object({
  items: z.array(notificationSchema),
  unread: z.number().int(),
  /** Pass as `before` for the next (older) page; null at the end. */
  next: z.string().nullable(),
});
export type NotificationList = z.infer<typeof notificationListSchema>;

export const unreadCountSchema = z.object({ unread: z.number().int() });
export type UnreadCount = z.infer<typeof unreadCountSchema>;

export const notificationIdParamsSchema = z.object({ id: z.string().regex(/^\d{1,15}$/) });

/** RFC 8291: the browser's P-256 public key (65 bytes) and its 16-byte auth secret, base64url without padding. */
export const pushSubscriptionBodySchema = z.object({
  endpoint: z.string().url().max(2048),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{86,88}={0,2}$/, 'p256dh must be a base64url P-256 public key'),
    auth: z.string().regex(/^[A-Za-z0-9_-]{21,24}={0,2}$/, 'auth must be a base64url 16-byte secret'),
  }),
});
export type PushSubscriptionBody = z.infer<typeof pushSubscriptionBodySchema>;

export const pushUnsubscribeBodySchema = z.object({ endpoint: z.string().url().max(2048) });

/** The application server key a browser subscribes with (RFC 8292 `k`), base64url. */
export const pushKeySchema = z.object({ publicKey: z.string() });

export const channelChoiceSchema = z.object({ push: z.boolean(), email: z.boolean() });
export const notificationChannelsSchema = z.object({
  approval: channelChoiceSchema,
  decision: channelChoiceSchema,
  fault: channelChoiceSchema,
  coverage: channelChoiceSchema,
});
export type NotificationChannels = z.infer<typeof notificationChannelsSchema>;

export const NOTIFICATION_EMAIL_MAX = 254;

export const notificationPreferencesSchema = z.object({
  /** Where e-mail goes; null: no e-mail. */
  email: z.string().nullable(),
  channels: notificationChannelsSchema,
  /** Whether the server has an SMTP server configured (LOAXA_SMTP_URL); without it e-mail cannot be chosen. */
  emailAvailable: z.boolean(),
  /** How many browsers of this user receive Web Push. */
  pushSubscriptions: z.number().int(),
});
export type NotificationPreferences = z.infer<typeof notificationPreferencesSchema>;

export const notificationPreferencesBodySchema = z.object({
  email: z.string().trim().max(NOTIFICATION_EMAIL_MAX).email('Địa chỉ e-mail không hợp lệ').nullable(),
  channels: notificationChannelsSchema,
});
export type NotificationPreferencesBody = z.infer<typeof notificationPreferencesBodySchema>;

/** By default every kind goes to every channel the user has set up (a browser subscribed, an address given). */
export const DEFAULT_CHANNELS: NotificationChannels = {
  approval: { push: true, email: true },
  decision: { push: true, email: true },
  fault: { push: true, email: true },
  coverage: { push: true, email: true },
};

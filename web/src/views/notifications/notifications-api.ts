/**
 * The notification routes of issue 20 (`@loaxa/shared/api` notifications.ts) as the page calls them, and this
 * browser's Web Push subscription. They live with the page so their code loads with it.
 */
import type { NotificationList, NotificationPreferences, NotificationPreferencesBody, PushSubscriptionBody } from '@loaxa/shared/api';
import { ApiFailure, withQuery, type ApiClient } from '../../api/client.js';
import { NOTIFICATIONS_CHANGED } from '../../app/Header.js';

const N = '/api/v1/notifications';

export function notificationsApi(api: ApiClient) {
  const changed = <T>(p: Promise<T>) => p.then((v) => (dispatchEvent(new Event(NOTIFICATIONS_CHANGED)), v));
  return {
    list: (before: string | null, signal?: AbortSignal) => api.request<NotificationList>('GET', withQuery(N, { limit: 30, ...(before ? { before } : {}) }), undefined, signal),
    read: (id: string) => changed(api.request<{ unread: number }>('POST', `${N}/${encodeURIComponent(id)}/read`, {})),
    readAll: () => changed(api.request<{ unread: number }>('POST', `${N}/read-all`, {})),
    preferences: (signal?: AbortSignal) => api.request<NotificationPreferences>('GET', `${N}/preferences`, undefined, signal),
    savePreferences: (body: NotificationPreferencesBody) => api.request<NotificationPreferences>('PUT', `${N}/preferences`, body),
    pushKey: () => api.request<{ publicKey: string }>('GET', `${N}/push/key`),
    subscribe: (body: PushSubscriptionBody) => api.request<{ subscriptions: number }>('POST', `${N}/push/subscribe`, body),
    unsubscribe: (endpoint: string) => api.request<{ subscriptions: number }>('POST', `${N}/push/unsubscribe`, { endpoint }),
  };
}
export type NotificationsApi = ReturnType<typeof notificationsApi>;

export type PushState = 'unsupported' | 'denied' | 'off' | 'on';

export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  return (await navigator.serviceWorker.getRegistration('/')) ?? (await navigator.serviceWorker.register('/sw.js'));
}

/** Whether this browser receives pushes; a subscription the browser holds is sent to the server again (it may have been renewed). */
export async function pushState(n: NotificationsApi): Promise<PushState> {
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const sub = await (await registration()).pushManager.getSubscription();
  if (!sub) return 'off';
  await n.subscribe(subscriptionBody(sub));
  return 'on';
}

function subscriptionBody(sub: PushSubscription): PushSubscriptionBody {
  const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
  return { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } };
}

export async function enablePush(n: NotificationsApi): Promise<PushState> {
  if (!pushSupported()) return 'unsupported';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const reg = await registration();
  const key = (await n.pushKey()).publicKey;
  const b64 = key.replace(/-/g, '+').replace(/_/g, '/');
  const raw = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  const fresh = () => reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: raw });
  const sub = (await reg.pushManager.getSubscription()) ?? (await fresh());
  try {
    await n.subscribe(subscriptionBody(sub));
  } catch (err) {
    // 409: this browser's endpoint still belongs to someone who used it before; the server never moves it to
    // another user, so the browser takes a new one.
    if (!(err instanceof ApiFailure) || err.status !== 409) throw err;
    await sub.unsubscribe();
    await n.subscribe(subscriptionBody(await fresh()));
  }
  return 'on';
}

export async function disablePush(n: NotificationsApi): Promise<PushState> {
  const sub = await (await registration()).pushManager.getSubscription();
  if (sub) {
    await n.unsubscribe(sub.endpoint).catch(() => undefined);
    await sub.unsubscribe();
  }
  return 'off';
}

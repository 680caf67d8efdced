/**
 * Who is logged in. The API session is the HttpOnly cookie the login sets; the app keeps only the user's
 * profile in memory. `GET /api/v1/me` answers it; until the server has that route, an admin's profile is
 * found in `GET /api/v1/users` and anyone else is shown the read-only (viewer) interface.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiClient, ApiFailure } from '../api/client.js';
import type { AreaNode, Me } from '../api/types.js';

const LOGGED_OUT = 'loaxa.loggedOut';
const LAST_USER = 'loaxa.username';

export interface Session {
  me: Me;
  api: ApiClient;
  /** The area tree, fetched once per session (it is not paginated, and small enough: ~3,400 nodes). */
  areas(): Promise<AreaNode[]>;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a logged-in app');
  return s;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function rememberLogin(username: string): void {
  storage()?.removeItem(LOGGED_OUT);
  storage()?.setItem(LAST_USER, username);
}

export function markLoggedOut(): void {
  storage()?.setItem(LOGGED_OUT, '1');
}

/** The current user, or null when the login form must be shown. */
export async function resolveMe(api: ApiClient): Promise<Me | null> {
  if (storage()?.getItem(LOGGED_OUT)) return null;
  try {
    return await api.me();
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    if (err.status === 401) return null;
    if (err.status !== 404) throw err;
  }
  // No /me yet: an admin can read the user list; others get the read-only interface.
  const username = storage()?.getItem(LAST_USER) ?? null;
  try {
    const users = await api.users();
    const mine = users.items.find((u) => u.username === username);
    if (mine) return { id: mine.id, username: mine.username, role: mine.role, areaCode: mine.areaCode };
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return null;
  }
  if (!username) return null;
  return { id: '', username, role: 'viewer', areaCode: null };
}

export function createSession(api: ApiClient, me: Me, onLoggedOut: () => void): Session {
  let areas: Promise<AreaNode[]> | null = null;
  return {
    me,
    api,
    areas() {
      areas ??= api.areas().then((r) => r.items);
      areas.catch(() => {
        areas = null;
      });
      return areas;
    },
    async logout() {
      // A shared phone must not keep getting the previous user's notifications (issue 20): the browser's push
      // subscription is dropped here and at the server, while the session still authorizes it.
      await dropPushSubscription(api);
      try {
        await api.logout();
      } catch {
        // The route may not exist yet; the client state is cleared either way.
      }
      markLoggedOut();
      onLoggedOut();
    },
  };
}

/** Unsubscribes this browser from Web Push, if it was subscribed; never fails the logout. */
async function dropPushSubscription(api: ApiClient): Promise<void> {
  try {
    if (!('serviceWorker' in navigator)) return;
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = await reg?.pushManager?.getSubscription();
    if (!sub) return;
    await api.request('POST', '/api/v1/notifications/push/unsubscribe', { endpoint: sub.endpoint }).catch(() => undefined);
    await sub.unsubscribe();
  } catch {
    // No service worker or push in this browser: nothing to drop.
  }
}

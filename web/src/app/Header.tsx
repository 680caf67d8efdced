import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/vi.js';
import { can, navFor, type RouteName } from '../logic/roles.js';
import { PATHS } from '../logic/routes.js';
import { Link } from '../components/ui.js';
import { useSession } from './session.js';

function useAreaName(code: string | null, known: string | undefined): string {
  const session = useSession();
  const [name, setName] = useState(known ?? code ?? t.header.allAreas);
  useEffect(() => {
    if (!code || known) return;
    let live = true;
    session.areas().then((tree) => {
      const find = (nodes: typeof tree): string | null => {
        for (const n of nodes) {
          if (n.code === code) return n.name;
          const hit = find(n.children);
          if (hit) return hit;
        }
        return null;
      };
      const hit = find(tree);
      if (live && hit) setName(hit);
    }, () => undefined);
    return () => {
      live = false;
    };
  }, [code]);
  return name;
}

/** Disaster warnings waiting for a person (issue 18), for those who may approve them: on load, on each page, each minute. */
function usePendingWarnings(enabled: boolean, current: RouteName | null): number {
  const { api } = useSession();
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    const read = () => void api.request<{ total: number }>('GET', '/api/v1/warnings?state=pending&limit=1').then((r) => live && setN(r.total), () => undefined);
    read();
    const timer = setInterval(read, 60_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [enabled, current]);
  return n;
}

/**
 * The caller's unread notifications (issue 20), for the bell's badge: on load, on each page, each 30 s, and at
 * once when the notifications page marks some read (the `loaxa:notifications` event it sends).
 */
export const NOTIFICATIONS_CHANGED = 'loaxa:notifications';
function useUnreadNotifications(current: RouteName | null): number {
  const { api } = useSession();
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    const read = () => void api.request<{ unread: number }>('GET', '/api/v1/notifications/unread-count').then((r) => live && setN(r.unread), () => undefined);
    read();
    const timer = setInterval(read, 30_000);
    addEventListener(NOTIFICATIONS_CHANGED, read);
    return () => {
      live = false;
      clearInterval(timer);
      removeEventListener(NOTIFICATIONS_CHANGED, read);
    };
  }, [current]);
  return n;
}

export function Header({ current }: { current: RouteName | null }) {
  const session = useSession();
  const { me } = session;
  const pending = usePendingWarnings(can(me.role, 'issue-warning'), current);
  const unread = useUnreadNotifications(current);
  const area = useAreaName(me.areaCode, me.area?.name);
  const [open, setOpen] = useState(false);
  return (
    <header class="topbar">
      <div class="topbar-row">
        <Link href="/" class="brand">
          <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
            <path fill="currentColor" d="M3 10v4h4l5 4V6L7 10H3zm13.5 2a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z" />
          </svg>
          <span>{t.appName}</span>
        </Link>
        <div class="whoami" data-testid="whoami">
          <span class="who">
            <span class="sr-only">{t.header.user}: </span>
            <strong>{me.username}</strong> · {t.roles[me.role]}
          </span>
          <span class="where">
            <span class="sr-only">{t.header.area}: </span>
            {area}
          </span>
        </div>
        <Link href={PATHS.notifications} class="btn btn-ghost bell" aria-current={current === 'notifications' ? 'page' : undefined} data-testid="notification-bell">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z" />
          </svg>
          <span class="sr-only">{t.header.notifications}</span>
          {unread > 0 && (
            <span class="nav-count" data-testid="notification-badge">
              {unread > 99 ? '99+' : unread}
              <span class="sr-only"> {t.header.unread}</span>
            </span>
          )}
        </Link>
        <button type="button" class="btn btn-ghost menu-toggle" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen(!open)}>
          ☰ <span class="sr-only">{t.header.menu}</span>
        </button>
        <button type="button" class="btn btn-ghost logout" onClick={() => void session.logout()}>
          {t.header.logout}
        </button>
      </div>
      <nav id="main-nav" class={`mainnav ${open ? 'open' : ''}`} aria-label={t.header.menu}>
        {navFor(me.role, me).map((r) => (
          <Link key={r} href={PATHS[r]} aria-current={current === r ? 'page' : undefined} onClickCapture={() => setOpen(false)}>
            {t.nav[r]}
            {r === 'warnings' && pending > 0 && (
              <span class="nav-count" data-testid="pending-warnings">
                {pending}
                <span class="sr-only"> {t.header.pendingWarnings}</span>
              </span>
            )}
          </Link>
        ))}
      </nav>
    </header>
  );
}

/** The shell: who is logged in, the header, and the page for the current path. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient } from '../api/client.js';
import type { Me } from '../api/types.js';
import { Alert, Link, Loading } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { canOpen, homeFor, type RouteName } from '../logic/roles.js';
import { matchPath, PATHS } from '../logic/routes.js';
import { LoginView } from '../views/LoginView.js';
import { errorMessage } from './errors.js';
import { Header } from './Header.js';
import { Lazy } from './lazy.js';
import { navigate, useLocation } from './router.js';
import { createSession, rememberLogin, resolveMe, SessionContext } from './session.js';

const VIEWS = {
  dashboard: () => import('../views/dashboard/DashboardView.js'),
  compose: () => import('../views/compose/ComposeView.js'),
  broadcasts: () => import('../views/BroadcastsView.js'),
  approvals: () => import('../views/ApprovalsView.js'),
  inbox: () => import('../views/InboxView.js'),
  devices: () => import('../views/DevicesView.js'),
  reports: () => import('../views/ReportsView.js'),
  audit: () => import('../views/audit/AuditView.js'),
  sources: () => import('../views/sources/SourcesView.js'),
  programmes: () => import('../views/programmes/ProgrammesView.js'),
  golive: () => import('../views/golive/GoLiveView.js'),
  national: () => import('../views/national/NationalView.js'),
  warnings: () => import('../views/warnings/WarningsView.js'),
  calendar: () => import('../views/calendar/CalendarView.js'),
  install: () => import('../views/device/InstallView.js'),
  notifications: () => import('../views/notifications/NotificationsView.js'),
  library: () => import('../views/library/LibraryView.js'),
  settings: () => import('../views/settings/SettingsView.js'),
} satisfies Record<RouteName, unknown>;
const liveView = () => import('../views/live/BroadcastLiveView.js');
const deviceView = () => import('../views/device/DeviceView.js');
const labelView = () => import('../views/device/LabelView.js');

type Boot = { status: 'checking' } | { status: 'login' } | { status: 'in'; me: Me } | { status: 'error'; message: string };

export function App() {
  const [boot, setBoot] = useState<Boot>({ status: 'checking' });
  // A 401 usually means the session ended, but an emergency broadcast also answers 401 when the login is not
  // recent: ask who is logged in before showing the login form.
  const api = useMemo(() => {
    const client: ApiClient = new ApiClient({
      onUnauthorized: () => void resolveMe(client).then((me) => !me && setBoot({ status: 'login' }), () => setBoot({ status: 'login' })),
    });
    return client;
  }, []);
  const check = () => resolveMe(api).then((me) => setBoot(me ? { status: 'in', me } : { status: 'login' }), (err: unknown) => setBoot({ status: 'error', message: errorMessage(err) }));
  useEffect(() => {
    void check();
    // Fetch the code of the page being opened while the session is checked, not after.
    const m = matchPath(location.pathname);
    if (m.route in VIEWS) void VIEWS[m.route as RouteName]().catch(() => undefined);
  }, []);
  const session = useMemo(() => (boot.status === 'in' ? createSession(api, boot.me, () => setBoot({ status: 'login' })) : null), [boot]);
  const loc = useLocation();

  if (boot.status === 'checking') return <Loading />;
  if (boot.status === 'error')
    return (
      <main class="page">
        <Alert>{boot.message}</Alert>
        <button class="btn" onClick={() => void check()}>
          {t.retry}
        </button>
      </main>
    );
  if (boot.status === 'login' || !session)
    return (
      <LoginView
        api={api}
        onLoggedIn={(username) => {
          rememberLogin(username);
          setBoot({ status: 'checking' });
          void check();
        }}
      />
    );

  const role = session.me.role;
  const match = matchPath(loc.pathname);
  let current: RouteName | null = null;
  let page;
  if (match.route === 'home') {
    page = <Redirect to={PATHS[homeFor(role)]} />;
  } else if (match.route === 'broadcast') {
    current = 'broadcasts';
    page = <Lazy key={`broadcast-${match.params.id}`} load={liveView} props={{ id: match.params.id }} />;
  } else if (match.route === 'device' || match.route === 'device-label') {
    // Issue 20: a box's page and its claim label, under the devices list.
    current = 'devices';
    page = <Lazy key={`${match.route}-${match.params.id}`} load={match.route === 'device' ? deviceView : labelView} props={{ id: match.params.id }} />;
  } else if (match.route === 'not-found' || !canOpen(role, match.route, session.me)) {
    // A page that exists but is not for this role says so (the server would answer 403 too).
    page = (
      <div class="page">
        <Alert kind="warning">{match.route === 'not-found' ? t.notFound : t.errors.forbidden}</Alert>
        <Link href="/">{t.backHome}</Link>
      </div>
    );
  } else {
    current = match.route;
    page = <Lazy key={match.route} load={VIEWS[match.route]} props={{}} />;
  }
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        {t.skipToContent}
      </a>
      <Header current={current} />
      <main id="main" class="page" tabIndex={-1}>
        {page}
      </main>
    </SessionContext.Provider>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return <Loading />;
}

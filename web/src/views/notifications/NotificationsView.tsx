/**
 * Notifications (issue 20): what waits for the user — approvals, decisions on their broadcasts (with the reason),
 * their commune's box faults, coverage drops — newest first, unread ones marked; a tap opens the thing and marks
 * it read. Below, how they are also delivered: this device's Web Push, and an e-mail address, chosen per kind.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Notification, NotificationChannels, NotificationKind, NotificationPreferences } from '@loaxa/shared/api';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { navigate } from '../../app/router.js';
import { ApiFailure } from '../../api/client.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { fmtDateTime } from '../../logic/format.js';
import { nv } from './notifications-vi.js';
import { disablePush, enablePush, notificationsApi, pushState, type NotificationsApi, type PushState } from './notifications-api.js';
import './notifications.css';

/** The contract's kinds (NOTIFICATION_KINDS), named here: importing the value would bring zod into this page's code. */
const KINDS = ['approval', 'decision', 'fault', 'coverage'] as const satisfies readonly NotificationKind[];

export default function NotificationsView() {
  const { api } = useSession();
  const n = useMemo(() => notificationsApi(api), [api]);
  const [items, setItems] = useState<Notification[] | null>(null);
  const [unread, setUnread] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = (before: string | null) =>
    n.list(before).then(
      (page) => {
        setItems((old) => (before ? [...(old ?? []), ...page.items] : page.items));
        setUnread(page.unread);
        setNext(page.next);
      },
      (err: unknown) => setError(errorMessage(err)),
    );
  useEffect(() => {
    void load(null);
  }, []);

  const markRead = async (item: Notification) => {
    if (item.readAt) return;
    const r = await n.read(item.id);
    setUnread(r.unread);
    setItems((list) => (list ?? []).map((x) => (x.id === item.id ? { ...x, readAt: new Date().toISOString() } : x)));
  };
  const open = (item: Notification) => {
    void markRead(item)
      .catch(() => undefined)
      .then(() => navigate(item.link));
  };
  const readAll = () =>
    n.readAll().then(
      (r) => {
        setUnread(r.unread);
        const now = new Date().toISOString();
        setItems((list) => (list ?? []).map((x) => (x.readAt ? x : { ...x, readAt: now })));
      },
      (err: unknown) => setError(errorMessage(err)),
    );

  return (
    <div class="notifications">
      <h1>{nv.title}</h1>
      {error && <Alert>{error}</Alert>}
      <Card
        title={unread > 0 ? `${nv.unread}: ${unread}` : undefined}
        actions={
          unread > 0 ? (
            <button type="button" class="btn" onClick={() => void readAll()}>
              {nv.allRead}
            </button>
          ) : undefined
        }
      >
        {items === null ? (
          <Loading />
        ) : items.length === 0 ? (
          <Empty>{nv.empty}</Empty>
        ) : (
          <ul class="notif-list" data-testid="notification-list">
            {items.map((item) => (
              <li key={item.id} class={`notif ${item.readAt ? 'read' : 'unread'} notif-${item.kind}`} data-testid="notification">
                <a
                  href={item.link}
                  class="notif-open"
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    open(item);
                  }}
                >
                  <span class="notif-kind">{nv.kinds[item.kind]}</span>
                  <strong class="notif-title">{item.title}</strong>
                  <span class="notif-body">{item.body}</span>
                  <time class="notif-time muted" dateTime={item.createdAt}>
                    {fmtDateTime(item.createdAt)}
                  </time>
                </a>
                {!item.readAt && (
                  <button type="button" class="btn btn-ghost notif-mark" onClick={() => void markRead(item).catch((err: unknown) => setError(errorMessage(err)))}>
                    {nv.markRead}
                    <span class="sr-only">: {item.title}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {next && (
          <button type="button" class="btn" onClick={() => void load(next)}>
            {nv.more}
          </button>
        )}
      </Card>
      <Settings n={n} />
    </div>
  );
}

function Settings({ n }: { n: NotificationsApi }) {
  const [prefs, setPrefs] = useState<NotificationPreferences | null>(null);
  const [email, setEmail] = useState('');
  const [channels, setChannels] = useState<NotificationChannels | null>(null);
  const [push, setPush] = useState<PushState | 'checking'>('checking');
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [emailError, setEmailError] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    n.preferences().then(
      (p) => {
        setPrefs(p);
        setEmail(p.email ?? '');
        setChannels(p.channels);
      },
      (err: unknown) => setMessage({ kind: 'error', text: errorMessage(err) }),
    );
    pushState(n).then(setPush, () => setPush('off'));
  }, []);

  const togglePush = async () => {
    setBusy(true);
    setMessage(null);
    try {
      setPush(push === 'on' ? await disablePush(n) : await enablePush(n));
      const p = await n.preferences();
      setPrefs(p);
    } catch {
      setMessage({ kind: 'error', text: nv.settings.pushFailed });
    } finally {
      setBusy(false);
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!channels) return;
    const address = email.trim();
    // The browser's own check of type="email" is English on some phones: the form checks in Vietnamese.
    if (address && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      setEmailError(true);
      return;
    }
    setEmailError(false);
    setBusy(true);
    try {
      const p = await n.savePreferences({ email: address || null, channels });
      setPrefs(p);
      setMessage({ kind: 'success', text: nv.settings.saved });
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 400 && err.fields.some((f) => f.path === 'email')) setEmailError(true);
      else setMessage({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  if (!prefs || !channels) return <Card title={nv.settings.title}>{message ? <Alert>{message.text}</Alert> : <Loading />}</Card>;
  const set = (kind: keyof NotificationChannels, channel: 'push' | 'email', on: boolean) => {
    setMessage(null);
    setChannels({ ...channels, [kind]: { ...channels[kind], [channel]: on } });
  };
  return (
    <Card title={nv.settings.title}>
      <form class="notif-settings" onSubmit={(e) => void save(e)} noValidate data-testid="notification-settings">
        <div class="notif-push">
          {push === 'unsupported' ? (
            <p class="muted">{nv.settings.pushUnsupported}</p>
          ) : push === 'denied' ? (
            <p class="muted">{nv.settings.pushDenied}</p>
          ) : (
            <>
              <p data-testid="push-state">{push === 'on' ? nv.settings.pushActive : nv.settings.pushInactive}</p>
              <button type="button" class={`btn ${push === 'on' ? '' : 'btn-primary'}`} disabled={busy || push === 'checking'} onClick={() => void togglePush()}>
                {push === 'on' ? nv.settings.pushOff : nv.settings.pushOn}
              </button>
            </>
          )}
          <p class="muted">{nv.settings.devices(prefs.pushSubscriptions)}</p>
        </div>
        <label class="field" for="notif-email">
          <span>{nv.settings.emailLabel}</span>
          <input
            id="notif-email"
            type="email"
            inputMode="email"
            autoComplete="email"
            value={email}
            disabled={!prefs.emailAvailable}
            aria-invalid={emailError}
            aria-describedby="notif-email-hint"
            onInput={(e) => {
              setEmail(e.currentTarget.value);
              setEmailError(false);
            }}
          />
          <small id="notif-email-hint" class="muted">
            {prefs.emailAvailable ? nv.settings.emailHint : nv.settings.emailUnavailable}
          </small>
          {emailError && <small class="field-error">{nv.settings.emailInvalid}</small>}
        </label>
        <p>{nv.settings.intro}</p>
        <table class="notif-channels">
          <thead>
            <tr>
              <th scope="col">{nv.settings.kind}</th>
              <th scope="col">{nv.settings.push}</th>
              <th scope="col">{nv.settings.email}</th>
            </tr>
          </thead>
          <tbody>
            {KINDS.map((kind) => (
              <tr key={kind}>
                <th scope="row">{nv.settings.kinds[kind]}</th>
                <td>
                  <input type="checkbox" aria-label={`${nv.settings.kinds[kind]}: ${nv.settings.push}`} checked={channels[kind].push} onChange={(e) => set(kind, 'push', e.currentTarget.checked)} />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${nv.settings.kinds[kind]}: ${nv.settings.email}`}
                    checked={channels[kind].email}
                    disabled={!prefs.emailAvailable}
                    onChange={(e) => set(kind, 'email', e.currentTarget.checked)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {message && <Alert kind={message.kind}>{message.text}</Alert>}
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {nv.settings.save}
        </button>
      </form>
    </Card>
  );
}

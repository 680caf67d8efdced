import { useState } from 'preact/hooks';
import { ApiFailure, type ApiClient } from '../api/client.js';
import { Alert } from '../components/ui.js';
import { errorMessage } from '../app/errors.js';
import { t } from '../i18n/vi.js';

export function LoginView({ api, onLoggedIn }: { api: ApiClient; onLoggedIn: (username: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!username.trim() || !password) return setError(t.login.missing);
    setBusy(true);
    setError(null);
    try {
      await api.login(username.trim(), password);
      onLoggedIn(username.trim());
    } catch (err) {
      setError(err instanceof ApiFailure && err.status === 401 ? t.login.wrong : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login-page">
      <form class="card login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title" noValidate>
        <div class="login-brand" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="44" height="44">
            <path fill="currentColor" d="M3 10v4h4l5 4V6L7 10H3zm13.5 2a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z" />
          </svg>
        </div>
        <h1 id="login-title">{t.appName}</h1>
        <p class="muted">{t.appTagline}</p>
        <h2 class="login-sub">{t.login.title}</h2>
        {error && <Alert>{error}</Alert>}
        <label class="field">
          <span>{t.login.username}</span>
          <input name="username" autocomplete="username" autocapitalize="none" spellcheck={false} value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </label>
        <label class="field">
          <span>{t.login.password}</span>
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? t.login.submitting : t.login.submit}
        </button>
      </form>
    </main>
  );
}

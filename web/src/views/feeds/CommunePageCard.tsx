/**
 * The commune's web page, as its users see it in the app (issue 22): the links to its player, podcast and
 * notices, the `<iframe>` snippet for the commune portal, and the recent bulletins with their "public" switch.
 * Shown on the dashboard of a commune only: it asks the server for the commune's player page first, which
 * exists for communes alone (404 for a province, a district or a village), and renders nothing otherwise.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Bulletin } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { Alert, Card, Loading } from '../../components/ui.js';
import { can } from '../../logic/roles.js';
import { fmtDateTime } from '../../logic/format.js';
import { s } from './strings.js';

/** The snippet a portal pastes: lazy, borderless, full width; the player tells its height by postMessage. */
export function iframeSnippet(origin: string, code: string, name: string): string {
  const title = s.frameTitle(name).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<iframe src="${origin}/xa/${encodeURIComponent(code)}/nhung" title="${title}" width="100%" height="480" style="border:0" loading="lazy"></iframe>`;
}

export default function CommunePageCard({ code, name }: { code: string; name: string }) {
  const { api, me } = useSession();
  const [isCommune, setIsCommune] = useState<boolean | null>(null);
  const [items, setItems] = useState<Bulletin[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const base = `${location.origin}/xa/${encodeURIComponent(code)}`;
  const writer = can(me.role, 'compose');

  useEffect(() => {
    setIsCommune(null);
    const ctl = new AbortController();
    fetch(`${base}/nhung`, { method: 'HEAD', signal: ctl.signal }).then(
      (r) => setIsCommune(r.ok),
      () => setIsCommune(false),
    );
    return () => ctl.abort();
  }, [code]);
  useEffect(() => {
    if (!isCommune) return;
    api.bulletins({ status: 'ready', source: 'text,recording', limit: 8 }).then(
      (p) => setItems(p.items),
      (err: unknown) => setError(errorMessage(err)),
    );
  }, [isCommune]);

  if (!isCommune) return null;
  const snippet = iframeSnippet(location.origin, code, name);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  const toggle = async (b: Bulletin, value: boolean) => {
    setError(null);
    try {
      await api.request<{ id: string; public: boolean }>('PATCH', `/api/v1/bulletins/${encodeURIComponent(b.id)}/public`, { public: value });
      setItems((list) => (list ?? []).map((x) => (x.id === b.id ? { ...x, public: value } : x)));
      setNotice(value ? s.madePublic(b.title) : s.madePrivate(b.title));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Card title={s.title} class="span-12" id="commune-page">
      <p class="muted small">{s.intro}</p>
      <p class="row wrap">
        <a href={`${base}/nhung`} target="_blank" rel="noopener">
          {s.player}
        </a>
        <a href={`${base}/podcast.xml`} target="_blank" rel="noopener">
          {s.podcast}
        </a>
        <a href={`${base}/thong-bao.xml`} target="_blank" rel="noopener">
          {s.notices}
        </a>
      </p>
      <label class="field" for="commune-embed">
        <span>{s.snippet}</span>
        <textarea id="commune-embed" readOnly rows={3} value={snippet} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div class="row wrap">
        <p class="small muted grow">{s.snippetHelp}</p>
        <button type="button" class="btn btn-small" onClick={() => void copy()}>
          {copied === 'yes' ? `✓ ${s.copied}` : s.copy}
        </button>
      </div>
      {copied === 'failed' && <p class="small">{s.copyFailed}</p>}
      <h3>{s.recent}</h3>
      {error && <Alert>{error}</Alert>}
      {notice && <Alert kind="success">{notice}</Alert>}
      {items === null && !error && <Loading />}
      {items && items.length === 0 && <p class="muted">{s.none}</p>}
      {items && items.length > 0 && (
        <ul class="checklist" aria-label={s.recent}>
          {items.map((b) => (
            <li key={b.id}>
              <label class="check">
                <input type="checkbox" checked={b.public === true} disabled={!writer} onChange={(e) => void toggle(b, e.currentTarget.checked)} />
                <span class="grow">
                  {b.title} <span class="muted small">· {fmtDateTime(b.createdAt)}</span>
                </span>
                <span class="small">{s.public}</span>
              </label>
              {b.public && (
                <a class="small" href={`${base}/ban-tin/${encodeURIComponent(b.id)}`} target="_blank" rel="noopener" title={s.shareHelp}>
                  {s.share}
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/**
 * "Kết nối": the peers of the national link — parents that send bulletins down to us and children that report
 * up — added with their NguonID, mapping, the user name they log in with, their areas and, for a child, where
 * and how we log in to send down. The password a new peer logs in with is shown once, with a copy button and a
 * warning; revoking stops its logins and keeps its history.
 */
import { useState } from 'preact/hooks';
import type { NationalPeer, NationalPeerCreateBody, NationalPeerCreated } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { AreaSelect } from '../../components/AreaSelect.js';
import { Alert, Badge, Card, Empty } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import type { FlatArea } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { nationalError, type PeerLookup } from './national-logic.js';

const s = t.national.peers;
const MAPPINGS = ['vi', 'en'];

export function PeersPanel({ lookup, flat, onChanged }: { lookup: PeerLookup; flat: readonly FlatArea[]; onChanged: () => void }) {
  const { api } = useSession();
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<NationalPeerCreated | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const peers = [...lookup.peers].sort((a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null));

  const revoke = async (p: NationalPeer) => {
    if (!window.confirm(s.confirmRevoke(p.name))) return;
    setNotice(null);
    try {
      await api.revokeNationalPeer(p.id);
      setNotice({ kind: 'success', text: s.revoked(p.name) });
      onChanged();
    } catch (err) {
      setNotice({ kind: 'error', text: nationalError(err) });
    }
  };

  return (
    <>
      {created && <PasswordOnce peer={created} onDone={() => setCreated(null)} />}
      {adding ? (
        <PeerForm
          flat={flat}
          onCancel={() => setAdding(false)}
          onCreated={(p) => {
            setAdding(false);
            setCreated(p);
            onChanged();
          }}
        />
      ) : (
        <div class="row wrap actions">
          <button type="button" class="btn btn-primary" onClick={() => (setAdding(true), setNotice(null))}>
            + {s.add}
          </button>
        </div>
      )}
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <Card title={s.title}>
        <p class="muted small">{s.intro}</p>
        {!peers.length ? (
          <Empty>{s.empty}</Empty>
        ) : (
          <ul class="item-list" data-testid="peers">
            {peers.map((p) => (
              <li key={p.id} class={`item column ${p.revokedAt ? 'nat-revoked' : ''}`} data-peer={p.username}>
                <div class="row wrap">
                  <strong class="grow">{p.name}</strong>
                  <Badge tone={p.role === 'parent' ? 'priority' : 'submitted'}>{s.roles[p.role]}</Badge>
                  {p.revokedAt && <Badge tone="cancelled">{s.revokedAt(fmtDateTime(p.revokedAt))}</Badge>}
                </div>
                <span class="small">
                  {s.sourceId}: {p.sourceId} · {s.mapping}: {t.national.up.mappings[p.mapping] ?? p.mapping} · {s.login(p.username)}
                </span>
                <span class="small muted">
                  {s.areas}: {p.areaCodes.map(lookup.areaName).join(', ')}
                </span>
                {p.baseUrl && (
                  <span class="small muted">
                    {s.sendsTo(p.baseUrl)} ({p.hasOutPassword ? s.hasPassword : s.noPassword})
                  </span>
                )}
                <div class="row wrap">
                  <span class="small muted grow">{s.createdAt(fmtDateTime(p.createdAt))}</span>
                  {!p.revokedAt && (
                    <button type="button" class="btn btn-small btn-ghost" onClick={() => void revoke(p)}>
                      ✕ {s.revoke}
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

/** The generated password, once: a copy button, and a warning that it will not be shown again. */
function PasswordOnce({ peer, onDone }: { peer: NationalPeerCreated; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(peer.password ?? '');
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <Card title={s.passwordTitle(peer.name)} class="nat-password" id="nat-password">
      <Alert kind="warning">{s.passwordOnce}</Alert>
      <div class="row wrap">
        <code class="nat-secret grow" data-testid="peer-password">
          {peer.password}
        </code>
        <button type="button" class="btn btn-small" onClick={() => void copy()}>
          {copied === 'yes' ? `✓ ${s.copied}` : s.copy}
        </button>
      </div>
      {copied === 'failed' && <p class="small">{s.copyFailed}</p>}
      <p class="small muted">{s.loginAs(peer.username, `${location.origin}/national`)}</p>
      <button type="button" class="btn btn-primary" onClick={onDone}>
        {s.done}
      </button>
    </Card>
  );
}

function PeerForm({ flat, onCancel, onCreated }: { flat: readonly FlatArea[]; onCancel: () => void; onCreated: (p: NationalPeerCreated) => void }) {
  const { api } = useSession();
  const [role, setRole] = useState<'parent' | 'child'>('child');
  const [name, setName] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [mapping, setMapping] = useState('vi');
  const [username, setUsername] = useState('');
  const [areas, setAreas] = useState<string[]>([]);
  const [pick, setPick] = useState<string | null>(flat[0]?.code ?? null);
  const [baseUrl, setBaseUrl] = useState('');
  const [outUsername, setOutUsername] = useState('');
  const [outPassword, setOutPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const areaName = (code: string) => flat.find((a) => a.code === code)?.name ?? code;

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    if (!areas.length) return setProblem(s.needArea);
    const body: NationalPeerCreateBody = { role, name: name.trim(), sourceId: sourceId.trim(), mapping, username: username.trim(), areaCodes: areas };
    if (role === 'child' && baseUrl.trim()) body.baseUrl = baseUrl.trim();
    if (role === 'child' && outUsername.trim()) body.outUsername = outUsername.trim();
    if (role === 'child' && outPassword) body.outPassword = outPassword;
    setBusy(true);
    try {
      onCreated(await api.createNationalPeer(body));
    } catch (err) {
      setProblem(nationalError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={s.add}>
      <form onSubmit={(e) => void submit(e)}>
        <fieldset class="segmented" aria-label={s.add}>
          {(['child', 'parent'] as const).map((r) => (
            <label key={r} class={role === r ? 'active' : ''}>
              <input type="radio" name="nat-role" value={r} checked={role === r} onChange={() => setRole(r)} />
              {s.roleHints[r]}
            </label>
          ))}
        </fieldset>
        <label class="field" for="nat-peer-name">
          <span>{s.name}</span>
          <input id="nat-peer-name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field" for="nat-peer-source">
          <span>{s.sourceId}</span>
          <input id="nat-peer-source" required maxLength={64} value={sourceId} onInput={(e) => setSourceId(e.currentTarget.value)} aria-describedby="nat-peer-source-hint" />
          <small id="nat-peer-source-hint" class="muted">
            {s.sourceIdHint}
          </small>
        </label>
        <label class="field" for="nat-peer-mapping">
          <span>{s.mapping}</span>
          <select id="nat-peer-mapping" value={mapping} onChange={(e) => setMapping(e.currentTarget.value)}>
            {MAPPINGS.map((m) => (
              <option key={m} value={m}>
                {t.national.up.mappings[m]}
              </option>
            ))}
          </select>
        </label>
        <label class="field" for="nat-peer-username">
          <span>{s.username}</span>
          <input id="nat-peer-username" required pattern="[A-Za-z0-9._@\-]{3,100}" autocomplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} aria-describedby="nat-peer-username-hint" />
          <small id="nat-peer-username-hint" class="muted">
            {s.usernameHint}
          </small>
        </label>
        <fieldset>
          <legend>{s.areas}</legend>
          <p class="muted small">{role === 'parent' ? s.areasHintParent : s.areasHintChild}</p>
          {areas.length > 0 && (
            <ul class="nat-chips" data-testid="peer-areas">
              {areas.map((a) => (
                <li key={a}>
                  {areaName(a)}{' '}
                  <button type="button" class="linklike" aria-label={t.national.send.removeArea(areaName(a))} onClick={() => setAreas(areas.filter((x) => x !== a))}>
                    ✕
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div class="row wrap">
            <div class="grow">
              <AreaSelect id="nat-peer-area" label={t.national.send.areasPick} value={pick} onChange={setPick} flat={flat} />
            </div>
            <button type="button" class="btn btn-small" disabled={!pick} onClick={() => pick && setAreas([...new Set([...areas, pick])])}>
              {t.national.send.add}
            </button>
          </div>
        </fieldset>
        {role === 'child' && (
          <fieldset>
            <legend>{s.baseUrl}</legend>
            <label class="field" for="nat-peer-url">
              <span class="sr-only">{s.baseUrl}</span>
              <input id="nat-peer-url" type="url" inputMode="url" placeholder="https://" value={baseUrl} onInput={(e) => setBaseUrl(e.currentTarget.value)} aria-describedby="nat-peer-url-hint" />
              <small id="nat-peer-url-hint" class="muted">
                {s.baseUrlHint}
              </small>
            </label>
            <label class="field" for="nat-peer-out-user">
              <span>{s.outUsername}</span>
              <input id="nat-peer-out-user" autocomplete="off" value={outUsername} onInput={(e) => setOutUsername(e.currentTarget.value)} />
            </label>
            <label class="field" for="nat-peer-out-pass">
              <span>{s.outPassword}</span>
              <input id="nat-peer-out-pass" type="password" autocomplete="new-password" value={outPassword} onInput={(e) => setOutPassword(e.currentTarget.value)} aria-describedby="nat-peer-out-hint" />
              <small id="nat-peer-out-hint" class="muted">
                {s.outHint}
              </small>
            </label>
          </fieldset>
        )}
        {problem && <Alert>{problem}</Alert>}
        <div class="row wrap">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? s.creating : s.create}
          </button>
          <button type="button" class="btn btn-ghost" onClick={onCancel}>
            {s.cancel}
          </button>
        </div>
      </form>
    </Card>
  );
}

/**
 * Users of the admin's area (`/api/v1/users`, province admins only; server/src/routes/users.ts): the list with
 * role, area and state in words (no ids), a new account for a role and an area, and each account's role,
 * area, lock and password changed in place. Changing any of these ends the person's sessions (the server).
 */
import { useEffect, useState } from 'preact/hooks';
import { ROLES, type Role } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { AreaSelect } from '../../components/AreaSelect.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { areaNames, type FlatArea } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { settingsApi, type User } from './settings-api.js';
import { ts } from './settings-vi.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const tu = ts.users;

/** A refusal of the users routes in the admin's words. */
function userError(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.status === 409) return /system actor/.test(err.message) ? tu.errors.system : tu.errors.exists;
    if (err.status === 403) return tu.errors.outside;
    if (err.status === 400) {
      if (/yourself/.test(err.message)) return tu.errors.self;
      if (err.fields.some((f) => f.path === 'username')) return tu.errors.username;
      if (err.fields.some((f) => f.path === 'password')) return tu.errors.password;
      if (err.fields.some((f) => f.path === 'areaCode')) return tu.errors.area;
    }
  }
  return errorMessage(err);
}

export function UsersPanel({ flat }: { flat: readonly FlatArea[] }) {
  const { api, me } = useSession();
  const sapi = settingsApi(api);
  const [users, setUsers] = useState<User[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const names = areaNames(flat);
  const areaName = (code: string | null) => (code === null ? tu.whole : (names.get(code)?.name ?? code));
  const load = () => sapi.users().then((p) => setUsers(p.items), (err: unknown) => setFailure(errorMessage(err)));
  useEffect(() => void load(), []);

  const saved = (u: User, message: string) => {
    setNotice(message);
    setEditing(null);
    setUsers((list) => (list?.some((x) => x.id === u.id) ? list.map((x) => (x.id === u.id ? u : x)) : [...(list ?? []), u]));
  };

  return (
    <>
      {notice && <Alert kind="success">{notice}</Alert>}
      <NewUser flat={flat} onCreated={(u) => saved(u, tu.created_(u.username))} />
      <Card title={tu.title}>
        {failure && <Alert>{failure}</Alert>}
        {!users ? (
          <Loading />
        ) : users.length === 0 ? (
          <Empty>{tu.empty}</Empty>
        ) : (
          <table class="stack" data-testid="users">
            <thead>
              <tr>
                <th>{tu.name}</th>
                <th>{tu.role}</th>
                <th>{tu.area}</th>
                <th>{tu.state}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {users.map((u) =>
                editing === u.id ? (
                  <tr key={u.id}>
                    <td colSpan={5}>
                      <EditUser user={u} flat={flat} self={u.id === me.id} onSaved={(x) => saved(x, tu.saved(x.username))} onCancel={() => setEditing(null)} />
                    </td>
                  </tr>
                ) : (
                  <tr key={u.id} data-username={u.username}>
                    <td data-label={tu.name}>
                      <strong>{u.username}</strong> {u.id === me.id && <span class="muted">{tu.you}</span>}
                      <div class="small muted">
                        {tu.created} {fmtDateTime(u.createdAt)}
                      </div>
                    </td>
                    <td data-label={tu.role}>{t.roles[u.role]}</td>
                    <td data-label={tu.area}>{areaName(u.areaCode)}</td>
                    <td data-label={tu.state}>
                      <Badge tone={u.disabled ? 'failed' : 'ok'}>{u.disabled ? tu.disabled : tu.active}</Badge>
                    </td>
                    <td>
                      <button type="button" class="btn btn-small" onClick={() => setEditing(u.id)} aria-label={`${tu.edit} ${u.username}`}>
                        {tu.edit}
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function RoleSelect({ id, value, onChange }: { id: string; value: Role; onChange: (r: Role) => void }) {
  return (
    <label class="field" for={id}>
      <span>{tu.role}</span>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as Role)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {t.roles[r]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The area of an account: one of the admin's tree, or (installation-wide admins only) the whole installation. */
function AreaChoice({ id, value, onChange, flat }: { id: string; value: string | null; onChange: (v: string | null) => void; flat: readonly FlatArea[] }) {
  const { me } = useSession();
  return (
    <>
      {me.areaCode === null && (
        <label class="check">
          <input type="checkbox" checked={value === null} onChange={(e) => onChange(e.currentTarget.checked ? null : (flat[0]?.code ?? null))} />
          {tu.wholeCheck}
        </label>
      )}
      {value !== null && <AreaSelect id={id} label={tu.area} value={value} onChange={onChange} flat={flat} maxDepth={2} />}
    </>
  );
}

function NewUser({ flat, onCreated }: { flat: readonly FlatArea[]; onCreated: (u: User) => void }) {
  const { api, me } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [areaCode, setAreaCode] = useState<string | null>(me.areaCode ?? flat[0]?.code ?? null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const name = username.trim();
    // Checked here with the server's own rules, so the admin reads why before anything is sent.
    if (!USERNAME.test(name)) return setProblem(tu.errors.username);
    if (password.length < 10) return setProblem(tu.errors.password);
    setBusy(true);
    setProblem(null);
    try {
      onCreated(await settingsApi(api).createUser({ username: name, password, role, areaCode }));
      setUsername('');
      setPassword('');
    } catch (err) {
      setProblem(userError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={tu.add}>
      <form onSubmit={(e) => void submit(e)} noValidate data-testid="new-user">
        <fieldset class="plain" disabled={busy}>
          <div class="row wrap">
            <label class="field">
              <span>{tu.name}</span>
              <input name="username" autoComplete="off" autoCapitalize="none" spellcheck={false} value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
            </label>
            <label class="field">
              <span>{tu.password}</span>
              <input name="new-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
            <RoleSelect id="new-user-role" value={role} onChange={setRole} />
          </div>
          <AreaChoice id="new-user-area" value={areaCode} onChange={setAreaCode} flat={flat} />
          {problem && <Alert>{problem}</Alert>}
          <button type="submit" class="btn btn-primary">
            {tu.create}
          </button>
        </fieldset>
      </form>
    </Card>
  );
}

function EditUser({ user, flat, self, onSaved, onCancel }: { user: User; flat: readonly FlatArea[]; self: boolean; onSaved: (u: User) => void; onCancel: () => void }) {
  const { api } = useSession();
  const [role, setRole] = useState<Role>(user.role);
  const [areaCode, setAreaCode] = useState<string | null>(user.areaCode);
  const [disabled, setDisabled] = useState(user.disabled);
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    if (password && password.length < 10) return setProblem(tu.errors.password);
    const patch = {
      ...(role !== user.role ? { role } : {}),
      ...(areaCode !== user.areaCode ? { areaCode } : {}),
      ...(disabled !== user.disabled ? { disabled } : {}),
      ...(password ? { password } : {}),
    };
    if (!Object.keys(patch).length) return onCancel();
    setBusy(true);
    setProblem(null);
    try {
      onSaved(await settingsApi(api).updateUser(user.id, patch));
    } catch (err) {
      setProblem(userError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void save(e)} noValidate data-testid="edit-user" aria-label={`${tu.edit} ${user.username}`}>
      <fieldset class="plain" disabled={busy}>
        <p>
          <strong>{user.username}</strong>
        </p>
        <div class="row wrap">
          <RoleSelect id={`role-${user.id}`} value={role} onChange={setRole} />
          <label class="field">
            <span>{tu.newPassword}</span>
            <input type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-label={tu.resetPassword} />
          </label>
        </div>
        <AreaChoice id={`area-${user.id}`} value={areaCode} onChange={setAreaCode} flat={flat} />
        {!self && (
          <label class="check">
            <input type="checkbox" checked={disabled} onChange={(e) => setDisabled(e.currentTarget.checked)} />
            {tu.disable}
          </label>
        )}
        {problem && <Alert>{problem}</Alert>}
        <div class="row-actions">
          <button type="submit" class="btn btn-primary">
            {tu.save}
          </button>
          <button type="button" class="btn btn-ghost" onClick={onCancel}>
            {tu.cancel}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

/**
 * The audit log for province admins: every write, newest first, with who made it, from where, what it did
 * to which object and how it ended (in words, no HTTP code); a row opens to the fields the request changed
 * (old → new), people by name, times in Vietnam's time; the server's bookkeeping (ids, `materialized_until`,
 * the raw request) under "Chi tiết kỹ thuật" (issue 20, broken 10). Pages of 50 follow `next`; the CSV export
 * is a plain link (the session cookie authorizes it). Filtered by who, action, object and days (issue 20),
 * kept in the address; the export follows the filters.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { auditCsvUrl, type AuditFilters } from '../../api/client.js';
import type { AuditEntry } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useDebounced } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { useQueryState } from '../../app/url-state.js';
import { DayRange, dayRangeQuery } from '../../components/DayRange.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { areaNames, flattenTree, type FlatArea } from '../../logic/area-tree.js';
import { describeAction, diffOf, fieldLabel, fmtAuditTime, fmtValue, isTechnicalField, objectLabel, outcome, type FieldChange, type UserName } from '../../logic/audit.js';

const PAGE = 50;
/** The actions a row can be filtered by: the routes the log has words for, in Vietnamese, A to Z. */
const ACTIONS = Object.entries(t.audit.actions)
  .filter(([key]) => /^(POST|PUT|PATCH|DELETE) \/api\//.test(key))
  .sort((a, b) => a[1].localeCompare(b[1], 'vi'));
/** The filter bar's words (issue 20), kept with the page. */
const af = {
  user: 'Người thực hiện',
  action: 'Hành động',
  object: 'Đối tượng',
  objectId: 'Mã đối tượng',
  any: 'Tất cả',
  from: 'Từ ngày',
  to: 'Đến ngày',
  noMatch: 'Không có dòng nhật ký nào khớp bộ lọc.',
};

/** Address keys of the filters (issue 20: a link reopens the same search). */
const KEYS = ['nguoi', 'hanh-dong', 'doi-tuong', 'ma', 'tu', 'den'] as const;

export default function AuditView() {
  const { api, areas } = useSession();
  const [f, setF] = useQueryState(KEYS);
  const [typedUser, setTypedUser] = useState(f.nguoi);
  const [typedId, setTypedId] = useState(f.ma);
  const user = useDebounced(typedUser.trim(), 400);
  const objectId = useDebounced(typedId.trim(), 400);
  useEffect(() => {
    if (user !== f.nguoi || objectId !== f.ma) setF({ nguoi: user, ma: objectId });
  }, [user, objectId]);
  const filters: AuditFilters = {
    ...(f.nguoi ? { user: f.nguoi } : {}),
    ...(f['hanh-dong'] ? { action: f['hanh-dong'] } : {}),
    ...(f['doi-tuong'] ? { objectType: f['doi-tuong'] as NonNullable<AuditFilters['objectType']> } : {}),
    ...(f.ma ? { objectId: f.ma } : {}),
    ...dayRangeQuery(f.tu, f.den),
  };
  const filterKey = JSON.stringify(filters);
  /** Which search the rows shown belong to: a page of an older search arriving late is dropped. */
  const current = useRef(filterKey);
  current.current = filterKey;
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const [names, setNames] = useState<Map<string, FlatArea>>(new Map());
  const [users, setUsers] = useState<ReadonlyMap<string, string>>(new Map());

  const load = async (before: number | null) => {
    const key = filterKey;
    setBusy(true);
    setError(null);
    try {
      const page = await api.audit({ ...filters, limit: PAGE, before });
      if (key !== current.current) return;
      setItems((list) => (before === null ? page.items : [...(list ?? []), ...page.items.filter((i) => !list?.some((o) => o.id === i.id))]));
      setNext(page.next);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setItems(null);
    void load(null);
  }, [filterKey]);
  useEffect(() => {
    areas().then((tree) => setNames(areaNames(flattenTree(tree))), () => undefined);
    // Who a user id is (created_by, decided_by, …): the province admin reading the log may list users.
    api.users().then((page) => setUsers(new Map(page.items.map((u) => [u.id, u.username]))), () => undefined);
  }, []);
  const areaName = (code: string) => names.get(code)?.name;
  // The log's own entries name their authors too: a user the list no longer has is still known by them.
  const userName: UserName = (id) => users.get(id) ?? items?.find((i) => i.userId === id && i.username)?.username ?? undefined;
  const toggle = (id: number) =>
    setOpen((s) => {
      const copy = new Set(s);
      if (!copy.delete(id)) copy.add(id);
      return copy;
    });

  return (
    <div class="audit">
      <div class="row wrap audit-head">
        <h1 class="grow">{t.audit.title}</h1>
        <a class="btn" href={auditCsvUrl(filters)} download="audit.csv" data-testid="audit-csv" title={t.audit.exportHint}>
          ⬇ {t.audit.export}
        </a>
      </div>
      <p class="muted small">
        {t.audit.intro} {t.audit.exportHint}
      </p>
      <Card>
        <div class="row wrap filters" role="search">
          <label class="field narrow" for="audit-user">
            <span>{af.user}</span>
            <input id="audit-user" type="search" list="audit-users" value={typedUser} maxLength={64} onInput={(e) => setTypedUser(e.currentTarget.value)} data-testid="audit-user" />
            <datalist id="audit-users">
              {[...users.values()].map((u) => (
                <option key={u} value={u} />
              ))}
            </datalist>
          </label>
          <label class="field grow" for="audit-action">
            <span>{af.action}</span>
            <select id="audit-action" value={f['hanh-dong']} onChange={(e) => setF({ 'hanh-dong': e.currentTarget.value })} data-testid="audit-action">
              <option value="">{af.any}</option>
              {ACTIONS.map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label class="field narrow" for="audit-object">
            <span>{af.object}</span>
            <select id="audit-object" value={f['doi-tuong']} onChange={(e) => setF({ 'doi-tuong': e.currentTarget.value })} data-testid="audit-object">
              <option value="">{af.any}</option>
              {Object.entries(t.audit.objects).map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label class="field narrow" for="audit-object-id">
            <span>{af.objectId}</span>
            <input id="audit-object-id" type="search" value={typedId} maxLength={200} onInput={(e) => setTypedId(e.currentTarget.value)} data-testid="audit-object-id" />
          </label>
          <DayRange idPrefix="audit" from={f.tu} to={f.den} onChange={(v) => setF({ ...(v.from !== undefined ? { tu: v.from } : {}), ...(v.to !== undefined ? { den: v.to } : {}) })} labels={af} />
        </div>
      </Card>
      {error && <Alert>{error}</Alert>}
      {!items && !error && <Loading />}
      {items && !items.length && <Empty>{filterKey === '{}' ? t.audit.empty : af.noMatch}</Empty>}
      {items && items.length > 0 && (
        <Card>
          <div class="table-wrap">
            <table class="table audit-table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">{t.audit.at}</th>
                  <th scope="col">{t.audit.user}</th>
                  <th scope="col">{t.audit.ip}</th>
                  <th scope="col">{t.audit.action}</th>
                  <th scope="col">{t.audit.object}</th>
                  <th scope="col">{t.audit.outcome}</th>
                  <th scope="col">
                    <span class="sr-only">{t.audit.details}</span>
                  </th>
                </tr>
              </thead>
              {items.map((e) => (
                <Entry key={e.id} entry={e} open={open.has(e.id)} onToggle={() => toggle(e.id)} areaName={areaName} userName={userName} />
              ))}
            </table>
          </div>
          <div class="pager">
            <span class="muted small" role="status">
              {next === null ? t.audit.all(items.length) : t.audit.shown(items.length)}
            </span>
            {next !== null && (
              <button type="button" class="btn" disabled={busy} onClick={() => void load(next)} data-testid="audit-more">
                {busy ? t.audit.loadingMore : t.audit.more}
              </button>
            )}
          </div>
        </Card>
      )}
    </div>
  );
}

interface Names {
  areaName: (code: string) => string | undefined;
  userName: UserName;
}

function Entry({ entry: e, open, onToggle, areaName, userName }: { entry: AuditEntry; open: boolean; onToggle: () => void } & Names) {
  const action = describeAction(e);
  const obj = objectLabel(e);
  const end = outcome(e.status);
  const at = fmtAuditTime(e.at);
  const detailId = `audit-detail-${e.id}`;
  return (
    <tbody class={`audit-entry ${open ? 'open' : ''}`} data-testid="audit-entry" data-audit-id={e.id}>
      <tr>
        <td data-label={t.audit.at} class="audit-at">
          <time dateTime={e.at}>{at}</time>
        </td>
        <td data-label={t.audit.user}>{e.username ?? <span class="muted">{t.audit.unknownUser}</span>}</td>
        <td data-label={t.audit.ip} class="audit-ip">
          {e.ip ?? '—'}
        </td>
        <th scope="row" data-label={t.audit.action} class="audit-action">
          {action}
        </th>
        <td data-label={t.audit.object}>
          {obj ? (
            <>
              {obj.kind}
              {obj.name && <> “{obj.name}”</>}
              <span class="audit-id muted small">{obj.id}</span>
            </>
          ) : (
            <span class="muted">—</span>
          )}
        </td>
        <td data-label={t.audit.outcome}>
          <span class={`badge audit-${end.tone}`}>{end.label}</span>
        </td>
        <td class="audit-toggle">
          <button type="button" class="btn btn-small btn-ghost" aria-expanded={open} aria-controls={detailId} aria-label={t.audit.detailsOf(action, at)} onClick={onToggle}>
            {open ? `▴ ${t.audit.hideDetails}` : `▾ ${t.audit.details}`}
          </button>
        </td>
      </tr>
      {open && (
        <tr class="audit-detail-row">
          <td colSpan={7} id={detailId} data-testid="audit-detail">
            <Detail entry={e} areaName={areaName} userName={userName} />
          </td>
        </tr>
      )}
    </tbody>
  );
}

function Detail({ entry: e, areaName, userName }: { entry: AuditEntry } & Names) {
  const diff = diffOf(e);
  const body = e.body && typeof e.body === 'object' && Object.keys(e.body).length ? JSON.stringify(e.body, null, 2) : null;
  const fields = 'fields' in diff ? diff.fields : [];
  const plain = fields.filter((f) => !isTechnicalField(f.field));
  const technical = fields.filter((f) => isTechnicalField(f.field));
  const mode = diff.kind === 'changed' || diff.kind === 'created' || diff.kind === 'removed' ? diff.kind : null;
  const names = { areaName, userName };
  return (
    <div class="audit-detail">
      {mode && <Changes title={{ changed: t.audit.changes, created: t.audit.created, removed: t.audit.removed }[mode]} fields={plain} mode={mode} {...names} />}
      {mode && !plain.length && <p class="muted">{t.audit.onlyTechnical}</p>}
      {diff.kind === 'unchanged' && <p class="muted">{t.audit.noChange}</p>}
      {diff.kind === 'none-applied' && <p class="muted">{t.audit.notApplied}</p>}
      {diff.kind === 'no-object' && <p class="muted">{t.audit.noObject}</p>}
      <details class="small audit-technical" data-testid="audit-technical">
        <summary>{t.audit.technical}</summary>
        {mode && technical.length > 0 && <Changes fields={technical} mode={mode} {...names} />}
        <p class="audit-url">
          <strong>{t.audit.url}:</strong> <code>{`${e.method} ${e.url}`}</code> · {t.audit.httpStatus}: {e.status}
        </p>
        {body && (
          <>
            <strong>{t.audit.request}:</strong>
            <pre class="audit-body">{body}</pre>
          </>
        )}
      </details>
    </div>
  );
}

function Changes({ title, fields, areaName, userName, mode }: { title?: string; fields: FieldChange[]; mode: 'changed' | 'created' | 'removed' } & Names) {
  if (!fields.length) return null;
  return (
    <>
      {title && <h3>{title}</h3>}
      <ul class="audit-diff" data-testid={title ? 'audit-diff' : 'audit-diff-technical'}>
        {fields.map((f) => (
          <li key={f.field}>
            <span class="diff-field">{fieldLabel(f.field)}</span>
            {mode !== 'created' && <del>{fmtValue(f.field, f.before, areaName, userName)}</del>}
            {mode === 'changed' && <span class="diff-arrow">{' → '}</span>}
            {mode !== 'removed' && <ins>{fmtValue(f.field, f.after, areaName, userName)}</ins>}
          </li>
        ))}
      </ul>
    </>
  );
}

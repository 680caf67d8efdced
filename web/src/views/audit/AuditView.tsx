/**
 * The audit log for province admins: every write, newest first, with who made it, from where, what it did
 * to which object and how it ended (in words, no HTTP code); a row opens to the fields the request changed
 * (old → new), people by name, times in Vietnam's time; the server's bookkeeping (ids, `materialized_until`,
 * the raw request) under "Chi tiết kỹ thuật" (issue 20, broken 10). Pages of 50 follow `next`; the CSV export
 * is a plain link (the session cookie authorizes it).
 */
import { useEffect, useState } from 'preact/hooks';
import { auditCsvUrl } from '../../api/client.js';
import type { AuditEntry } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { areaNames, flattenTree, type FlatArea } from '../../logic/area-tree.js';
import { describeAction, diffOf, fieldLabel, fmtAuditTime, fmtValue, isTechnicalField, objectLabel, outcome, type FieldChange, type UserName } from '../../logic/audit.js';

const PAGE = 50;

export default function AuditView() {
  const { api, areas } = useSession();
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const [names, setNames] = useState<Map<string, FlatArea>>(new Map());
  const [users, setUsers] = useState<ReadonlyMap<string, string>>(new Map());

  const load = async (before: number | null) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api.audit({ limit: PAGE, before });
      setItems((list) => (before === null ? page.items : [...(list ?? []), ...page.items.filter((i) => !list?.some((o) => o.id === i.id))]));
      setNext(page.next);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load(null);
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
        <a class="btn" href={auditCsvUrl()} download="audit.csv" data-testid="audit-csv" title={t.audit.exportHint}>
          ⬇ {t.audit.export}
        </a>
      </div>
      <p class="muted small">
        {t.audit.intro} {t.audit.exportHint}
      </p>
      {error && <Alert>{error}</Alert>}
      {!items && !error && <Loading />}
      {items && !items.length && <Empty>{t.audit.empty}</Empty>}
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

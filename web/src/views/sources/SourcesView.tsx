/**
 * "Nguồn tiếp sóng" (issue 15 § Relays): the live sources usable in the user's area and whether each is up,
 * silent or down (with why and when the server last checked), a check on demand; province admins add,
 * change and delete them. A source a broadcast still relays cannot be deleted: the 409 is explained.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, readAll } from '../../api/client.js';
import type { Source } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { can } from '../../logic/roles.js';
import { relayComposePath } from '../../logic/routes.js';
import { SourceForm } from './SourceForm.js';
import { SourceChecks, SourceSummary } from './SourceStatus.js';

type Editing = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; source: Source };

export default function SourcesView() {
  const { api, me } = useSession();
  const flat = useFlatAreas();
  const [state, reload] = useAsync<Source[]>(() => readAll((cursor) => api.sources({ limit: 200, cursor }), 2000), []);
  const [overrides, setOverrides] = useState<Map<string, Source | null>>(new Map());
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [checking, setChecking] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const manages = can(me.role, 'manage-sources');
  const checks = can(me.role, 'check-source');
  const relays = can(me.role, 'compose');
  const list = state.status === 'ok' ? merge(state.value, overrides) : [];
  const unchecked = list.filter((s) => s.status === 'unchecked' && !checking.has(s.id)).map((s) => s.id).join(',');

  // A new or re-addressed source is checked by the server in the background: follow it for a while.
  useEffect(() => {
    if (!unchecked) return;
    let tries = 0;
    const timer = setInterval(() => {
      if (++tries > 20) return clearInterval(timer);
      for (const id of unchecked.split(',')) api.source(id).then((s) => s.status !== 'unchecked' && setOverrides((m) => new Map(m).set(id, s)), () => undefined);
    }, 3000);
    return () => clearInterval(timer);
  }, [unchecked]);

  if (state.status === 'loading' || !flat) return <Loading />;
  if (state.status === 'error') return <Alert>{errorMessage(state.error)}</Alert>;
  const sources = list;
  const areaName = (code: string | null) => (code === null ? t.sources.wholeInstallation : (flat.find((a) => a.code === code)?.name ?? code));
  const put = (s: Source | null, id: string) => setOverrides((m) => new Map(m).set(id, s));
  // Only installation-wide admins change installation-wide sources (server/src/routes/sources.ts).
  const mayChange = (s: Source) => manages && (s.areaCode !== null || me.areaCode === null);

  const check = async (s: Source) => {
    setChecking((c) => new Set(c).add(s.id));
    setNotice(null);
    try {
      put(await api.checkSource(s.id), s.id);
    } catch (err) {
      setNotice({ kind: 'error', text: errorMessage(err) });
    } finally {
      setChecking((c) => {
        const n = new Set(c);
        n.delete(s.id);
        return n;
      });
    }
  };

  const remove = async (s: Source) => {
    if (!window.confirm(t.sources.confirmDelete(s.name))) return;
    setNotice(null);
    try {
      await api.deleteSource(s.id);
      put(null, s.id);
      setNotice({ kind: 'success', text: t.sources.deleted(s.name) });
    } catch (err) {
      setNotice({ kind: 'error', text: err instanceof ApiFailure && err.status === 409 ? t.sources.inUse(s.name) : errorMessage(err) });
    }
  };

  return (
    <div class="sources">
      <h1>{t.sources.title}</h1>
      <p class="muted">{t.sources.intro}</p>
      {manages && editing.kind === 'none' && (
        <div class="row wrap actions">
          <button type="button" class="btn btn-primary" onClick={() => setEditing({ kind: 'new' })}>
            + {t.sources.add}
          </button>
        </div>
      )}
      {editing.kind !== 'none' && (
        <SourceForm
          key={editing.kind === 'edit' ? editing.source.id : 'new'}
          editing={editing.kind === 'edit' ? editing.source : null}
          flat={flat}
          onCancel={() => setEditing({ kind: 'none' })}
          onSaved={(s, created) => {
            put(s, s.id);
            setEditing({ kind: 'none' });
            setNotice({ kind: 'success', text: created ? t.sources.created(s.name) : t.sources.saved(s.name) });
          }}
        />
      )}
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <Card>
        {!sources.length ? (
          <Empty>{t.sources.empty}</Empty>
        ) : (
          <ul class="item-list" data-testid="sources">
            {sources.map((s) => (
              <li key={s.id} class="item column" data-source={s.id}>
                <div class="row wrap source-head">
                  <strong class="grow">{s.name}</strong>
                  <SourceSummary source={s} />
                </div>
                <div class="row wrap small muted">
                  <span>
                    {t.sources.area}: {areaName(s.areaCode)}
                  </span>
                  {s.restream && <span>{t.sources.restreamOn}</span>}
                  {!s.fallbackBulletinId && <span>{t.sources.noFallback}</span>}
                </div>
                <SourceChecks source={s} />
                <div class="row wrap">
                  {checks && (
                    <button type="button" class="btn btn-small" onClick={() => void check(s)} disabled={checking.has(s.id)} aria-describedby={checking.has(s.id) ? `checking-${s.id}` : undefined}>
                      {checking.has(s.id) ? t.sources.checking : t.sources.checkNow}
                    </button>
                  )}
                  {checking.has(s.id) && (
                    <span id={`checking-${s.id}`} class="muted small" role="status">
                      <span class="spinner" aria-hidden="true" /> {t.sources.checkingHint}
                    </span>
                  )}
                  {relays && (
                    <Link class="btn btn-small" href={relayComposePath(s.id)}>
                      {t.sources.relayThis}
                    </Link>
                  )}
                  {mayChange(s) && (
                    <>
                      <button type="button" class="btn btn-small btn-ghost" onClick={() => setEditing({ kind: 'edit', source: s })}>
                        ✎ {t.sources.edit}
                      </button>
                      <button type="button" class="btn btn-small btn-ghost" onClick={() => void remove(s)}>
                        ✕ {t.sources.delete}
                      </button>
                    </>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <button
        type="button"
        class="linklike small"
        onClick={() => {
          setOverrides(new Map());
          reload();
        }}
      >
        ↻ {t.sources.reload}
      </button>
    </div>
  );
}

/** The list as loaded, with the answers of checks and edits since folded in (null: deleted), new ones first. */
function merge(loaded: readonly Source[], overrides: ReadonlyMap<string, Source | null>): Source[] {
  const out = loaded.map((s) => (overrides.has(s.id) ? overrides.get(s.id) : s)).filter((s): s is Source => !!s);
  for (const [id, s] of overrides) if (s && !loaded.some((x) => x.id === id)) out.unshift(s);
  return out;
}

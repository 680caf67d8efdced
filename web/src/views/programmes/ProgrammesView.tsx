/**
 * "Chương trình" (issue 15 § Programmes): the programmes of the user's area — title, number of items, total
 * length, current version — and "Tạo chương trình"; `?ma=<id>` opens one in the builder, `?ma=moi` a new one.
 */
import { readAll } from '../../api/client.js';
import type { ProgrammeSummary } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useAsync } from '../../app/hooks.js';
import { useLocation } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { fmtLength } from '../../logic/relays.js';
import { NEW_PROGRAMME, PROGRAMME_PARAM, programmePath } from '../../logic/routes.js';
import { ProgrammeBuilder } from './ProgrammeBuilder.js';
import { useUserNames } from './useUserNames.js';

export default function ProgrammesView() {
  const loc = useLocation();
  const which = loc.search.get(PROGRAMME_PARAM);
  if (which) return <ProgrammeBuilder id={which === NEW_PROGRAMME ? null : which} />;
  return <ProgrammeList />;
}

function ProgrammeList() {
  const { api } = useSession();
  const [state] = useAsync<ProgrammeSummary[]>(() => readAll((cursor) => api.programmes({ limit: 200, cursor }), 2000), []);
  const who = useUserNames(state.status === 'ok' ? state.value.map((g) => g.updatedBy) : []);
  const p = t.programmes;
  return (
    <div class="programmes">
      <h1>{p.title}</h1>
      <p class="muted">{p.intro}</p>
      <div class="row wrap actions">
        <Link class="btn btn-primary" href={programmePath()}>
          + {p.create}
        </Link>
      </div>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <Alert>{errorMessage(state.error)}</Alert>}
      {state.status === 'ok' && (
        <Card>
          {!state.value.length ? (
            <Empty>{p.empty}</Empty>
          ) : (
            <ul class="item-list" data-testid="programmes">
              {state.value.map((g) => (
                <li key={g.id} class="item" data-programme={g.id}>
                  <div class="item-main">
                    <Link href={programmePath(g.id)}>
                      <strong>{g.title}</strong>
                    </Link>
                    <div class="row wrap small muted">
                      <span>{p.items(g.itemCount)}</span>
                      <span>{g.openEnded ? p.openEnded(fmtLength(g.durationMs)) : fmtLength(g.durationMs)}</span>
                      <span>{p.updated(fmtDateTime(g.updatedAt), who(g.updatedBy))}</span>
                    </div>
                  </div>
                  <Badge tone="approved">{p.version(g.version)}</Badge>
                </li>
              ))}
            </ul>
          )}
        </Card>
      )}
    </div>
  );
}

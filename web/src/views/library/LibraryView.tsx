/**
 * The bulletin library (issue 20, "find, reuse, copy and edit bulletins and recordings"): the bulletins of the
 * user's area and their own, found by words of the title or the text, kind, status, category, author and
 * days, newest first, a server page at a time; each with its text, its player and its airings so far.
 * "Phát lại" opens the same schedule form compose uses (SchedulePanel) on this bulletin; "Chép và sửa" opens
 * compose on a copy of a text bulletin (saved as a new one). The filters live in the address, so a link
 * reopens the same search.
 */
import { useEffect, useState } from 'preact/hooks';
import { BULLETIN_CATEGORIES, type Bulletin, type BulletinCategory, type Page } from '../../api/types.js';
import { useAsync, useDebounced } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { errorMessage } from '../../app/errors.js';
import { useQueryState } from '../../app/url-state.js';
import { DayRange, dayRangeQuery } from '../../components/DayRange.js';
import { Alert, Card, Empty, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { can } from '../../logic/roles.js';
import { copyComposePath } from '../../logic/routes.js';
import { BulletinCard } from './BulletinCard.js';
import { lib } from './strings.js';

const PAGE = 20;
const KINDS = ['text', 'recording', 'programme', 'live', 'relay'] as const;
const STATUSES = ['ready', 'synthesizing', 'failed'] as const;
/** Address keys (Vietnamese without diacritics, like the paths) → the API's filters. */
const KEYS = ['q', 'loai', 'trang-thai', 'chuyen-muc', 'nguoi-soan', 'tu', 'den'] as const;

export default function LibraryView() {
  const { api, me } = useSession();
  const [f, setF] = useQueryState(KEYS);
  const [typed, setTyped] = useState(f.q);
  const q = useDebounced(typed.trim(), 300);
  useEffect(() => {
    if (q !== f.q) setF({ q });
  }, [q]);
  const filterKey = JSON.stringify(f);
  // The pages walked so far belong to one search: a new search starts at its first page.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({ key: filterKey, cursors: [null] });
  const cursors = paging.key === filterKey ? paging.cursors : [null];
  const setCursors = (c: (string | null)[]) => setPaging({ key: filterKey, cursors: c });
  const cursor = cursors[cursors.length - 1] ?? null;
  const query = {
    ...(f.q ? { q: f.q } : {}),
    ...(f.loai ? { source: f.loai } : {}),
    ...(f['trang-thai'] ? { status: f['trang-thai'] as (typeof STATUSES)[number] } : {}),
    ...(f['chuyen-muc'] ? { category: f['chuyen-muc'] as BulletinCategory } : {}),
    ...(f['nguoi-soan'] ? { author: f['nguoi-soan'] } : {}),
    ...dayRangeQuery(f.tu, f.den),
  };
  const [page, reload] = useAsync<Page<Bulletin>>((signal) => api.bulletins({ ...query, airings: 'true', limit: PAGE, cursor }, signal), [filterKey, cursor]);
  const [open, setOpen] = useState<string | null>(null);
  const writer = { schedule: can(me.role, 'schedule'), compose: can(me.role, 'compose') };

  const select = (key: (typeof KEYS)[number], label: string, options: readonly string[], names: Record<string, string>, anyLabel = lib.any) => (
    <label class="field narrow" for={`library-${key}`}>
      <span>{label}</span>
      <select id={`library-${key}`} value={f[key]} onChange={(e) => setF({ [key]: e.currentTarget.value })} data-testid={`library-${key}`}>
        <option value="">{anyLabel}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {names[o] ?? o}
          </option>
        ))}
      </select>
    </label>
  );
  const filtered = KEYS.some((k) => f[k]);
  const [moreOpen] = useState(() => !!(f['trang-thai'] || f['chuyen-muc'] || f['nguoi-soan'] || f.tu || f.den) || matchMedia('(min-width: 48rem)').matches);

  return (
    <div class="library">
      <h1>{lib.title}</h1>
      <p class="muted small">{lib.intro}</p>
      <Card>
        <div class="row wrap filters" role="search">
          <label class="field grow" for="library-q">
            <span>{lib.search}</span>
            <input id="library-q" type="search" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder={lib.searchHint} maxLength={100} data-testid="library-q" />
          </label>
          {select('loai', lib.kind, KINDS, lib.kinds)}
        </div>
        {/* The other filters fold away on a phone's screen; a link that sets one opens them. */}
        <details class="library-more" open={moreOpen}>
          <summary>{lib.more}</summary>
          <div class="row wrap filters">
            {select('trang-thai', lib.status, STATUSES, lib.statuses)}
            {select('chuyen-muc', lib.category, BULLETIN_CATEGORIES, t.categories)}
            {select('nguoi-soan', lib.author, ['me'], { me: lib.mine }, lib.anyone)}
            <DayRange idPrefix="library" from={f.tu} to={f.den} onChange={(v) => setF({ ...(v.from !== undefined ? { tu: v.from } : {}), ...(v.to !== undefined ? { den: v.to } : {}) })} labels={lib} />
          </div>
        </details>
        <div class="row wrap">
          {filtered && (
            <button
              type="button"
              class="btn btn-small btn-ghost"
              onClick={() => {
                setTyped('');
                setF({ q: '', loai: '', 'trang-thai': '', 'chuyen-muc': '', 'nguoi-soan': '', tu: '', den: '' });
              }}
            >
              {lib.clear}
            </button>
          )}
        </div>
      </Card>
      {page.status === 'loading' && <Loading />}
      {page.status === 'error' && <Alert>{errorMessage(page.error)}</Alert>}
      {page.status === 'ok' && (
        <Card>
          <p class="muted" role="status" data-testid="library-total">
            {lib.found(page.value.total)}
          </p>
          {!page.value.items.length ? (
            <Empty>{lib.empty}</Empty>
          ) : (
            <ul class="item-list" data-testid="library-list">
              {page.value.items.map((b) => (
                <BulletinCard
                  key={b.id}
                  b={b}
                  reusing={open === b.id}
                  onReuse={writer.schedule && b.status === 'ready' ? () => setOpen(open === b.id ? null : b.id) : null}
                  copy={writer.compose && b.source === 'text' ? (
                    <Link href={copyComposePath(b.id)} class="btn btn-small" title={lib.copyHint} data-testid="library-copy">
                      ✎ {lib.copy}
                    </Link>
                  ) : null}
                  onExpired={reload}
                />
              ))}
            </ul>
          )}
          <nav class="pager" aria-label={lib.title}>
            <button type="button" class="btn btn-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              ‹ {t.prev}
            </button>
            <span>{t.page(cursors.length, Math.ceil(page.value.total / PAGE))}</span>
            <button type="button" class="btn btn-small" disabled={!page.value.next} onClick={() => setCursors([...cursors, page.value.next])} data-testid="library-next">
              {t.next} ›
            </button>
          </nav>
        </Card>
      )}
    </div>
  );
}

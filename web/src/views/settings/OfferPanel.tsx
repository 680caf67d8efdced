/**
 * "Gửi xuống xã" (issue 20, "offer bulletins to communes"): the province puts a ready bulletin in communes'
 * inboxes (`POST /api/v1/bulletins/:id/offers`, server/src/routes/offers.ts) and then sees each commune's
 * answer (waiting, accepted and scheduled, declined with its reason) as the communes act in their inbox.
 * `OfferPanel` is the action on one bulletin (the broadcast page shows it too); `OfferTab` picks the bulletin.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Priority } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import type { Bulletin } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { AreaSelect, useFlatAreas } from '../../components/AreaSelect.js';
import { DateField, TimeField } from '../../components/DateTimeField.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import type { FlatArea } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { settingsApi, type Offer } from './settings-api.js';
import { ts } from './settings-vi.js';

const to = ts.offers;
/** How often the answers are read again while the panel is open: communes answer within minutes. */
const REFRESH_MS = 10_000;

/** `yyyy-mm-dd` + `HH:MM` in Vietnam time (UTC+7, no daylight saving) → ISO instant. */
function vnInstant(date: string, time: string): string | null {
  if (!date || !time) return null;
  const ms = Date.parse(`${date}T${time}:00+07:00`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * The communes under the caller's area: offers go to communes' inboxes (a village has none). Commune codes are
 * the statistics office's five digits (provinces two, districts three, villages seven; server/data/sample-areas).
 */
export function communesOf(flat: readonly FlatArea[]): FlatArea[] {
  return flat.filter((a) => /^\d{5}$/.test(a.code) && a.depth > 0);
}

export function OfferPanel({ bulletinId, flat }: { bulletinId: string; flat: readonly FlatArea[] }) {
  const { api } = useSession();
  const sapi = settingsApi(api);
  const communes = communesOf(flat);
  const [pick, setPick] = useState<string | null>(communes[0]?.code ?? null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [priority, setPriority] = useState<Extract<Priority, 'normal' | 'priority'>>('normal');
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [checked, setChecked] = useState(false);
  const [needCheck, setNeedCheck] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [answers, setAnswers] = useState<Offer[] | null>(null);
  const nameOf = (code: string) => flat.find((a) => a.code === code)?.name ?? code;

  const loadAnswers = () =>
    sapi.offers(1000).then(
      (p) => setAnswers(p.items.filter((o) => o.bulletinId === bulletinId)),
      () => undefined,
    );
  useEffect(() => {
    void loadAnswers();
    const id = setInterval(() => void loadAnswers(), REFRESH_MS);
    return () => clearInterval(id);
  }, [bulletinId]);

  const send = async (e: Event) => {
    e.preventDefault();
    if (!chosen.length) return setProblem(to.noCommunes);
    const startAt = vnInstant(date, time);
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      const res = await sapi.offer(bulletinId, { areaCodes: chosen, priority, checked, ...(startAt ? { startAt } : {}) });
      setNotice(to.sent(res.items.length));
      setChosen([]);
      void loadAnswers();
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 409 && err.fields.some((f) => f.path === 'checked')) {
        setNeedCheck(true);
        setProblem(to.needCheck);
      } else if (err instanceof ApiFailure && err.status === 409) setProblem(to.notReady);
      else setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Card title={to.title}>
        <p class="muted small">{to.hint}</p>
        <form onSubmit={(e) => void send(e)} noValidate data-testid="offer-form">
          <fieldset class="plain" disabled={busy}>
            <div class="row wrap">
              <AreaSelect id="offer-commune" label={to.communes} value={pick} onChange={setPick} flat={communes} maxDepth={3} />
              <button type="button" class="btn" disabled={!pick || chosen.includes(pick)} onClick={() => pick && setChosen([...chosen, pick])}>
                + {to.addCommune}
              </button>
            </div>
            <ul class="chips" aria-label={to.communes} data-testid="offer-chosen">
              {chosen.map((c) => (
                <li key={c}>
                  {nameOf(c)}
                  <button type="button" class="btn btn-small btn-ghost" aria-label={to.removeCommune(nameOf(c))} onClick={() => setChosen(chosen.filter((x) => x !== c))}>
                    ✕
                  </button>
                </li>
              ))}
            </ul>
            <fieldset class="segmented" aria-label={to.priority}>
              {(['normal', 'priority'] as const).map((p) => (
                <label key={p} class={priority === p ? 'active' : ''}>
                  <input type="radio" name="offer-priority" value={p} checked={priority === p} onChange={() => setPriority(p)} />
                  {t.priorities[p]}
                </label>
              ))}
            </fieldset>
            <p class="small muted">{to.priorityHint}</p>
            <fieldset class="plain">
              <legend class="small">{to.startAt}</legend>
              <div class="row wrap">
                <label class="field">
                  <span>{to.date}</span>
                  <DateField value={date} onChange={setDate} />
                </label>
                <label class="field">
                  <span>{to.time}</span>
                  <TimeField value={time} onChange={setTime} />
                </label>
              </div>
            </fieldset>
            {needCheck && (
              <label class="check">
                <input type="checkbox" checked={checked} onChange={(e) => setChecked(e.currentTarget.checked)} />
                {t.reading.checked}
              </label>
            )}
            {problem && <Alert>{problem}</Alert>}
            {notice && <Alert kind="success">{notice}</Alert>}
            <button type="submit" class="btn btn-primary">
              {to.send}
            </button>
          </fieldset>
        </form>
      </Card>
      <Card
        title={to.answers}
        actions={
          <button type="button" class="btn btn-small" onClick={() => void loadAnswers()}>
            {to.refresh}
          </button>
        }
      >
        {!answers ? (
          <Loading />
        ) : answers.length === 0 ? (
          <Empty>{to.noAnswers}</Empty>
        ) : (
          <table class="stack" data-testid="offer-answers">
            <thead>
              <tr>
                <th>{to.commune}</th>
                <th>{to.status}</th>
                <th>{to.at}</th>
              </tr>
            </thead>
            <tbody>
              {answers.map((o) => (
                <tr key={o.id} data-area={o.areaCode}>
                  <td data-label={to.commune}>{nameOf(o.areaCode)}</td>
                  <td data-label={to.status}>
                    <Badge tone={o.status}>{t.offerStatus[o.status]}</Badge> {t.priorities[o.priority]}
                    {o.status === 'declined' && o.reason && (
                      <div class="small">
                        {to.reason}: {o.reason}
                      </div>
                    )}
                  </td>
                  <td data-label={to.at}>{fmtDateTime(o.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

/** The tab: a ready bulletin of the province chosen from the list, then the offer action on it. */
export function OfferTab({ flat }: { flat: readonly FlatArea[] }) {
  const { api } = useSession();
  const [bulletins, setBulletins] = useState<Bulletin[] | null>(null);
  const [chosen, setChosen] = useState<string>('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api.bulletins({ status: 'ready', limit: 100 }).then(
      (p) => {
        setBulletins(p.items);
        setChosen((c) => c || p.items[0]?.id || '');
      },
      (err: unknown) => setProblem(errorMessage(err)),
    );
  }, []);
  if (problem) return <Alert>{problem}</Alert>;
  if (!bulletins) return <Loading />;
  if (!bulletins.length) return <Empty>{to.noBulletins}</Empty>;
  if (!communesOf(flat).length) return <Empty>{to.noCommunesBelow}</Empty>;
  return (
    <>
      <label class="field">
        <span>{to.chooseBulletin}</span>
        <select name="bulletin" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
          {bulletins.map((b) => (
            <option key={b.id} value={b.id}>
              {b.title} · {fmtDateTime(b.createdAt)}
            </option>
          ))}
        </select>
      </label>
      {chosen && <OfferPanel key={chosen} bulletinId={chosen} flat={flat} />}
    </>
  );
}

/** "Gửi xuống xã" where a bulletin is shown (the broadcast page): opens the offer action on that bulletin. */
export function OfferAction({ bulletinId }: { bulletinId: string }) {
  const [open, setOpen] = useState(false);
  const flat = useFlatAreas();
  return (
    <div class="offer-action">
      <button type="button" class="btn btn-small" aria-expanded={open} onClick={() => setOpen(!open)}>
        ⇣ {to.action}
      </button>
      {open && (flat ? <OfferPanel bulletinId={bulletinId} flat={flat} /> : <Loading />)}
    </div>
  );
}

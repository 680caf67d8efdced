/**
 * "Gửi xuống": a ready bulletin of ours sent down to chosen children with a priority and how it plays, to their
 * areas (all of each one's own unless narrowed: each child then gets the chosen areas inside its own); each child's answer (MoTa) at once, and the list of what was sent with
 * the answers and what each child later said it did.
 */
import { useState } from 'preact/hooks';
import type { NationalSent, Priority } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtDuration } from '../../logic/format.js';
import { useReadyBulletins } from '../sources/useReadyBulletins.js';
import { nationalError, type PeerLookup } from './national-logic.js';

const s = t.national.send;
const PRIORITIES: Priority[] = ['normal', 'priority', 'emergency'];
const PLAY_MODES = ['now', 'commune-decides'] as const;

export function SendPanel({ lookup }: { lookup: PeerLookup }) {
  const { api } = useSession();
  const bulletins = useReadyBulletins(api, null);
  const children = lookup.peers.filter((p) => p.role === 'child' && p.revokedAt === null);
  const [bulletinId, setBulletinId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [priority, setPriority] = useState<Priority>('normal');
  const [playMode, setPlayMode] = useState<(typeof PLAY_MODES)[number]>('now');
  const [areas, setAreas] = useState<string[]>([]);
  const [pick, setPick] = useState('');
  const [summary, setSummary] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [answers, setAnswers] = useState<NationalSent[] | null>(null);
  const [sent, reloadSent] = useAsync((signal) => api.nationalSent(100, signal).then((r) => r.items), []);

  const chosenPeers = children.filter((c) => chosen.includes(c.id));
  const defaultAreas = [...new Set(chosenPeers.flatMap((c) => c.areaCodes))];
  const pickable = [...new Set(children.flatMap((c) => c.areaCodes))];

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    if (!bulletinId) return setProblem(s.needBulletin);
    if (!chosen.length) return setProblem(s.needChild);
    if (priority === 'emergency' && !window.confirm(s.confirmEmergency(chosen.length))) return;
    setBusy(true);
    setAnswers(null);
    try {
      const r = await api.nationalSend({ bulletinId, peerIds: chosen, priority, playMode: priority === 'emergency' ? 'now' : playMode, summary: summary.trim(), ...(areas.length ? { areaCodes: areas } : {}) });
      setAnswers(r.items);
      reloadSent();
    } catch (err) {
      setProblem(nationalError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Card title={s.title}>
        <p class="muted small">{s.intro}</p>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label class="field" for="nat-bulletin">
            <span>{s.bulletin}</span>
            {bulletins === null ? (
              <span class="muted">{s.loadingBulletins}</span>
            ) : !bulletins.length ? (
              <span class="muted">{s.noBulletins}</span>
            ) : (
              <select id="nat-bulletin" value={bulletinId} onChange={(e) => setBulletinId(e.currentTarget.value)}>
                <option value="">{s.chooseBulletin}</option>
                {bulletins.map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.title} ({fmtDuration(b.durationMs)})
                  </option>
                ))}
              </select>
            )}
          </label>
          <fieldset>
            <legend>{s.children}</legend>
            {!children.length ? (
              <Empty>{s.noChildren}</Empty>
            ) : (
              <ul class="checklist" data-testid="send-children">
                {children.map((c) => (
                  <li key={c.id}>
                    <label class="check">
                      <input type="checkbox" checked={chosen.includes(c.id)} disabled={!c.baseUrl} onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, c.id] : chosen.filter((x) => x !== c.id))} />
                      <span>
                        {c.name}
                        {!c.baseUrl && <small class="muted"> — {s.noAddress}</small>}
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            )}
          </fieldset>
          <div class="field">
            <span id="nat-priority-label">{s.priority}</span>
            <fieldset class="segmented" aria-labelledby="nat-priority-label">
              {PRIORITIES.map((p) => (
                <label key={p} class={`${priority === p ? 'active' : ''} ${p === 'emergency' ? 'seg-emergency' : ''}`}>
                  <input type="radio" name="nat-priority" value={p} checked={priority === p} onChange={() => setPriority(p)} />
                  {t.priorities[p]}
                </label>
              ))}
            </fieldset>
          </div>
          <label class="field" for="nat-playmode">
            <span>{s.playMode}</span>
            {priority === 'emergency' ? (
              <span class="muted">{s.emergencyNow}</span>
            ) : (
              <select id="nat-playmode" value={playMode} onChange={(e) => setPlayMode(e.currentTarget.value as (typeof PLAY_MODES)[number])}>
                {PLAY_MODES.map((m) => (
                  <option key={m} value={m}>
                    {s.playModes[m]}
                  </option>
                ))}
              </select>
            )}
          </label>
          <fieldset>
            <legend>{s.areas}</legend>
            {areas.length ? (
              <ul class="nat-chips">
                {areas.map((a) => (
                  <li key={a}>
                    {lookup.areaName(a)}{' '}
                    <button type="button" class="linklike" aria-label={s.removeArea(lookup.areaName(a))} onClick={() => setAreas(areas.filter((x) => x !== a))}>
                      ✕
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted small">{s.areasHint(defaultAreas.map(lookup.areaName).join(', ') || '—')}</p>
            )}
            <div class="row wrap">
              <label class="field grow" for="nat-area-pick">
                <span>{s.areasPick}</span>
                <select id="nat-area-pick" value={pick} onChange={(e) => setPick(e.currentTarget.value)}>
                  <option value="" />
                  {pickable.map((a) => (
                    <option key={a} value={a}>
                      {lookup.areaName(a)}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" class="btn btn-small" disabled={!pick} onClick={() => (setAreas([...new Set([...areas, pick])]), setPick(''))}>
                {s.add}
              </button>
            </div>
          </fieldset>
          <label class="field" for="nat-summary">
            <span>{s.summary}</span>
            <textarea id="nat-summary" rows={2} maxLength={2000} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
          </label>
          {problem && <Alert>{problem}</Alert>}
          <button type="submit" class={`btn btn-primary ${priority === 'emergency' ? 'btn-danger' : ''}`} disabled={busy}>
            {busy ? s.sending : s.submit}
          </button>
        </form>
        {answers && (
          <section class="nat-answers" aria-live="polite" data-testid="send-answers">
            <h3>{s.answersTitle}</h3>
            <ul class="item-list">
              {answers.map((a) => (
                <SentItem key={a.id} item={a} />
              ))}
            </ul>
          </section>
        )}
      </Card>
      <Card title={s.sentTitle}>
        {sent.status === 'loading' ? (
          <Loading />
        ) : sent.status === 'error' ? (
          <Alert>{nationalError(sent.error)}</Alert>
        ) : !sent.value.length ? (
          <Empty>{s.sentEmpty}</Empty>
        ) : (
          <ul class="item-list" data-testid="sent-list">
            {sent.value.map((a) => (
              <SentItem key={a.id} item={a} withTitle />
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

function SentItem({ item: a, withTitle = false }: { item: NationalSent; withTitle?: boolean }) {
  return (
    <li class={`item column ${a.ok ? '' : 'nat-refused'}`}>
      <div class="row wrap">
        <strong class="grow">{withTitle ? `${a.title} → ${a.peerName}` : a.peerName}</strong>
        {a.priority !== 'normal' && <Badge tone={a.priority}>{t.priorities[a.priority as Priority] ?? a.priority}</Badge>}
        <Badge tone={a.ok ? 'accepted' : 'declined'}>{a.ok ? s.taken : s.notTaken}</Badge>
      </div>
      <span class="small muted">{fmtDateTime(a.sentAt)}</span>
      <p class="nat-answer">
        {s.answer}: <q>{a.detail}</q>
      </p>
      {withTitle && <span class="small">{a.ack ? s.ack(fmtDateTime(a.ack.at), a.ack.accepted, a.ack.detail) : <span class="muted">{s.noAck}</span>}</span>}
    </li>
  );
}

/**
 * The programme builder (issue 15 § Programmes: "built in the web app (add, reorder, remove; total duration
 * shown; listen to the whole programme before saving), stored with a version, scheduled … like a broadcast").
 * The items and their order live here; each item's fields are ItemEditor's, the preview ProgrammePreview's,
 * the versions VersionHistory's.
 * A saved programme is a bulletin, so "Phát chương trình" opens the usual SchedulePanel on it: every
 * recurrence kind, targets, priority and approval unchanged.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../../api/client.js';
import type { Programme, ProgrammeItemKind } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { navigate } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { errorsOf, programmeErrors } from '../../logic/programme-errors.js';
import { addItem, checkDraft, itemFromInput, moveItem, PROGRAMME_MAX_ITEMS, removeItem, totalLength, updateItem, type ItemDraft, type ItemError } from '../../logic/programmes.js';
import { fmtLength } from '../../logic/relays.js';
import { PATHS, programmePath } from '../../logic/routes.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';
import { ItemEditor } from './ItemEditor.js';
import { ProgrammePreview } from './ProgrammePreview.js';
import { usePickableBulletins, useSources } from './usePickables.js';
import { VersionHistory } from './VersionHistory.js';
import { useUserNames } from './useUserNames.js';

const KINDS: ProgrammeItemKind[] = ['bulletin', 'chime', 'music', 'relay', 'pause'];

/** The bulletin ids a stored programme names, so the pickers always list them. */
function namedIds(p: Programme | null): string[] {
  if (!p) return [];
  return p.items.flatMap((i) => {
    const x = i.input;
    if (x.kind === 'bulletin') return [x.bulletinId];
    if (x.kind === 'chime') return x.bulletinId ? [x.bulletinId] : [];
    if (x.kind === 'music') return [x.musicBulletinId, x.speechBulletinId];
    return [];
  });
}

export function ProgrammeBuilder({ id }: { id: string | null }) {
  const { api } = useSession();
  const [programme, setProgramme] = useState<Programme | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [title, setTitle] = useState('');
  const [items, setItems] = useState<ItemDraft[]>([]);
  const [errors, setErrors] = useState<ItemError[]>([]);
  const [savedKey, setSavedKey] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [scheduling, setScheduling] = useState(false);
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const [armed, setArmed] = useState<number | null>(null);
  const scheduleRef = useRef<HTMLDivElement | null>(null);

  const named = useMemo(() => namedIds(programme), [programme?.id, programme?.version]);
  const bulletins = usePickableBulletins(api, named);
  const sources = useSources(api);
  const who = useUserNames([programme?.updatedBy ?? null]);

  const adopt = (p: Programme) => {
    setProgramme(p);
    setTitle(p.title);
    const drafts = p.items.map((i) => itemFromInput(i.input));
    setItems(drafts);
    setSavedKey(keyOf(p.title, drafts));
  };

  // Open a stored programme; a programme just created here is already adopted (its id arrives with the URL).
  useEffect(() => {
    if (!id || programme?.id === id) return;
    let live = true;
    setLoadError(null);
    api.programme(id).then(
      (p) => live && adopt(p),
      (err: unknown) => live && setLoadError(err),
    );
    return () => {
      live = false;
    };
  }, [id]);


  /** Lengths known for the live total: the pickers' bulletins, and each saved item's length as the server gave it. */
  const lengths = useMemo(() => {
    const m = new Map<string, number>();
    for (const b of bulletins ?? []) m.set(b.id, b.durationMs);
    for (const i of programme?.items ?? []) if (i.input.kind === 'bulletin' && i.durationMs !== null) m.set(i.input.bulletinId, i.durationMs);
    return m;
  }, [bulletins, programme]);

  if (id && !programme) return loadError ? <Alert>{errorMessage(loadError)}</Alert> : <Loading />;

  const total = totalLength(items, lengths);
  const check = checkDraft(title, items);
  const currentKey = check.ok ? keyOf(title, items) : null;
  const dirty = currentKey === null || currentKey !== savedKey;

  const edit = (next: ItemDraft[]) => {
    setItems(next);
    setNotice(null);
    setScheduling(false);
    // Errors name items by position: after a move or removal they would point at the wrong one.
    if (next.length !== items.length || next.some((x, i) => x.key !== items[i]?.key)) setErrors([]);
  };

  const save = async (asCopy = false) => {
    if (!check.ok) return setErrors(check.errors);
    setErrors([]);
    setFailure(null);
    setNotice(null);
    setBusy(true);
    const body = { title: asCopy && programme ? t.programmes.copyTitle(title.trim()).slice(0, 200) : title.trim(), items: check.items };
    try {
      const saved = programme && !asCopy ? await api.updateProgramme(programme.id, body) : await api.createProgramme(body);
      setConflict(false);
      adopt(saved);
      setNotice(t.programmes.saved(saved.version));
      if (saved.id !== id) navigate(programmePath(saved.id), { replace: true });
    } catch (err) {
      const mapped = err instanceof ApiFailure ? programmeErrors(err, items) : [];
      // Only the approved-broadcasts refusal is solved by a copy; a crossed edit needs a reload instead.
      setConflict(err instanceof ApiFailure && err.status === 409 && /approved/i.test(err.message));
      if (mapped.length) setErrors(mapped);
      else setFailure(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const openSchedule = () => {
    setScheduling(true);
    requestAnimationFrame(() => scheduleRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
  };

  const whole = errorsOf(errors, null);
  const titleErrors = whole.filter((e) => e.field === 'title');
  const otherErrors = whole.filter((e) => e.field !== 'title');
  const p = t.programmes;
  return (
    <div class="programme-builder">
      <p>
        <Link href={PATHS.programmes}>‹ {p.back}</Link>
      </p>
      <div class="row wrap">
        <h1 class="grow">{programme ? p.editTitle(programme.title) : p.newTitle}</h1>
        {programme && (
          <span data-testid="programme-version">
            <Badge tone="approved">{p.version(programme.version)}</Badge>
          </span>
        )}
      </div>
      {programme && <p class="muted small">{p.updated(fmtDateTime(programme.updatedAt), who(programme.updatedBy))}</p>}
      <form
        class="card"
        noValidate
        aria-labelledby="programme-items-title"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label class="field">
          <span>{p.name}</span>
          <input name="title" maxLength={200} value={title} placeholder={p.nameHint} onInput={(e) => setTitle(e.currentTarget.value)} aria-invalid={titleErrors.length ? 'true' : undefined} aria-describedby="programme-title-error" disabled={busy} />
          {titleErrors.length > 0 && (
            <span id="programme-title-error" class="field-error" role="alert">
              {titleErrors.map((e) => e.message).join(' ')}
            </span>
          )}
        </label>
        <h2 id="programme-items-title">{p.itemsTitle}</h2>
        {!items.length && <p class="empty">{p.noItemsYet}</p>}
        <ol class="programme-items" data-testid="programme-items">
          {items.map((item, i) => (
            <li
              key={item.key}
              class={`programme-row${dragFrom === i ? ' dragging' : ''}`}
              // A drag on a desktop is a shortcut for the arrows (HTML drag and drop does not work on phones).
              // Only from the item's heading: a draggable item would steal mouse selection in its inputs.
              draggable={!busy && armed === i}
              onPointerDown={(e) => {
                const el = e.target as HTMLElement;
                setArmed(el.closest('.item-head') && !el.closest('button') ? i : null);
              }}
              onDragStart={(e) => {
                setDragFrom(i);
                e.dataTransfer?.setData('text/plain', String(i));
              }}
              onDragOver={(e) => dragFrom !== null && e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (dragFrom !== null) edit(moveItem(items, dragFrom, i));
                setDragFrom(null);
              }}
              onDragEnd={() => {
                setDragFrom(null);
                setArmed(null);
              }}
            >
              <ItemEditor
                item={item}
                index={i}
                count={items.length}
                errors={errorsOf(errors, i)}
                bulletins={bulletins}
                sources={sources}
                lengths={lengths}
                disabled={busy}
                onChange={(patch) => {
                  edit(updateItem(items, i, patch));
                  // The item was changed after its refusal: what was said about it may no longer hold.
                  setErrors((cur) => cur.filter((e) => e.index !== i));
                }}
                onMove={(to) => edit(moveItem(items, i, to))}
                onRemove={() => edit(removeItem(items, i))}
              />
            </li>
          ))}
        </ol>
        <fieldset class="plain add-items" disabled={busy || items.length >= PROGRAMME_MAX_ITEMS}>
          <legend class="sr-only">{p.add}</legend>
          <div class="row wrap">
            {KINDS.map((k) => (
              <button key={k} type="button" class="btn btn-small" onClick={() => edit(addItem(items, k))}>
                {p.addKind[k]}
              </button>
            ))}
          </div>
          <small class="muted">
            {p.bulletinsHint} <Link href={PATHS.compose}>{p.composeLink}</Link> · {p.dragHint}
          </small>
        </fieldset>

        <p class="programme-total" data-testid="programme-total" aria-live="polite">
          {p.total}: <strong>{total.until ? p.totalUntil(fmtLength(total.knownMs), total.until) : p.totalValue(fmtLength(total.knownMs))}</strong> {total.unknown > 0 && <span class="muted">{p.totalUnknown(total.unknown)}</span>}
        </p>
        {otherErrors.map((e) => (
          <Alert key={e.message}>{e.message}</Alert>
        ))}
        {failure && <Alert>{failure}</Alert>}
        {conflict && (
          <button type="button" class="btn" onClick={() => void save(true)} disabled={busy}>
            {p.saveCopy}
          </button>
        )}

        <ProgrammePreview items={items} lengths={lengths} onErrors={setErrors} />

        {notice && <Alert kind="success">{notice}</Alert>}
        {programme && dirty && <p class="muted small">{p.unsaved}</p>}
        <div class="row wrap actions">
          <button type="submit" class="btn btn-primary" disabled={busy || (!!programme && !dirty)}>
            {busy ? p.saving : p.save}
          </button>
          {programme && (
            <button type="button" class="btn" onClick={openSchedule} disabled={dirty || busy} aria-describedby={dirty ? 'programme-broadcast-hint' : undefined}>
              ▶ {p.broadcast}
            </button>
          )}
        </div>
        {programme && dirty && (
          <small id="programme-broadcast-hint" class="muted">
            {p.broadcastHint}
          </small>
        )}
      </form>
      {programme && scheduling && !dirty && (
        <div ref={scheduleRef}>
          <SchedulePanel key={`${programme.id}-${programme.version}`} bulletinId={programme.id} bulletinTitle={programme.title} />
        </div>
      )}
      {programme && <VersionHistory id={programme.id} current={programme.version} />}
    </div>
  );
}

/** What was saved, to tell whether the form differs from it (keys left out: they change on every load). */
function keyOf(title: string, items: readonly ItemDraft[]): string | null {
  const c = checkDraft(title, items);
  return c.ok ? JSON.stringify({ title: title.trim(), items: c.items }) : null;
}

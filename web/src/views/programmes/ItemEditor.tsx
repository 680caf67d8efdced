/**
 * One item of a programme in the builder: its kind's fields, its length, the buttons that move it up, down or
 * out (thumb-sized, labelled "Đưa mục 2 lên trước"), and the errors — the form's own and the server's — next
 * to the field they name.
 */
import type { Source } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { TimeField } from '../../components/DateTimeField.js';
import { itemLengthMs, type ItemDraft, type ItemError, type ItemField, type Lengths } from '../../logic/programmes.js';
import { fmtLength, statusLabel } from '../../logic/relays.js';
import { fmtDuration } from '../../logic/format.js';
import type { PickableBulletin } from './usePickables.js';

export interface ItemEditorProps {
  item: ItemDraft;
  index: number;
  count: number;
  errors: readonly ItemError[];
  bulletins: readonly PickableBulletin[] | null;
  sources: readonly Source[] | null;
  lengths: Lengths;
  disabled: boolean;
  onChange: (patch: Partial<Omit<ItemDraft, 'key'>>) => void;
  onMove: (to: number) => void;
  onRemove: () => void;
}

function Errors({ id, errors }: { id: string; errors: readonly ItemError[] }) {
  if (!errors.length) return null;
  return (
    <span id={id} class="field-error" role="alert">
      {errors.map((e) => e.message).join(' ')}
    </span>
  );
}

/** A bulletin picker; a chosen id missing from the list (not found among recent ones) is still shown. */
function BulletinSelect(p: { label: string; value: string; options: readonly PickableBulletin[] | null; placeholder: string; invalid: boolean; errorId: string; onPick: (id: string) => void }) {
  return (
    <label class="field">
      <span>{p.label}</span>
      <select value={p.value} onChange={(e) => p.onPick(e.currentTarget.value)} aria-invalid={p.invalid ? 'true' : undefined} aria-describedby={p.invalid ? p.errorId : undefined}>
        <option value="">{p.options ? p.placeholder : t.programmes.bulletinsLoading}</option>
        {p.value && p.options && !p.options.some((b) => b.id === p.value) && <option value={p.value}>{p.value}</option>}
        {(p.options ?? []).map((b) => (
          <option key={b.id} value={b.id}>
            {b.title} ({b.recording ? `${t.programmes.recorded}, ` : ''}
            {fmtDuration(b.durationMs)})
          </option>
        ))}
      </select>
    </label>
  );
}

export function ItemEditor({ item, index, count, errors, bulletins, sources, lengths, disabled, onChange, onMove, onRemove }: ItemEditorProps) {
  const n = index + 1;
  const p = t.programmes;
  const idOf = (field: ItemField) => `item-${item.key}-${field}`;
  const errs = (field: ItemField) => errors.filter((e) => e.field === field);
  const bad = (field: ItemField) => errs(field).length > 0;
  // Jingles and music are usually uploaded recordings: those come first (the server takes any ready bulletin).
  const recordingsFirst = bulletins ? [...bulletins.filter((b) => b.recording), ...bulletins.filter((b) => !b.recording)] : null;
  const length = itemLengthMs(item, lengths);
  const chosenSource = sources?.find((s) => s.id === item.sourceId) ?? null;

  let fields;
  switch (item.kind) {
    case 'bulletin':
      fields = (
        <>
          <BulletinSelect label={p.bulletin} value={item.bulletinId} options={bulletins} placeholder={p.chooseBulletin} invalid={bad('bulletinId')} errorId={idOf('bulletinId')} onPick={(bulletinId) => onChange({ bulletinId })} />
          <Errors id={idOf('bulletinId')} errors={errs('bulletinId')} />
          {bulletins && !bulletins.length && <small class="muted">{p.noBulletins}</small>}
        </>
      );
      break;
    case 'chime':
      fields = (
        <>
          <label class="field">
            <span>{p.chime}</span>
            <select value={item.chime} onChange={(e) => onChange({ chime: e.currentTarget.value as ItemDraft['chime'] })}>
              {(['intro', 'outro', 'recording'] as const).map((c) => (
                <option key={c} value={c}>
                  {p.chimes[c]}
                </option>
              ))}
            </select>
          </label>
          {item.chime === 'recording' && (
            <>
              <BulletinSelect label={p.recording} value={item.bulletinId} options={recordingsFirst} placeholder={p.chooseRecording} invalid={bad('bulletinId')} errorId={idOf('bulletinId')} onPick={(bulletinId) => onChange({ bulletinId })} />
              {bulletins && !bulletins.length && <small class="muted">{p.noBulletins}</small>}
            </>
          )}
          <Errors id={idOf('bulletinId')} errors={errs('bulletinId')} />
        </>
      );
      break;
    case 'music':
      fields = (
        <>
          <BulletinSelect label={p.music} value={item.musicBulletinId} options={recordingsFirst} placeholder={p.chooseRecording} invalid={bad('musicBulletinId')} errorId={idOf('musicBulletinId')} onPick={(musicBulletinId) => onChange({ musicBulletinId })} />
          <Errors id={idOf('musicBulletinId')} errors={errs('musicBulletinId')} />
          {bulletins && !bulletins.length && <small class="muted">{p.noBulletins}</small>}
          <BulletinSelect label={p.speech} value={item.speechBulletinId} options={bulletins} placeholder={p.chooseBulletin} invalid={bad('speechBulletinId')} errorId={idOf('speechBulletinId')} onPick={(speechBulletinId) => onChange({ speechBulletinId })} />
          <Errors id={idOf('speechBulletinId')} errors={errs('speechBulletinId')} />
          <div class="row wrap">
            <label class="field narrow">
              <span>{p.duck}</span>
              <input inputMode="decimal" value={item.duckDb} onInput={(e) => onChange({ duckDb: e.currentTarget.value })} aria-invalid={bad('duckDb') ? 'true' : undefined} aria-describedby={`${idOf('duckDb')} ${idOf('duckDb')}-hint`} />
            </label>
            <label class="field narrow">
              <span>{p.leadIn}</span>
              <input inputMode="decimal" value={item.leadInSeconds} onInput={(e) => onChange({ leadInSeconds: e.currentTarget.value })} aria-invalid={bad('leadInMs') ? 'true' : undefined} />
            </label>
            <label class="field narrow">
              <span>{p.tail}</span>
              <input inputMode="decimal" value={item.tailSeconds} onInput={(e) => onChange({ tailSeconds: e.currentTarget.value })} aria-invalid={bad('tailMs') ? 'true' : undefined} />
            </label>
          </div>
          <small id={`${idOf('duckDb')}-hint`} class="muted">
            {p.duckHint}
          </small>
          <Errors id={idOf('duckDb')} errors={[...errs('duckDb'), ...errs('leadInMs'), ...errs('tailMs')]} />
        </>
      );
      break;
    case 'relay':
      fields = (
        <>
          <label class="field">
            <span>{p.source}</span>
            <select value={item.sourceId} onChange={(e) => onChange({ sourceId: e.currentTarget.value })} aria-invalid={bad('sourceId') ? 'true' : undefined} aria-describedby={bad('sourceId') ? idOf('sourceId') : undefined}>
              <option value="">{sources ? p.chooseSource : t.loading}</option>
              {item.sourceId && sources && !chosenSource && <option value={item.sourceId}>{item.sourceId}</option>}
              {(sources ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} — {statusLabel(s.status)}
                </option>
              ))}
            </select>
          </label>
          <Errors id={idOf('sourceId')} errors={errs('sourceId')} />
          {sources && !sources.length && <small class="muted">{p.noSources}</small>}
          <fieldset class="segmented">
            <legend class="sr-only">{p.relayMode}</legend>
            {(['minutes', 'until'] as const).map((m) => (
              <label key={m} class={item.relayMode === m ? 'active' : ''}>
                <input type="radio" name={`relay-mode-${item.key}`} value={m} checked={item.relayMode === m} onChange={() => onChange({ relayMode: m })} />
                {p.relayModes[m]}
              </label>
            ))}
          </fieldset>
          {item.relayMode === 'minutes' ? (
            <label class="field narrow">
              <span>{p.minutes}</span>
              <input inputMode="decimal" value={item.minutes} onInput={(e) => onChange({ minutes: e.currentTarget.value })} aria-invalid={bad('durationMs') ? 'true' : undefined} aria-describedby={idOf('durationMs')} />
            </label>
          ) : (
            <label class="field narrow">
              <span>{p.until}</span>
              <TimeField value={item.until} onChange={(v) => onChange({ until: v })} aria-invalid={bad('until') ? 'true' : undefined} aria-describedby={`${idOf('until')} ${idOf('until')}-hint`} />
              <small id={`${idOf('until')}-hint`} class="muted">
                {p.untilHint}
              </small>
            </label>
          )}
          <Errors id={idOf('durationMs')} errors={errs('durationMs')} />
          <Errors id={idOf('until')} errors={errs('until')} />
        </>
      );
      break;
    case 'pause':
      fields = (
        <>
          <label class="field narrow">
            <span>{p.pause}</span>
            <input inputMode="decimal" value={item.pauseSeconds} onInput={(e) => onChange({ pauseSeconds: e.currentTarget.value })} aria-invalid={bad('durationMs') ? 'true' : undefined} aria-describedby={idOf('durationMs')} />
          </label>
          <Errors id={idOf('durationMs')} errors={errs('durationMs')} />
        </>
      );
      break;
  }

  return (
    <fieldset class="plain programme-item" disabled={disabled} data-kind={item.kind} aria-label={p.itemLabel(n, p.kinds[item.kind] ?? item.kind)}>
      <div class="row wrap item-head">
        <strong class="grow">
          {n}. {p.kinds[item.kind]}
        </strong>
        <span class="muted small" data-testid="item-length">
          {length === null ? p.lengthUnknown : typeof length === 'number' ? p.length(fmtLength(length)) : p.untilLabel(length.until)}
        </span>
        <span class="row item-buttons">
          <button type="button" class="btn btn-small btn-ghost" aria-label={p.up(n)} title={p.up(n)} disabled={index === 0} onClick={() => onMove(index - 1)}>
            ↑
          </button>
          <button type="button" class="btn btn-small btn-ghost" aria-label={p.down(n)} title={p.down(n)} disabled={index === count - 1} onClick={() => onMove(index + 1)}>
            ↓
          </button>
          <button type="button" class="btn btn-small btn-ghost" aria-label={p.remove(n)} title={p.remove(n)} onClick={onRemove}>
            ✕
          </button>
        </span>
      </div>
      {fields}
      <Errors id={idOf('item')} errors={errs('item')} />
    </fieldset>
  );
}

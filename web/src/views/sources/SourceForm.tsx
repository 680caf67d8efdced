/**
 * Register or change a live source (province admins, issue 15 § Relays): its name, stream URLs in order of
 * preference (add, move up and down, remove), the area that may use it, the bulletin played when every URL
 * fails, and whether it goes through the server's restream. The server validates; its refusals come back on
 * the fields they concern, in Vietnamese (logic/relays.ts `sourceErrors`).
 */
import { useState } from 'preact/hooks';
import { ApiFailure } from '../../api/client.js';
import type { Source, SourceUpdateBody } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { AreaSelect } from '../../components/AreaSelect.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import type { FlatArea } from '../../logic/area-tree.js';
import { fmtDuration } from '../../logic/format.js';
import { addUrl, moveUrl, removeUrl, setUrl, SOURCE_MAX_URLS, sourceErrors, urlsToSend, type SourceError, type SourceField } from '../../logic/relays.js';
import { useReadyBulletins } from './useReadyBulletins.js';

export function SourceForm({ editing, flat, onSaved, onCancel }: { editing: Source | null; flat: readonly FlatArea[]; onSaved: (s: Source, created: boolean) => void; onCancel: () => void }) {
  const { api, me } = useSession();
  const wideAdmin = me.areaCode === null;
  const [name, setName] = useState(editing?.name ?? '');
  const [urls, setUrls] = useState<string[]>(editing ? editing.urls.slice() : ['']);
  const [areaCode, setAreaCode] = useState<string | null>(editing ? editing.areaCode : (me.areaCode ?? flat[0]?.code ?? null));
  const [fallback, setFallback] = useState<string>(editing?.fallbackBulletinId ?? '');
  const [restream, setRestream] = useState(editing?.restream ?? false);
  const [errors, setErrors] = useState<SourceError[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ready = useReadyBulletins(api, editing?.fallbackBulletinId ?? null);

  const errorOf = (field: SourceField, row?: number) => errors.filter((e) => e.field === field && e.row === row).map((e) => e.message);
  const idOf = (field: string) => `source-${field}-error`;

  const submit = async (e: Event) => {
    e.preventDefault();
    const sent = urlsToSend(urls);
    const body = { name: name.trim(), urls: sent.urls, areaCode, fallbackBulletinId: fallback || null, restream };
    setBusy(true);
    setErrors([]);
    setFailure(null);
    try {
      if (editing) {
        // Only what changed: the server re-sends URLs and fallback to the boxes holding a relay of the source.
        const patch: SourceUpdateBody = {};
        if (body.name !== editing.name) patch.name = body.name;
        if (JSON.stringify(body.urls) !== JSON.stringify(editing.urls)) patch.urls = body.urls;
        if (body.areaCode !== editing.areaCode) patch.areaCode = body.areaCode;
        if (body.fallbackBulletinId !== editing.fallbackBulletinId) patch.fallbackBulletinId = body.fallbackBulletinId;
        if (body.restream !== editing.restream) patch.restream = body.restream;
        if (!Object.keys(patch).length) return onSaved(editing, false);
        onSaved(await api.updateSource(editing.id, patch), false);
      } else {
        onSaved(await api.createSource(body), true);
      }
    } catch (err) {
      const mapped = err instanceof ApiFailure ? sourceErrors(err, sent.rowOf) : [];
      if (mapped.length) setErrors(mapped);
      else setFailure(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const urlErrors = errorOf('urls');
  return (
    <form class="card source-form" onSubmit={(e) => void submit(e)} aria-labelledby="source-form-title" noValidate data-testid="source-form">
      <header class="card-head">
        <h2 id="source-form-title">{editing ? t.sources.form.editTitle(editing.name) : t.sources.form.newTitle}</h2>
      </header>
      <fieldset class="plain" disabled={busy}>
        <label class="field">
          <span>{t.sources.form.name}</span>
          <input name="name" maxLength={200} value={name} placeholder={t.sources.form.nameHint} onInput={(e) => setName(e.currentTarget.value)} aria-invalid={errorOf('name').length ? 'true' : undefined} aria-describedby={idOf('name')} required />
          <FieldErrors id={idOf('name')} messages={errorOf('name')} />
        </label>

        <fieldset class="url-list">
          <legend>{t.sources.form.urls}</legend>
          <small class="muted">{t.sources.form.urlsHint}</small>
          <ol>
            {urls.map((u, i) => {
              const rowErr = errorOf('urls', i);
              return (
                <li key={i} class="url-row">
                  <div class="row">
                    <label class="field grow">
                      <span class="sr-only">{t.sources.form.url(i + 1)}</span>
                      <input type="url" inputMode="url" name={`url-${i}`} value={u} placeholder="https://…/live.mp3" aria-invalid={rowErr.length ? 'true' : undefined} aria-describedby={idOf(`url-${i}`)} onInput={(e) => setUrls(setUrl(urls, i, e.currentTarget.value))} />
                    </label>
                    <div class="url-tools">
                      <button type="button" class="btn btn-small btn-ghost" aria-label={t.sources.form.up(i + 1)} title={t.sources.form.up(i + 1)} disabled={i === 0} onClick={() => setUrls(moveUrl(urls, i, -1))}>
                        ↑
                      </button>
                      <button type="button" class="btn btn-small btn-ghost" aria-label={t.sources.form.down(i + 1)} title={t.sources.form.down(i + 1)} disabled={i === urls.length - 1} onClick={() => setUrls(moveUrl(urls, i, 1))}>
                        ↓
                      </button>
                      <button type="button" class="btn btn-small btn-ghost" aria-label={t.sources.form.remove(i + 1)} title={t.sources.form.remove(i + 1)} disabled={urls.length === 1 && !u} onClick={() => setUrls(removeUrl(urls, i))}>
                        ✕
                      </button>
                    </div>
                  </div>
                  <FieldErrors id={idOf(`url-${i}`)} messages={rowErr} />
                </li>
              );
            })}
          </ol>
          <button type="button" class="btn btn-small" onClick={() => setUrls(addUrl(urls))} disabled={urls.length >= SOURCE_MAX_URLS}>
            + {t.sources.form.addUrl}
          </button>
          <FieldErrors id={idOf('urls')} messages={urlErrors} />
        </fieldset>

        {wideAdmin && (
          <label class="check">
            <input type="checkbox" checked={areaCode === null} onChange={(e) => setAreaCode(e.currentTarget.checked ? null : (flat[0]?.code ?? null))} />
            {t.sources.wholeInstallation}
          </label>
        )}
        {areaCode !== null && <AreaSelect id="source-area" label={t.sources.form.area} value={areaCode} onChange={setAreaCode} flat={flat} maxDepth={2} />}
        <small class="muted">{t.sources.form.areaHint}</small>
        <FieldErrors id={idOf('areaCode')} messages={errorOf('areaCode')} />

        <label class="field">
          <span>{t.sources.form.fallback}</span>
          <select name="fallback" value={fallback} onChange={(e) => setFallback(e.currentTarget.value)} aria-describedby={`source-fallback-hint ${idOf('fallbackBulletinId')}`} aria-invalid={errorOf('fallbackBulletinId').length ? 'true' : undefined}>
            <option value="">{t.sources.form.fallbackNone}</option>
            {fallback && ready && !ready.some((b) => b.id === fallback) && <option value={fallback}>{fallback}</option>}
            {(ready ?? []).map((b) => (
              <option key={b.id} value={b.id}>
                {b.title} ({fmtDuration(b.durationMs)})
              </option>
            ))}
          </select>
          <small id="source-fallback-hint" class="muted">
            {ready ? t.sources.form.fallbackHint : t.sources.form.fallbackLoading}
          </small>
          <FieldErrors id={idOf('fallbackBulletinId')} messages={errorOf('fallbackBulletinId')} />
        </label>

        <label class="check">
          <input type="checkbox" name="restream" checked={restream} onChange={(e) => setRestream(e.currentTarget.checked)} aria-describedby="source-restream-hint" />
          {t.sources.form.restream}
        </label>
        <small id="source-restream-hint" class="muted">
          {t.sources.form.restreamHint}
        </small>
      </fieldset>
      {errors.length > 0 && (
        // Every refusal again next to the button: on a phone the field it concerns may be off screen.
        <Alert>
          <ul data-testid="source-errors">
            {errors.map((e) => (
              <li key={`${e.field}-${e.row ?? ''}-${e.message}`}>{e.message}</li>
            ))}
          </ul>
        </Alert>
      )}
      {failure && <Alert>{failure}</Alert>}
      <div class="row wrap actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? t.sources.form.saving : editing ? t.sources.form.save : t.sources.form.create}
        </button>
        <button type="button" class="btn" onClick={onCancel} disabled={busy}>
          {t.sources.form.cancel}
        </button>
      </div>
    </form>
  );
}

function FieldErrors({ id, messages }: { id: string; messages: string[] }) {
  if (!messages.length) return null;
  return (
    <span id={id} class="field-error">
      {messages.join(' ')}
    </span>
  );
}

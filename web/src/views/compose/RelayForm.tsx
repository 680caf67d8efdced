/**
 * A relay bulletin (issue 15: "VOV news 18:00–18:30 daily"): a source usable in the user's area (with whether
 * it is up), how long (1 minute to 12 hours, in minutes or hours), a title that follows the source's name
 * until the official types one. Created at once (`POST /api/v1/bulletins/relay`), then scheduled like any
 * bulletin with the same SchedulePanel: every recurrence kind, targets, priority, approval.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { readAll } from '../../api/client.js';
import type { Source } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Card, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { defaultRelayTitle, fmtLength, relayDurationMs, statusLabel, type DurationUnit } from '../../logic/relays.js';
import { can } from '../../logic/roles.js';
import { PATHS } from '../../logic/routes.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';
import { SourceChecks, SourceSummary } from '../sources/SourceStatus.js';

type Created = { id: string; title: string; sourceName: string; durationMs: number };

export function RelayForm({ switcher, initialSourceId }: { switcher: ComponentChildren; initialSourceId: string | null }) {
  const { api, me } = useSession();
  const [list] = useAsync<Source[]>(() => readAll((cursor) => api.sources({ limit: 200, cursor }), 2000), []);
  const [checked, setChecked] = useState<Map<string, Source>>(new Map());
  const [sourceId, setSourceId] = useState(initialSourceId ?? '');
  const [title, setTitle] = useState('');
  const [titleTyped, setTitleTyped] = useState(false);
  const [amount, setAmount] = useState('30');
  const [unit, setUnit] = useState<DurationUnit>('minutes');
  const [created, setCreated] = useState<Created | null>(null);
  const [busy, setBusy] = useState<'create' | 'check' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tried, setTried] = useState(false);

  const sources = list.status === 'ok' ? list.value.map((s) => checked.get(s.id) ?? s) : [];
  const chosen = sources.find((s) => s.id === sourceId) ?? null;
  const duration = relayDurationMs(amount, unit);
  const durationError = duration.ok ? null : t.relay.errors[duration.error];

  // The title follows the chosen source until the official types their own (clearing it brings it back).
  const shownTitle = titleTyped ? title : chosen ? defaultRelayTitle(chosen.name) : '';

  const check = async () => {
    if (!chosen) return;
    setBusy('check');
    setError(null);
    try {
      const fresh = await api.checkSource(chosen.id);
      setChecked((m) => new Map(m).set(fresh.id, fresh));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (!chosen || !duration.ok || !shownTitle.trim()) return;
    setBusy('create');
    setError(null);
    try {
      const res = await api.createRelayBulletin({ title: shownTitle.trim(), sourceId: chosen.id, durationMs: duration.ms });
      setCreated({ id: res.id, title: shownTitle.trim(), sourceName: chosen.name, durationMs: res.relay.durationMs });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  if (list.status === 'loading') return <Loading />;
  if (list.status === 'error') return <Alert>{errorMessage(list.error)}</Alert>;
  const locked = created !== null || busy === 'create';
  const showErrors = tried && !created;
  return (
    <>
      <div class="compose-grid">
        <form class="card" onSubmit={(e) => void create(e)} aria-labelledby="relay-form-title" noValidate data-testid="relay-form">
          <h2 id="relay-form-title" class="sr-only">
            {t.compose.sources.relay}
          </h2>
          <fieldset class="plain" disabled={locked}>
            {switcher}
            {!sources.length ? (
              <Alert kind="info">
                {t.relay.noSources} <Link href={PATHS.sources}>{t.relay.manageSources}</Link>
              </Alert>
            ) : (
              <label class="field">
                <span>{t.relay.source}</span>
                <select name="sourceId" value={sourceId} onChange={(e) => setSourceId(e.currentTarget.value)} aria-invalid={showErrors && !chosen ? 'true' : undefined}>
                  <option value="">{t.relay.chooseSource}</option>
                  {sources.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} — {statusLabel(s.status)}
                    </option>
                  ))}
                </select>
                {showErrors && !chosen && <span class="field-error">{t.relay.needSource}</span>}
              </label>
            )}
            {chosen && (
              <div class="row wrap">
                <SourceSummary source={chosen} />
                {can(me.role, 'check-source') && (
                  <button type="button" class="btn btn-small" onClick={() => void check()} disabled={busy !== null}>
                    {busy === 'check' ? t.sources.checking : t.sources.checkNow}
                  </button>
                )}
              </div>
            )}
            {chosen && chosen.status !== 'up' && chosen.status !== 'unchecked' && <Alert kind="warning">{t.relay.notUp}</Alert>}
            <div class="row wrap">
              <label class="field narrow">
                <span>{t.relay.duration}</span>
                <input name="duration" inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} aria-invalid={durationError ? 'true' : undefined} aria-describedby="relay-duration-hint relay-duration-error" />
              </label>
              <label class="field narrow">
                <span>{t.relay.unit}</span>
                <select name="unit" value={unit} onChange={(e) => setUnit(e.currentTarget.value as DurationUnit)}>
                  <option value="minutes">{t.relay.units.minutes}</option>
                  <option value="hours">{t.relay.units.hours}</option>
                </select>
              </label>
            </div>
            {durationError ? (
              <span id="relay-duration-error" class="field-error">
                {durationError}
              </span>
            ) : (
              duration.ok && <p class="muted small">= {fmtLength(duration.ms)}</p>
            )}
            <small id="relay-duration-hint" class="muted">
              {t.relay.durationHint}
            </small>
            <label class="field">
              <span>{t.compose.bulletinTitle}</span>
              <input
                name="title"
                maxLength={200}
                value={shownTitle}
                placeholder={t.relay.titleHint}
                onInput={(e) => {
                  setTitle(e.currentTarget.value);
                  setTitleTyped(e.currentTarget.value.trim() !== '');
                }}
                aria-invalid={showErrors && !shownTitle.trim() ? 'true' : undefined}
              />
              {showErrors && !shownTitle.trim() && <span class="field-error">{t.compose.needTitle}</span>}
            </label>
          </fieldset>
          {error && <Alert>{error}</Alert>}
          {created ? (
            <div class="row wrap">
              <Alert kind="success">{t.relay.ready(created.sourceName, fmtLength(created.durationMs))}</Alert>
              <button type="button" class="btn" onClick={() => setCreated(null)}>
                ✎ {t.relay.again}
              </button>
            </div>
          ) : (
            <button type="submit" class="btn btn-primary" disabled={busy !== null || !sources.length}>
              {busy === 'create' ? t.relay.creating : t.relay.create}
            </button>
          )}
        </form>
        {chosen && (
          <Card title={chosen.name}>
            <SourceChecks source={chosen} />
          </Card>
        )}
      </div>
      {created && <SchedulePanel key={created.id} bulletinId={created.id} bulletinTitle={created.title} />}
    </>
  );
}

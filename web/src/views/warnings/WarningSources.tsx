/**
 * "Nguồn cảnh báo" (province admins): the CAP sources — pushed to us with a token, or a feed we read — with
 * how the feed is doing, their areas and policy (what airs at once, what waits for a person); add and change
 * one, its token shown once (when made or renewed), disable, delete, and try a CAP message on its policy.
 */
import { useState } from 'preact/hooks';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { AreaList } from '../schedule/TargetPicker.js';
import { warningsApi, type WarningPreview, type WarningSource, type WarningSourceCreateBody, type WarningSourceCreated } from './warnings-api.js';
import { fmtVn, LEVELS, warningError } from './warnings-logic.js';
import { CERTAINTIES, policySummary, SEVERITIES, sourceDraft, toggle, URGENCIES, type SourceDraft } from './sources-logic.js';
import { tw } from './warnings-vi.js';

const s = tw.sources;
type Editing = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; source: WarningSource };

export function WarningSources() {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const flat = useFlatAreas();
  const [state, reload] = useAsync((signal) => wapi.sources(signal).then((r) => r.items), []);
  const [editing, setEditing] = useState<Editing>({ kind: 'none' });
  const [token, setToken] = useState<WarningSourceCreated | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  if (state.status === 'loading' || !flat) return <Loading />;
  if (state.status === 'error') return <Alert>{warningError(state.error)}</Alert>;
  const areaName = (code: string) => flat.find((a) => a.code === code)?.name ?? code;

  const act = async (what: () => Promise<unknown>, ok: string) => {
    setNotice(null);
    try {
      await what();
      setNotice({ kind: 'success', text: ok });
      reload();
    } catch (err) {
      setNotice({ kind: 'error', text: warningError(err) });
    }
  };
  const renew = async (src: WarningSource) => {
    if (!window.confirm(s.confirmToken(src.name))) return;
    setNotice(null);
    try {
      setToken(await wapi.renewToken(src.id));
    } catch (err) {
      setNotice({ kind: 'error', text: warningError(err) });
    }
  };

  return (
    <>
      {token && <TokenOnce source={token} onDone={() => setToken(null)} />}
      {editing.kind === 'none' ? (
        <div class="row wrap actions">
          <button type="button" class="btn btn-primary" onClick={() => (setEditing({ kind: 'new' }), setNotice(null))}>
            + {s.add}
          </button>
        </div>
      ) : (
        <SourceForm
          source={editing.kind === 'edit' ? editing.source : null}
          areaName={areaName}
          onCancel={() => setEditing({ kind: 'none' })}
          onSaved={(saved) => {
            setEditing({ kind: 'none' });
            if ('token' in saved && saved.token) setToken(saved);
            setNotice({ kind: 'success', text: s.saved(saved.name) });
            reload();
          }}
        />
      )}
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <Card title={s.title}>
        <p class="muted small">{s.intro}</p>
        {!state.value.length ? (
          <Empty>{s.empty}</Empty>
        ) : (
          <ul class="item-list" data-testid="warning-sources">
            {state.value.map((src) => (
              <li key={src.id} class={`item column ${src.disabledAt ? 'nat-revoked' : ''}`} data-source={src.name}>
                <div class="row wrap">
                  <strong class="grow">{src.name}</strong>
                  <Badge tone={src.kind === 'push' ? 'submitted' : 'approved'}>{s.kinds[src.kind]}</Badge>
                  {src.disabledAt && <Badge tone="cancelled">{s.disabled}</Badge>}
                </div>
                {src.feedUrl && <span class="small wrn-url">{src.feedUrl}</span>}
                {src.kind === 'feed' && src.feed && (
                  <span class="small" data-testid="feed-state">
                    {src.feed.lastPolledAt ? s.lastPoll(fmtVn(src.feed.lastPolledAt), src.feed.lastResult ?? '—') : s.neverPolled}
                    {src.feed.failures > 0 && <strong class="field-error"> · {s.failures(src.feed.failures)}</strong>}
                    {src.feed.nextPollAt && ` · ${s.nextPoll(fmtVn(src.feed.nextPollAt))}`}
                  </span>
                )}
                <span class="small muted">
                  {s.areas}: {src.areaCodes.map(areaName).join(', ')}
                </span>
                <span class="small muted">{policySummary(src.policy)}</span>
                {src.certificateSubject && <span class="small muted">{s.certificateSet(src.certificateSubject)}</span>}
                <div class="row wrap">
                  <button type="button" class="btn btn-small" onClick={() => (setEditing({ kind: 'edit', source: src }), setNotice(null))}>
                    {s.edit}
                  </button>
                  {src.kind === 'push' && (
                    <button type="button" class="btn btn-small" onClick={() => void renew(src)}>
                      {s.newToken}
                    </button>
                  )}
                  {src.disabledAt ? (
                    <button type="button" class="btn btn-small" onClick={() => void act(() => wapi.updateSource(src.id, { disabled: false }), s.saved(src.name))}>
                      {s.enable}
                    </button>
                  ) : (
                    <button type="button" class="btn btn-small btn-ghost" onClick={() => window.confirm(s.confirmDisable(src.name)) && void act(() => wapi.updateSource(src.id, { disabled: true }), s.saved(src.name))}>
                      {s.disable}
                    </button>
                  )}
                  <button type="button" class="btn btn-small btn-ghost" onClick={() => window.confirm(s.confirmRemove(src.name)) && void act(() => wapi.deleteSource(src.id), s.saved(src.name))}>
                    ✕ {s.remove}
                  </button>
                </div>
                <TryCap source={src} />
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

/** The push token, once: a copy button and the warning that it will not be shown again. */
function TokenOnce({ source, onDone }: { source: WarningSourceCreated; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(source.token ?? '');
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <Card title={s.tokenTitle(source.name)} class="nat-password" id="wrn-token">
      <Alert kind="warning">{s.tokenOnce}</Alert>
      <div class="row wrap">
        <code class="nat-secret grow" data-testid="source-token">
          {source.token}
        </code>
        <button type="button" class="btn btn-small" onClick={() => void copy()}>
          {copied === 'yes' ? `✓ ${s.copied}` : s.copy}
        </button>
      </div>
      {copied === 'failed' && <p class="small">{s.copyFailed}</p>}
      <p class="small muted wrn-url">{s.tokenUse(`${location.origin}/api/v1/warnings/cap`)}</p>
      <button type="button" class="btn btn-primary" onClick={onDone}>
        {s.done}
      </button>
    </Card>
  );
}

/** Paste a CAP message and see what this source's policy would do with it; nothing airs. */
function TryCap({ source }: { source: WarningSource }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [xml, setXml] = useState('');
  const [result, setResult] = useState<WarningPreview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" class="linklike small" onClick={() => setOpen(true)}>
        {s.tryCap}
      </button>
    );
  const run = async () => {
    setBusy(true);
    setProblem(null);
    try {
      setResult(await warningsApi(api).previewCap(source.id, xml));
    } catch (err) {
      setProblem(warningError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="decide">
      <label class="field" for={`wrn-cap-${source.id}`}>
        <span>{s.tryCap}</span>
        <textarea id={`wrn-cap-${source.id}`} rows={6} value={xml} onInput={(e) => setXml(e.currentTarget.value)} aria-describedby={`wrn-cap-hint-${source.id}`} />
        <small id={`wrn-cap-hint-${source.id}`} class="muted">
          {s.tryCapHint}
        </small>
      </label>
      <button type="button" class="btn btn-small" disabled={busy || !xml.trim()} onClick={() => void run()}>
        {s.tryCapRun}
      </button>
      {problem && <Alert>{problem}</Alert>}
      {result && (
        <div class="small">
          <p>
            <strong>{result.decision ? (s.decisions[result.decision] ?? result.decision) : '—'}</strong>
            {result.reason ? ` — ${result.reason}` : ''}
          </p>
          <p>{tw.form.reach(result.communes.length, result.boxes)}</p>
          <p class="wrn-announcement">{result.announcement}</p>
        </div>
      )}
    </div>
  );
}

function SourceForm({ source, areaName, onCancel, onSaved }: { source: WarningSource | null; areaName: (code: string) => string; onCancel: () => void; onSaved: (s: WarningSource | WarningSourceCreated) => void }) {
  const { api } = useSession();
  const wapi = warningsApi(api);
  const [d, setD] = useState<SourceDraft>(() => sourceDraft(source));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const set = (patch: Partial<SourceDraft>) => setD((x) => ({ ...x, ...patch }));
  const setAtOnce = (patch: Partial<SourceDraft['policy']['atOnce']>) => set({ policy: { ...d.policy, atOnce: { ...d.policy.atOnce, ...patch } } });
  const setPolicy = (patch: Partial<SourceDraft['policy']>) => set({ policy: { ...d.policy, ...patch } });

  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    if (!d.areaCodes.length) return setProblem(s.needArea);
    if (d.kind === 'feed' && !/^https?:\/\/\S+$/i.test(d.feedUrl.trim())) return setProblem(s.needFeed);
    const body: WarningSourceCreateBody = {
      name: d.name.trim(),
      kind: d.kind,
      pollSeconds: d.pollSeconds,
      areaCodes: d.areaCodes,
      policy: d.policy,
      geocodeValueNames: d.geocodes
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      requireSignature: d.requireSignature,
    };
    if (d.kind === 'feed') body.feedUrl = d.feedUrl.trim();
    if (d.certificatePem.trim()) body.certificatePem = d.certificatePem.trim();
    setBusy(true);
    try {
      if (source) {
        const { kind: _kind, ...update } = body;
        onSaved(await wapi.updateSource(source.id, update));
      } else onSaved(await wapi.createSource(body));
    } catch (err) {
      setProblem(warningError(err));
    } finally {
      setBusy(false);
    }
  };

  const checks = <T extends string>(legend: string, all: readonly T[], chosen: T[], labels: Record<T, string>, onChange: (v: T[]) => void) => (
    <fieldset class="wrn-checks">
      <legend>{legend}</legend>
      {all.map((v) => (
        <label key={v} class="chip-check">
          <input type="checkbox" checked={chosen.includes(v)} onChange={(e) => onChange(toggle(chosen, v, e.currentTarget.checked))} />
          <span>{labels[v]}</span>
        </label>
      ))}
    </fieldset>
  );

  return (
    <Card title={source ? `${s.edit}: ${source.name}` : s.add}>
      <form onSubmit={(e) => void submit(e)}>
        {!source && (
          <fieldset class="segmented" aria-label={s.kind}>
            {(['push', 'feed'] as const).map((k) => (
              <label key={k} class={d.kind === k ? 'active' : ''}>
                <input type="radio" name="wrn-src-kind" value={k} checked={d.kind === k} onChange={() => set({ kind: k })} />
                {s.kinds[k]}
              </label>
            ))}
          </fieldset>
        )}
        <label class="field" for="wrn-src-name">
          <span>{s.name}</span>
          <input id="wrn-src-name" required maxLength={200} value={d.name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </label>
        {d.kind === 'feed' && (
          <div class="row wrap">
            <label class="field grow" for="wrn-src-url">
              <span>{s.feedUrl}</span>
              <input id="wrn-src-url" type="url" inputMode="url" placeholder="https://" value={d.feedUrl} onInput={(e) => set({ feedUrl: e.currentTarget.value })} />
            </label>
            <label class="field narrow" for="wrn-src-poll">
              <span>{s.pollSeconds}</span>
              <input id="wrn-src-poll" type="number" min={15} max={3600} value={d.pollSeconds} onInput={(e) => set({ pollSeconds: Number(e.currentTarget.value) })} />
            </label>
          </div>
        )}
        <fieldset>
          <legend>{s.areas}</legend>
          {d.areaCodes.length > 0 && (
            <ul class="nat-chips">
              {d.areaCodes.map((a) => (
                <li key={a}>{areaName(a)}</li>
              ))}
            </ul>
          )}
          <AreaList selected={d.areaCodes} onChange={(areaCodes) => set({ areaCodes })} />
        </fieldset>
        <fieldset>
          <legend>{s.policy}</legend>
          <label class="check">
            <input type="checkbox" checked={d.policy.airStatuses.includes('Exercise')} onChange={(e) => setPolicy({ airStatuses: e.currentTarget.checked ? ['Actual', 'Exercise'] : ['Actual'] })} />
            {s.airStatuses}
          </label>
          <p class="small">{s.atOnce}</p>
          {checks(s.severities, SEVERITIES, d.policy.atOnce.severities, tw.cap.severities, (severities) => setAtOnce({ severities }))}
          {checks(s.urgencies, URGENCIES, d.policy.atOnce.urgencies, tw.cap.urgencies, (urgencies) => setAtOnce({ urgencies }))}
          {checks(s.certainties, CERTAINTIES, d.policy.atOnce.certainties, tw.cap.certainties, (certainties) => setAtOnce({ certainties }))}
          <label class="field" for="wrn-src-min">
            <span>{s.minRisk}</span>
            <select id="wrn-src-min" value={d.policy.atOnce.minRiskLevel ?? ''} onChange={(e) => setAtOnce({ minRiskLevel: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
              <option value="">{s.minRiskNone}</option>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {tw.risk(l, '').replace(/ · $/, '')}
                </option>
              ))}
            </select>
          </label>
          <label class="field" for="wrn-src-others">
            <span>{s.others}</span>
            <select id="wrn-src-others" value={d.policy.others} onChange={(e) => setPolicy({ others: e.currentTarget.value as 'wait' | 'ignore' })}>
              {(['wait', 'ignore'] as const).map((o) => (
                <option key={o} value={o}>
                  {s.othersOptions[o]}
                </option>
              ))}
            </select>
          </label>
          <div class="row wrap">
            <label class="field narrow" for="wrn-src-repeat">
              <span>{s.repeat}</span>
              <input id="wrn-src-repeat" type="number" min={0} max={1440} value={d.policy.repeatMinutes} onInput={(e) => setPolicy({ repeatMinutes: Number(e.currentTarget.value) })} />
            </label>
            <label class="field narrow" for="wrn-src-hours">
              <span>{s.validHours}</span>
              <input id="wrn-src-hours" type="number" min={1} max={168} value={d.policy.defaultValidHours} onInput={(e) => setPolicy({ defaultValidHours: Number(e.currentTarget.value) })} />
            </label>
          </div>
          <label class="check">
            <input type="checkbox" checked={d.policy.attention} onChange={(e) => setPolicy({ attention: e.currentTarget.checked })} />
            {s.attention}
          </label>
        </fieldset>
        <label class="field" for="wrn-src-geo">
          <span>{s.geocodes}</span>
          <input id="wrn-src-geo" value={d.geocodes} onInput={(e) => set({ geocodes: e.currentTarget.value })} placeholder="MA_XA, ADMIN_CODE" />
        </label>
        <label class="check">
          <input type="checkbox" checked={d.requireSignature} onChange={(e) => set({ requireSignature: e.currentTarget.checked })} />
          {s.requireSignature}
        </label>
        <label class="field" for="wrn-src-cert">
          <span>{s.certificate}</span>
          <textarea id="wrn-src-cert" rows={4} class="wrn-pem" placeholder="-----BEGIN CERTIFICATE-----" value={d.certificatePem} onInput={(e) => set({ certificatePem: e.currentTarget.value })} />
          {source?.certificateSubject && <small class="muted">{`${s.certificateSet(source.certificateSubject)}. ${s.certificateKeep}`}</small>}
        </label>
        {problem && <Alert>{problem}</Alert>}
        <div class="row wrap">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? s.saving : source ? s.save : s.create}
          </button>
          <button type="button" class="btn btn-ghost" onClick={onCancel}>
            {s.cancel}
          </button>
        </div>
      </form>
    </Card>
  );
}

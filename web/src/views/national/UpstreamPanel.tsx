/**
 * "Lên tỉnh": the upstream link in words (connected, not configured, failing since … and why), what waits and
 * since when, and the outbox — what the province refused with its answer (MoTa), what waits with its last
 * error, what went up lately. Refreshed every 30 s.
 */
import { useEffect } from 'preact/hooks';
import type { NationalOutboxItem } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { Alert, Badge, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtNumber } from '../../logic/format.js';
import { answerText, describeEvent, fmtAge, linkState, nationalError } from './national-logic.js';

const s = t.national.up;
const REFRESH_MS = 30_000;

export function UpstreamPanel() {
  const { api } = useSession();
  const [state, reload] = useAsync(async (signal) => {
    const [link, refused, pending, sent, received] = await Promise.all([
      api.nationalLink(signal),
      api.nationalOutbox('refused', 50, signal),
      api.nationalOutbox('pending', 50, signal),
      api.nationalOutbox('sent', 20, signal),
      // Names the bulletins our acks are about; the page works without it.
      api.nationalReceived(200, signal).catch(() => ({ items: [] })),
    ]);
    return { link, refused: refused.items, pending: pending.items, sent: sent.items, titles: new Map(received.items.map((r) => [r.upstreamId, r.title])), at: Date.now() };
  }, []);
  useEffect(() => {
    const id = setInterval(reload, REFRESH_MS);
    return () => clearInterval(id);
  }, []);

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <Alert>{nationalError(state.error)}</Alert>;
  const { link, refused, pending, sent, titles, at } = state.value;
  const ls = linkState(link);
  const describe = (i: NationalOutboxItem) => describeEvent(i.event, titles);

  return (
    <>
      <Card
        title={s.title}
        actions={
          <button type="button" class="btn btn-small btn-ghost" onClick={reload}>
            ↻ {t.national.reload}
          </button>
        }
      >
        <div class={`nat-link nat-${ls.tone}`} data-testid="link-state" data-tone={ls.tone}>
          <p class="nat-link-head">
            <span class="dot" aria-hidden="true" /> <strong>{ls.label}</strong>
          </p>
          {ls.lines.map((line) => (
            <p key={line}>{line}</p>
          ))}
        </div>
        {link.configured && (
          <dl class="nat-facts">
            <div>
              <dt>{s.url}</dt>
              <dd>
                <code class="url">{link.upstreamUrl}</code>
              </dd>
            </div>
            <div>
              <dt>{s.mapping}</dt>
              <dd>{link.mapping ? (s.mappings[link.mapping] ?? link.mapping) : '—'}</dd>
            </div>
            <div>
              <dt>{s.sourceId}</dt>
              <dd>{link.sourceId ?? '—'}</dd>
            </div>
            <div>
              <dt>{s.loggedIn}</dt>
              <dd>{link.loggedIn ? t.national.yes : t.national.no}</dd>
            </div>
          </dl>
        )}
        <ul class="nat-tiles" data-testid="link-counts">
          <li class={link.pending ? 'warn' : ''}>
            <strong>{fmtNumber(link.pending)}</strong>
            <span>{s.pending}</span>
            {link.oldestPendingAgeS !== null && <small>{s.oldest(fmtAge(link.oldestPendingAgeS))}</small>}
          </li>
          <li>
            <strong>{fmtNumber(link.sent)}</strong>
            <span>{s.sent}</span>
          </li>
          <li class={link.refused ? 'bad' : ''}>
            <strong>{fmtNumber(link.refused)}</strong>
            <span>{s.refused}</span>
          </li>
        </ul>
        <p class="muted small">{t.national.updatedAt(fmtDateTime(at))}</p>
      </Card>

      <Card title={s.refusedTitle(refused.length)} id="nat-refused">
        <p class="muted small">{s.refusedHint}</p>
        {!refused.length ? (
          <Empty>{s.refusedEmpty}</Empty>
        ) : (
          <ul class="item-list" data-testid="outbox-refused">
            {refused.map((i) => {
              const answer = i.lastError ?? answerText(i.answer);
              return (
                <li key={i.seq} class="item column nat-refused">
                  <strong>{describe(i)}</strong>
                  <span class="small muted">
                    {s.createdAt(fmtDateTime(i.createdAt))}
                    {i.sentAt ? ` · ${s.sentAt(fmtDateTime(i.sentAt))}` : ''}
                  </span>
                  <p class="nat-answer">
                    {s.answer}: <q>{answer ?? '—'}</q>
                  </p>
                  {i.answer && answerText(i.answer) !== i.answer && (
                    <small class="muted tech" title={i.answer}>
                      {s.rawAnswer}: {i.answer}
                    </small>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </Card>

      <Card title={s.pendingTitle(link.pending)} id="nat-pending">
        <p class="muted small">{s.pendingHint}</p>
        {!pending.length ? (
          <Empty>{s.pendingEmpty}</Empty>
        ) : (
          <ul class="item-list" data-testid="outbox-pending">
            {pending.map((i) => (
              <li key={i.seq} class="item column">
                <strong>{describe(i)}</strong>
                <span class="small muted">
                  {s.createdAt(fmtDateTime(i.createdAt))}
                  {i.attempts ? ` · ${s.attempts(i.attempts)}` : ''}
                  {i.nextAttemptAt ? ` · ${s.retryAt(fmtDateTime(i.nextAttemptAt))}` : ''}
                </span>
                {i.lastError && (
                  <p class="nat-answer warn">
                    {s.whyPending}: {i.lastError}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>

      <details class="card nat-sent">
        <summary>
          {s.sentTitle} ({sent.length})
        </summary>
        {!sent.length ? (
          <Empty>{s.sentEmpty}</Empty>
        ) : (
          <ul class="item-list">
            {sent.map((i) => (
              <li key={i.seq} class="item column">
                <span>{describe(i)}</span>
                <span class="small muted">
                  {i.sentAt ? s.sentAt(fmtDateTime(i.sentAt)) : s.createdAt(fmtDateTime(i.createdAt))} <Badge tone="accepted">{s.sent}</Badge>
                </span>
              </li>
            ))}
          </ul>
        )}
      </details>
    </>
  );
}

/**
 * Whether a live source is up (issue 15: "the server checks each source and shows whether it is up and not
 * silent"): the source's status as a badge, and each URL's latest check with its reason in Vietnamese. The
 * sources page and the relay picker in the compose screen share it.
 */
import type { Source } from '../../api/types.js';
import { LOCALE, t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';
import { reasonLabel, statusLabel } from '../../logic/relays.js';

const levelFmt = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

export function SourceBadge({ status }: { status: string }) {
  return (
    <span class={`badge src-${status}`} data-status={status} data-testid="source-status">
      <span class="dot" aria-hidden="true" /> {statusLabel(status)}
    </span>
  );
}

/** "Đang phát · kiểm tra lúc 07/12/2026, 17:31". */
export function SourceSummary({ source }: { source: Pick<Source, 'status' | 'checkedAt'> }) {
  return (
    <span class="row wrap small source-summary">
      <SourceBadge status={source.status} />
      <span class="muted">{source.checkedAt ? t.sources.checkedAt(fmtDateTime(source.checkedAt)) : t.sources.neverChecked}</span>
    </span>
  );
}

/** Each URL in order of preference with its latest check: status, reason (Vietnamese, then the server's words), level. */
export function SourceChecks({ source }: { source: Pick<Source, 'urls' | 'checks'> }) {
  const byUrl = new Map(source.checks.map((c) => [c.url, c]));
  return (
    <ol class="url-checks">
      {source.urls.map((url) => {
        const c = byUrl.get(url);
        const why = c ? reasonLabel(c.reason) : null;
        return (
          <li key={url}>
            <code class="url">{url}</code>
            <div class="row wrap small">
              {c ? <SourceBadge status={c.status} /> : <span class="muted">{t.sources.notChecked}</span>}
              {why && <span>{why}</span>}
              {c?.status === 'up' && c.levelDb !== null && <span class="muted">{t.sources.level(levelFmt.format(c.levelDb))}</span>}
              {c && <span class="muted">{fmtDateTime(c.checkedAt)}</span>}
            </div>
            {c?.reason && (
              <small class="muted tech" title={c.reason}>
                {c.reason}
              </small>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * What an operator must listen to before a bulletin airs (issue 19, "nothing misread in silence"): each span
 * the reader guessed or could not read, with the reading and the rule's Vietnamese name, as a list under the
 * text (phones have no hover), and the "Đã kiểm tra cách đọc" box that approving or airing it needs.
 */
import type { ReportSpan } from '../api/types.js';
import { t } from '../i18n/vi.js';

/** `item`: in a programme, the item whose text holds the span (the approval queue names it). */
export type FlaggedSpan = ReportSpan & { kind: 'guessed' | 'unread'; item?: { index: number; title: string } | undefined };

/** Guessed and unread spans of a preview's report, in text order. */
export function flagged(report: { guessed?: readonly ReportSpan[] | undefined; unread: readonly ReportSpan[] }): FlaggedSpan[] {
  return [...report.unread.map((s) => ({ ...s, kind: 'unread' as const })), ...(report.guessed ?? []).map((s) => ({ ...s, kind: 'guessed' as const }))].sort((a, b) => a.start - b.start);
}

export function ReadingSpanList({ spans, testId }: { spans: readonly FlaggedSpan[]; testId?: string }) {
  return (
    <ul class="reading-spans" data-testid={testId} aria-label={t.reading.title}>
      {spans.map((s, i) => (
        <li key={i} data-kind={s.kind}>
          {s.item && <span class="muted">{t.reading.inItem(s.item.index + 1, s.item.title)} </span>}
          <mark class={`hl-${s.kind}`}>{s.text}</mark>
          {' → '}
          {s.kind === 'unread' || s.reading === undefined ? <em>{t.reading.notRead}</em> : <span lang="vi">“{s.reading}”</span>}
          <span class="muted"> · {s.kind === 'guessed' ? t.reading.guessed : t.reading.unread}: {s.label ?? s.rule}</span>
        </li>
      ))}
    </ul>
  );
}

export function ReadingCheckbox({ checked, onChange, emergency }: { checked: boolean; onChange: (checked: boolean) => void; emergency: boolean }) {
  return (
    <div class="reading-check">
      <label class="check">
        <input type="checkbox" name="reading-checked" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
        {t.reading.checked}
      </label>
      <small class="muted">{emergency ? t.reading.emergencyNote : t.reading.needCheck}</small>
    </div>
  );
}

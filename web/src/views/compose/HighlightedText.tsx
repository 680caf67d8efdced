/** The bulletin's text with what the reader rewrote and what it could not read marked in place. */
import type { ReportSpan } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { highlightSegments } from '../../logic/spans.js';

function describe(kind: 'rewritten' | 'unread', span: ReportSpan): string {
  const what = kind === 'unread' ? t.preview.notRead : t.preview.readsAs(span.reading ?? '');
  return `${what} (${t.preview.rule(span.rule)})`;
}

export function HighlightedText({ text, rewritten, unread }: { text: string; rewritten: ReportSpan[]; unread: ReportSpan[] }) {
  const segments = highlightSegments(text, { rewritten, unread });
  return (
    <p class="highlighted" data-testid="highlighted">
      {segments.map((s, i) =>
        s.kind === 'plain' || !s.span ? (
          s.text
        ) : (
          <mark key={i} class={`hl-${s.kind}`} title={describe(s.kind, s.span)}>
            {s.text}
            <span class="sr-only"> [{describe(s.kind, s.span)}]</span>
          </mark>
        ),
      )}
    </p>
  );
}

/** The bulletin's text with what the reader rewrote, guessed and could not read marked in place. */
import type { ReportSpan } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { highlightSegments, type SegmentKind } from '../../logic/spans.js';

function describe(kind: Exclude<SegmentKind, 'plain'>, span: ReportSpan): string {
  const what = kind === 'unread' ? t.preview.notRead : kind === 'guessed' ? t.preview.guessesAs(span.reading ?? '') : t.preview.readsAs(span.reading ?? '');
  return `${what} (${span.label ?? t.preview.rule(span.rule)})`;
}

export function HighlightedText({ text, rewritten, guessed, unread }: { text: string; rewritten: ReportSpan[]; guessed?: ReportSpan[] | undefined; unread: ReportSpan[] }) {
  const segments = highlightSegments(text, { rewritten, guessed, unread });
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

/**
 * Splits a bulletin's text into the pieces the preview highlights. The server reports rewritten and unread
 * spans as code point offsets into the NFC form of the text it read (vi-reading.md "Reports"), while
 * JavaScript strings index UTF-16 units; so the text is walked code point by code point here, never sliced
 * by span offsets directly (an emoji or a decomposed "ệ" would otherwise shift every later highlight).
 */
import type { ReportSpan } from '../api/types.js';

export type SegmentKind = 'plain' | 'rewritten' | 'guessed' | 'unread';

export interface Segment {
  text: string;
  kind: SegmentKind;
  /** The span behind a highlighted segment (its reading and rule, for a tooltip). */
  span?: ReportSpan;
}

/** The text the server read: it trims the body, then normalizes to NFC. */
export function previewSource(text: string): string {
  return text.trim().normalize('NFC');
}

/** Which kind is painted over which where spans overlap: what matters more to the operator wins. */
const WEIGHT: Record<SegmentKind, number> = { plain: 0, rewritten: 1, guessed: 2, unread: 3 };

/**
 * Cuts `text` (already the NFC text the spans refer to) into plain and highlighted segments. Where spans
 * overlap, `unread` wins over `guessed`, and both over `rewritten` (issue 19: what may be misread matters
 * more to the operator). Offsets outside the text are clamped; empty or inverted spans are ignored.
 */
export function highlightSegments(text: string, spans: { rewritten: readonly ReportSpan[]; guessed?: readonly ReportSpan[] | undefined; unread: readonly ReportSpan[] }): Segment[] {
  const cps = Array.from(text);
  const n = cps.length;
  const owner: (ReportSpan | undefined)[] = new Array(n);
  const kind: SegmentKind[] = new Array<SegmentKind>(n).fill('plain');
  const paint = (list: readonly ReportSpan[], k: SegmentKind) => {
    for (const s of list) {
      const start = Math.max(0, Math.min(n, Math.floor(s.start)));
      const end = Math.max(0, Math.min(n, Math.floor(s.end)));
      for (let i = start; i < end; i++) {
        if (WEIGHT[kind[i]!] > WEIGHT[k]) continue;
        kind[i] = k;
        owner[i] = s;
      }
    }
  };
  paint(spans.rewritten, 'rewritten');
  paint(spans.guessed ?? [], 'guessed');
  paint(spans.unread, 'unread');

  const out: Segment[] = [];
  let i = 0;
  while (i < n) {
    const k = kind[i]!;
    const s = owner[i];
    let j = i + 1;
    while (j < n && kind[j] === k && owner[j] === s) j++;
    const seg: Segment = { text: cps.slice(i, j).join(''), kind: k };
    if (s && k !== 'plain') seg.span = s;
    out.push(seg);
    i = j;
  }
  return out;
}

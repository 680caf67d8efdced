/**
 * Issue 19, "nothing misread in silence": a text bulletin whose reading has guessed spans (a foreign word
 * read by letter-to-sound rules, a name without its tones) or unread ones (left as written for the engine)
 * goes on air only once whoever approves it has said "đã kiểm tra cách đọc". The spans are worked out at
 * decision time, with the dictionary as it is then (an operator may have added the missing reading since the
 * bulletin was written). Recorded bulletins, relays and live voices have no text: nothing to check.
 */
import type { NormalizeResult, ReportSpan } from '@loaxa/shared';
import { ApiError } from '../http/errors.js';
import { ErrorCode } from '@loaxa/shared';
import type { Bulletin } from '../repos/bulletins.js';
import { styleForVoice, type SpeechService } from './speech.js';

export interface ReadingSpan extends ReportSpan {
  kind: 'guessed' | 'unread';
  /** In a programme: the item whose text it is in (its offsets are in that bulletin's text). */
  item?: { index: number; title: string };
}

/** The guessed and unread spans of a reading, in text order. */
export function flaggedSpans(result: Pick<NormalizeResult, 'guessed' | 'unread'>): ReadingSpan[] {
  const spans: ReadingSpan[] = [
    ...result.unread.map((s) => ({ ...s, kind: 'unread' as const })),
    ...result.guessed.map((s) => ({ ...s, kind: 'guessed' as const })),
  ];
  return spans.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The spans of a bulletin's text to check before it airs; none for a bulletin without text. */
export function readingSpansOf(speech: Pick<SpeechService, 'normalize'>, b: Pick<Bulletin, 'source' | 'text' | 'voice' | 'areaCode'>): ReadingSpan[] {
  if (b.source !== 'text' || !b.text.trim()) return [];
  return flaggedSpans(speech.normalize(b.text, styleForVoice(b.voice), b.areaCode));
}

/** `"Qoffice" → "quy óp phít" (từ nước ngoài, đoán cách đọc)`, `"☺" (ký hiệu không đọc được)`. */
export function describeSpan(s: ReadingSpan): string {
  const reading = s.reading === undefined ? '' : ` → ${JSON.stringify(s.reading)}`;
  const where = s.item ? `item ${s.item.index + 1} “${s.item.title}”: ` : '';
  return `${where}${JSON.stringify(s.text)}${reading} (${s.label})`;
}

/** How many spans an error message names; all of them are in its `fields` (up to FIELD_LIMIT). */
const MESSAGE_LIMIT = 10;
const FIELD_LIMIT = 100;

export function summarizeSpans(spans: readonly ReadingSpan[]): string {
  const named = spans.slice(0, MESSAGE_LIMIT).map(describeSpan).join('; ');
  return spans.length > MESSAGE_LIMIT ? `${named}; and ${spans.length - MESSAGE_LIMIT} more` : named;
}

/**
 * The 409 of an unchecked approval: the spans in the message and one field each (`path` names the flag
 * to send), so that a client can list them.
 */
export function readingNotChecked(spans: readonly ReadingSpan[], flag: 'checked' | 'readingChecked'): ApiError {
  return new ApiError(
    409,
    ErrorCode.CONFLICT,
    `the bulletin's text has ${spans.length} span(s) the reader guessed or could not read: ${summarizeSpans(spans)}. ` +
      `Listen to them, then send {"${flag}": true} (đã kiểm tra cách đọc), or fix the text or the dictionary`,
    spans.slice(0, FIELD_LIMIT).map((s) => ({ path: flag, message: describeSpan(s) })),
  );
}

/** What a decision did about the reading, for the answer and the audit log. */
export interface ReadingDecision {
  checked: boolean;
  spans: ReadingSpan[];
  /** Set when the broadcast aired without the check (an emergency is never held). */
  warning?: string;
}

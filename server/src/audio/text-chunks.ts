// Splits announcement text into chunks a TTS engine can take in one call. Sentence-sized chunks keep each
// eSpeak run (which blocks the event loop) short, give meaningful progress, and let the pipeline choose the
// pause between sentences instead of each engine's own idea of it. Cloud engines also cap request size.

export interface TextChunk {
  text: string;
  /** Silence to insert after this chunk: a sentence pause, or a shorter comma pause inside a long sentence. */
  pauseAfterMs: number;
}

export const SENTENCE_PAUSE_MS = 350;
export const CLAUSE_PAUSE_MS = 150;
export const MAX_CHUNK_CHARS = 500;

/**
 * Sentence ends: . ! ? ; (and runs like "..." or "?!") followed by whitespace or the end, or a line break.
 * A "." inside a token is not an end: Vietnamese writes 1.000.000 and 7.30 with dots.
 */
const SENTENCE_END = /(?<=[.!?;…]+)(?=\s|$)|\n+/u;

export function splitIntoChunks(text: string, maxChars = MAX_CHUNK_CHARS): TextChunk[] {
  const chunks: TextChunk[] = [];
  for (const raw of text.split(SENTENCE_END)) {
    const sentence = raw.replace(/\s+/gu, ' ').trim();
    if (!hasSpeakableText(sentence)) continue;
    const parts = splitLongSentence(sentence, maxChars);
    parts.forEach((part, i) => {
      chunks.push({ text: part, pauseAfterMs: i === parts.length - 1 ? SENTENCE_PAUSE_MS : CLAUSE_PAUSE_MS });
    });
  }
  return chunks;
}

/** Punctuation-only fragments ("..." on its own line) would synthesize to silence or a stray "chấm". */
function hasSpeakableText(s: string): boolean {
  return /[\p{L}\p{N}]/u.test(s);
}

/** Cuts at the last comma (or colon) that fits, else the last space, else hard at maxChars. */
function splitLongSentence(sentence: string, maxChars: number): string[] {
  const parts: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf(': ')) + 1;
    if (cut <= 0) cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = maxChars;
    parts.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) parts.push(rest);
  return parts.filter(hasSpeakableText);
}

/**
 * Packs consecutive chunks into as few as possible of at most maxChars each (joined by a space), for
 * providers that take long requests: fewer requests against their rate limit, and the provider's own
 * sentence prosody inside each. A pack keeps the pause of its last chunk.
 */
export function packChunks(chunks: readonly TextChunk[], maxChars: number): TextChunk[] {
  const packed: TextChunk[] = [];
  for (const chunk of chunks) {
    const last = packed.at(-1);
    if (last && last.text.length + 1 + chunk.text.length <= maxChars) {
      last.text = `${last.text} ${chunk.text}`;
      last.pauseAfterMs = chunk.pauseAfterMs;
    } else {
      packed.push({ ...chunk });
    }
  }
  return packed;
}

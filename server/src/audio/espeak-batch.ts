// Many sentences in one eSpeak run. Every run of the WebAssembly eSpeak pays ~150 ms to start (a fresh
// instance loads its embedded data files; measured the same for `--version`), while speech itself costs
// ~3 ms per second: a 5-minute bulletin read sentence by sentence took 7.5 s, in one run 0.9 s (issue 3
// benchmark). The pipeline still wants one PCM per sentence (its own pauses, the chunk cache), so the
// sentences go in as SSML separated by long breaks, and the audio is cut at those breaks: eSpeak writes
// them as exact digital silence far longer than any pause it makes itself (~0.3 s at speed 1, measured).
// Anything unexpected (a different number of long silences) makes the caller fall back to one run per
// sentence, so the trick can only cost time, never words.

/** The break between sentences; the cut needs at least SPLIT_MIN_MS of it. */
export const BATCH_BREAK_MS = 1500;
const SPLIT_MIN_MS = 1000;
/** eSpeak's silence is exact zeros; allow a little for dithering builds. */
const SILENT = 8;
/** Kept around each piece, like the silence a single run has at its ends. */
const EDGE_MS = 20;

/** The SSML text for one batch run (`-m`): the sentences, escaped, with a fixed break between them. */
export function batchSsml(texts: readonly string[]): string {
  return `<speak>${texts.map(escapeXml).join(`<break time="${BATCH_BREAK_MS}ms"/>`)}</speak>`;
}

/**
 * Cuts a batch run's audio into `count` pieces at the long silences. Returns null unless exactly
 * count − 1 silences of at least SPLIT_MIN_MS are found.
 */
export function splitBatch(samples: Int16Array, sampleRate: number, count: number): Int16Array[] | null {
  const minRun = Math.round((SPLIT_MIN_MS * sampleRate) / 1000);
  const edge = Math.round((EDGE_MS * sampleRate) / 1000);
  const gaps: Array<[number, number]> = [];
  let runStart = -1;
  for (let i = 0; i <= samples.length; i++) {
    const silent = i < samples.length && Math.abs(samples[i]!) <= SILENT;
    if (silent && runStart < 0) runStart = i;
    else if (!silent && runStart >= 0) {
      // A long silence at the very start or end is not between two sentences.
      if (i - runStart >= minRun && runStart > 0 && i < samples.length) gaps.push([runStart, i]);
      runStart = -1;
    }
  }
  if (gaps.length !== count - 1) return null;
  const pieces: Int16Array[] = [];
  let from = 0;
  for (const [start, end] of gaps) {
    pieces.push(samples.slice(from, start + edge));
    from = end - edge;
  }
  pieces.push(samples.slice(from));
  return pieces;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

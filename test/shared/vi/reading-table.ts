/**
 * Helpers for the written → spoken tables. vi-reading.md says pause marks in its tables are illustrative,
 * so readings are compared as words only.
 */
import { normalizeVietnamese, type NormalizeOptions } from '../../../shared/src/vi/index.js';

/** Strips the pause marks `. , ; : ! ?` and collapses spaces. */
export function wordsOf(reading: string): string {
  return reading.replace(/[.,;:!?]/gu, ' ').replace(/\s+/gu, ' ').trim();
}

export type Row = readonly [written: string, spoken: string];

/** The one assertion the tables need (keeps this helper independent of tap's plugin types). */
interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): unknown;
}

/** One assertion per row: the reading of `written` has exactly the words of `spoken`. */
export function checkTable(t: Asserts, rows: readonly Row[], opts?: NormalizeOptions): void {
  for (const [written, spoken] of rows) {
    t.equal(wordsOf(normalizeVietnamese(written, opts).text), wordsOf(spoken), written);
  }
}

/** Splits "a, b, c" table cells the way vi-reading.md writes them, pairing written and spoken items. */
export function zipCells(written: string, spoken: string): Row[] {
  const w = written.split(', ');
  const s = spoken.split(', ');
  if (w.length !== s.length) throw new Error(`cell mismatch: ${written} | ${spoken}`);
  return w.map((x, i) => [x, s[i]!] as const);
}

/**
 * One CSV cell (RFC 4180 quoting). A leading = + - @ is prefixed with a quote so a spreadsheet opening the
 * export never runs a title or a reason as a formula (CSV injection).
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV document with a BOM, so spreadsheet programs read Vietnamese as UTF-8. */
export function csvDocument(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return `\uFEFF${[header.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\r\n')}\r\n`;
}

/** Vietnam keeps UTC+7 all year (no daylight saving), so its wall clock is the instant shifted by 7 hours. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;

/**
 * An instant as people in Vietnam read it, `dd/MM/yyyy HH:mm:ss` in Asia/Ho_Chi_Minh, for exports opened in a
 * spreadsheet (issue 20, broken 8: the as-run said UTC, 7 hours off). Null stays null (an empty cell).
 */
export function vietnamDateTime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const d = new Date(ms + VIETNAM_OFFSET_MS);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}/${p2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}
